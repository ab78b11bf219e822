package sync_test

import (
	"slices"
	"testing"

	p2psync "example.com/grove/sync"
)

// A sync of the running node's (headsFirst) from a peer that holds the
// same signed refs moves no git protocol byte (a heads round trip only); once the peer has something
// new, the sync fetches it.
func TestSyncNothingNewAsksHeadsOnly(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("same")
	ctx := t.Context()
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	res, err := b.Sync(ctx, rid, 8, p2psync.HeadsFirst())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Bytes != 0 || res[0].Unchanged != 1 || len(res[0].Updated) != 0 {
		t.Fatalf("sync with nothing new = %+v; want one peer, unchanged, no bytes", res[0])
	}
	// A commit on a, not announced: the digests differ and b fetches it.
	a.commit(rid, "second")
	res, err = b.Sync(ctx, rid, 8, p2psync.HeadsFirst())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Bytes == 0 || !slices.Contains(res[0].Updated, a.NID().String()) {
		t.Fatalf("sync after a change = %+v; want a's namespace fetched", res[0])
	}
	if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("b has sigrefs %s, a %s", got, want)
	}
}
