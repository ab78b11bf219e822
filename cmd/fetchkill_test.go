package cmd_test

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestKilledFetchesLeaveStoreSound kills (SIGKILL, with its git
// children) a node while it fetches a peer's new work and accepts it, at
// random points of `grove sync --fetch`: after each, its storage fscks
// clean and verifies; a sync that reported success left the peer's new
// signed refs in the storage; and once the node is back the next sync
// completes.
func TestKilledFetchesLeaveStoreSound(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	dir, rid := a.project()
	// The serving node listens on TCP alone: a killed node's QUIC
	// connections (UDP: nothing tells the other side) stay open at the
	// server until QUIC's idle timeout, and libp2p admits 8 connections
	// per peer, so a node killed 50 times within seconds would be turned
	// away by the server for a while.
	srv := a.startForeground("--listen", "/ip4/127.0.0.1/tcp/0")
	node := b.startForeground()
	work := filepath.Join(b.work, "clone")
	b.run(b.work, "grove", "clone", rid, work, "--from", srv.addr)
	storage := b.storage(rid)
	tip := func(p *peer, storage string) string {
		out, _ := p.try(storage, "git", "rev-parse", "--verify", "-q", "refs/namespaces/"+a.nid+"/refs/grove/sigrefs")
		return out
	}
	change := func(i int) string {
		a.run(dir, "git", "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("change %d", i))
		a.run(dir, "git", "push", "-q", "grove", "HEAD:main")
		return tip(a, a.storage(rid))
	}
	// How long one sync takes here, so that kills spread over it.
	change(0)
	start := time.Now()
	b.run(b.work, "grove", "sync", rid, "--fetch")
	full := time.Since(start)
	runs := 50
	if testing.Short() {
		runs = 8
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	killed, landed := 0, 0
	for i := 1; i <= runs; i++ {
		want := change(i)
		delay := time.Duration(rng.Int64N(int64(full) * 3 / 2))
		c := exec.Command("grove", "sync", rid, "--fetch")
		c.Dir, c.Env = b.work, b.env
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(delay):
			node.kill()
			killed++
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				c.Process.Kill()
				t.Fatalf("run %d: grove sync did not return within a minute of its node's death", i)
			}
		}
		node.kill()
		where := fmt.Sprintf("run %d (killed after %v)", i, delay)
		if err := b.check(storage, "git", "fsck", "--no-progress", "--no-dangling"); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if err := b.check(b.work, "grove", "verify", rid); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if got := tip(b, storage); err == nil {
			landed++
			if got != want {
				t.Fatalf("%s: sync reported success, but a's signed refs here are %s, want %s", where, got, want)
			}
		}
		node = b.startForeground()
		b.run(b.work, "grove", "connect", srv.addr)
	}
	want := change(runs + 1)
	out, err := b.try(b.work, "grove", "sync", rid, "--fetch")
	if got := tip(b, storage); err != nil || got != want {
		t.Fatalf("after the kills a sync (%v) left a's signed refs at %s, want %s:\n%s", err, got, want, out)
	}
	if killed == 0 {
		t.Fatalf("no sync of %d was killed (one takes %v)", runs, full)
	}
	t.Logf("%d of %d syncs' nodes killed, %d syncs reported success", killed, runs, landed)
}
