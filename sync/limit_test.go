package sync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
)

// An announcement flood signed by many fresh keys, all sent by one peer,
// starts no more fetches than the peer's burst; the delegate's own
// announcement is still taken at once.
func TestAnnouncementFloodIsBounded(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("flood")
	ctx := context.Background()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	from := a.Host().ID()
	const flood = 200
	for range flood {
		var oid [20]byte
		rand.Read(oid[:])
		ann, err := gproto.NewAnnouncement(newKey(t), rid, hex.EncodeToString(oid[:]), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.OnAnnouncement(ctx, ann, from)
	}
	started := b.FetchesStarted()
	// The burst, plus what refilled while the flood was handled.
	if started == 0 || started > 40 {
		t.Fatalf("a flood of %d announcements from one peer started %d fetches, want at most about 32", flood, started)
	}
	a.commit(rid, "the delegate's change")
	ann, err := gproto.NewAnnouncement(a.key, rid, a.sigrefs(rid, a.NID()), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.OnAnnouncement(ctx, ann, from)
	if got := b.FetchesStarted(); got != started+1 {
		t.Fatalf("the delegate's announcement after the flood started %d fetches, want 1", got-started)
	}
}
