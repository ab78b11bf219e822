package sync_test

import (
	"context"
	"os/exec"
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

// TestRefsOutsideNamespacesAreIgnored: a peer moves the refs of its
// storage that no namespace holds (the canonical branches, which each
// node derives for itself, and refs of its own invention) to commits no
// delegate signed. A node that fetches from it takes none of them: its
// storage is byte-identical, its canonical main is the delegate's, and it
// goes on serving an honest clone.
func TestRefsOutsideNamespacesAreIgnored(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := e.storage(rid)
	evil := git(t, st, "commit-tree", git(t, st, "rev-parse", "HEAD^{tree}"), "-m", "evil")
	git(t, st, "update-ref", "refs/heads/main", evil)
	git(t, st, "update-ref", "refs/heads/evil", evil)
	git(t, st, "update-ref", "refs/evil/x", evil)
	git(t, st, "update-ref", "refs/namespaces/not-a-nid/refs/heads/main", evil)
	want := git(t, b.storage(rid), "rev-parse", "refs/heads/main")
	before := storeDigest(t, b.storage(rid))
	res, err := b.Fetch(ctx, e.Host().ID(), rid)
	if err != nil {
		t.Logf("fetch: %v", err)
	}
	if after := storeDigest(t, b.storage(rid)); after != before {
		t.Errorf("refs outside the namespaces changed the storage (fetch %+v, %v)", res, err)
	}
	if got := git(t, b.storage(rid), "rev-parse", "refs/heads/main"); got != want || got != a.ref(rid, a.NID(), "refs/heads/main") {
		t.Errorf("canonical main is %.7s, want the delegate's %.7s", got, want)
	}
	if exec.Command("git", "-C", b.storage(rid), "cat-file", "-e", evil).Run() == nil {
		t.Errorf("the peer's commit %.7s is in the storage", evil)
	}
	b.verify(rid)
	honest := startNode(t)
	if _, err := honest.Clone(ctx, rid, b.Addrs()[:1]); err != nil {
		t.Fatalf("an honest clone from the node: %v", err)
	}
	honest.verify(rid)
}
