package issues

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// Fake commit IDs for revisions: materializing never reads them.
const (
	fakeBase  = "1000000000000000000000000000000000000001"
	fakeHead  = "1000000000000000000000000000000000000002"
	fakeHead2 = "1000000000000000000000000000000000000003"
)

func writePatchChange(t testing.TB, m memObjects, k protocol.Signer, rid protocol.RID, parents []string, nonce string, now time.Time, acts ...PatchAction) string {
	t.Helper()
	oid, err := writeChange(m, k, rid, PatchType, parents, NewChange{Actions: anyActions(acts)}, nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

func materializePatch(t testing.TB, m memObjects, rid protocol.RID, id string, rules Rules, tips ...string) *Patch {
	t.Helper()
	obj, err := Load(context.Background(), m, rid, PatchType, id, tips)
	if err != nil {
		t.Fatal(err)
	}
	p, err := MaterializePatch(obj, rules)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPatchAuthorization: each action counts only from those allowed to
// take it; the rest are skipped, whatever their authors wrote.
func TestPatchAuthorization(t *testing.T) {
	m := memObjects{}
	rid := testRID(t)
	alice, bob, eve := testKey(t, 1), testKey(t, 2), testKey(t, 3) // delegate, author, stranger
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	id := writePatchChange(t, m, bob, rid, nil, "n", at(0), PatchAction{Type: ActTitle, Title: "fix"}, PatchAction{Type: ActBody, Body: "by bob"})
	rev := writePatchChange(t, m, bob, rid, []string{id}, "", at(1), PatchAction{Type: ActRevision, Base: fakeBase, Head: fakeHead})
	tip := rev
	step := func(k protocol.Signer, acts ...PatchAction) string {
		tip = writePatchChange(t, m, k, rid, []string{tip}, "", at(len(m)), acts...)
		return tip
	}
	// The stranger tries everything a stranger may not do.
	step(eve, PatchAction{Type: ActState, State: StateClosed})
	step(eve, PatchAction{Type: ActTitle, Title: "pwned"})
	step(eve, PatchAction{Type: ActBody, Body: "pwned"})
	step(eve, PatchAction{Type: ActLabel, Add: []string{"spam"}})
	step(eve, PatchAction{Type: ActMerge, Revision: rev, Commit: fakeHead})
	step(eve, PatchAction{Type: ActRevision, Base: fakeBase, Head: fakeHead2})
	// The author may not merge either; a delegate may not add revisions.
	step(bob, PatchAction{Type: ActMerge, Revision: rev, Commit: fakeHead})
	step(alice, PatchAction{Type: ActRevision, Base: fakeBase, Head: fakeHead2})
	// A delegate may not edit the author's description.
	step(alice, PatchAction{Type: ActBody, Body: "by alice"})
	// Anyone may review and comment; reviews of unknown revisions and
	// malformed line comments are skipped.
	review := step(eve, PatchAction{Type: ActReview, Revision: rev, Verdict: VerdictReject, Body: "no"})
	step(eve, PatchAction{Type: ActReview, Revision: fakeHead, Verdict: VerdictAccept})
	step(eve, PatchAction{Type: ActReview, Revision: rev, Verdict: VerdictComment, Comments: []LineComment{{Path: "/etc/passwd", Line: 1, Body: "x"}}})
	step(eve, PatchAction{Type: ActReview, Revision: rev, Verdict: "lgtm"})
	comment := step(eve, PatchAction{Type: ActComment, Body: "hello"})
	// Editing a comment is its author's only.
	step(alice, PatchAction{Type: ActCommentEdit, Comment: comment, Body: "edited by alice"})

	p := materializePatch(t, m, rid, id, rules, tip)
	if p.Title != "fix" || p.Body != "by bob" || p.State != StateOpen || len(p.Labels) != 0 || len(p.Merges) != 0 {
		t.Fatalf("a stranger or the wrong role changed the patch: %+v", p)
	}
	if len(p.Revisions) != 1 || p.Revisions[0].ID != rev || p.Revisions[0].Head != fakeHead {
		t.Fatalf("revisions %+v", p.Revisions)
	}
	if len(p.Reviews) != 1 || p.Reviews[0].ID != review || p.Reviews[0].Author != eve.NID().String() || p.Reviews[0].Verdict != VerdictReject {
		t.Fatalf("reviews %+v", p.Reviews)
	}
	if len(p.Comments) != 1 || p.Comments[0].Body != "hello" || p.Comments[0].Author != eve.NID().String() {
		t.Fatalf("comments %+v", p.Comments)
	}

	// The allowed versions of the same actions count.
	step(alice, PatchAction{Type: ActLabel, Add: []string{"ok"}}, PatchAction{Type: ActTitle, Title: "fix it"})
	rev2 := step(bob, PatchAction{Type: ActRevision, Base: fakeBase, Head: fakeHead2, Body: "v2"})
	step(alice, PatchAction{Type: ActReview, Revision: rev2, Verdict: VerdictAccept, Comments: []LineComment{{Path: "a.go", Line: 3, EndLine: 5, Body: "nice"}}})
	step(bob, PatchAction{Type: ActState, State: StateClosed})
	step(alice, PatchAction{Type: ActMerge, Revision: rev2, Commit: fakeHead2})
	p = materializePatch(t, m, rid, id, rules, tip)
	if p.Title != "fix it" || len(p.Labels) != 1 || p.State != StateClosed || len(p.Revisions) != 2 || p.Revisions[1].Description != "v2" {
		t.Fatalf("allowed actions skipped: %+v", p)
	}
	if v := p.Verdicts(rev2); v[alice.NID().String()] != VerdictAccept || len(v) != 1 {
		t.Fatalf("verdicts %v", v)
	}
	if len(p.Merges) != 1 || p.Merges[0].Author != alice.NID().String() {
		t.Fatalf("merges %+v", p.Merges)
	}

	// A patch of a stranger to a private project is not there at all.
	if _, err := MaterializePatch(mustLoadPatch(t, m, rid, id, tip), Rules{Delegates: []protocol.NID{alice.NID()}, Allow: []protocol.NID{}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("private project: %v", err)
	}
	// A root with no revision is not a patch.
	bare := writePatchChange(t, m, bob, rid, nil, "other", at(0), PatchAction{Type: ActTitle, Title: "empty"})
	if _, err := MaterializePatch(mustLoadPatch(t, m, rid, bare, bare), rules); !errors.Is(err, ErrNotFound) {
		t.Fatalf("patch without revisions: %v", err)
	}
}

func mustLoadPatch(t testing.TB, m memObjects, rid protocol.RID, id string, tips ...string) *Object {
	t.Helper()
	obj, err := Load(context.Background(), m, rid, PatchType, id, tips)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestResolveMerged(t *testing.T) {
	// Ancestry as a table: a is reachable from b.
	anc := map[[2]string]bool{}
	reach := func(a, b string) bool { return a == b || anc[[2]string{a, b}] }
	base := func() *Patch {
		return &Patch{Thread: Thread{State: StateClosed}, Revisions: []Revision{{ID: "r1", Head: "h1"}, {ID: "r2", Head: "h2"}}}
	}
	tests := []struct {
		name      string
		tip       string
		anc       [][2]string
		merges    []Merge
		wantState string
		wantRev   string
		wantBy    string
	}{
		{name: "no branch", tip: "", wantState: StateClosed},
		{name: "not reachable", tip: "t", wantState: StateClosed},
		{name: "head in branch", tip: "t", anc: [][2]string{{"h1", "t"}}, wantState: StateMerged, wantRev: "r1"},
		{name: "head is tip", tip: "h2", wantState: StateMerged, wantRev: "r2"},
		{name: "newer revision on the older", tip: "h2", anc: [][2]string{{"h1", "h2"}}, wantState: StateMerged, wantRev: "r2"},
		{name: "recorded squash", tip: "t", anc: [][2]string{{"m", "t"}}, merges: []Merge{{Revision: "r2", Commit: "m", Author: "d"}}, wantState: StateMerged, wantRev: "r2", wantBy: "d"},
		{name: "record not in branch", tip: "t", merges: []Merge{{Revision: "r2", Commit: "m", Author: "d"}}, wantState: StateClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clear(anc)
			for _, a := range tt.anc {
				anc[a] = true
			}
			p := base()
			p.Merges = tt.merges
			ResolveMerged(p, tt.tip, reach)
			if p.State != tt.wantState {
				t.Fatalf("state %s, want %s", p.State, tt.wantState)
			}
			if tt.wantRev == "" {
				if p.Merge != nil {
					t.Fatalf("merge %+v", p.Merge)
				}
				return
			}
			if p.Merge == nil || p.Merge.Revision != tt.wantRev || p.Merge.Author != tt.wantBy || !p.Revisions[p.RevisionIndex(tt.wantRev)].Merged {
				t.Fatalf("merge %+v revisions %+v", p.Merge, p.Revisions)
			}
			for _, r := range p.Revisions {
				if r.Merged != (r.ID == tt.wantRev) {
					t.Errorf("revision %s merged %v", r.ID, r.Merged)
				}
			}
		})
	}
}

// gitCommit makes a commit in a working copy and returns its oid.
func gitCommit(t testing.TB, wc, file, content, msg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(wc, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, wc, "add", file)
	gitRun(t, wc, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "-m", msg)
	out, err := exec.Command("git", "-C", wc, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestPatchStore opens, revises, reviews and merges patches in a real
// storage: the code travels with the object, a merge lands with its record
// in one update, and a merge by plain git is seen.
func TestPatchStore(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, _ := newProject(t, alice)
	wc := t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	c0 := gitCommit(t, wc, "a", "a\n", "first")
	gitRun(t, wc, "push", "-q", s.Repo.Path, "HEAD:refs/namespaces/"+alice.NID().String()+"/refs/heads/main")
	if err := s.Repo.UpdateNamespace(ctx, alice, nil, t0); err != nil { // re-sign after the raw push
		t.Fatal(err)
	}
	c1 := gitCommit(t, wc, "a", "a\nb\n", "add b")
	gitRun(t, wc, "push", "-q", s.Repo.Path, c1+":refs/tmp/c1")

	v, err := s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, rev, err := s.OpenPatch(ctx, bob, t0, NewPatch{Title: "add b", Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}
	p, obj, err := s.Patch(ctx, id, v)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != StateOpen || len(p.Revisions) != 1 || p.Revisions[0].ID != rev || p.Revisions[0].Head != c1 {
		t.Fatalf("%+v", p)
	}
	// The head is under bob's refs/heads/patches/<id> and is a parent of
	// the revision's change, so it replicates with the object.
	if got, _ := s.Repo.RefFiles().Get(repo.NamespacePrefix(bob.NID()) + PatchHeadRef(id)); got != c1 {
		t.Fatalf("patch head ref %q", got)
	}
	gitRun(t, s.Repo.Path, "merge-base", "--is-ancestor", c1, rev)
	if got, err := s.ResolvePatch(ctx, id[:6]); err != nil || got != id {
		t.Fatalf("resolve %q %v", got, err)
	}
	// With a cache, through the patches' ID list.
	cached := NewStore(s.Repo)
	cached.CacheDir = t.TempDir()
	if got, err := cached.ResolvePatch(ctx, id[:6]); err != nil || got != id {
		t.Fatalf("resolve with a cache %q %v", got, err)
	}
	if l, ok := readIDList(cached.idsPath(PatchType), PatchType); !ok || !l.has(id) {
		t.Fatal("no ID list of patches holding the patch")
	} else {
		l.close()
	}
	// Only bob may revise.
	c2 := gitCommit(t, wc, "a", "a\nb\nc\n", "add c")
	gitRun(t, wc, "push", "-q", s.Repo.Path, c2+":refs/tmp/c2")
	if _, err := s.AddRevision(ctx, alice, t0, obj, p, c0, c2, "", ""); err == nil {
		t.Fatal("a delegate added a revision to bob's patch")
	}
	rev2, err := s.AddRevision(ctx, bob, t0.Add(time.Minute), obj, p, c0, c2, "v2", "")
	if err != nil {
		t.Fatal(err)
	}
	_, obj, _ = s.Patch(ctx, id, v)
	if _, err := s.Update(ctx, PatchKind, alice, t0.Add(2*time.Minute), obj, PatchAction{Type: ActReview, Revision: rev2, Verdict: VerdictAccept}); err != nil {
		t.Fatal(err)
	}
	p, obj, _ = s.Patch(ctx, id, v)
	if len(p.Revisions) != 2 || len(p.Reviews) != 1 || p.Reviews[0].Author != alice.NID().String() {
		t.Fatalf("%+v", p)
	}
	// bob is no delegate: he cannot merge.
	if _, err := s.MergePatch(ctx, bob, t0, v, obj, p, rev2, ""); err == nil {
		t.Fatal("the author merged without being a delegate")
	}
	// Main moved on, so alice's merge makes a merge commit.
	gitRun(t, wc, "checkout", "-q", "-b", "side", c0)
	c3 := gitCommit(t, wc, "z", "z\n", "z")
	if _, err := s.Repo.Git(ctx, nil, "fetch", "-q", wc, c3); err != nil {
		t.Fatal(err)
	}
	if err := s.Repo.UpdateNamespace(ctx, alice, []repo.RefUpdate{{Name: "refs/heads/main", Old: c0, New: c3}}, t0); err != nil {
		t.Fatal(err)
	}
	v, _ = s.PatchView(ctx)
	res, err := s.MergePatch(ctx, alice, t0.Add(3*time.Minute), v, obj, p, rev2, "Alice <alice@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	if res.FastForward || res.Already {
		t.Fatalf("%+v", res)
	}
	v, _ = s.PatchView(ctx)
	if v.Tip != res.Commit {
		t.Fatalf("canonical main %s, merge %s", v.Tip, res.Commit)
	}
	// Revision 1's head is in the branch too, but revision 2 is the one
	// merged: only it shows merged.
	p, _, _ = s.Patch(ctx, id, v)
	if p.State != StateMerged || p.Merge == nil || p.Merge.Revision != rev2 || p.Merge.Author != alice.NID().String() || !p.Revisions[1].Merged || p.Revisions[0].Merged {
		t.Fatalf("after merge: %+v %+v", p.Merge, p.Revisions)
	}
	if rep, err := s.Repo.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify: %v %v", err, rep)
	}
	// Listing by state.
	if l, _, err := s.Patches(ctx, v, StateMerged); err != nil || len(l) != 1 {
		t.Fatalf("merged list %d %v", len(l), err)
	}
	if l, _, _ := s.Patches(ctx, v, StateOpen); len(l) != 0 {
		t.Fatalf("open list %d", len(l))
	}
}

// TestPatchConvergenceGit: three peers, each with its own storage, act on
// one patch and exchange namespaces with plain git fetch in random orders;
// all end with identical patches.
func TestPatchConvergenceGit(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	keys := []*protocol.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	first, _ := newProject(t, keys[0])
	stores := []*Store{first}
	for range 2 {
		h := repo.Home{Dir: t.TempDir()}
		dir := h.ProjectPath(first.Repo.RID)
		gitRun(t, "", "init", "-q", "--bare", dir)
		gitRun(t, dir, "fetch", "-q", first.Repo.Path, "refs/namespaces/*:refs/namespaces/*")
		r, err := repo.Open(h, first.Repo.RID)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, NewStore(r))
	}
	// Bob's commits, in his storage, become the patch.
	wc := t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	c0 := gitCommit(t, wc, "a", "a\n", "first")
	c1 := gitCommit(t, wc, "a", "a\nb\n", "b")
	c2 := gitCommit(t, wc, "a", "a\nb\nc\n", "c")
	gitRun(t, stores[1].Repo.Path, "fetch", "-q", wc, "main:refs/tmp/main")
	v := PatchView{Rules: RulesOf(mustIdentity(t, first))}
	id, _, err := stores[1].OpenPatch(ctx, keys[1], t0, NewPatch{Title: "b", Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(to, from int) {
		ns := keys[from].NID().String()
		gitRun(t, stores[to].Repo.Path, "fetch", "-q", stores[from].Repo.Path, "+refs/namespaces/"+ns+"/*:refs/namespaces/"+ns+"/*")
	}
	revised := false
	for step := range 30 {
		i := rng.IntN(3)
		if rng.IntN(3) == 0 {
			if j := rng.IntN(3); j != i {
				fetch(i, j)
			}
			continue
		}
		p, obj, err := stores[i].Patch(ctx, id, v)
		if err != nil {
			continue // not seen yet
		}
		now := t0.Add(time.Duration(step) * time.Second)
		if i == 1 && !revised {
			if _, err := stores[i].AddRevision(ctx, keys[i], now, obj, p, c0, c2, "v2", ""); err != nil {
				t.Fatal(err)
			}
			revised = true
			continue
		}
		revs := p.Revisions
		var a PatchAction
		switch rng.IntN(6) {
		case 0:
			a = PatchAction{Type: ActReview, Revision: revs[rng.IntN(len(revs))].ID, Verdict: []string{VerdictAccept, VerdictReject}[rng.IntN(2)]}
		case 1:
			a = PatchAction{Type: ActReview, Revision: revs[0].ID, Verdict: VerdictComment, Comments: []LineComment{{Path: "a", Line: 1 + rng.IntN(3), Body: "hm"}}}
		case 2:
			a = PatchAction{Type: ActComment, Body: "c"}
		case 3:
			a = PatchAction{Type: ActState, State: []string{StateOpen, StateClosed}[rng.IntN(2)]}
		case 4:
			a = PatchAction{Type: ActLabel, Add: []string{[]string{"x", "y"}[rng.IntN(2)]}}
		case 5:
			a = PatchAction{Type: ActTitle, Title: "t" + string(rune('a'+rng.IntN(26)))}
		}
		if _, err := stores[i].Update(ctx, PatchKind, keys[i], now, obj, a); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		for _, i := range rng.Perm(3) {
			for _, j := range rng.Perm(3) {
				if i != j {
					fetch(i, j)
				}
			}
		}
	}
	var want []byte
	for i, s := range stores {
		p, _, err := s.Patch(ctx, id, v)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(p)
		if i == 0 {
			want = got
		} else if !reflect.DeepEqual(got, want) {
			t.Fatalf("peer %d differs:\n%s\n%s", i, got, want)
		}
		// The revisions' code arrived with the object.
		for _, r := range p.Revisions {
			if !s.Repo.HasObject(r.Head) {
				t.Fatalf("peer %d lacks revision head %.7s", i, r.Head)
			}
		}
	}
}

// FuzzMaterializePatch: any action a peer signs is applied or skipped,
// never a panic, and the result encodes.
func FuzzMaterializePatch(f *testing.F) {
	for _, a := range []PatchAction{
		{Type: ActReview, Verdict: VerdictAccept},
		{Type: ActReview, Verdict: VerdictComment, Comments: []LineComment{{Path: "a", Line: 1, EndLine: 2, Body: "x"}}},
		{Type: ActMerge, Commit: fakeHead},
		{Type: ActRevision, Base: fakeBase, Head: fakeHead2},
		{Type: ActComment, Body: "c", ReplyTo: "x"},
		{Type: ActLabel, Add: []string{"a"}, Remove: []string{"b"}},
	} {
		b, _ := json.Marshal(a)
		f.Add(b)
	}
	f.Add([]byte(`{"type":"review","comments":[{"line":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		m := memObjects{}
		rid := testRID(t)
		k := testKey(t, 1)
		id := writePatchChange(t, m, k, rid, nil, "n", t0, PatchAction{Type: ActTitle, Title: "t"})
		rev := writePatchChange(t, m, k, rid, []string{id}, "", t0, PatchAction{Type: ActRevision, Base: fakeBase, Head: fakeHead})
		raw := strings.ReplaceAll(string(b), "REV", rev)
		tip, err := writeChange(m, k, rid, PatchType, []string{rev}, NewChange{Actions: []any{json.RawMessage(raw)}}, "", t0)
		if err != nil {
			return
		}
		obj, err := Load(context.Background(), m, rid, PatchType, id, []string{tip})
		if err != nil {
			t.Fatal(err)
		}
		p, err := MaterializePatch(obj, Rules{Delegates: []protocol.NID{k.NID()}})
		if err != nil {
			t.Fatal(err)
		}
		ResolveMerged(p, fakeHead2, func(a, b string) bool { return a == b })
		if _, err := json.Marshal(p); err != nil {
			t.Fatal(err)
		}
	})
}
