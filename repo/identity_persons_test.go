package repo_test

import (
	"errors"
	"testing"

	"example.com/grove/protocol"
)

// TestIdentityPersonsThreshold: an identity document that groups delegate
// keys a1 and a2 as one person (version 2) needs, at threshold 2, the
// signatures of two persons on its successor: a1 and a2 together count
// once, a1 and b pass. A grouping that the previous revision's threshold
// did not sign is refused; the same keys without a grouping (version 1)
// still count as two.
func TestIdentityPersonsThreshold(t *testing.T) {
	t.Parallel()
	a1, a2, b := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	_, r := newProject(t, "p", a1)
	root := r.RID.OID()
	cur, _, err := r.VerifyIdentity(root)
	if err != nil {
		t.Fatal(err)
	}
	grouped := *cur
	grouped.Delegates = []protocol.NID{a1.NID(), a2.NID(), b.NID()}
	grouped.Persons = [][]protocol.NID{{a1.NID(), a2.NID()}}
	grouped.Threshold = 2
	grouped.Normalize()
	if grouped.Version != 2 {
		t.Fatalf("a document with persons is version %d", grouped.Version)
	}
	g := writeIdentity(t, r, &grouped, root, a1)
	if doc, _, err := r.VerifyIdentity(g); err != nil || len(doc.Persons) != 1 {
		t.Fatalf("the grouping revision: %+v, %v", doc, err)
	}
	next := grouped
	next.Description = "changed"
	if _, _, err := r.VerifyIdentity(writeIdentity(t, r, &next, g, a1, a2)); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("one person's two devices met threshold 2: %v", err)
	}
	if _, _, err := r.VerifyIdentity(writeIdentity(t, r, &next, g, a1, b)); err != nil {
		t.Errorf("two persons: %v", err)
	}
	if _, _, err := r.VerifyIdentity(writeIdentity(t, r, &next, g, a2, b)); err != nil {
		t.Errorf("the person's other device and b: %v", err)
	}

	// Without the grouping, the same two keys are two delegates.
	plain := grouped
	plain.Persons = nil
	plain.Normalize()
	p := writeIdentity(t, r, &plain, root, a1)
	nextPlain := plain
	nextPlain.Description = "changed"
	if _, _, err := r.VerifyIdentity(writeIdentity(t, r, &nextPlain, p, a1, a2)); err != nil {
		t.Errorf("version 1, two delegate keys: %v", err)
	}
	// A grouping added by fewer signatures than the previous threshold
	// is refused like any identity change.
	regroup := plain
	regroup.Persons = [][]protocol.NID{{a2.NID(), b.NID()}}
	regroup.Normalize()
	if _, _, err := r.VerifyIdentity(writeIdentity(t, r, &regroup, p, a2)); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("a grouping signed by one delegate of threshold 2: %v", err)
	}
}

// TestCanonicalIdentityPersons: keys the identity document groups count
// once toward the canonical refs' threshold too, with no person document.
func TestCanonicalIdentityPersons(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a1, a2, b := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	_, r := newProject(t, "p", a1)
	c := commit(t, r, "x")
	ns := map[string]map[string]string{
		a1.NID().String(): {"refs/heads/main": c},
		a2.NID().String(): {"refs/heads/main": c},
	}
	doc := &protocol.Identity{Delegates: []protocol.NID{a1.NID(), a2.NID(), b.NID()}, Threshold: 2}
	if got, err := r.DeriveCanonical(ctx, doc, ns, nil); err != nil || got["refs/heads/main"] != c {
		t.Fatalf("ungrouped, two keys agreeing: %v, %v", got, err)
	}
	doc.Persons = [][]protocol.NID{{a1.NID(), a2.NID()}}
	doc.Normalize()
	if got, err := r.DeriveCanonical(ctx, doc, ns, nil); err != nil || got["refs/heads/main"] != "" {
		t.Fatalf("grouped, one person met threshold 2: %v, %v", got, err)
	}
}
