package repo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"example.com/grove/repo"
)

func TestLock(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	h, r := newProject(t, "p", k)
	// A second handle on the same storage, as another command would have.
	other, err := repo.Open(h, r.RID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	unlock, err := r.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		unlock func()
		err    error
	}
	got := make(chan result, 1)
	go func() {
		u, err := other.Lock(ctx)
		got <- result{u, err}
	}()
	select {
	case res := <-got:
		t.Fatalf("second Lock returned while the first is held: %v", res.err)
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case res := <-got:
		if res.err != nil {
			t.Fatalf("second Lock after unlock: %v", res.err)
		}
		defer res.unlock()
	case <-ctx.Done():
		t.Fatal("second Lock did not return after the first unlocked")
	}

	// Held again: a Lock whose context ends first gives up, promptly.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	if u, err := r.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			u()
		}
		t.Fatalf("Lock with an ending context = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Lock took %v to notice its context ended", d)
	}
	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	if _, err := r.Lock(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context = %v, want Canceled", err)
	}

	// Writers wait for it too.
	if err := r.UpdateNamespace(short, k, nil, now); err == nil {
		t.Error("UpdateNamespace ran while the lock was held")
	}
}

// TestLockSerializes runs concurrent writers on one project; each must see
// the others' changes, so every update lands and the storage verifies.
func TestLockSerializes(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	h, r := newProject(t, "p", k)
	base := commit(t, r, "base")
	const n = 4
	tips := make([]string, n)
	for i := range tips {
		tips[i] = commit(t, r, string(rune('a'+i)), base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errs := make(chan error, n)
	for i := range n {
		// Each writer with its own handle, as separate commands would be.
		w, err := repo.Open(h, r.RID)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			errs <- w.UpdateNamespace(ctx, k, []repo.RefUpdate{{Name: "refs/heads/b" + string(rune('a'+i)), New: tips[i]}}, now)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	refs := nsRefs(t, r, k.NID())
	for i := range n {
		if refs["refs/heads/b"+string(rune('a'+i))] != tips[i] {
			t.Errorf("branch b%c missing: %v", 'a'+i, refs)
		}
	}
	verifyClean(t, r)
}
