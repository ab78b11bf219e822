package repo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// updateFixture is a project whose delegate moved after a peer copied it:
// main gained a commit, a branch was created from main and one deleted.
type updateFixture struct {
	origin, peer *repo.Repo
	key          *protocol.Key
	have, want   string
}

func newUpdateFixture(t *testing.T) updateFixture {
	t.Helper()
	k := testKey(t, 1)
	_, origin := newProject(t, "update", k)
	nid := k.NID()
	c1 := commit(t, origin, "one")
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", New: c1},
		repo.RefUpdate{Name: "refs/heads/old", New: c1})
	peer := copyProject(t, origin)
	have := nsRefs(t, origin, nid)[protocol.SigrefsRef]
	c2 := commit(t, origin, "two", c1)
	c3 := commit(t, origin, "feature", c2)
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2},
		repo.RefUpdate{Name: "refs/heads/feature", New: c3},
		repo.RefUpdate{Name: "refs/heads/old", Old: c1})
	want := nsRefs(t, origin, nid)[protocol.SigrefsRef]
	return updateFixture{origin: origin, peer: peer, key: k, have: have, want: want}
}

func TestUpdatePackMovesPeerToAnnouncedRefs(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	nid := f.key.NID()
	pack, err := f.origin.UpdatePack(ctx, nid, f.have, f.want, protocol.MaxUpdatePack)
	if err != nil {
		t.Fatal(err)
	}
	// Only the new commits, their (empty) tree and the sigrefs objects:
	// not c1, which the peer has.
	if n := packCount(t, pack); n > 10 {
		t.Errorf("update pack holds %d objects, want only the delta", n)
	}
	res, err := f.peer.AcceptPack(ctx, nid, f.want, pack, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || !res.Updated[0].Equal(nid) {
		t.Fatalf("accept: %+v", res)
	}
	if got, want := nsRefs(t, f.peer, nid), nsRefs(t, f.origin, nid); !maps.Equal(got, want) {
		t.Errorf("peer refs %v\nwant %v", got, want)
	}
	if got, want := canonRefs(t, f.peer), canonRefs(t, f.origin); !maps.Equal(got, want) {
		t.Errorf("peer canonical refs %v\nwant %v", got, want)
	}
	// A fresh reader: this one listed the storage's packs before the
	// update's arrived.
	peer, err := f.peer.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	verifyClean(t, peer)
	gitIn(t, peer.Path, nil, "fsck", "--strict", "--no-dangling")
}

func TestUpdatePackUnavailable(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	nid := f.key.NID()
	unknown := strings.Repeat("ab", 20)
	for name, args := range map[string][2]string{
		"unknown have": {unknown, f.want},
		"unknown want": {f.have, unknown},
	} {
		if _, err := f.origin.UpdatePack(ctx, nid, args[0], args[1], protocol.MaxUpdatePack); !errors.Is(err, repo.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
	if _, err := f.origin.UpdatePack(ctx, nid, f.have, f.want, 100); !errors.Is(err, repo.ErrUnavailable) {
		t.Errorf("pack over the limit: %v, want ErrUnavailable", err)
	}
	// Another key's namespace: the signature does not verify.
	if _, err := f.origin.UpdatePack(ctx, testKey(t, 2).NID(), f.have, f.want, protocol.MaxUpdatePack); !errors.Is(err, repo.ErrUnavailable) {
		t.Errorf("wrong nid: %v, want ErrUnavailable", err)
	}
	// A pack just within the limit is whole; neither it nor the one cut
	// off leaves its scratch file behind.
	pack, err := f.origin.UpdatePack(ctx, nid, f.have, f.want, protocol.MaxUpdatePack)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := f.origin.UpdatePack(ctx, nid, f.have, f.want, int64(len(pack)))
	if err != nil || !bytes.Equal(exact, pack) {
		t.Errorf("pack of exactly the limit: %d bytes, %v; want the %d of the pack", len(exact), err, len(pack))
	}
	if _, err := f.origin.UpdatePack(ctx, nid, f.have, f.want, int64(len(pack))-1); !errors.Is(err, repo.ErrUnavailable) {
		t.Errorf("pack one byte over the limit: %v, want ErrUnavailable", err)
	}
	if left, _ := filepath.Glob(filepath.Join(f.origin.Path, "grove-tmp", "*")); len(left) > 0 {
		t.Errorf("scratch files left: %v", left)
	}
}

// A pack that lacks an object a moved ref needs is refused and nothing
// moves, whatever git accepted into the quarantine.
func TestAcceptPackRefusesIncompletePack(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	nid := f.key.NID()
	before := nsRefs(t, f.peer, nid)
	feature := nsRefs(t, f.origin, nid)["refs/heads/feature"]
	// Everything but the feature commit.
	pack := packRevs(t, f.origin.Path, f.want+"\n^"+f.have+"\n"+
		nsRefs(t, f.origin, nid)["refs/heads/main"]+"\n^"+before["refs/heads/main"]+"\n")
	if _, err := f.peer.AcceptPack(ctx, nid, f.want, pack, nil); err == nil || !strings.Contains(err.Error(), "did not arrive") {
		t.Fatalf("accept of a pack without %.7s: %v", feature, err)
	}
	if got := nsRefs(t, f.peer, nid); !maps.Equal(got, before) {
		t.Errorf("refs moved: %v, want %v", got, before)
	}
	verifyClean(t, f.peer)
}

// A sigrefs signed by another key is rejected like after a fetch.
func TestAcceptPackRejectsForgery(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	nid := f.key.NID()
	before := nsRefs(t, f.peer, nid)
	// The forger signs a tree moving main, as the next revision of have.
	forger := testKey(t, 9)
	c := commit(t, f.origin, "forged", before["refs/heads/main"])
	refs := protocol.NewRefList(map[string]string{"refs/heads/main": c, "refs/heads/old": before["refs/heads/old"],
		protocol.IdentityRef: before[protocol.IdentityRef]})
	forged := writeSigrefsTree(t, f.origin, forger, f.origin.RID, f.have, gitRefTree(t, f.origin.Path, refs))
	pack := packRevs(t, f.origin.Path, forged+"\n^"+f.have+"\n"+c+"\n")
	res, err := f.peer.AcceptPack(ctx, nid, forged, pack, nil)
	if err == nil && len(res.Rejected) == 1 {
		err = res.Rejected[0]
	}
	if err == nil || !errors.Is(err, protocol.ErrBadSignature) {
		t.Fatalf("forged update: %+v, %v; want a bad signature", res, err)
	}
	if got := nsRefs(t, f.peer, nid); !maps.Equal(got, before) {
		t.Errorf("refs moved: %v, want %v", got, before)
	}
}

// packCount returns the object count in a pack's header.
func packCount(t *testing.T, pack []byte) int {
	t.Helper()
	if len(pack) < 12 || string(pack[:4]) != "PACK" {
		t.Fatalf("not a pack: %q", pack[:min(len(pack), 12)])
	}
	return int(binary.BigEndian.Uint32(pack[8:12]))
}

// packRevs returns a pack made by git pack-objects --revs from input.
func packRevs(t *testing.T, dir, input string) []byte {
	t.Helper()
	c := exec.Command("git", "pack-objects", "--stdout", "--revs", "-q")
	c.Dir = dir
	c.Stdin = strings.NewReader(input)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("pack-objects: %v", err)
	}
	return out
}

// BenchmarkAcceptPack times taking one announced update (two commits, a
// branch created and one deleted) from an update pack, as a seeder does.
//
//	go test -run '^$' -bench AcceptPack -cpuprofile /tmp/acceptpack.prof ./repo
func BenchmarkAcceptPack(b *testing.B) {
	ctx := context.Background()
	k := testKey(b, 1)
	h := repo.Home{Dir: b.TempDir()}
	doc := &protocol.Identity{Name: "bench", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1,
		Visibility: protocol.Visibility{Type: protocol.Public}}
	origin, err := repo.Create(ctx, h, k, doc, now)
	if err != nil {
		b.Fatal(err)
	}
	nid := k.NID()
	c1 := commit(b, origin, "one")
	update(b, origin, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	have := nsRefs(b, origin, nid)[protocol.SigrefsRef]
	c2 := commit(b, origin, "two", c1)
	update(b, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	want := nsRefs(b, origin, nid)[protocol.SigrefsRef]
	pack, err := origin.UpdatePack(ctx, nid, have, want, protocol.MaxUpdatePack)
	if err != nil {
		b.Fatal(err)
	}
	gitIn(b, origin.Path, nil, "update-ref", "refs/namespaces/"+nid.String()+"/refs/grove/sigrefs", have)
	gitIn(b, origin.Path, nil, "update-ref", "refs/namespaces/"+nid.String()+"/refs/heads/main", c1)
	for b.Loop() {
		res, err := origin.AcceptPack(ctx, nid, want, pack, func(protocol.NID) bool { return true })
		if err != nil || len(res.Updated) != 1 {
			b.Fatalf("accept: %+v, %v", res, err)
		}
		b.StopTimer()
		gitIn(b, origin.Path, nil, "update-ref", "refs/namespaces/"+nid.String()+"/refs/grove/sigrefs", have)
		gitIn(b, origin.Path, nil, "update-ref", "refs/namespaces/"+nid.String()+"/refs/heads/main", c1)
		b.StartTimer()
	}
}

// A first update pack, for a peer that holds nothing of the namespace,
// leaves out what the peer's canonical tips reach and still takes the
// peer to the announced refs.
func TestFirstUpdatePack(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	// The delegate's history moves on the peer too, so the peer's
	// canonical main is the origin's: c2.
	pack, err := f.origin.UpdatePack(ctx, f.key.NID(), f.have, f.want, protocol.MaxUpdatePack)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.peer.AcceptPack(ctx, f.key.NID(), f.want, pack, nil); err != nil {
		t.Fatal(err)
	}
	// A contributor's first change, on the origin, on top of main.
	k2 := testKey(t, 2)
	main := canonRefs(t, f.origin)["refs/heads/main"]
	c := commit(t, f.origin, "contribution", main)
	update(t, f.origin, k2, repo.RefUpdate{Name: "refs/heads/fix", New: c})
	want := nsRefs(t, f.origin, k2.NID())[protocol.SigrefsRef]
	// An unknown base commit is left out, not an error.
	base := []string{canonRefs(t, f.peer)["refs/heads/main"], strings.Repeat("ab", 20)}
	pack, err = f.origin.FirstUpdatePack(ctx, k2.NID(), want, base, protocol.MaxUpdatePack)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := f.origin.FirstUpdatePack(ctx, k2.NID(), want, nil, protocol.MaxUpdatePack)
	if err != nil {
		t.Fatal(err)
	}
	// main's history, which the base reaches, stays out.
	if n, all := packCount(t, pack), packCount(t, whole); n >= all {
		t.Errorf("first update pack holds %d objects against the base, %d without", n, all)
	}
	res, err := f.peer.AcceptPack(ctx, k2.NID(), want, pack, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || !res.Updated[0].Equal(k2.NID()) {
		t.Fatalf("accept: %+v", res)
	}
	if got, want := nsRefs(t, f.peer, k2.NID()), nsRefs(t, f.origin, k2.NID()); !maps.Equal(got, want) {
		t.Errorf("peer refs %v\nwant %v", got, want)
	}
	peer, err := f.peer.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	verifyClean(t, peer)
}
