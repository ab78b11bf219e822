package sync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestIdentityUpdateBelowThresholdIsRefused: a stranger writes, in its
// own namespace and under its own valid signed refs, a revision of the
// project's identity that makes it the sole delegate, signed by itself
// alone (none of the delegates the current revision needs). A node that
// fetches from it keeps the project's identity, its storage is
// byte-identical, and it goes on serving an honest clone.
func TestIdentityUpdateBelowThresholdIsRefused(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := e.storage(rid)
	r, err := repo.Open(e.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	doc, root, err := r.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	taken := *doc
	taken.Delegates = []gproto.NID{e.NID()}
	data, err := taken.Encode()
	if err != nil {
		t.Fatal(err)
	}
	blob := strings.TrimSpace(runStdin(t, st, string(data), "hash-object", "-w", "--stdin"))
	tree := strings.TrimSpace(runStdin(t, st, "100644 blob "+blob+"\t"+gproto.IdentityFile+"\n", "mktree"))
	sig, err := e.key.Sign(gproto.IdentityPayload(tree, []string{root}))
	if err != nil {
		t.Fatal(err)
	}
	msg := "Update " + taken.Name + "\n\n" + gproto.IdentitySignature{NID: e.NID(), Signature: sig}.Trailer() + "\n"
	weak := git(t, st, "commit-tree", tree, "-p", root, "-m", msg)
	if _, _, err := r.VerifyIdentity(weak); err == nil {
		t.Fatal("the stranger's revision verifies")
	}
	if err := r.UpdateNamespace(ctx, e.key, []repo.RefUpdate{{Name: gproto.IdentityRef, New: weak}}, time.Now()); err != nil {
		t.Fatalf("e signs its namespace with the revision: %v", err)
	}
	before := storeDigest(t, b.storage(rid))
	res, err := b.Fetch(ctx, e.Host().ID(), rid)
	if err == nil && (len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "delegates it needs")) {
		t.Errorf("fetch %+v: want the stranger's namespace rejected for its identity's signatures", res)
	}
	if after := storeDigest(t, b.storage(rid)); after != before {
		t.Errorf("an identity revision below the threshold changed the storage (fetch %+v, %v)", res, err)
	}
	br, err := repo.Open(b.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := br.Identity(ctx)
	if err != nil || len(got.Delegates) != 1 || !got.Delegates[0].Equal(a.NID()) {
		t.Errorf("after the fetch the project's identity is %+v, %v; want a the sole delegate", got, err)
	}
	b.verify(rid)
	honest := startNode(t)
	if _, err := honest.Clone(ctx, rid, b.Addrs()[:1]); err != nil {
		t.Fatalf("an honest clone from the node after the revision: %v", err)
	}
	honest.verify(rid)
}
