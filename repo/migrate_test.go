package repo_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"example.com/grove/repo"
)

// TestRefusedNamespaceObjectsStayOut: a fetch brings one namespace that
// verifies and one that does not (refs nobody signed), each with objects
// of its own. Only what the accepted namespace reaches moves into the
// storage; the refused one's objects go with the quarantine.
func TestRefusedNamespaceObjectsStayOut(t *testing.T) {
	k := testKey(t, 1)
	_, origin := newProject(t, "migrate", k)
	nid := k.NID()
	c1 := commit(t, origin, "one")
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	r := copyProject(t, origin)
	// The owner moves on, with a blob of its own.
	good := strings.TrimSpace(gitIn(t, origin.Path, []byte("accepted content\n"), "hash-object", "-w", "--stdin"))
	goodTree := strings.TrimSpace(gitIn(t, origin.Path, []byte("100644 blob "+good+"\tf\n"), "mktree"))
	c2 := gitIn(t, origin.Path, nil, "commit-tree", goodTree, "-p", c1, "-m", "two")
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	// A stranger's namespace with no signed refs, and a blob of its own.
	stranger := testKey(t, 2).NID()
	junk := strings.TrimSpace(gitIn(t, origin.Path, []byte(strings.Repeat("junk ", 1000)), "hash-object", "-w", "--stdin"))
	junkTree := strings.TrimSpace(gitIn(t, origin.Path, []byte("100644 blob "+junk+"\tjunk\n"), "mktree"))
	junkCommit := gitIn(t, origin.Path, nil, "commit-tree", junkTree, "-m", "junk")
	gitIn(t, origin.Path, nil, "update-ref", repo.NamespacePrefix(stranger)+"refs/heads/main", junkCommit)

	res := acceptFrom(t, r, origin.Path)
	if len(res.Updated) != 1 || !res.Updated[0].Equal(nid) || len(res.Rejected) != 1 {
		t.Fatalf("accept: %+v", res)
	}
	for _, oid := range []string{c2, good} {
		if _, err := gitTry(r.Path, nil, "cat-file", "-e", oid); err != nil {
			t.Errorf("accepted object %.7s is not in the storage", oid)
		}
	}
	for _, oid := range []string{junkCommit, junkTree, junk} {
		if _, err := gitTry(r.Path, nil, "cat-file", "-e", oid); err == nil {
			t.Errorf("object %.7s of the refused namespace is in the storage", oid)
		}
	}
	verifyClean(t, r)
}

// TestOldQuarantinesRemoved: a quarantine a dead process left goes once
// it is older than any live one can be; a recent one stays.
func TestOldQuarantinesRemoved(t *testing.T) {
	_, r := newProject(t, "stale", testKey(t, 1))
	old, err := r.NewQuarantine("fetch", nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	recent, err := r.NewQuarantine("fetch", nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old.Dir(), then, then); err != nil {
		t.Fatal(err)
	}
	r.RemoveOldQuarantines("fetch", 30*time.Minute)
	if _, err := os.Stat(old.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an hour-old quarantine is still there: %v", err)
	}
	if _, err := os.Stat(recent.Dir()); err != nil {
		t.Errorf("a recent quarantine was removed: %v", err)
	}
}
