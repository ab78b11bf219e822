package issues

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func TestMentions(t *testing.T) {
	rid := testRID(t)
	other, err := protocol.RIDFromOID("2222222222222222222222222222222222222222")
	if err != nil {
		t.Fatal(err)
	}
	url := rid.URL()
	tests := []struct {
		name string
		in   string
		want []Mention
	}{
		{"hash", "see #837841b.", []Mention{{Prefix: "837841b"}}},
		{"upper case", "see #837841B", []Mention{{Prefix: "837841b"}}},
		{"start of text", "#837841b is it", []Mention{{Prefix: "837841b"}}},
		{"too short", "see #837841", nil},
		{"too long", "#" + string(bytes.Repeat([]byte{'a'}, 41)), nil},
		{"not a word", "#837841bx and #837841b_", nil},
		{"inside a word", "a#837841b", nil},
		{"html entity", "&#8378412;", nil},
		{"full issue form", "see " + url + "/issues/837841bcd", []Mention{{Prefix: "837841bcd", Type: IssueType}}},
		{"full patch form", "(" + url + "/patches/8eb1ca1)", []Mention{{Prefix: "8eb1ca1", Type: PatchType}}},
		{"another project", other.URL() + "/issues/837841b", nil},
		{"not an object", url + "/tree/837841b", nil},
		{"fixes", "Fixes #837841b", []Mention{{Prefix: "837841b", Closes: true}}},
		{"closes with colon", "closes: #837841b", []Mention{{Prefix: "837841b", Closes: true}}},
		{"resolved full form", "Resolved " + url + "/issues/837841b", []Mention{{Prefix: "837841b", Type: IssueType, Closes: true}}},
		{"fixes issue", "Fixes issue 837841b.", []Mention{{Prefix: "837841b", Type: IssueType, Closes: true}}},
		{"fix issue hash", "fix issue #837841b", []Mention{{Prefix: "837841b", Closes: true}}},
		{"bare prefix without keyword", "see issue 837841b", nil},
		{"keyword far away", "Fixes the bug in #837841b", []Mention{{Prefix: "837841b"}}},
		{"keyword glued", "prefixes #837841b", []Mention{{Prefix: "837841b"}}},
		{"no blank", "Fixes#837841b", nil},
		{"two", "Closes #1111111, see #2222222", []Mention{{Prefix: "1111111", Closes: true}, {Prefix: "2222222"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Mentions(tt.in, rid)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Mentions(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzMentions(f *testing.F) {
	rid := testRID(f)
	f.Add("Fixes #837841b, see " + rid.URL() + "/patches/8eb1ca1")
	f.Add("fixes issue 837841b")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range Mentions(s, rid) {
			if len(m.Prefix) < MinMention || len(m.Prefix) > 40 || !bytes.Contains([]byte(s), []byte(m.Prefix)) && !bytes.Contains(bytes.ToLower([]byte(s)), []byte(m.Prefix)) {
				t.Fatalf("mention %+v of %q", m, s)
			}
		}
	})
}

// linkProject is a project of alice's with a main branch of one commit in
// the storage, and a working copy to make more commits in.
func linkProject(t *testing.T) (s *Store, h repo.Home, wc, c0 string) {
	t.Helper()
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h = newProject(t, alice)
	s.CacheDir = CacheDir(h, s.Repo.RID)
	wc = t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	c0 = gitCommit(t, wc, "a", "a\n", "first")
	gitRun(t, wc, "push", "-q", s.Repo.Path, "HEAD:refs/tmp/c0")
	if err := s.Repo.UpdateNamespace(ctx, alice, []repo.RefUpdate{{Name: "refs/heads/main", New: c0}}, t0); err != nil {
		t.Fatal(err)
	}
	return s, h, wc, c0
}

// proposal commits content as file on a branch off c0 with message msg,
// puts it in the storage, and opens a patch of it by k as a push would
// (the description from the commit), returning the patch's ID.
func proposal(t *testing.T, s *Store, k *protocol.Key, wc, c0, file, msg string, now time.Time) string {
	t.Helper()
	ctx := context.Background()
	gitRun(t, wc, "checkout", "-q", "-B", "p-"+file, c0)
	c := gitCommit(t, wc, file, file+"\n", msg)
	gitRun(t, wc, "push", "-q", s.Repo.Path, c+":refs/tmp/"+file)
	res := s.ReceivePatches(ctx, k, now, []repo.PatchPush{{Ref: repo.PatchOpenRef, Head: c}}, nil, "")
	if len(res) != 1 || res[0].Err != nil {
		t.Fatalf("open patch: %+v", res)
	}
	return res[0].ID
}

func linkIDs(l []Link) []string {
	var out []string
	for _, x := range l {
		out = append(out, x.In+" "+x.ID)
	}
	return out
}

func backlinkIDs(t *testing.T, ix *Index, id string) []string {
	t.Helper()
	bl, err := ix.Backlinks(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bl {
		out = append(out, b.Type+" "+b.ID+" "+b.In)
	}
	return out
}

// TestReferences: mentions in an issue's body, a comment, a comment's
// edit, a patch's description, a review and a commit message become
// links, signed as written; the targets show them as backlinks from the
// index; unknown prefixes stay plain text.
func TestReferences(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h, wc, c0 := linkProject(t)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	a, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "crash on start"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateIssue(ctx, bob, t0.Add(time.Minute), NewIssue{Title: "crash again", Body: "Looks like #" + a[:7] + "; not #deadbeef00."})
	if err != nil {
		t.Fatal(err)
	}
	p := proposal(t, s, bob, wc, c0, "fix", "Guard the start\n\nFixes #"+a[:8]+".", t0.Add(2*time.Minute))
	is, obj, err := s.Issue(ctx, b, rules)
	if err != nil {
		t.Fatal(err)
	}
	if got := linkIDs(is.Links); !slices.Equal(got, []string{"body " + a}) {
		t.Fatalf("issue b links %q", got)
	}
	if is.Links[0].Change != b || is.Links[0].Author != bob.NID().String() {
		t.Fatalf("issue b link %+v", is.Links[0])
	}
	// A comment on b mentions the patch by its full form; an edit of it
	// mentions b itself (no link to oneself).
	c, err := s.Update(ctx, IssueKind, alice, t0.Add(3*time.Minute), obj, Action{Type: ActComment, Body: "see " + s.Repo.RID.URL() + "/patches/" + p})
	if err != nil {
		t.Fatal(err)
	}
	_, obj, _ = s.Issue(ctx, b, rules)
	if _, err := s.Update(ctx, IssueKind, alice, t0.Add(4*time.Minute), obj, Action{Type: ActCommentEdit, Comment: c, Body: "see #" + p[:7] + " and #" + b[:7]}); err != nil {
		t.Fatal(err)
	}
	is, _, _ = s.Issue(ctx, b, rules)
	if got := linkIDs(is.Links); !slices.Equal(got, []string{"body " + a, "comment " + p}) {
		t.Fatalf("issue b links after the comment %q", got)
	}
	// The patch links a through its commit message; a review links b.
	v, _ := s.PatchView(ctx)
	pp, pobj, err := s.Patch(ctx, p, v)
	if err != nil {
		t.Fatal(err)
	}
	if got := linkIDs(pp.Links); !slices.Equal(got, []string{"body " + a}) {
		// The description comes from the one commit's message.
		t.Fatalf("patch links %q", got)
	}
	if _, err := s.Update(ctx, PatchKind, alice, t0.Add(5*time.Minute), pobj, Action{Type: ActReview, Revision: pp.Latest().ID, Verdict: VerdictComment, Comments: []LineComment{{Path: "fix", Line: 1, Body: "as in #" + b[:9]}}}); err != nil {
		t.Fatal(err)
	}
	pp, _, _ = s.Patch(ctx, p, v)
	if got := linkIDs(pp.Links); !slices.Equal(got, []string{"body " + a, "review " + b}) {
		t.Fatalf("patch links after the review %q", got)
	}

	ix := mustOpenIndex(t, s, h)
	if got := backlinkIDs(t, ix, a); !slices.Equal(got, []string{"issue " + b + " body", "patch " + p + " body"}) {
		t.Fatalf("backlinks of a %q", got)
	}
	if got := backlinkIDs(t, ix, b); !slices.Equal(got, []string{"patch " + p + " review"}) {
		t.Fatalf("backlinks of b %q", got)
	}
	if got := backlinkIDs(t, ix, p); !slices.Equal(got, []string{"issue " + b + " comment"}) {
		t.Fatalf("backlinks of p %q", got)
	}
	// A new revision whose commit message mentions a comes with its link;
	// the index catches up by its diff.
	gitRun(t, wc, "checkout", "-q", "p-fix")
	c2 := gitCommit(t, wc, "fix", "fix\nmore\n", "More\n\nAlso see #"+a[:7])
	gitRun(t, wc, "push", "-q", s.Repo.Path, c2+":refs/tmp/c2")
	if res := s.ReceivePatches(ctx, bob, t0.Add(6*time.Minute), []repo.PatchPush{{Ref: repo.PatchRefPrefix + p[:7], Head: c2}}, nil, "v2"); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	pp, _, _ = s.Patch(ctx, p, v)
	if got := pp.Revisions[1]; got.Description != "v2" {
		t.Fatalf("revision %+v", got)
	}
	if _, err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := backlinkIDs(t, ix, a); !slices.Equal(got, []string{"issue " + b + " body", "patch " + p + " body"}) {
		t.Fatalf("backlinks of a after the revision %q", got)
	}
	// A mention only in a commit's message, the description given apart,
	// is the revision's.
	gitRun(t, wc, "checkout", "-q", "-B", "p-three", c0)
	c3 := gitCommit(t, wc, "three", "three\n", "Third\n\nSee #"+b[:7])
	gitRun(t, wc, "push", "-q", s.Repo.Path, c3+":refs/tmp/c3")
	res := s.ReceivePatches(ctx, bob, t0.Add(7*time.Minute), []repo.PatchPush{{Ref: repo.PatchOpenRef, Head: c3}}, nil, "Third\n\nno mention here")
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	p3, _, err := s.Patch(ctx, res[0].ID, v)
	if err != nil {
		t.Fatal(err)
	}
	if got := linkIDs(p3.Links); !slices.Equal(got, []string{"revision " + b}) || p3.Body != "no mention here" {
		t.Fatalf("patch 3 links %q, body %q", got, p3.Body)
	}
	// Patches are searched by the index too.
	if l, err := ix.List(ctx, Filter{Type: PatchType, Search: "guard"}); err != nil || len(l) != 1 || l[0].ID != p {
		t.Fatalf("patch search %+v %v", l, err)
	}
	if l, err := ix.List(ctx, Filter{Search: "guard"}); err != nil || len(l) != 0 {
		t.Fatalf("an issue search found patches %+v %v", l, err)
	}
}

// hashOnly computes the oids of objects without keeping them.
type hashOnly struct{}

func (hashOnly) WriteObject(kind string, data []byte) (string, error) { return gitOID(kind, data), nil }

// collidingNonces finds two root nonces that give issues by k titled title
// at now IDs sharing their first MinMention hex digits: a birthday search,
// seeded, so every run finds the same pair.
func collidingNonces(t *testing.T, rid protocol.RID, k *protocol.Key, title string, now time.Time) (a, b []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	seen := make(map[string][]byte)
	acts, err := NewIssue{Title: title}.Actions()
	if err != nil {
		t.Fatal(err)
	}
	for range 1 << 20 {
		var n [16]byte
		for i := range n {
			n[i] = byte(rng.Uint32())
		}
		id, err := writeChange(hashOnly{}, k, rid, IssueType, nil, NewChange{Actions: anyActions(acts)}, hex.EncodeToString(n[:]), now)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := seen[id[:MinMention]]; ok {
			return o, n[:]
		}
		seen[id[:MinMention]] = n[:]
	}
	t.Fatal("no two IDs share a prefix")
	return nil, nil
}

// TestAmbiguousMention: a prefix two objects share is plain text, and a
// reference made while it named one object stays with that object when
// the second arrives: links are what the writer signed.
func TestAmbiguousMention(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	na, nb := collidingNonces(t, s.Repo.RID, alice, "twin", t0)
	s.Rand = bytes.NewReader(na)
	x, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "twin"})
	if err != nil {
		t.Fatal(err)
	}
	s.Rand = nil
	other, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "other", Body: "like #" + x[:MinMention]})
	if err != nil {
		t.Fatal(err)
	}
	s.Rand = bytes.NewReader(nb)
	y, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "twin"})
	if err != nil {
		t.Fatal(err)
	}
	if x[:MinMention] != y[:MinMention] || x == y {
		t.Fatalf("ids %s %s", x, y)
	}
	_, obj, err := s.Issue(ctx, other, rules)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Minute), obj, Action{Type: ActComment, Body: "now #" + x[:MinMention] + " is ambiguous, #" + y[:MinMention+2] + " is not"}); err != nil {
		t.Fatal(err)
	}
	is, _, _ := s.Issue(ctx, other, rules)
	want := []string{"body " + x}
	if x[:MinMention+2] != y[:MinMention+2] {
		want = append(want, "comment "+y)
	}
	if got := linkIDs(is.Links); !slices.Equal(got, want) {
		t.Fatalf("links %q, want %q", got, want)
	}
	ix := mustOpenIndex(t, s, h)
	if got := backlinkIDs(t, ix, x); !slices.Equal(got, []string{"issue " + other + " body"}) {
		t.Fatalf("backlinks of x %q", got)
	}
}

