package repo_test

import (
	"context"
	"reflect"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func TestDeriveCanonical(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1, k2, k3, stranger := testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4)
	_, r := newProject(t, "p", k1)

	// c1 ← c2 ← c3 ← c4, and two forks from c2: x1 ← x2 and y1.
	c1 := commit(t, r, "c1")
	c2 := commit(t, r, "c2", c1)
	c3 := commit(t, r, "c3", c2)
	c4 := commit(t, r, "c4", c3)
	x1 := commit(t, r, "x1", c2)
	x2 := commit(t, r, "x2", x1)
	y1 := commit(t, r, "y1", c2)
	// A merge of both forks, and an unrelated root.
	m := commit(t, r, "merge", x2, y1)
	z := commit(t, r, "z")

	doc := func(threshold int, ks ...*protocol.Key) *protocol.Identity {
		d := &protocol.Identity{Name: "p", DefaultBranch: "main", Threshold: threshold, Visibility: protocol.Visibility{Type: protocol.Public}}
		for _, k := range ks {
			d.Delegates = append(d.Delegates, k.NID())
		}
		d.Normalize()
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		return d
	}
	main := func(oid string) map[string]string { return map[string]string{"refs/heads/main": oid} }
	ns := func(pairs ...any) map[string]map[string]string {
		out := make(map[string]map[string]string)
		for i := 0; i < len(pairs); i += 2 {
			out[pairs[i].(*protocol.Key).NID().String()] = pairs[i+1].(map[string]string)
		}
		return out
	}
	three2 := doc(2, k1, k2, k3)
	two2 := doc(2, k1, k2)
	two1 := doc(1, k1, k2)

	tests := []struct {
		name string
		doc  *protocol.Identity
		ns   map[string]map[string]string
		cur  map[string]string
		want map[string]string
	}{
		{name: "one delegate", doc: doc(1, k1), ns: ns(k1, main(c3)), want: main(c3)},
		{name: "one delegate rewinds", doc: doc(1, k1), ns: ns(k1, main(c1)), cur: main(c3), want: main(c1)},
		{name: "2 of 3: newest shared", doc: three2, ns: ns(k1, main(c4), k2, main(c3), k3, main(c1)), want: main(c3)},
		{name: "2 of 3: all agree", doc: three2, ns: ns(k1, main(c4), k2, main(c4), k3, main(c4)), want: main(c4)},
		{name: "2 of 3: two ahead", doc: three2, ns: ns(k1, main(c4), k2, main(c4), k3, main(c1)), want: main(c4)},
		{name: "2 of 3: one has it", doc: three2, ns: ns(k1, main(c4)), want: map[string]string{}},
		{name: "2 of 3: one has it, current dropped", doc: three2, ns: ns(k1, main(c4)), cur: main(c1), want: map[string]string{}},
		{name: "2 of 3: forks, third behind", doc: three2, ns: ns(k1, main(x2), k2, main(y1), k3, main(c1)), want: main(c2)},
		{name: "2 of 3: forks, third on one fork", doc: three2, ns: ns(k1, main(x2), k2, main(y1), k3, main(x1)), want: main(x1)},
		{name: "2 of 2: forks share their base", doc: two2, ns: ns(k1, main(x2), k2, main(y1)), want: main(c2)},
		{name: "2 of 2: forks, current kept if shared", doc: two2, ns: ns(k1, main(x2), k2, main(y1)), cur: main(c1), want: main(c2)},
		{name: "2 of 3: merge", doc: three2, ns: ns(k1, main(m), k2, main(x2), k3, main(y1))}, // x2 or y1
		{name: "2 of 2: unrelated histories", doc: two2, ns: ns(k1, main(c4), k2, main(z)), want: map[string]string{}},
		{name: "strangers do not vote", doc: three2, ns: ns(k1, main(c4), stranger, main(c4), k3, main(c1)), want: main(c1)},
		{name: "stranger alone", doc: two1, ns: ns(stranger, main(c4)), want: map[string]string{}},
		{name: "1 of 2: newest", doc: two1, ns: ns(k1, main(c2), k2, main(c4)), want: main(c4)},
		{name: "1 of 2: divergent keep current x", doc: two1, ns: ns(k1, main(x2), k2, main(y1)), cur: main(x2), want: main(x2)},
		{name: "1 of 2: divergent keep current y", doc: two1, ns: ns(k1, main(x2), k2, main(y1)), cur: main(y1), want: main(y1)},
		{name: "1 of 2: divergent, current gone", doc: two1, ns: ns(k1, main(x2), k2, main(y1)), cur: main(c4)},
		{name: "1 of 2: one has it", doc: two1, ns: ns(k1, main(c1)), want: main(c1)},
		{
			name: "tags need exact agreement", doc: two2,
			ns:   ns(k1, map[string]string{"refs/tags/v1": c3}, k2, map[string]string{"refs/tags/v1": c4}),
			want: map[string]string{},
		},
		{
			name: "tags agree", doc: three2,
			ns: ns(k1, map[string]string{"refs/tags/v1": c3}, k2, map[string]string{"refs/tags/v1": c4},
				k3, map[string]string{"refs/tags/v1": c3}),
			want: map[string]string{"refs/tags/v1": c3},
		},
		{
			name: "only heads, tags and notes, no patches", doc: doc(1, k1),
			ns: ns(k1, map[string]string{
				"refs/heads/main":             c1,
				"refs/heads/dev":              c2,
				"refs/tags/v1":                c1,
				repo.PatchHeadsPrefix + "abc": c3,
				"refs/cobs/issue/abc":         c3,
				protocol.IdentityRef:          r.RID.OID(),
				protocol.SigrefsRef:           c4,
				"refs/notes/commits":          c4,
			}),
			want: map[string]string{"refs/heads/main": c1, "refs/heads/dev": c2, "refs/tags/v1": c1, "refs/notes/commits": c4},
		},
		{
			name: "notes are derived like branches", doc: three2,
			ns:   ns(k1, map[string]string{"refs/notes/commits": c4}, k2, map[string]string{"refs/notes/commits": c3}),
			want: map[string]string{"refs/notes/commits": c3},
		},
		{
			name: "branches are independent", doc: three2,
			ns: ns(k1, map[string]string{"refs/heads/main": c4, "refs/heads/dev": x2},
				k2, map[string]string{"refs/heads/main": c3, "refs/heads/dev": x2}),
			want: map[string]string{"refs/heads/main": c3, "refs/heads/dev": x2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.DeriveCanonical(ctx, tt.doc, tt.ns, tt.cur)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				// Any qualifying tip will do, but it must be one of them.
				if o := got["refs/heads/main"]; o != x2 && o != y1 {
					t.Errorf("DeriveCanonical = %v, want main at x2 %s or y1 %s", got, x2, y1)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DeriveCanonical = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCanonicalThreshold2 raises a project's threshold with a signed
// identity revision and checks canonical refs follow the delegates' pushes.
func TestCanonicalThreshold2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1, k2, k3 := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	_, r := newProject(t, "p", k1, k2, k3)
	root := r.RID.OID()

	// Threshold 1 → 2, signed by one delegate as the old document needs.
	doc, _, err := r.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raised := *doc
	raised.Threshold = 2
	id := writeIdentity(t, r, &raised, root, k1)
	update(t, r, k1, repo.RefUpdate{Name: protocol.IdentityRef, Old: root, New: id})
	got, oid, err := r.Identity(ctx)
	if err != nil || oid != id || got.Threshold != 2 {
		t.Fatalf("Identity after raising the threshold = %+v, %s, %v", got, oid, err)
	}
	verifyClean(t, r)

	// A revision signed by one delegate is not enough any more.
	lowered := raised
	lowered.Threshold = 1
	weak := writeIdentity(t, r, &lowered, id, k2)
	if _, _, err := r.VerifyIdentity(weak); err == nil {
		t.Error("a revision signed by 1 of 2 needed verified")
	}
	strong := writeIdentity(t, r, &lowered, id, k2, k3)
	if d, n, err := r.VerifyIdentity(strong); err != nil || n != 3 || d.Threshold != 1 {
		t.Errorf("a revision signed by 2 of 2 needed: %v, %d, %v", d, n, err)
	}

	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	c3 := commit(t, r, "three", c2)
	main := func() string { return canonRefs(t, r)["refs/heads/main"] }
	update(t, r, k1, repo.RefUpdate{Name: "refs/heads/main", New: c3})
	if got := main(); got != "" {
		t.Errorf("one delegate made main canonical at %s", got)
	}
	update(t, r, k2, repo.RefUpdate{Name: "refs/heads/main", New: c2})
	if got := main(); got != c2 {
		t.Errorf("main = %s, want %s (in both histories)", got, c2)
	}
	update(t, r, k3, repo.RefUpdate{Name: "refs/heads/main", New: c3})
	if got := main(); got != c3 {
		t.Errorf("main = %s, want %s", got, c3)
	}
	verifyClean(t, r)
}
