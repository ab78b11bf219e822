package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// A writer killed between locking a ref and renaming it leaves the ref's
// lock file. The next writer holds the storage's writer lock, so nobody
// else can be using it: the update removes it and completes. Without the
// writer lock, the lock file is respected.
func TestDeadWritersRefLockIsCleared(t *testing.T) {
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "p", k)
	nid := k.NID()
	c1 := commit(t, r, "one")
	sigrefs := filepath.Join(r.Path, filepath.FromSlash(repo.NamespacePrefix(nid)+protocol.SigrefsRef)) + ".lock"
	main := filepath.Join(r.Path, filepath.FromSlash(repo.NamespacePrefix(nid)+"refs/heads/main")) + ".lock"
	for _, p := range []string{sigrefs, main} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("0123456789012345678901234567890123456789\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the writer lock the lock files stand, as git's do.
	err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: repo.NamespacePrefix(nid) + "refs/heads/main", New: c1}})
	if !errors.Is(err, repo.ErrRefLocked) {
		t.Fatalf("an update outside the writer lock over a lock file: %v, want ErrRefLocked", err)
	}
	// Under it (UpdateNamespace takes it) they are a dead writer's.
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	if got := nsRefs(t, r, nid)["refs/heads/main"]; got != c1 {
		t.Fatalf("main = %q after the update, want %s", got, c1)
	}
	for _, p := range []string{sigrefs, main} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
	verifyClean(t, r)
}