// TestMergeCloses: a merged patch closes the issues its description or
// commits say it fixes, in a change signed by the merger that names the
// patch; a reopened issue stays open until the next such merge; closing
// by someone who may not close the issue does not count.
func TestMergeCloses(t *testing.T) {
	ctx := context.Background()
	alice, bob, eve := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	s, _, wc, c0 := linkProject(t)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	a, err := s.CreateIssue(ctx, bob, t0, NewIssue{Title: "crash on start"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateIssue(ctx, bob, t0, NewIssue{Title: "unrelated"})
	if err != nil {
		t.Fatal(err)
	}
	p := proposal(t, s, bob, wc, c0, "fix", "Guard the start\n\nFixes issue "+a[:7]+". See #"+other[:7]+".", t0.Add(time.Minute))
	merge := func(who *protocol.Key, id string, at time.Time) (MergeResult, error) {
		v, err := s.PatchView(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pp, obj, err := s.Patch(ctx, id, v)
		if err != nil {
			t.Fatal(err)
		}
		return s.MergePatch(ctx, who, at, v, obj, pp, pp.Latest().ID, "")
	}
	if _, err := merge(bob, p, t0.Add(2*time.Minute)); err == nil {
		t.Fatal("a non-delegate merged")
	}
	if is, _, _ := s.Issue(ctx, a, rules); is.State != StateOpen {
		t.Fatalf("a refused merge closed the issue: %+v", is)
	}
	res, err := merge(alice, p, t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Closed, []string{a}) {
		t.Fatalf("closed %q, want %q", res.Closed, a)
	}
	is, obj, _ := s.Issue(ctx, a, rules)
	if is.State != StateClosed || is.Reason != ReasonSolved || is.ClosedBy == nil || is.ClosedBy.Patch != p || is.ClosedBy.Author != alice.NID().String() {
		t.Fatalf("after the merge: %+v %+v", is.Thread, is.ClosedBy)
	}
	if o, _, _ := s.Issue(ctx, other, rules); o.State != StateOpen {
		t.Fatal("a mention without a closing keyword closed an issue")
	}
	// Reopened, it stays open: the merge is not seen again.
	if _, err := s.Update(ctx, IssueKind, bob, t0.Add(4*time.Minute), obj, Action{Type: ActState, State: StateOpen}); err != nil {
		t.Fatal(err)
	}
	if closed, err := s.CloseFixed(ctx, alice, t0.Add(5*time.Minute), p, fakeHead); err != nil || len(closed) != 0 {
		t.Fatalf("CloseFixed of a revision the patch lacks %q %v", closed, err)
	}
	is, obj, _ = s.Issue(ctx, a, rules)
	if is.State != StateOpen || is.ClosedBy != nil {
		t.Fatalf("reopened: %+v %+v", is.Thread, is.ClosedBy)
	}
	// Eve, who may not close bob's issue, writes a close naming the patch
	// (as another client could): every peer skips it.
	if _, err := s.Update(ctx, IssueKind, eve, t0.Add(6*time.Minute), obj, Action{Type: ActState, State: StateClosed, Reason: ReasonSolved, Patch: p}); err != nil {
		t.Fatal(err)
	}
	if is, _, _ := s.Issue(ctx, a, rules); is.State != StateOpen || is.ClosedBy != nil {
		t.Fatalf("a close by a stranger counted: %+v", is.Thread)
	}
	// The next merge that fixes it closes it again.
	p2 := proposal(t, s, bob, wc, c0, "fix2", "Really guard the start", t0.Add(7*time.Minute))
	v, _ := s.PatchView(ctx)
	pp, pobj, _ := s.Patch(ctx, p2, v)
	if _, err := s.Update(ctx, PatchKind, bob, t0.Add(8*time.Minute), pobj, Action{Type: ActBody, Body: "closes #" + a[:10]}); err != nil {
		t.Fatal(err)
	}
	if _, err := merge(alice, pp.ID, t0.Add(9*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if is, _, _ := s.Issue(ctx, a, rules); is.State != StateClosed || is.ClosedBy == nil || is.ClosedBy.Patch != p2 {
		t.Fatalf("after the second merge: %+v", is.Thread)
	}
}

// verdictCounts counts the accepts and rejects on p's newest revision.
func verdictCounts(p *Patch) (acc, rej int) {
	for _, x := range p.Verdicts(p.Latest().ID) {
		if x == VerdictAccept {
			acc++
		} else {
			rej++
		}
	}
	return acc, rej
}

// checkPatches compares the index's patches with those materialized from
// git, for every filter a list takes.
func checkPatches(t *testing.T, ix *Index, s *Store, authors ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := s.Patches(ctx, v, "")
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(p *Patch) string {
		acc, rej := verdictCounts(p)
		switch {
		case rej > 0:
			return ReviewRejected
		case acc > 0:
			return ReviewAccepted
		}
		return ReviewNone
	}
	filters := []Filter{{}, {State: StateOpen}, {State: StateMerged}, {State: StateClosed}, {Label: "ui"},
		{Review: ReviewAccepted}, {Review: ReviewRejected}, {Review: ReviewNone}, {Search: "widget"}}
	for _, a := range authors {
		filters = append(filters, Filter{Author: a})
	}
	for _, f := range filters {
		var want []string
		for _, p := range all {
			if (f.State == "" || p.State == f.State) && (f.Label == "" || slices.Contains(p.Labels, f.Label)) &&
				(f.Review == "" || verdict(p) == f.Review) && (f.Author == "" || p.Author == f.Author) &&
				(f.Search == "" || strings.Contains(strings.ToLower(p.Title+p.Body), f.Search)) {
				b, err := marshalCanonical(p)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, string(b))
			}
		}
		docs, err := ix.PatchDocs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range docs {
			got = append(got, string(d))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("filter %+v:\nindex %s\ngit   %s", f, got, want)
		}
		var sums []string
		err = ix.EachPatch(ctx, f, func(n int, p *PatchSummary) error {
			sums = append(sums, fmt.Sprintf("%s %s r%d +%d -%d", p.ID, p.State, p.Revisions, p.Accepted, p.Rejected))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var wantSums []string
		for _, d := range want {
			var p Patch
			if err := json.Unmarshal([]byte(d), &p); err != nil {
				t.Fatal(err)
			}
			acc, rej := verdictCounts(&p)
			wantSums = append(wantSums, fmt.Sprintf("%s %s r%d +%d -%d", p.ID, p.State, len(p.Revisions), acc, rej))
		}
		if !slices.Equal(sums, wantSums) {
			t.Fatalf("filter %+v: summaries %q, want %q", f, sums, wantSums)
		}
	}
}

// TestIndexPatches: the index lists and filters patches as git
// materializes them, and follows the default branch: a fast-forward that
// brings a patch's head in merges it, a rewind unmerges it.
func TestIndexPatches(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h, wc, c0 := linkProject(t)
	ix := mustOpenIndex(t, s, h)
	p1 := proposal(t, s, bob, wc, c0, "one", "Widget one", t0.Add(time.Minute))
	p2 := proposal(t, s, bob, wc, c0, "two", "Two", t0.Add(2*time.Minute))
	p3 := proposal(t, s, alice, wc, c0, "three", "Three\n\nabout the widget", t0.Add(3*time.Minute))
	p4 := proposal(t, s, alice, wc, c0, "four", "Four", t0.Add(4*time.Minute))
	act := func(k *protocol.Key, id string, at time.Time, acts ...Action) {
		t.Helper()
		v, _ := s.PatchView(ctx)
		p, obj, err := s.Patch(ctx, id, v)
		if err != nil {
			t.Fatal(err)
		}
		for i := range acts {
			if acts[i].Type == ActReview {
				acts[i].Revision = p.Latest().ID
			}
		}
		if _, err := s.Update(ctx, PatchKind, k, at, obj, acts...); err != nil {
			t.Fatal(err)
		}
	}
	authors := []string{alice.NID().String(), bob.NID().String()}
	checkPatches(t, ix, s, authors...)
	act(alice, p1, t0.Add(5*time.Minute), Action{Type: ActReview, Verdict: VerdictAccept})
	act(alice, p2, t0.Add(6*time.Minute), Action{Type: ActReview, Verdict: VerdictReject, Body: "no"})
	act(bob, p2, t0.Add(7*time.Minute), Action{Type: ActReview, Verdict: VerdictAccept})
	act(alice, p3, t0.Add(8*time.Minute), Action{Type: ActLabel, Add: []string{"ui"}}, Action{Type: ActState, State: StateClosed})
	checkPatches(t, ix, s, authors...)
	// alice merges p4 with a merge record.
	v, _ := s.PatchView(ctx)
	pp, obj, _ := s.Patch(ctx, p4, v)
	if _, err := s.MergePatch(ctx, alice, t0.Add(9*time.Minute), v, obj, pp, pp.Latest().ID, ""); err != nil {
		t.Fatal(err)
	}
	checkPatches(t, ix, s, authors...)
	// p1 is merged by moving main with no record: a fast-forward of the
	// branch that the index reads by its new commits alone.
	v, _ = s.PatchView(ctx)
	p, _, _ := s.Patch(ctx, p1, v)
	// p1's head is based on c0, and main is at p4's head now: merge them.
	tree, err := s.mergeTree(ctx, v.Tip, p.Latest().Head)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.writeMergeCommit(tree, []string{v.Tip, p.Latest().Head}, "", alice.NID(), t0, "merge one")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Repo.UpdateNamespace(ctx, alice, []repo.RefUpdate{{Name: "refs/heads/main", Old: v.Tip, New: m}}, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkPatches(t, ix, s, authors...)
	if l, _ := ix.PatchDocs(ctx, Filter{State: StateMerged}); len(l) != 2 {
		t.Fatalf("%d merged, want 2", len(l))
	}
	// A rewind of main to c0 unmerges both.
	if err := s.Repo.UpdateNamespace(ctx, alice, []repo.RefUpdate{{Name: "refs/heads/main", Old: m, New: c0}}, t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	checkPatches(t, ix, s, authors...)
	if l, _ := ix.PatchDocs(ctx, Filter{State: StateMerged}); len(l) != 0 {
		t.Fatalf("%d merged after the rewind, want 0", len(l))
	}
}

// TestSearchRanks: one search covers issues and patches, a title match
// first.
func TestSearchRanks(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h, wc, c0 := linkProject(t)
	i1, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "crash", Body: "the gizmo crashes"})
	if err != nil {
		t.Fatal(err)
	}
	p := proposal(t, s, alice, wc, c0, "gizmo", "Gizmo guard", t0.Add(time.Minute))
	if _, err := s.CreateIssue(ctx, alice, t0.Add(2*time.Minute), NewIssue{Title: "unrelated", Body: "nothing here"}); err != nil {
		t.Fatal(err)
	}
	ix := mustOpenIndex(t, s, h)
	hits, err := ix.Search(ctx, "gizmo")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range hits {
		got = append(got, x.Type+" "+x.ID)
	}
	if want := []string{"patch " + p, "issue " + i1}; !slices.Equal(got, want) {
		t.Fatalf("search %q, want %q", got, want)
	}
	if hits, _ := ix.Search(ctx, `" OR *`); len(hits) != 0 {
		t.Fatalf("syntax searched: %+v", hits)
	}
}

// TestSearchFields: a word in a title ranks above one in a description,
// which ranks above one in a comment only, and a rare word where it
// counts most ranks above a common one there: newest first would order
// each case the other way.
func TestSearchFields(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	mk := func(at time.Duration, title, body string) string {
		t.Helper()
		id, err := s.CreateIssue(ctx, alice, t0.Add(at), NewIssue{Title: title, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	inTitle := mk(0, "gizmo fails", "nothing")
	inBody := mk(time.Minute, "it fails", "the gizmo")
	inComment := mk(2*time.Minute, "it fails", "nothing")
	update(t, s, alice, t0.Add(3*time.Minute), inComment, Action{Type: ActComment, Body: "my gizmo too"})
	// common is in four more objects than rare; each of these two holds
	// both words, one in its title and the other in its description.
	rareTitle := mk(4*time.Minute, "rare", "common")
	commonTitle := mk(5*time.Minute, "common", "rare")
	for i := range 4 {
		mk(time.Duration(6+i)*time.Minute, "common", "")
	}
	ix := mustOpenIndex(t, s, h)
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"gizmo", []string{inTitle, inBody, inComment}},
		{"rare common", []string{rareTitle, commonTitle}},
		{"common rare", []string{rareTitle, commonTitle}},
	} {
		hits, err := ix.Search(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range hits {
			got = append(got, x.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("search %q: %q, want %q", tt.q, got, tt.want)
		}
	}
}

// TestSearchScanOrLookup: a search finds the same hits in the same order
// whether it reads their rows by one scan of the index or by a lookup of
// each (searchScanShare), for searches that hit few objects and most.
func TestSearchScanOrLookup(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	words := []string{"alpha", "beta", "gamma", "delta"}
	for i := range 12 {
		title := words[i%4] + " " + words[(i/4)%4]
		body := fmt.Sprintf("%s and %s", words[(i+1)%4], words[(i/3)%4])
		if _, err := s.CreateIssue(ctx, alice, t0.Add(time.Duration(i%5)*time.Minute), NewIssue{Title: title, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	ix := mustOpenIndex(t, s, h)
	for _, q := range []string{"alpha", "a", "alpha beta", "gamma delta", "and", "delta alpha and", "nothing"} {
		var got [2][]Hit
		for i, share := range []float64{2, 0} { // never scan, always scan
			ix.scanShare = share
			hits, err := ix.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got[i] = hits
		}
		if !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("search %q: by lookup %+v, by scan %+v", q, got[0], got[1])
		}
		if q == "and" && len(got[0]) != 12 {
			t.Errorf("search %q: %d hits, want 12", q, len(got[0]))
		}
	}
}

// TestSearchTies: hits that score the same are listed newest first, then
// by ID, however the index was built, each with its own labels.
func TestSearchTies(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	type made struct {
		id      string
		created time.Time
		labels  []string
	}
	var all []made
	for i := range 8 {
		// Two issues share each second: those are ordered by ID.
		at := t0.Add(time.Duration(i/2) * time.Second)
		labels := []string{fmt.Sprintf("l%d", i), fmt.Sprintf("m%d", i)}
		id, err := s.CreateIssue(ctx, alice, at, NewIssue{Title: "same words", Body: "the same body", Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, made{id, at, labels})
	}
	slices.SortFunc(all, func(a, b made) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	ix := mustOpenIndex(t, s, h)
	hits, err := ix.Search(ctx, "same")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != len(all) {
		t.Fatalf("%d hits, want %d", len(hits), len(all))
	}
	for i, x := range hits {
		if x.ID != all[i].id || !slices.Equal(x.Labels, all[i].labels) {
			t.Fatalf("hit %d is %s %q, want %s %q", i, x.ID, x.Labels, all[i].id, all[i].labels)
		}
	}
}
