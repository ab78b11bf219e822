package tuicmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/tui"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testKey(t *testing.T, seed byte) *protocol.Key {
	t.Helper()
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = repo.GitEnv()
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitCommit(t *testing.T, wc, file, content, msg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(wc, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, wc, "add", file)
	gitRun(t, wc, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "-m", msg)
	return gitRun(t, wc, "rev-parse", "HEAD")
}

// patchWorld is a project whose one delegate is alice, with main at c0
// in her namespace and a commit c1 on it in storage, for bob to propose.
type patchWorld struct {
	h          repo.Home
	r          *repo.Repo
	st         *issues.Store
	alice, bob *protocol.Key
	c0, c1     string
}

func newPatchWorld(t *testing.T) patchWorld {
	t.Helper()
	ctx := context.Background()
	w := patchWorld{h: repo.Home{Dir: t.TempDir()}, alice: testKey(t, 1), bob: testKey(t, 2)}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{w.alice.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	var err error
	if w.r, err = repo.Create(ctx, w.h, w.alice, doc, t0); err != nil {
		t.Fatal(err)
	}
	w.st = issues.NewStore(w.r)
	wc := t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	w.c0 = gitCommit(t, wc, "a", "a\n", "first")
	gitRun(t, wc, "push", "-q", w.r.Path, "HEAD:refs/namespaces/"+w.alice.NID().String()+"/refs/heads/main")
	if err := w.r.UpdateNamespace(ctx, w.alice, nil, t0); err != nil {
		t.Fatal(err)
	}
	w.c1 = gitCommit(t, wc, "a", "a\nb\n", "add b")
	gitRun(t, wc, "push", "-q", w.r.Path, w.c1+":refs/tmp/c1")
	return w
}

// TestPatchesAdapter opens a patch in a real storage and reads and reviews
// it through the UI's adapter.
func TestPatchesAdapter(t *testing.T) {
	ctx := context.Background()
	w := newPatchWorld(t)
	h, r, st, alice, bob, c0, c1 := w.h, w.r, w.st, w.alice, w.bob, w.c0, w.c1
	id, rev, err := st.OpenPatch(ctx, bob, t0, issues.NewPatch{Title: "add b", Body: "adds b", Labels: []string{"feature"}, Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}

	s := newAdapter(h, func() time.Time { return t0.Add(time.Minute) })
	src := s.source()
	rid := r.RID.String()

	l, err := src.Patches.ListPatches(ctx, rid, tui.PatchOpen)
	if err != nil || len(l) != 1 {
		t.Fatalf("open: %+v %v", l, err)
	}
	if got := l[0]; got.ID != id || got.Title != "add b" || got.State != tui.PatchOpen || got.Revisions != 1 ||
		got.Author != bob.NID().Short() || strings.Join(got.Labels, ",") != "feature" || got.Accepted != 0 {
		t.Fatalf("summary %+v", got)
	}
	if l, err := src.Patches.ListPatches(ctx, rid, tui.PatchMerged); err != nil || len(l) != 0 {
		t.Fatalf("merged: %+v %v", l, err)
	}

	p, err := src.Patches.Patch(ctx, rid, id[:7])
	if err != nil {
		t.Fatal(err)
	}
	if p.Body != "adds b" || len(p.Revisions) != 1 {
		t.Fatalf("%+v", p)
	}
	rv := p.Revisions[0]
	if rv.ID != rev || rv.Base != c0 || rv.Head != c1 || !strings.Contains(rv.Diff, "+b\n") || !strings.Contains(rv.Diff, "a/a") || len(rv.Reviews) != 0 {
		t.Fatalf("revision %+v", rv)
	}
	if _, err := src.Patches.Patch(ctx, rid, "ffffffff"); !errors.Is(err, tui.ErrNotFound) {
		t.Fatalf("unknown patch: %v", err)
	}

	// Without a key the UI is read only.
	if err := src.Patches.Review(ctx, rid, id, tui.NewReview{Revision: rev, Verdict: tui.VerdictAccept}); err == nil {
		t.Fatal("reviewed without a key")
	}
	s.key = alice
	if err := src.Patches.Review(ctx, rid, id, tui.NewReview{Revision: rev, Verdict: tui.VerdictComment, Body: "why b?", Path: "a", Line: 2}); err != nil {
		t.Fatal(err)
	}
	if err := src.Patches.Review(ctx, rid, id, tui.NewReview{Revision: rev, Verdict: tui.VerdictAccept, Body: "LGTM"}); err != nil {
		t.Fatal(err)
	}
	if err := src.Patches.Review(ctx, rid, id, tui.NewReview{Revision: rev, Verdict: tui.VerdictComment, Path: "nope", Line: 1, Body: "x"}); err == nil {
		t.Fatal("a comment on a file not in the head")
	}

	// The reviews are in the store, signed by alice.
	v, err := st.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ip, _, err := st.Patch(ctx, id, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(ip.Reviews) != 2 {
		t.Fatalf("reviews %+v", ip.Reviews)
	}
	lc, acc := ip.Reviews[0], ip.Reviews[1]
	if lc.Author != alice.NID().String() || lc.Verdict != issues.VerdictComment || len(lc.Comments) != 1 ||
		lc.Comments[0] != (issues.LineComment{Path: "a", Line: 2, Body: "why b?"}) {
		t.Fatalf("line comment %+v", lc)
	}
	if acc.Author != alice.NID().String() || acc.Verdict != issues.VerdictAccept || acc.Body != "LGTM" || acc.Revision != rev {
		t.Fatalf("accept %+v", acc)
	}

	// And the adapter shows them.
	p, err = src.Patches.Patch(ctx, rid, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Accepted != 1 || p.Rejected != 0 || len(p.Revisions[0].Reviews) != 2 {
		t.Fatalf("%+v", p)
	}
	got := p.Revisions[0].Reviews[0]
	if got.Author != alice.NID().Short() || len(got.Comments) != 1 || got.Comments[0] != (tui.LineComment{Path: "a", Line: 2, Body: "why b?"}) {
		t.Fatalf("review %+v", got)
	}
	if l, _ := src.Patches.ListPatches(ctx, rid, ""); len(l) != 1 || l[0].Accepted != 1 {
		t.Fatalf("all: %+v", l)
	}
	if ps, err := src.Projects.Projects(ctx, nil); err != nil || len(ps) != 1 || ps[0].OpenPatches != 1 {
		t.Fatalf("projects %+v %v", ps, err)
	}
}

// TestAdapterRefs: the adapter hands the UI an issue's backlink from the
// patch that mentions it, and the patch's reference to the issue, each
// with the other object's kind and title.
func TestAdapterRefs(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	h := repo.Home{Dir: t.TempDir()}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{alice.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, alice, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	st := issues.NewStore(r)
	iid, err := st.CreateIssue(ctx, alice, t0, issues.NewIssue{Title: "crash on start"})
	if err != nil {
		t.Fatal(err)
	}
	wc := t.TempDir()
	gitRun(t, wc, "init", "-q", "-b", "main")
	c0 := gitCommit(t, wc, "a", "a\n", "first")
	c1 := gitCommit(t, wc, "a", "a\nb\n", "add b")
	gitRun(t, wc, "push", "-q", r.Path, c1+":refs/tmp/c1")
	pid, _, err := st.OpenPatch(ctx, alice, t0, issues.NewPatch{Title: "guard the start", Body: "Fixes #" + iid[:7], Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}
	s := newAdapter(h, func() time.Time { return t0.Add(time.Minute) })
	src := s.source()
	is, err := src.Issues.Issue(ctx, r.RID.String(), iid)
	if err != nil {
		t.Fatal(err)
	}
	if len(is.Refs) != 1 || is.Refs[0] != (tui.Ref{Kind: "patch", ID: pid, Title: "guard the start", Back: true, Author: alice.NID().Short()}) {
		t.Fatalf("issue refs %+v", is.Refs)
	}
	p, err := src.Patches.Patch(ctx, r.RID.String(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refs) != 1 || p.Refs[0] != (tui.Ref{Kind: "issue", ID: iid, Title: "crash on start", Author: alice.NID().Short()}) {
		t.Fatalf("patch refs %+v", p.Refs)
	}
}
