package sync_test

import (
	"path/filepath"
	"testing"
	"time"

	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// A node that has been idle settles the storage of the projects it
// seeds: one pack with a reachability bitmap, with which it serves a
// clone without walking the history, and a clone of it still verifies.
func TestIdleNodeSettlesStorage(t *testing.T) {
	a := startNode(t, func(c *p2psync.Config) { c.IdleMaintenance = 20 * time.Millisecond })
	rid := a.project("settle")
	for i := range 5 {
		a.commit(rid, "change "+string(rune('a'+i)))
	}
	r, err := repo.Open(a.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	bitmap := func() bool {
		b, _ := filepath.Glob(filepath.Join(r.Path, "objects", "pack", "pack-*.bitmap"))
		return len(b) == 1
	}
	if bitmap() {
		t.Fatal("setup: the storage has a bitmap already")
	}
	if err := a.Seed(t.Context(), rid); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "a bitmap in the idle node's storage", func() bool { return bitmap() && !r.NeedsSettling() })
	a.verify(rid)
	b := startNode(t, func(c *p2psync.Config) { c.IdleMaintenance = -1 })
	if _, err := b.Clone(t.Context(), rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	b.verify(rid)
}
