package tuicmd

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestAdapterPermissions: in a real storage, a user who is neither the
// author nor a delegate of an issue is told so by Issue (May), and a
// close or a label through the adapter is refused with the command
// line's error, with nothing written to their namespace; a comment is
// written, and the author may close.
func TestAdapterPermissions(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	h := repo.Home{Dir: t.TempDir()}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{alice.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, alice, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := issues.NewStore(r).CreateIssue(ctx, alice, t0, issues.NewIssue{Title: "Crash", Body: "It crashes."})
	if err != nil {
		t.Fatal(err)
	}
	rid := r.RID.String()
	s := newAdapter(h, func() time.Time { return t0.Add(time.Minute) })

	s.key = bob
	is, err := s.Issue(ctx, rid, id)
	if err != nil {
		t.Fatal(err)
	}
	if is.May.Triage || !is.May.Comment || is.May.Why == "" {
		t.Errorf("bob may %+v", is.May)
	}
	before, err := r.NamespaceRefs(ctx, bob.NID())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(ctx, rid, id, "closed", "solved"); !errors.Is(err, issues.ErrNotAllowed) || err.Error() != "issue "+id[:7]+": only its author or a delegate may close it" {
		t.Errorf("bob closes: %v", err)
	}
	if err := s.Label(ctx, rid, id, []string{"x"}, nil); !errors.Is(err, issues.ErrNotAllowed) {
		t.Errorf("bob labels: %v", err)
	}
	after, err := r.NamespaceRefs(ctx, bob.NID())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(before, after) {
		t.Errorf("bob's namespace moved: %v → %v", before, after)
	}
	if err := s.Comment(ctx, rid, id, "", "me too"); err != nil {
		t.Errorf("bob comments: %v", err)
	}

	s.key = alice
	if is, err = s.Issue(ctx, rid, id); err != nil || !is.May.Triage {
		t.Fatalf("alice may %+v (%v)", is.May, err)
	}
	if err := s.SetState(ctx, rid, id, "closed", "solved"); err != nil {
		t.Fatal(err)
	}
	is, err = s.Issue(ctx, rid, id)
	if err != nil || is.State != "closed" || len(is.Thread) != 1 {
		t.Errorf("after: %+v %v", is, err)
	}
}
