package sync_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	p2psync "example.com/grove/sync"
)

// announcement returns n's signed announcement of its current sigrefs.
func (n *testNode) announcement(rid gproto.RID) gproto.Announcement {
	n.t.Helper()
	a, err := gproto.NewAnnouncement(n.key, rid, n.sigrefs(rid, n.NID()), time.Now())
	if err != nil {
		n.t.Fatal(err)
	}
	return a
}

// A seeder one revision behind takes an update as an update pack: one
// exchange, no git negotiation, and the result verifies like a fetch.
func TestUpdatePackFromAnnouncer(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("update")
	ctx := context.Background()
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a.commit(rid, fmt.Sprintf("change %d", i))
		res, err := b.FetchUpdate(ctx, a.Host().ID(), a.announcement(rid))
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if !slices.Equal(res.Updated, []string{a.NID().String()}) || res.Bytes == 0 {
			t.Fatalf("update %d: %+v", i, res)
		}
		if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
			t.Fatalf("update %d: b has %s, want %s", i, got, want)
		}
	}
	b.verify(rid)
}

// What the update path cannot serve is refused with ErrNoUpdate, and
// changes nothing: the caller fetches instead.
func TestUpdatePackUnavailable(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("unavailable")
	ctx := context.Background()
	for _, n := range []*testNode{b, c} {
		if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	a.commit(rid, "ahead")
	ann := a.announcement(rid)
	// c does not hold the announced revision yet.
	if _, err := c.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	before := c.sigrefs(rid, a.NID())
	if _, err := c.FetchUpdate(ctx, b.Host().ID(), ann); !errors.Is(err, p2psync.ErrNoUpdate) {
		t.Fatalf("update from a peer without it: %v, want ErrNoUpdate", err)
	}
	if got := c.sigrefs(rid, a.NID()); got != before {
		t.Fatalf("c's refs moved to %s", got)
	}
	// A node with no earlier revision of the namespace fetches.
	d := startNode(t)
	if _, err := d.FetchUpdate(ctx, a.Host().ID(), ann); !errors.Is(err, p2psync.ErrNoUpdate) {
		t.Fatalf("update into a node without the project: %v, want ErrNoUpdate", err)
	}
	// Once b has it, b serves it.
	if _, err := b.FetchUpdate(ctx, a.Host().ID(), ann); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchUpdate(ctx, b.Host().ID(), ann); err != nil {
		t.Fatal(err)
	}
	if got, want := c.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("c has %s, want %s", got, want)
	}
	c.verify(rid)
}

// Seeders that hear an announcement take it as an update pack.
func TestAnnouncementTakenAsUpdatePack(t *testing.T) {
	a := startNode(t)
	rid := a.project("gossip update")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	seeders := []*testNode{startNode(t), startNode(t), startNode(t)}
	for _, s := range seeders {
		if _, err := s.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "topic peers", func() bool {
		return len(a.TopicPeers(rid)) == len(seeders)
	})
	a.commit(rid, "announced")
	want := a.sigrefs(rid, a.NID())
	// Announce until every seeder has it, bounded: a fresh mesh needs a
	// heartbeat.
	deadline := time.Now().Add(20 * time.Second)
	for slices.ContainsFunc(seeders, func(s *testNode) bool { return s.sigrefs(rid, a.NID()) != want }) {
		if time.Now().After(deadline) {
			t.Fatal("the update did not reach every seeder")
		}
		if err := a.Announce(ctx, rid); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, s := range seeders {
		// The counter moves just after the refs do.
		eventually(t, 5*time.Second, fmt.Sprintf("seeder %d's count of update packs", i), func() bool {
			return s.UpdatesTaken() >= 1
		})
		if n := s.UpdatesTaken(); n != 1 {
			t.Errorf("seeder %d took %d update packs, want 1", i, n)
		}
		s.verify(rid)
	}
}

// A contributor's first change (a namespace its peers hold nothing of) is
// taken as an update pack made against the receiver's canonical tips, not
// by a git fetch each; what arrives verifies as any fetch.
func TestFirstChangeTakenAsUpdatePack(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("first change")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	b.commit(rid, "b's first change")
	want := b.sigrefs(rid, b.NID())
	if err := b.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	eventually(t, arrivalWait, "b's first change at a", func() bool { return a.sigrefs(rid, b.NID()) == want })
	eventually(t, 5*time.Second, "a's count of update packs", func() bool { return a.UpdatesTaken() >= 1 })
	if n := a.UpdatesTaken(); n != 1 {
		t.Errorf("a took %d update packs, want 1", n)
	}
	a.verify(rid)
}

// A node alone makes no update pack ahead of an announcement (it would
// hold up to MaxUpdatePack bytes for nobody); a peer that comes later
// still takes the next update as an update pack.
func TestUpdatePackPreparedOnlyForPeers(t *testing.T) {
	a := startNode(t)
	rid := a.project("prepared")
	ctx := context.Background()
	// Done dialling (nobody): an announcement then knows at once that no
	// peer is there, rather than waiting for one.
	if err := a.WaitReconnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	a.commit(rid, "while alone")
	if err := a.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if n := a.UpdatePacksKept(); n != 0 {
		t.Fatalf("a node alone holds %d update packs after announcing", n)
	}
	b := startNode(t)
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "b in a's project", func() bool {
		return len(a.TopicPeers(rid)) == 1
	})
	a.commit(rid, "with a peer")
	want := a.sigrefs(rid, a.NID())
	if err := a.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the update at b", func() bool {
		return b.sigrefs(rid, a.NID()) == want
	})
	eventually(t, 5*time.Second, "b's count of update packs", func() bool {
		return b.UpdatesTaken() >= 1
	})
	b.verify(rid)
}
