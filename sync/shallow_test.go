package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"example.com/grove/repo"
)

// TestCloneRefusesShallowPeer clones from a peer whose storage is shallow
// (its history cut at a commit that has a parent): upload-pack answers
// with shallow info, git's index-pack is told to take the cut history as
// whole, and the node must not: the clone fails and stores nothing. Once
// the peer's history is whole again, the same clone succeeds.
func TestCloneRefusesShallowPeer(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("cut")
	second := a.commit(rid, "second")
	a.commit(rid, "third")
	cut := filepath.Join(a.storage(rid), "shallow")
	if err := os.WriteFile(cut, []byte(second+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if res, err := b.Clone(ctx, rid, a.Addrs()[:1]); err == nil {
		t.Fatalf("cloned a history cut at %s: %+v", second, res)
	}
	if _, err := repo.Open(b.home, rid); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("after the refused clone, open: %v, want %v", err, repo.ErrNotFound)
	}
	if _, err := os.Stat(b.storage(rid)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after the refused clone, storage: %v", err)
	}
	if err := os.Remove(cut); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatalf("clone of the whole history: %v", err)
	}
	b.verify(rid)
}
