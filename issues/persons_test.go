package issues

import (
	"context"
	"errors"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// pdevice is one peer of a persons test: its home, key and storage.
type pdevice struct {
	h repo.Home
	k *protocol.Key
	s *Store
}

func newPDevice(t *testing.T) *pdevice {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	k, err := repo.CreateKey(h, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &pdevice{h: h, k: k}
}

// fetch takes src's namespaces into d's storage through a quarantine and
// Accept, as a sync does (creating d's storage the first time).
func (d *pdevice) fetch(t *testing.T, src *pdevice) *repo.AcceptResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var r *repo.Repo
	var err error
	if d.s == nil {
		r, err = repo.CreateEmpty(ctx, d.h, src.s.Repo.RID)
	} else {
		r, err = d.s.Repo.Reopen()
	}
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.NewQuarantine("fetch", nil, "", map[string]string{"fetch.fsckObjects": "true"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	gitRun(t, q.Dir(), "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", src.s.Repo.Path, "+refs/namespaces/*:refs/namespaces/*")
	res, err := r.Accept(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.s == nil {
		if err := r.Publish(d.h); err != nil {
			t.Fatal(err)
		}
	}
	d.s = NewStore(r)
	return res
}

func (d *pdevice) issue(t *testing.T, id string) *Issue {
	t.Helper()
	rules, err := d.s.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	is, _, err := d.s.Issue(context.Background(), id, rules)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func (d *pdevice) close(t *testing.T, id string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	rules, err := d.s.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	is, obj, err := d.s.Issue(ctx, id, rules)
	if err != nil {
		t.Fatal(err)
	}
	a := Action{Type: ActState, State: StateClosed, Reason: ReasonOther}
	if err := IssueKind.Allowed(rules, d.k.NID(), &is.Thread, a); err != nil {
		t.Fatalf("closing %.7s: %v", id, err)
	}
	if _, err := d.s.Update(ctx, IssueKind, d.k, now, obj, a); err != nil {
		t.Fatal(err)
	}
}

// TestPersonRules: alice, the one delegate, is a person with two devices:
// her desktop a (the delegate key) and her laptop b. The laptop merges
// carol's patch (closing the issue it fixes) and closes carol's other
// issue; a third peer that syncs takes all of it as the delegate's. Then
// the desktop removes the laptop: what the laptop closes later, even when
// carol built on it before the removal reached her, is not honoured by
// anyone with the removal, while its earlier closes stay.
func TestPersonRules(t *testing.T) {
	ctx := context.Background()
	a, b, c, e := newPDevice(t), newPDevice(t), newPDevice(t), newPDevice(t)
	if _, err := repo.SetPerson(ctx, a.h, a.k, repo.Person{Alias: "alice"}, t0); err != nil {
		t.Fatal(err)
	}
	ph, err := repo.AddDevice(ctx, a.h, a.k, b.k.NID(), t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.JoinPerson(ctx, b.h, b.k, ph.Export()); err != nil {
		t.Fatal(err)
	}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{a.k.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, a.h, a.k, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	a.s = NewStore(r)
	wc := t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	c0 := gitCommit(t, wc, "a", "a\n", "first")
	gitRun(t, wc, "push", "-q", a.s.Repo.Path, "HEAD:refs/tmp/c0")
	if err := a.s.Repo.UpdateNamespace(ctx, a.k, []repo.RefUpdate{{Name: "refs/heads/main", New: c0}}, t0); err != nil {
		t.Fatal(err)
	}

	// Carol files three issues and a patch that fixes the second.
	c.fetch(t, a)
	var ids [3]string
	for i, title := range []string{"one", "two", "three"} {
		if ids[i], err = c.s.CreateIssue(ctx, c.k, t0, NewIssue{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	c1 := gitCommit(t, wc, "a", "a\nb\n", "add b")
	gitRun(t, wc, "push", "-q", c.s.Repo.Path, c1+":refs/tmp/c1")
	pid, rev, err := c.s.OpenPatch(ctx, c.k, t0, NewPatch{Title: "add b", Body: "Fixes issue " + ids[1][:8], Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}

	// The laptop, which never wrote to the project, merges and closes.
	b.fetch(t, a)
	b.fetch(t, c)
	v, err := b.s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Rules.IsDelegate(b.k.NID()) {
		t.Fatalf("the laptop does not act as the delegate: %+v", v.Rules)
	}
	p, obj, err := b.s.Patch(ctx, pid, v)
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Hour)
	res, err := b.s.MergePatch(ctx, b.k, t1, v, obj, p, rev, "Alice <alice@example.com>")
	if err != nil {
		t.Fatalf("the delegate's second device merging: %v", err)
	}
	if len(res.Closed) != 1 || res.Closed[0] != ids[1] {
		t.Fatalf("the merge closed %v, want the issue the patch fixes", res.Closed)
	}
	b.close(t, ids[0], t1)

	// A third peer takes it all as the delegate's.
	e.fetch(t, a)
	e.fetch(t, c)
	if res := e.fetch(t, b); len(res.Rejected) > 0 {
		t.Fatalf("rejected %v", res.Rejected)
	}
	ve, err := e.s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ve.Tip != res.Commit {
		t.Errorf("canonical main at the third peer %s, want the laptop's merge %s", ve.Tip, res.Commit)
	}
	pe, _, err := e.s.Patch(ctx, pid, ve)
	if err != nil {
		t.Fatal(err)
	}
	if pe.State != StateMerged || pe.Merge == nil || pe.Merge.Author != b.k.NID().String() {
		t.Errorf("the patch at the third peer: %s, merge %+v; want merged by the laptop", pe.State, pe.Merge)
	}
	for i := range 2 {
		if is := e.issue(t, ids[i]); is.State != StateClosed {
			t.Errorf("issue %q at the third peer is %s, want closed by the laptop", is.Title, is.State)
		}
	}
	if is := e.issue(t, ids[1]); is.ClosedBy == nil || is.ClosedBy.Patch != pid {
		t.Errorf("issue two closed by %+v, want the patch", is.ClosedBy)
	}
	// Keys alone would not let the laptop close carol's issue.
	_, obj, _ = e.s.Issue(ctx, ids[0], RulesOf(doc))
	if is, err := Materialize(obj, RulesOf(doc)); err != nil || is.State != StateOpen {
		t.Fatalf("with keys alone issue one is %v (%v), want open: the test shows nothing", is.State, err)
	}

	// The desktop removes the laptop, keeping what it has of it.
	a.fetch(t, b)
	head, err := a.s.Repo.RefFiles().Get(repo.NamespacePrefix(b.k.NID()) + protocol.SigrefsRef)
	if err != nil || head == "" {
		t.Fatalf("the laptop's signed refs at the desktop: %q %v", head, err)
	}
	t2 := t1.Add(time.Hour)
	if _, err := repo.RemoveDevice(ctx, a.h, a.k, b.k.NID(), []string{head}, t2); err != nil {
		t.Fatal(err)
	}
	if err := a.s.Repo.UpdateNamespace(ctx, a.k, nil, t2); err != nil {
		t.Fatal(err)
	}
	// The laptop, not knowing, closes issue three; carol takes that before
	// the removal and comments on top of it.
	b.close(t, ids[2], t2)
	c.fetch(t, b)
	if is := c.issue(t, ids[2]); is.State != StateClosed {
		t.Fatalf("before the removal reached carol, issue three is %s", is.State)
	}
	rules, _ := c.s.Rules(ctx)
	_, obj, err = c.s.Issue(ctx, ids[2], rules)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.Update(ctx, IssueKind, c.k, t2.Add(time.Minute), obj, Action{Type: ActComment, Body: "closed?"}); err != nil {
		t.Fatal(err)
	}
	if res := c.fetch(t, a); len(res.RolledBack) != 1 {
		t.Fatalf("the removal at carol rolled back %v, want the laptop", res.RolledBack)
	}
	e.fetch(t, c)
	e.fetch(t, a)
	if res := e.fetch(t, b); len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Err, repo.ErrDeviceRemoved) {
		t.Fatalf("the laptop's later work at the third peer: rejected %v", res.Rejected)
	}
	for _, d := range []*pdevice{c, e} {
		if is := d.issue(t, ids[2]); is.State != StateOpen || len(is.Comments) != 1 {
			t.Errorf("issue three after the removal: %s with %d comments, want open (the removed laptop's close does not count) with carol's comment", is.State, len(is.Comments))
		}
		if is := d.issue(t, ids[0]); is.State != StateClosed {
			t.Errorf("issue one after the removal is %s, want the laptop's earlier close kept", is.State)
		}
	}
	// The laptop, once it has the removal, is refused before it writes.
	b.fetch(t, a)
	rules, _ = b.s.Rules(ctx)
	is := b.issue(t, ids[1])
	if err := IssueKind.Allowed(rules, b.k.NID(), &is.Thread, Action{Type: ActState, State: StateOpen}); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("the removed laptop reopening: %v, want ErrNotAllowed", err)
	}
	if v, _ := b.s.PatchView(ctx); MayMerge(v.Rules, b.k.NID(), &Patch{}) == nil {
		t.Error("the removed laptop may merge")
	}
}
