package sync_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	p2psync "example.com/grove/sync"

	"example.com/grove/repo"
)

// TestLocalFailureIsNoStrike: a fetch that fails for a reason of the
// fetching node's own, here its storage's writer lock held until the
// fetch gives up (as a long local write would), gives the peer that sent
// good data no strike; once the lock is free the fetch lands.
func TestLocalFailureIsNoStrike(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("local")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	tip := a.commit(rid, "second")
	r, err := repo.Open(b.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := r.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	aid := a.Host().ID()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var verifying atomic.Bool
	_, err = b.Fetch(fctx, aid, rid, p2psync.WithProgress(func(p p2psync.FetchProgress) {
		if p.Phase == p2psync.PhaseVerifying {
			// git is done: what remains is b's own work, which waits
			// for the lock until the fetch is given up.
			verifying.Store(true)
			cancel()
		}
	}))
	unlock()
	if err == nil {
		t.Fatal("the fetch landed while the storage was locked")
	}
	if !verifying.Load() {
		t.Fatalf("the fetch failed before accepting, not on the lock: %v", err)
	}
	if !strings.Contains(err.Error(), "lock") {
		t.Fatalf("the fetch failed, but not on the lock: %v", err)
	}
	if s := b.Strikes(aid); s != 0 {
		t.Fatalf("b holds %d strikes against a for its own lock: %v", s, err)
	}
	if _, err := b.Fetch(ctx, aid, rid); err != nil {
		t.Fatal(err)
	}
	if got := b.ref(rid, a.key.NID(), "refs/heads/main"); got != tip {
		t.Fatalf("b has a's main at %s after the lock was free, want %s", got, tip)
	}
}
