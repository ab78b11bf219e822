package repo_test

import (
	"errors"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestVerifyTampering changes storage behind grove's back, with git itself,
// and checks Verify names what changed.
func TestVerifyTampering(t *testing.T) {
	t.Parallel()
	k, stranger := testKey(t, 1), testKey(t, 2)
	nid := k.NID().String()
	const cob = "0123456789abcdef0123456789abcdef01234567"
	p := repo.NamespacePrefix(k.NID())

	type fixture struct {
		r          *repo.Repo
		c1, c2, c3 string
	}
	_, r := newProject(t, "p", k)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	c3 := commit(t, r, "three", c2)
	update(t, r, k,
		repo.RefUpdate{Name: "refs/heads/main", New: c2},
		repo.RefUpdate{Name: "refs/tags/v1", New: c1})
	setup := func(t *testing.T) fixture {
		return fixture{copyProject(t, r), c1, c2, c3}
	}
	t.Run("untouched", func(t *testing.T) {
		t.Parallel()
		verifyClean(t, setup(t).r)
	})

	tests := []struct {
		name   string
		tamper func(t *testing.T, f fixture)
		ns     string // the problem must be in this namespace ("" canonical)
		ref    string // about this ref
		// wantErr, if set, is what the problem's error wraps.
		wantErr error
	}{
		{
			name:   "namespace branch moved",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", p+"refs/heads/main", f.c3) },
			ns:     nid, ref: "refs/heads/main",
		},
		{
			name:   "namespace branch rewound",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", p+"refs/heads/main", f.c1) },
			ns:     nid, ref: "refs/heads/main",
		},
		{
			name:   "namespace tag moved",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", p+"refs/tags/v1", f.c3) },
			ns:     nid, ref: "refs/tags/v1",
		},
		{
			name:   "namespace ref deleted",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "-d", p+"refs/tags/v1") },
			ns:     nid, ref: "refs/tags/v1",
		},
		{
			name:   "unsigned ref added",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", p+"refs/heads/evil", f.c3) },
			ns:     nid, ref: "refs/heads/evil",
		},
		{
			name:   "unsigned cob added",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", p+"refs/cobs/issue/"+cob, f.c1) },
			ns:     nid, ref: "refs/cobs/issue/" + cob,
		},
		{
			name:   "canonical branch moved",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "refs/heads/main", f.c3) },
			ns:     "", ref: "refs/heads/main",
		},
		{
			name:   "canonical branch deleted",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "-d", "refs/heads/main") },
			ns:     "", ref: "refs/heads/main",
		},
		{
			name:   "canonical branch added",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "refs/heads/extra", f.c1) },
			ns:     "", ref: "refs/heads/extra",
		},
		{
			name:   "canonical tag moved",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "refs/tags/v1", f.c2) },
			ns:     "", ref: "refs/tags/v1",
		},
		{
			name: "namespace without sigrefs",
			tamper: func(t *testing.T, f fixture) {
				gitIn(t, f.r.Path, nil, "update-ref", repo.NamespacePrefix(stranger.NID())+"refs/heads/main", f.c1)
			},
			ns: stranger.NID().String(), ref: "",
		},
		{
			name:   "sigrefs deleted",
			tamper: func(t *testing.T, f fixture) { gitIn(t, f.r.Path, nil, "update-ref", "-d", p+protocol.SigrefsRef) },
			ns:     nid, ref: "",
		},
		{
			name: "sigrefs rewound",
			// The old list is validly signed but no longer matches the refs.
			tamper: func(t *testing.T, f fixture) {
				gitIn(t, f.r.Path, nil, "update-ref", p+protocol.SigrefsRef, p+protocol.SigrefsRef+"^")
			},
			ns: nid, ref: "refs/heads/main",
		},
		{
			name: "sigrefs signed by another key",
			tamper: func(t *testing.T, f fixture) {
				old := nsRefs(t, f.r, k.NID())[protocol.SigrefsRef]
				forged := writeSigrefs(t, f.r, stranger, f.r.RID, old, signedList(t, f.r, k.NID()))
				gitIn(t, f.r.Path, nil, "update-ref", p+protocol.SigrefsRef, forged)
			},
			ns: nid, ref: protocol.SigrefsRef, wantErr: protocol.ErrBadSignature,
		},
		{
			name: "sigrefs with a forged ancestor",
			tamper: func(t *testing.T, f fixture) {
				old := nsRefs(t, f.r, k.NID())[protocol.SigrefsRef]
				forged := writeSigrefs(t, f.r, stranger, f.r.RID, old, signedList(t, f.r, k.NID()))
				tip := writeSigrefs(t, f.r, k, f.r.RID, forged, signedList(t, f.r, k.NID()))
				gitIn(t, f.r.Path, nil, "update-ref", p+protocol.SigrefsRef, tip)
			},
			ns: nid, ref: protocol.SigrefsRef, wantErr: protocol.ErrBadSignature,
		},
		{
			name: "identity not signed by a delegate",
			tamper: func(t *testing.T, f fixture) {
				// A new revision making the stranger the only delegate,
				// signed by the stranger.
				doc := &protocol.Identity{Name: "mine", DefaultBranch: "main", Delegates: []protocol.NID{stranger.NID()},
					Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
				id := writeIdentity(t, f.r, doc, f.r.RID.OID(), stranger)
				// Moved by its owner, so only the identity itself is wrong.
				update(t, f.r, k, repo.RefUpdate{Name: protocol.IdentityRef, Old: f.r.RID.OID(), New: id})
			},
			ns: nid, ref: protocol.IdentityRef, wantErr: protocol.ErrBadSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			tt.tamper(t, f)
			ps := problems(t, f.r)
			found := false
			for _, p := range ps {
				if p.Namespace == tt.ns && p.Ref == tt.ref && (tt.wantErr == nil || errors.Is(p.Err, tt.wantErr)) {
					found = true
				}
			}
			if !found {
				t.Errorf("Verify did not report namespace %q ref %q (%v); it found %d:", tt.ns, tt.ref, tt.wantErr, len(ps))
				for _, p := range ps {
					t.Errorf("  %v", p)
				}
			}
			for _, p := range ps {
				if p.Err == nil || p.String() == "" {
					t.Errorf("problem without an error: %+v", p)
				}
			}
		})
	}
}

// writeIdentity writes, with git, an identity revision of doc on parent,
// signed by signers.
func writeIdentity(t *testing.T, r *repo.Repo, doc *protocol.Identity, parent string, signers ...*protocol.Key) string {
	t.Helper()
	data, err := doc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	blob := gitIn(t, r.Path, data, "hash-object", "-w", "--stdin")
	tree := gitIn(t, r.Path, []byte("100644 blob "+blob+"\t"+protocol.IdentityFile+"\n"), "mktree")
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	msg := "Update " + doc.Name + "\n\n"
	for _, s := range signers {
		sig, err := s.Sign(protocol.IdentityPayload(tree, parents))
		if err != nil {
			t.Fatal(err)
		}
		msg += protocol.IdentitySignature{NID: s.NID(), Signature: sig}.Trailer() + "\n"
	}
	args := []string{"commit-tree", tree, "-m", msg}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	return gitIn(t, r.Path, nil, args...)
}
