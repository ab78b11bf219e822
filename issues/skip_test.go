package issues

import (
	"context"
	"strings"
	"testing"
)

// writeBadObject writes, as mallory, an object of typ that holds more
// action JSON than a load takes (MaxObjectActions, in changes of up to
// MaxActionsSize each): each change is valid, the object is not. It
// returns the object's ID.
func writeBadObject(t *testing.T, s *Store, typ string) string {
	t.Helper()
	mallory := testKey(t, 66)
	tx := s.Begin(mallory, t0)
	id, err := tx.Create(typ, NewChange{Actions: []any{Action{Type: ActTitle, Title: "too large"}}})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", MaxActionsSize-100)
	tip := id
	for i := range MaxObjectActions/MaxActionsSize + 1 {
		body := big[:len(big)-i-1] + "y" // distinct blobs: none is shared
		if tip, err = tx.Append(typ, id, []string{tip}, NewChange{Actions: []any{Action{Type: ActComment, Body: body}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestIndexSkipsBadObjects: one issue that does not load (here over the
// limit of action JSON an object may hold, ErrTooLarge) is left out of the index and reported by ID,
// every time the index is opened, instead of failing the project's whole
// listing; a patch that does not load is left out of Patches and
// reported likewise.
func TestIndexSkipsBadObjects(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	for _, title := range []string{"first", "second"} {
		if _, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	bad := writeBadObject(t, s, IssueType)
	for round := range 2 { // built, then opened again with nothing moved
		ix, err := OpenIndex(ctx, IndexPath(h, s.Repo.RID), s)
		if err != nil {
			t.Fatalf("round %d: one bad issue fails the index: %v", round, err)
		}
		l, err := ix.List(ctx, Filter{})
		if err != nil || len(l) != 2 {
			t.Fatalf("round %d: listed %d issues (%v), want the 2 good ones", round, len(l), err)
		}
		sk, err := ix.Skipped(ctx, IssueType)
		if err != nil || len(sk) != 1 || sk[0].ID != bad || sk[0].Type != IssueType || sk[0].Err == "" {
			t.Fatalf("round %d: skipped %+v (%v), want issue %s", round, sk, err, bad)
		}
		if s := sk[0].String(); !strings.HasPrefix(s, "issue "+bad[:7]+": ") || !strings.Contains(s, "too large") {
			t.Errorf("skipped reads %q", s)
		}
		ix.Close()
	}

	badPatch := writeBadObject(t, s, PatchType)
	v, err := s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, sk, err := s.Patches(ctx, v, "")
	if err != nil || len(l) != 0 || len(sk) != 1 || sk[0].ID != badPatch || sk[0].Type != PatchType {
		t.Fatalf("Patches: %d listed, skipped %+v, %v", len(l), sk, err)
	}
}
