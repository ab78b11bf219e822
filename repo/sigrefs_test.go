package repo_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func TestVerifySigrefsUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, other := testKey(t, 1), testKey(t, 2)
	nid := k.NID()
	h, r := newProject(t, "a", k)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)

	s0 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	s1 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	s2 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	list := signedList(t, r, nid)

	// A sigrefs commit written by git itself, in grove's format, is accepted:
	// so the forgeries below fail for what they change, not for the format.
	sGit := writeSigrefs(t, r, k, r.RID, s2, list)
	if sr, err := r.VerifySigrefsUpdate(ctx, nid, s2, sGit); err != nil || sr.Parent != s2 {
		t.Fatalf("well-formed sigrefs: %+v, %v", sr, err)
	}

	ok := []struct {
		name       string
		old, newer string
		wantParent string
	}{
		{"first", "", s0, ""},
		{"new namespace", "", s2, s1},
		{"one step", s1, s2, s1},
		{"two steps", s0, s2, s1},
		{"unchanged", s2, s2, s1},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			sr, err := r.VerifySigrefsUpdate(ctx, nid, tt.old, tt.newer)
			if err != nil {
				t.Fatal(err)
			}
			if sr.Parent != tt.wantParent || !sr.NID.Equal(nid) || sr.RID != r.RID {
				t.Errorf("signed refs = %+v", sr)
			}
			if tt.newer == s2 && !reflect.DeepEqual(sr.Refs, list) {
				t.Errorf("refs = %v, want %v", sr.Refs, list)
			}
		})
	}

	// A fork: the right key, but not a successor of what we have.
	fork := writeSigrefs(t, r, k, r.RID, s0, protocol.NewRefList(map[string]string{"refs/heads/main": c2}))
	orphan := writeSigrefs(t, r, k, r.RID, "", list)
	// Signed by someone else, chained onto the real history.
	foreign := writeSigrefs(t, r, other, r.RID, s2, list)
	// A valid tip over a forged middle revision.
	middle := writeSigrefs(t, r, other, r.RID, s1, list)
	overForged := writeSigrefs(t, r, k, r.RID, middle, list)
	// Signed for another project by the right key.
	elsewhere, _ := protocol.RIDFromOID(c1)
	otherRID := writeSigrefs(t, r, k, elsewhere, s2, list)
	// Signed as a successor of another parent than its commit's.
	reparented := writeSigrefs(t, r, k, r.RID, s1, list)
	reparented = gitIn(t, r.Path, nil, "commit-tree", reparented+"^{tree}", "-p", s2, "-m", "grove sigrefs")

	bad := []struct {
		name       string
		old, newer string
		wantErr    error
	}{
		{"rollback", s2, s1, protocol.ErrRollback},
		{"rollback to first", s2, s0, protocol.ErrRollback},
		{"fork", s2, fork, protocol.ErrRollback},
		{"fork from same base", s1, fork, protocol.ErrRollback},
		{"unrelated history", s2, orphan, protocol.ErrRollback},
		{"different key", s2, foreign, protocol.ErrBadSignature},
		{"different key, new namespace", "", foreign, protocol.ErrBadSignature},
		{"forged middle", s0, overForged, protocol.ErrBadSignature},
		{"forged middle, new namespace", "", overForged, protocol.ErrBadSignature},
		{"another project", s2, otherRID, protocol.ErrBadSignature},
		{"re-parented", s2, reparented, protocol.ErrBadSignature},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if sr, err := r.VerifySigrefsUpdate(ctx, nid, tt.old, tt.newer); !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifySigrefsUpdate = %+v, %v; want %v", sr, err, tt.wantErr)
			}
		})
	}
	t.Run("not a commit", func(t *testing.T) {
		if _, err := r.VerifySigrefsUpdate(ctx, nid, s2, c1+"^{tree}"); err == nil {
			t.Error("accepted a non-oid")
		}
		tree := gitIn(t, r.Path, nil, "rev-parse", c1+"^{tree}")
		if _, err := r.VerifySigrefsUpdate(ctx, nid, s2, tree); err == nil {
			t.Error("accepted a tree")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := r.VerifySigrefsUpdate(ctx, nid, s0, s2); !errors.Is(err, context.Canceled) {
			t.Errorf("VerifySigrefsUpdate with a cancelled context = %v", err)
		}
	})

	// Replay: project B (same owner, same key) must refuse A's sigrefs,
	// fetched into its storage by git.
	b := newProjectIn(t, h, "b", k)
	if b.RID == r.RID {
		t.Fatal("two projects with one RID")
	}
	gitIn(t, b.Path, nil, "fetch", "--quiet", "--no-tags", r.Path, repo.NamespacePrefix(nid)+protocol.SigrefsRef)
	if got := gitIn(t, b.Path, nil, "rev-parse", "FETCH_HEAD"); got != s2 {
		t.Fatalf("fetched %s, want %s", got, s2)
	}
	bs := nsRefs(t, b, nid)[protocol.SigrefsRef]
	if _, err := b.VerifySigrefsUpdate(ctx, nid, bs, s2); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("B accepted A's sigrefs: %v", err)
	}
	if _, err := b.VerifySigrefsUpdate(ctx, nid, "", s2); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("B accepted A's sigrefs as a new namespace: %v", err)
	}
	// A's list and signature re-wrapped as a successor of B's sigrefs.
	wrapped := gitIn(t, b.Path, nil, "commit-tree", s2+"^{tree}", "-p", bs, "-m", "grove sigrefs")
	if _, err := b.VerifySigrefsUpdate(ctx, nid, bs, wrapped); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("B accepted A's signature re-wrapped: %v", err)
	}
	// And A itself still accepts its own.
	if _, err := r.VerifySigrefsUpdate(ctx, nid, "", s2); err != nil {
		t.Errorf("A rejects its own sigrefs: %v", err)
	}
}
