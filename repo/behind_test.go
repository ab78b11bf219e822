package repo_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestStaleCopyThatCannotBeCheckedIsNoFork: a peer serves an older
// revision of a namespace, and git fails as this storage compares it
// with its own. git failing is not a fork, nor the peer's
// fault: the rejection says this storage could not check it.
func TestStaleCopyThatCannotBeCheckedIsNoFork(t *testing.T) {
	k := testKey(t, 1)
	_, r := newProject(t, "behind", k)
	nid := k.NID()
	c1 := commit(t, r, "one")
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	stale := copyProject(t, r)
	c2 := commit(t, r, "two", c1)
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	ours := nsRefs(t, r, nid)[protocol.SigrefsRef]
	// A git whose merge-base fails, as one out of memory would.
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	script := "#!/bin/sh\nfor a; do [ \"$a\" = merge-base ] && { echo 'fatal: out of memory' >&2; exit 128; }; done\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	res := acceptFrom(t, r, stale.Path)
	if len(res.Updated) != 0 || len(res.Rejected) != 1 {
		t.Fatalf("accept of a stale copy: %+v", res)
	}
	rej := res.Rejected[0]
	if rej.Fork() || rej.PeerFault() || !errors.As(rej.Err, new(*repo.LocalError)) {
		t.Errorf("rejection %v: fork %v, peer's fault %v; want neither, a LocalError", rej, rej.Fork(), rej.PeerFault())
	}
	if got := nsRefs(t, r, nid)[protocol.SigrefsRef]; got != ours {
		t.Errorf("namespace moved to %s", got)
	}
}
