package sync_test

import (
	"context"
	"slices"
	"testing"
	"time"

	p2psync "example.com/grove/sync"
)

func TestFetchOneNamespace(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("narrow")
	ctx := context.Background()
	for _, n := range []*testNode{b, c} {
		if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	b.commit(rid, "b's change")
	a.commit(rid, "a's change")
	if _, err := b.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	res, err := c.Fetch(ctx, b.Host().ID(), rid, p2psync.OnlyNamespace(a.NID()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
		t.Fatalf("narrow fetch updated %v, want only %s", res.Updated, a.NID())
	}
	if got, want := c.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("c has a's sigrefs %q, want %q", got, want)
	}
	if got := c.sigrefs(rid, b.NID()); got != "" {
		t.Fatalf("a fetch of a's namespace brought b's: %s", got)
	}
	if _, err := c.Fetch(ctx, b.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if got, want := c.sigrefs(rid, b.NID()), b.sigrefs(rid, b.NID()); got != want {
		t.Fatalf("c has b's sigrefs %q, want %q", got, want)
	}
	c.verify(rid)
}

// A seeder that is not connected to the author gets an update from one
// announcement: the seeder in between passes it on once it took it.
func TestAnnouncementPassedOn(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("pass on")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clone(ctx, rid, b.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	// Without this, the DHT would connect c to a.
	c.Refuse(a.Host().ID())
	sees := func(n *testNode, others ...*testNode) bool {
		ps := n.TopicPeers(rid)
		return !slices.ContainsFunc(others, func(o *testNode) bool { return !slices.Contains(ps, o.Host().ID()) })
	}
	eventually(t, 20*time.Second, "topic peers", func() bool {
		return sees(a, b) && sees(b, a, c) && sees(c, b)
	})
	a.commit(rid, "one announcement")
	want := a.sigrefs(rid, a.NID())
	if err := a.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the update at c", func() bool {
		return b.sigrefs(rid, a.NID()) == want && c.sigrefs(rid, a.NID()) == want
	})
	b.verify(rid)
	c.verify(rid)
}
