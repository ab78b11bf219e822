package sync

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// gitIn runs git in dir and returns its trimmed output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// freshQuarantine is a quarantine of a project not stored yet, configured
// as a fetch's.
func freshQuarantine(t *testing.T) *repo.Quarantine {
	t.Helper()
	rid, err := gproto.RIDFromOID(strings.Repeat("ab", 20))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.CreateEmpty(context.Background(), repo.Home{Dir: t.TempDir()}, rid)
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.NewQuarantine("fetch", nil, "", map[string]string{
		"fetch.unpackLimit": "1", "fetch.fsckObjects": "true", "protocol.version": "2",
		"core.alternateRefsCommand": "exit 0",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// history makes a repository with three commits, a namespace's branch
// and a canonical one on them, and returns it and its head.
func history(t *testing.T) (dir, head string) {
	dir = t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, "f"), []byte{byte('a' + i)}, 0o644)
		gitIn(t, dir, "add", "f")
		gitIn(t, dir, "commit", "-q", "-m", "c")
	}
	head = gitIn(t, dir, "rev-parse", "HEAD")
	gitIn(t, dir, "update-ref", "refs/namespaces/z6Mk/refs/heads/main", head)
	return dir, head
}

// TestFetchFreshTakesNamespaces fetches a whole history into an empty
// quarantine: the namespaces' refs are its refs (the canonical branch and
// HEAD are not), every object is there, and no .keep is left behind.
func TestFetchFreshTakesNamespaces(t *testing.T) {
	src, head := history(t)
	q := freshQuarantine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	if err := fetchFresh(ctx, q, "file://"+src, repo.GitEnv(), &stderr, nil); err != nil {
		t.Fatalf("fetchFresh: %v\n%s", err, stderr.String())
	}
	refs, err := q.Refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs["refs/namespaces/z6Mk/refs/heads/main"] != head {
		t.Fatalf("refs = %v, want only the namespace's main at %s", refs, head)
	}
	if keeps, _ := filepath.Glob(filepath.Join(q.Dir(), "objects", "pack", "*.keep")); len(keeps) != 0 {
		t.Fatalf("left %v", keeps)
	}
	gitIn(t, q.Dir(), "fsck", "--strict")
}

// TestFetchFreshRefusesIncompleteHistory: a peer whose history lacks
// what its refs reach (here a shallow copy, whose oldest commit's parent
// is missing) gives the quarantine no refs.
func TestFetchFreshRefusesIncompleteHistory(t *testing.T) {
	shallow := shallowCopy(t)
	q := freshQuarantine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	if err := fetchFresh(ctx, q, "file://"+shallow, repo.GitEnv(), &stderr, nil); err == nil {
		t.Fatalf("fetchFresh took a history with a missing parent\n%s", stderr.String())
	}
	if refs, _ := q.Refs(ctx); len(refs) != 0 {
		t.Fatalf("refs = %v after a refused fetch", refs)
	}
}

// shallowCopy is a --depth=1 bare copy of history's repository, its head
// under a namespace: its oldest commit's parent is missing.
func shallowCopy(t *testing.T) string {
	t.Helper()
	src, _ := history(t)
	shallow := t.TempDir()
	gitIn(t, shallow, "clone", "-q", "--bare", "--depth=1", "file://"+src, ".")
	head := gitIn(t, shallow, "rev-parse", "HEAD")
	gitIn(t, shallow, "update-ref", "refs/namespaces/z6Mk/refs/heads/main", head)
	return shallow
}

// TestFetchFreshWalksUnlessNoShallow fetches a shallow copy's history,
// whose oldest commit's parent is missing and which fetch-pack calls
// connected: it is refused unless the caller says the answer carried no
// shallow info (as the proxy does only when it saw none), and then the
// commit walk that would refuse it is not run.
func TestFetchFreshWalksUnlessNoShallow(t *testing.T) {
	shallow := shallowCopy(t)
	head := gitIn(t, shallow, "rev-parse", "HEAD")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, noShallow := range []bool{false, true} {
		q := freshQuarantine(t)
		var stderr bytes.Buffer
		err := fetchFresh(ctx, q, "file://"+shallow, repo.GitEnv(), &stderr, func() bool { return noShallow })
		refs, _ := q.Refs(ctx)
		switch {
		case !noShallow && (err == nil || len(refs) != 0):
			t.Fatalf("shallow info possible: err %v, refs %v; want refused, no refs\n%s", err, refs, stderr.String())
		case noShallow && (err != nil || refs["refs/namespaces/z6Mk/refs/heads/main"] != head):
			t.Fatalf("no shallow info: err %v, refs %v; want the walk skipped and the ref taken\n%s", err, refs, stderr.String())
		}
	}
}

func TestNamespacedRef(t *testing.T) {
	for name, want := range map[string]bool{
		"refs/namespaces/z6Mk/refs/heads/main":    true,
		"refs/namespaces/z6Mk/refs/rad/sigrefs":   true,
		"refs/heads/main":                         false,
		"HEAD":                                    false,
		"refs/namespaces//refs/heads/main":        false,
		"refs/namespaces/z6Mk/refs/heads/a..b":    false,
		"refs/namespaces/z6Mk":                    false,
		"refs/namespaces/a/refs/namespaces/b/x/y": false,
	} {
		if got := namespacedRef(name); got != want {
			t.Errorf("namespacedRef(%q) = %v, want %v", name, got, want)
		}
	}
}
