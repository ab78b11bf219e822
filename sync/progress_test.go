package sync_test

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// commitFile adds a commit on n's main branch of rid holding content in
// one file; unlike commit, the content need not fit in an argument.
func (n *testNode) commitFile(rid gproto.RID, msg, content string) {
	n.t.Helper()
	ctx := context.Background()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		n.t.Fatal(err)
	}
	refs, err := r.NamespaceRefs(ctx, n.key.NID())
	if err != nil {
		n.t.Fatal(err)
	}
	old := refs["refs/heads/main"]
	blob := strings.TrimSpace(runStdin(n.t, r.Path, content, "hash-object", "-w", "--stdin"))
	tree := strings.TrimSpace(runStdin(n.t, r.Path, "100644 blob "+blob+"\tfile\n", "mktree"))
	oid := git(n.t, r.Path, "commit-tree", tree, "-m", msg, "-p", old)
	if err := r.UpdateNamespace(ctx, n.key, []repo.RefUpdate{{Name: "refs/heads/main", Old: old, New: oid}}, time.Now()); err != nil {
		n.t.Fatal(err)
	}
}

// recorder keeps every progress call of a fetch.
type recorder struct {
	mu    sync.Mutex
	calls []p2psync.FetchProgress
}

func (r *recorder) add(p p2psync.FetchProgress) {
	r.mu.Lock()
	r.calls = append(r.calls, p)
	r.mu.Unlock()
}

func (r *recorder) check(t *testing.T, wantErr bool) p2psync.FetchProgress {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) < 2 {
		t.Fatalf("got %d progress calls, want at least 2: %+v", len(r.calls), r.calls)
	}
	if r.calls[0].Phase != p2psync.PhaseNegotiating {
		t.Errorf("first phase %q, want negotiating", r.calls[0].Phase)
	}
	order := map[p2psync.Phase]int{p2psync.PhaseNegotiating: 0, p2psync.PhaseReceiving: 1, p2psync.PhaseVerifying: 2, p2psync.PhaseDone: 3}
	for i := 1; i < len(r.calls); i++ {
		prev, cur := r.calls[i-1], r.calls[i]
		if cur.Bytes < prev.Bytes || cur.Elapsed < prev.Elapsed {
			t.Errorf("call %d went back: %+v after %+v", i, cur, prev)
		}
		if order[cur.Phase] < order[prev.Phase] {
			t.Errorf("phase %q after %q", cur.Phase, prev.Phase)
		}
	}
	for _, c := range r.calls[:len(r.calls)-1] {
		if c.Phase == p2psync.PhaseDone || c.Err != nil {
			t.Errorf("done or error before the last call: %+v", c)
		}
	}
	last := r.calls[len(r.calls)-1]
	if last.Phase != p2psync.PhaseDone || (last.Err != nil) != wantErr {
		t.Errorf("last call %+v, want done (error: %v)", last, wantErr)
	}
	return last
}

func TestFetchProgress(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("big")
	// Incompressible data, so the pack takes a while to arrive.
	blob := make([]byte, 3<<20)
	rand.Read(blob)
	a.commitFile(rid, "big", string(blob))
	ctx := context.Background()

	var rec recorder
	res, err := b.Clone(ctx, rid, a.Addrs()[:1], p2psync.WithProgress(rec.add))
	if err != nil {
		t.Fatal(err)
	}
	last := rec.check(t, false)
	if last.Bytes != res.Bytes || last.Bytes < 3<<20 {
		t.Errorf("last report %d bytes, result %d, want equal and at least 3 MiB", last.Bytes, res.Bytes)
	}
	if last.Peer != a.Host().ID() {
		t.Errorf("peer %s, want %s", last.Peer, a.Host().ID())
	}
	n := 0
	for _, c := range rec.calls {
		if c.Phase == p2psync.PhaseReceiving {
			n++
		}
	}
	t.Logf("%d calls, %d while receiving, %d bytes in %v", len(rec.calls), n, last.Bytes, last.Elapsed)

	// A fetch that fails still ends with done, carrying the error.
	c := startNode(t)
	lacking := c.project("not-on-a")
	var fail recorder
	if _, err := b.Fetch(ctx, a.Host().ID(), lacking, p2psync.WithProgress(fail.add)); err == nil {
		t.Fatal("fetch of a project the peer lacks succeeded")
	}
	fail.check(t, true)
}
