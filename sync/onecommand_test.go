package sync_test

import (
	"slices"
	"testing"
	"time"

	p2psync "example.com/grove/sync"
)

// TestOneCommandTakesOnlyWhatItIsAsked: a node started for one command
// (grove sync with no node running) catches up on nothing by itself when
// it connects, so the command's own sync brings the update and says so.
// Before, the heads exchange on connecting fetched the update first, and
// the sync reported the namespace unchanged although it had just arrived.
func TestOneCommandTakesOnlyWhatItIsAsked(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("one command")
	ctx := t.Context()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	// b stops; a commits meanwhile; b starts again for one command.
	b.Close()
	a.commit(rid, "while b was stopped")
	before := b.sigrefs(rid, a.NID())
	b.Node = startNode(t, func(c *p2psync.Config) { c.Home, c.Key, c.NoReconnect, c.OneCommand = b.home, b.key, true, true }).Node
	if _, err := b.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	// The heads exchange on connecting takes well under a second here;
	// its catching up would have moved the namespace by the end of this.
	for range 30 {
		if got := b.sigrefs(rid, a.NID()); got != before {
			t.Fatalf("a node for one command took %s by itself on connecting", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	res, err := b.Sync(ctx, rid, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || !slices.Contains(res[0].Updated, a.NID().String()) {
		t.Fatalf("sync = %+v; want a's namespace updated by it", res[0])
	}
	if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("b has sigrefs %s, a %s", got, want)
	}
}

// TestOneCommandCloneSeedsForLater: a node started for one command that
// clones a project remembers to seed it, for the node that starts next,
// but joins no topic and provides nothing, as it stops at once; a node
// that stays joins at once.
func TestOneCommandCloneSeedsForLater(t *testing.T) {
	a := startNode(t)
	rid := a.project("seed for later")
	ctx := t.Context()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	for _, one := range []bool{true, false} {
		b := startNode(t, func(c *p2psync.Config) { c.NoReconnect, c.OneCommand = one, one })
		if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
		pol, err := p2psync.LoadPolicy(b.home)
		if err != nil || !pol.Seeding(rid) {
			t.Errorf("one command %v: policy seeds %v, %v; want %s", one, pol.Seeds, err, rid)
		}
		if b.Joined(rid) == one {
			t.Errorf("one command %v: joined the topic %v", one, b.Joined(rid))
		}
	}
}
