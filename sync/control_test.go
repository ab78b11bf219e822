package sync_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// serveControl serves n's control socket in n's home until the test ends
// or a client stops it; the returned channel is closed when Serve returns,
// and its result is then in *err.
func serveControl(t *testing.T, n *testNode, err *error) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		*err = p2psync.Serve(ctx, n.Node, p2psync.ControlPath(n.home), nil)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	eventually(t, 5*time.Second, "control socket", func() bool {
		_, err := p2psync.Dial(n.home)
		return err == nil
	})
	return done
}

func TestControl(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("control")
	var serveErr error
	done := serveControl(t, b, &serveErr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := p2psync.Dial(b.home)
	if err != nil {
		t.Fatal(err)
	}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NID != b.NID().String() || st.PID != os.Getpid() || len(st.Addrs) == 0 || st.Peers != 0 {
		t.Fatalf("status %+v", st)
	}
	addrs, err := c.Addrs(ctx)
	if err != nil || !slices.Equal(addrs, b.Addrs()) {
		t.Fatalf("addrs %v, %v; want %v", addrs, err, b.Addrs())
	}

	nid, err := c.Connect(ctx, a.Addrs()[0])
	if err != nil || nid != a.NID().String() {
		t.Fatalf("connect: %q, %v", nid, err)
	}
	if _, err := c.Connect(ctx, "/ip4/127.0.0.1/tcp/1"); err == nil {
		t.Fatal("connect to an address without /p2p/NID worked")
	}
	peers, err := c.Peers(ctx)
	if err != nil || !slices.ContainsFunc(peers, func(p p2psync.PeerInfo) bool { return p.NID == a.NID().String() }) {
		t.Fatalf("peers %+v, %v; want %s among them", peers, err, a.NID())
	}

	res, err := c.Clone(ctx, rid, a.Addrs()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
		t.Fatalf("clone updated %v", res.Updated)
	}
	b.verify(rid)
	if !seeding(t, b.home, rid.String()) {
		t.Fatal("a cloned project is not seeded")
	}
	if err := c.Unseed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if seeding(t, b.home, rid.String()) {
		t.Fatal("still seeded after unseed")
	}
	if err := c.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx); st == nil || !slices.Contains(st.Seeds, rid.String()) || st.Peers != 1 {
		t.Fatalf("status after seed: %+v", st)
	}

	a.commit(rid, "second")
	results, err := c.Sync(ctx, rid, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Peer != a.NID().String() || !slices.Equal(results[0].Updated, []string{a.NID().String()}) {
		t.Fatalf("sync results %+v", results)
	}
	if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("after sync b has %s, a has %s", got, want)
	}

	// b has nothing of its own to announce until it writes something.
	if err := c.Announce(ctx, rid); err == nil {
		t.Fatal("announce with no refs of b's own worked")
	}
	b.commit(rid, "b's work")
	if err := c.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}

	// Sentinels cross the socket.
	other := newNodeProject(t)
	if _, err := c.Sync(ctx, other, time.Second); !errors.Is(err, p2psync.ErrNoPeers) && !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("sync of an unknown project: %v", err)
	}
	if err := c.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}

	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if serveErr != nil {
			t.Fatalf("Serve: %v", serveErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Stop")
	}
	if _, err := os.Stat(p2psync.ControlPath(b.home)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
	if _, err := p2psync.Dial(b.home); !errors.Is(err, p2psync.ErrNotRunning) {
		t.Fatalf("Dial after stop: %v", err)
	}
	if _, err := c.Status(ctx); !errors.Is(err, p2psync.ErrNotRunning) {
		t.Fatalf("Status after stop: %v", err)
	}
}

// newNodeProject returns the RID of a project that only a node nobody
// connects to has.
func newNodeProject(t *testing.T) gproto.RID {
	return startNode(t).project("elsewhere")
}

func seeding(t *testing.T, h repo.Home, rid string) bool {
	t.Helper()
	pol, err := p2psync.LoadPolicy(h)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(pol.Seeds, rid)
}

func TestControlNotRunning(t *testing.T) {
	h := repo.Home{Dir: t.TempDir()}
	if _, err := p2psync.Dial(h); !errors.Is(err, p2psync.ErrNotRunning) {
		t.Fatalf("Dial with no socket: %v", err)
	}
	// A socket file nothing listens on, as a killed node leaves it.
	if err := os.MkdirAll(h.NodeDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", p2psync.ControlPath(h))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(p2psync.ControlPath(h)); err != nil {
		t.Fatal(err)
	}
	if _, err := p2psync.Dial(h); !errors.Is(err, p2psync.ErrNotRunning) {
		t.Fatalf("Dial with a stale socket: %v", err)
	}
	// A node replaces the stale socket; a second one on it is refused.
	n := startNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p2psync.Serve(ctx, n.Node, p2psync.ControlPath(h), nil) }()
	eventually(t, 5*time.Second, "control socket", func() bool {
		_, err := p2psync.Dial(h)
		return err == nil
	})
	if err := p2psync.Serve(ctx, n.Node, p2psync.ControlPath(h), nil); !errors.Is(err, p2psync.ErrRunning) {
		t.Fatalf("second Serve: %v", err)
	}
	fi, err := os.Stat(p2psync.ControlPath(h))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v, %v", fi, err)
	}
	if fi, err := os.Stat(h.NodeDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("node dir mode: %v, %v", fi, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
