package sync_test

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
	"example.com/grove/sync/control"
)

// Changes made while two seeders were apart, and never announced, cross
// as soon as they connect again: the heads exchange finds them.
func TestCatchUpOnConnect(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("catch up")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	// Kept apart (the DHT would dial again at once) while both change.
	b.Refuse(a.Host().ID())
	a.commit(rid, "a while apart")
	b.commit(rid, "b while apart")
	wantA, wantB := a.sigrefs(rid, a.NID()), b.sigrefs(rid, b.NID())
	b.Allow(a.Host().ID())
	if _, err := b.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, arrivalWait, "both changes on both sides", func() bool {
		return a.sigrefs(rid, b.NID()) == wantB && b.sigrefs(rid, a.NID()) == wantA
	})
	a.verify(rid)
	b.verify(rid)
}

// The node everyone dials remembers them too: after a restart on new
// ports it dials them itself.
func TestBothSidesRemember(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("remember")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	remembers := func(n, other *testNode) bool {
		book, err := control.LoadBook(n.home)
		if err != nil {
			t.Fatal(err)
		}
		p := book.Peers[other.NID().String()]
		return p != nil && !p.Projects[rid.String()].IsZero() && len(p.Addrs) > 0
	}
	eventually(t, 10*time.Second, "b's book on disk", func() bool { return remembers(b, a) })
	// a, which was only ever dialled, comes back on new ports and finds b.
	a.Close()
	if !remembers(a, b) {
		t.Fatal("a does not remember the peer that cloned from it")
	}
	a.start()
	if err := a.WaitReconnected(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(a.Host().Network().Peers(), b.Host().ID()) {
		t.Fatal("a did not dial the peer it exchanged the project with")
	}
}

// An address that keeps failing goes from the book and from the policy's
// peers once it has not worked for a week; a peer's working address stays.
func TestAddressesAgeOut(t *testing.T) {
	dead := startNode(t)
	deadAddr := dead.Addrs()[0] // TCP: refused at once once closed
	dead.Close()
	live := startNode(t)
	liveAddr := live.Addrs()[0]
	home := repo.Home{Dir: t.TempDir()}
	pol := &control.Policy{Follows: map[string]string{}, Peers: []string{deadAddr, liveAddr}}
	if err := pol.Save(home); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	run := func(now time.Time) {
		t.Helper()
		n := startNode(t, func(c *p2psync.Config) { c.Home, c.Key, c.Now = home, key, func() time.Time { return now } })
		if err := n.WaitReconnected(ctx); err != nil {
			t.Fatal(err)
		}
		n.Close()
	}
	peers := func() []string {
		pol, err := control.LoadPolicy(home)
		if err != nil {
			t.Fatal(err)
		}
		return pol.Peers
	}
	for i, now := range []time.Time{t0, t0.Add(time.Hour), t0.Add(8 * 24 * time.Hour)} {
		if !slices.Contains(peers(), deadAddr) {
			t.Fatalf("dial %d: the failing address went too early", i)
		}
		run(now)
	}
	if slices.Contains(peers(), deadAddr) {
		t.Fatalf("an address that failed 3 dials over 8 days is still in the policy: %v", peers())
	}
	if !slices.Contains(peers(), liveAddr) {
		t.Fatalf("the working address went: %v", peers())
	}
	book, err := control.LoadBook(home)
	if err != nil {
		t.Fatal(err)
	}
	if p := book.Peers[dead.NID().String()]; p != nil {
		t.Fatalf("the book still has the dead peer: %+v", p)
	}
}

// A forgotten peer leaves the book and the policy and is disconnected.
func TestForget(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("forget")
	ctx := context.Background()
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	pol := &control.Policy{Follows: map[string]string{}, Peers: []string{a.Addrs()[0]}}
	if err := pol.Save(b.home); err != nil {
		t.Fatal(err)
	}
	known, err := b.Forget(a.NID())
	if err != nil || !known {
		t.Fatalf("Forget = %v, %v; want true, nil", known, err)
	}
	b.Close()
	book, err := control.LoadBook(b.home)
	if err != nil {
		t.Fatal(err)
	}
	if book.Peers[a.NID().String()] != nil {
		t.Fatal("the book still has the forgotten peer")
	}
	if pol, err := control.LoadPolicy(b.home); err != nil || len(pol.Peers) != 0 {
		t.Fatalf("the policy still has %v (%v)", pol.Peers, err)
	}
	b.start()
	if err := b.WaitReconnected(ctx); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(b.Host().Network().Peers(), a.Host().ID()) {
		t.Fatal("b dialled the peer it forgot")
	}
}

// A peer that sends a malformed heads message gets a strike; one that asks
// too often is refused without one.
func TestHeadsExchangeBounded(t *testing.T) {
	a, e := startNode(t), startNode(t)
	ctx := context.Background()
	if _, err := e.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	ask := func(payload []byte) error {
		s, err := e.Host().NewStream(ctx, a.Host().ID(), protocol.ID(gproto.HeadsProtocolID))
		if err != nil {
			return err
		}
		defer s.Close()
		s.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.Write(payload); err != nil {
			return err
		}
		s.CloseWrite()
		var resp gproto.HeadsMessage
		return gproto.ReadHeads(s, &resp)
	}
	frame := func(b []byte) []byte { return append(binary.AppendUvarint(nil, uint64(len(b))), b...) }
	if err := ask(frame([]byte(`{"projects":[{"rid":"nope"}]}`))); err == nil {
		t.Fatal("a malformed request was answered")
	}
	eventually(t, 10*time.Second, "a strike", func() bool { return a.Strikes(e.Host().ID()) == 1 })
	refused := 0
	for range 20 {
		if ask(frame([]byte(`{"projects":[]}`))) != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("20 heads requests in a row were all answered")
	}
	if s := a.Strikes(e.Host().ID()); s != 1 {
		t.Fatalf("asking too often cost %d strikes, want none", s-1)
	}
}

// An announcement says how many connected seeders it reached: none before
// anyone has the project, the one that cloned it after.
func TestAnnounceCount(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("count")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitReconnected(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := a.AnnounceCount(ctx, rid); err != nil || n != 0 {
		t.Fatalf("AnnounceCount alone = %d, %v; want 0", n, err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	a.commit(rid, "counted")
	if n, err := a.AnnounceCount(ctx, rid); err != nil || n != 1 {
		t.Fatalf("AnnounceCount with a seeder = %d, %v; want 1", n, err)
	}
	want := a.sigrefs(rid, a.NID())
	eventually(t, arrivalWait, "the change at b", func() bool { return b.sigrefs(rid, a.NID()) == want })
}

// A peer that refuses heads exchanges asked too often (it resets the
// stream) is busy, not hostile: the asker holds no strike against it and
// stays connected. Before, three refusals got honest seeders blocked by
// a node that announced often.
func TestRefusedHeadsAreNoStrike(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("busy")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	bid := b.Host().ID()
	refused := 0
	for range 24 { // the burst is 8, refilled one per 2 s
		if err := a.AskHeads(ctx, bid, []gproto.RID{rid}); err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("b answered 24 heads exchanges in a row: the test no longer reaches its rate limit")
	}
	if s := a.Strikes(bid); s != 0 {
		t.Fatalf("a holds %d strikes against b for %d refused exchanges", s, refused)
	}
	if !slices.Contains(a.Host().Network().Peers(), bid) {
		t.Fatal("a disconnected b for refusing")
	}
}
