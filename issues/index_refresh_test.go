package issues

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// refreshed runs Refresh and checks that it materialized want issues and
// listed listings namespaces in full.
func refreshed(t *testing.T, ix *Index, want, listings int) {
	t.Helper()
	ix.listings = 0
	n, err := ix.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want || ix.listings != listings {
		t.Fatalf("Refresh materialized %d issues and listed %d namespaces, want %d and %d", n, ix.listings, want, listings)
	}
}

// indexFixture is a project of alice's with 30 issues and its open index.
func indexFixture(t *testing.T) (*Store, *Index, []string) {
	t.Helper()
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	tx := s.Begin(alice, t0)
	var ids []string
	for i := range 30 {
		id, err := tx.CreateIssue(NewIssue{Title: fmt.Sprintf("issue %d", i), Labels: []string{"bug"}[:i%2]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ix := mustOpenIndex(t, s, h)
	checkIndex(t, ix, s, 30)
	return s, ix, ids
}

func update(t *testing.T, s *Store, k *protocol.Key, now time.Time, id string, acts ...Action) string {
	t.Helper()
	ctx := context.Background()
	_, obj, err := s.Issue(ctx, id, Rules{})
	if err != nil {
		t.Fatal(err)
	}
	oid, err := s.Update(ctx, IssueKind, k, now, obj, acts...)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// TestRefreshDiffsMovedNamespace: after a change made through the store,
// in the index's own namespace or another's, Refresh reads only what moved
// (the diff of the namespace's signed ref trees) and materializes only the
// changed issue. A namespace it has never seen is listed.
func TestRefreshDiffsMovedNamespace(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, ix, ids := indexFixture(t)

	update(t, s, alice, t0.Add(time.Minute), ids[4], Action{Type: ActState, State: StateClosed, Reason: ReasonSolved})
	refreshed(t, ix, 1, 0)
	if _, err := s.CreateIssue(ctx, alice, t0.Add(2*time.Minute), NewIssue{Title: "a new one"}); err != nil {
		t.Fatal(err)
	}
	refreshed(t, ix, 1, 0)
	refreshed(t, ix, 0, 0)
	checkIndex(t, ix, s, 31)

	// bob's namespace is new to the index: listed once, then diffed.
	update(t, s, bob, t0.Add(3*time.Minute), ids[5], Action{Type: ActComment, Body: "me too"})
	refreshed(t, ix, 1, 1)
	update(t, s, bob, t0.Add(4*time.Minute), ids[6], Action{Type: ActComment, Body: "and here"})
	refreshed(t, ix, 1, 0)
	bobs, err := s.CreateIssue(ctx, bob, t0.Add(5*time.Minute), NewIssue{Title: "bob's"})
	if err != nil {
		t.Fatal(err)
	}
	refreshed(t, ix, 1, 0)
	l := checkIndex(t, ix, s, 32)
	if l[0].Title != "bob's" {
		t.Fatalf("newest is %+v", l[0])
	}
	if l, _ := ix.List(ctx, Filter{State: StateClosed}); len(l) != 1 || l[0].ID != ids[4] {
		t.Fatalf("closed: %+v", l)
	}

	// bob drops his tips of ids[6] (alice still has the issue, without
	// his comment) and of his own issue (no one has it any more).
	drop := func(id string) repo.RefUpdate {
		name := RefName(IssueType, id)
		oid, err := s.Repo.RefFiles().Get(repo.NamespacePrefix(bob.NID()) + name)
		if err != nil || oid == "" {
			t.Fatalf("bob's tip of %s: %q, %v", id, oid, err)
		}
		return repo.RefUpdate{Name: name, Old: oid}
	}
	if err := s.Repo.UpdateNamespace(ctx, bob, []repo.RefUpdate{drop(ids[6]), drop(bobs)}, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	refreshed(t, ix, 2, 0)
	checkIndex(t, ix, s, 31)
	if l, _ := ix.List(ctx, Filter{Search: "here"}); len(l) != 0 {
		t.Fatalf("bob's dropped comment is still found: %+v", l)
	}
}

// TestRefreshFallsBack: when the diff cannot be made or the refs disagree
// with their signature, the namespace is listed and the index is still
// right.
func TestRefreshFallsBack(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	ns := alice.NID().String()

	t.Run("stored sigrefs gone", func(t *testing.T) {
		s, ix, ids := indexFixture(t)
		// As after a gc that dropped the revision the index has.
		if _, err := ix.db.Exec("UPDATE namespaces SET sigrefs = ? WHERE nid = ?", strings.Repeat("ab", 20), ns); err != nil {
			t.Fatal(err)
		}
		update(t, s, alice, t0.Add(time.Minute), ids[2], Action{Type: ActTitle, Title: "renamed"})
		refreshed(t, ix, 1, 1)
		checkIndex(t, ix, s, 30)
		// The next change diffs again.
		update(t, s, alice, t0.Add(2*time.Minute), ids[3], Action{Type: ActTitle, Title: "renamed too"})
		refreshed(t, ix, 1, 0)
		checkIndex(t, ix, s, 30)
	})
	t.Run("ref not where its signature says", func(t *testing.T) {
		s, ix, ids := indexFixture(t)
		ref := "refs/namespaces/" + ns + "/" + RefName(IssueType, ids[2])
		before, err := s.Repo.RefFiles().Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		update(t, s, alice, t0.Add(time.Minute), ids[2], Action{Type: ActTitle, Title: "renamed"})
		// Put the ref back behind the signed refs' back.
		if out, err := exec.Command("git", "-C", s.Repo.Path, "update-ref", ref, before).CombinedOutput(); err != nil {
			t.Fatalf("update-ref: %v\n%s", err, out)
		}
		refreshed(t, ix, 0, 1)
		l := checkIndex(t, ix, s, 30)
		for _, sum := range l {
			if sum.Title == "renamed" {
				t.Fatalf("index took the signed tip over the ref: %+v", sum)
			}
		}
	})
	t.Run("identity moved", func(t *testing.T) {
		s, ix, ids := indexFixture(t)
		update(t, s, alice, t0.Add(time.Minute), ids[2], Action{Type: ActTitle, Title: "renamed"})
		// The index sees the identity ref elsewhere than it stored.
		if _, err := ix.db.Exec("UPDATE namespaces SET ident = 'x' WHERE nid = ?", ns); err != nil {
			t.Fatal(err)
		}
		ix.listings = 0
		if _, err := ix.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if ix.listings != 1 {
			t.Fatalf("listed %d namespaces, want 1", ix.listings)
		}
		checkIndex(t, ix, s, 30)
	})
}

// TestRefreshMatchesRebuild: after random changes by three keys, with
// Refresh after some of them, the index lists what an index rebuilt from
// nothing lists, having listed each namespace only when it first saw it.
func TestRefreshMatchesRebuild(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			keys := []*protocol.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
			s, h := newProject(t, keys[0])
			path := IndexPath(h, s.Repo.RID)
			var ids []string
			if _, err := s.CreateIssue(ctx, keys[0], t0, NewIssue{Title: "first"}); err != nil {
				t.Fatal(err)
			}
			ix, err := OpenIndex(ctx, path, s)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { ix.Close() }()
			l, _ := ix.List(ctx, Filter{})
			for _, sum := range l {
				ids = append(ids, sum.ID)
			}
			ix.listings = 0
			seen := map[string]bool{keys[0].NID().String(): true}
			now := t0
			for i := range 40 {
				now = now.Add(time.Duration(rng.IntN(3)) * time.Second)
				k := keys[rng.IntN(len(keys))]
				if len(ids) == 0 || rng.IntN(4) == 0 {
					id, err := s.CreateIssue(ctx, k, now, NewIssue{Title: fmt.Sprintf("issue %d", i), Labels: []string{"bug", "ui"}[:rng.IntN(3)]})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				} else {
					id := ids[rng.IntN(len(ids))]
					var a Action
					switch rng.IntN(4) {
					case 0:
						a = Action{Type: ActComment, Body: fmt.Sprintf("comment %d", i)}
					case 1:
						a = Action{Type: ActState, State: StateClosed, Reason: ReasonOther}
					case 2:
						a = Action{Type: ActState, State: StateOpen}
					case 3:
						a = Action{Type: ActLabel, Add: []string{fmt.Sprintf("l%d", rng.IntN(3))}, Remove: []string{"bug"}}
					}
					update(t, s, k, now, id, a)
				}
				seen[k.NID().String()] = true
				if rng.IntN(3) == 0 {
					if _, err := ix.Refresh(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := ix.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			checkIndex(t, ix, s, len(ids))
			if ix.listings != len(seen)-1 {
				t.Errorf("listed %d namespaces in full, want only the %d new ones", ix.listings, len(seen)-1)
			}
			filters := []Filter{{}, {State: StateClosed}, {Label: "l1"}, {Search: "comment"}}
			var want []string
			for _, f := range filters {
				want = append(want, listJSON(t, ix, f))
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			removeIndex(path)
			if ix, err = OpenIndex(ctx, path, s); err != nil {
				t.Fatal(err)
			}
			for i, f := range filters {
				if got := listJSON(t, ix, f); got != want[i] {
					t.Errorf("filter %+v: refreshed index lists\n%s\nrebuilt lists\n%s", f, want[i], got)
				}
			}
		})
	}
}
