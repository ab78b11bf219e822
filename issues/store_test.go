package issues

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// newProject makes a project owned (and delegated) by k in a fresh home.
func newProject(t testing.TB, k *protocol.Key) (*Store, repo.Home) {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(context.Background(), h, k, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	return NewStore(r), h
}

// mustOpenIndex opens the index of s's project in home h, closed when the
// test ends.
func mustOpenIndex(t testing.TB, s *Store, h repo.Home) *Index {
	t.Helper()
	ix, err := OpenIndex(context.Background(), IndexPath(h, s.Repo.RID), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func TestStoreWriteLoadVerify(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, _ := newProject(t, alice)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	id, err := s.CreateIssue(ctx, alice, t0, NewIssue{Title: "crash", Body: "on *start*", Labels: []string{"bug"}})
	if err != nil {
		t.Fatal(err)
	}
	is, obj, err := s.Issue(ctx, id, rules)
	if err != nil {
		t.Fatal(err)
	}
	if is.Title != "crash" || is.Body != "on *start*" || fmt.Sprint(is.Labels) != "[bug]" {
		t.Fatalf("%+v", is)
	}
	// bob comments from his own namespace; alice closes on top of hers.
	c, err := s.Update(ctx, IssueKind, bob, t0.Add(time.Minute), obj, Action{Type: ActComment, Body: "same here"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, IssueKind, alice, t0.Add(2*time.Minute), obj, Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}); err != nil {
		t.Fatal(err)
	}
	is, obj, err = s.Issue(ctx, id, rules)
	if err != nil {
		t.Fatal(err)
	}
	if is.State != StateClosed || len(is.Comments) != 1 || is.Comments[0].ID != c || len(obj.Heads) != 2 {
		t.Fatalf("%+v heads %v", is, obj.Heads)
	}
	// Every namespace's refs are signed and the storage verifies.
	rep, err := s.Repo.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 {
		t.Fatalf("verify: %v", rep.Problems)
	}
	// The next change merges both heads.
	m, err := s.Update(ctx, IssueKind, alice, t0.Add(3*time.Minute), obj, Action{Type: ActState, State: StateOpen})
	if err != nil {
		t.Fatal(err)
	}
	if _, obj, _ = s.Issue(ctx, id, rules); fmt.Sprint(obj.Heads) != fmt.Sprint([]string{m}) {
		t.Fatalf("heads after merge %v", obj.Heads)
	}
	if _, err := s.Load(ctx, IssueType, "0000000000000000000000000000000000000000"); err == nil {
		t.Fatal("loaded a missing issue")
	}
}

func listJSON(t *testing.T, ix *Index, f Filter) string {
	t.Helper()
	l, err := ix.List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func TestIndex(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	path := IndexPath(h, s.Repo.RID)
	tx := s.Begin(alice, t0)
	var ids []string
	for i := range 40 {
		id, err := tx.CreateIssue(NewIssue{Title: fmt.Sprintf("issue %d about widgets", i), Labels: []string{[]string{"bug", "ui"}[i%2]}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := ix.List(ctx, Filter{}); len(l) != 40 {
		t.Fatalf("listed %d", len(l))
	}
	if l, _ := ix.List(ctx, Filter{Label: "ui"}); len(l) != 20 {
		t.Fatalf("label ui: %d", len(l))
	}
	if n, err := ix.Refresh(ctx); n != 0 || err != nil {
		t.Fatalf("nothing changed, yet %d refreshed (%v)", n, err)
	}
	t.Run("resolve prefixes", func(t *testing.T) {
		// 40 IDs over 16 first digits: some digit is shared.
		count := map[byte]int{}
		for _, id := range ids {
			count[id[0]]++
		}
		for d, n := range count {
			if n < 2 {
				continue
			}
			_, err := ix.Resolve(ctx, string(d))
			var amb *AmbiguousError
			if !errors.As(err, &amb) || amb.Matches != n || !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("prefix %c: %v, want ambiguous among %d", d, err, n)
			}
			break
		}
		if got, err := ix.Resolve(ctx, strings.ToUpper(ids[7][:12])); err != nil || got != ids[7] {
			t.Fatalf("resolve %s: %s %v", ids[7][:12], got, err)
		}
		for _, bad := range []string{"", "xyz", "ffffffffffffffffffffffffffffffffffffffff0"} {
			if _, err := ix.Resolve(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Fatalf("resolve %q: %v", bad, err)
			}
		}
	})

	t.Run("incremental after a local change", func(t *testing.T) {
		_, obj, err := s.Issue(ctx, ids[3], RulesOf(mustIdentity(t, s)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Minute), obj, Action{Type: ActComment, Body: "a gizmo too"}, Action{Type: ActState, State: StateClosed, Reason: ReasonOther}); err != nil {
			t.Fatal(err)
		}
		if n, err := ix.Refresh(ctx); n != 1 || err != nil {
			t.Fatalf("refreshed %d issues (%v), want 1", n, err)
		}
		if l, _ := ix.List(ctx, Filter{State: StateClosed}); len(l) != 1 || l[0].ID != ids[3] || l[0].CommentCount != 1 {
			t.Fatalf("closed: %+v", l)
		}
		if l, _ := ix.List(ctx, Filter{Search: "gizm"}); len(l) != 1 || l[0].ID != ids[3] {
			t.Fatalf("search: %+v", l)
		}
		if n, _ := ix.Refresh(ctx); n != 0 {
			t.Fatalf("second refresh redid %d", n)
		}
	})
	t.Run("incremental after another namespace moves", func(t *testing.T) {
		_, obj, _ := s.Issue(ctx, ids[5], Rules{})
		if _, err := s.Update(ctx, IssueKind, bob, t0.Add(time.Minute), obj, Action{Type: ActComment, Body: "sprocket"}); err != nil {
			t.Fatal(err)
		}
		n, err := ix.Refresh(ctx)
		if err != nil || n != 1 {
			t.Fatalf("refreshed %d issues (%v), want 1", n, err)
		}
		if l, _ := ix.List(ctx, Filter{Search: "sprocket"}); len(l) != 1 || l[0].ID != ids[5] {
			t.Fatalf("search: %+v", l)
		}
	})
	want := listJSON(t, ix, Filter{})
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	reopen := func(t *testing.T) {
		t.Helper()
		ix, err := OpenIndex(ctx, path, s)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		if got := listJSON(t, ix, Filter{}); got != want {
			t.Fatalf("after rebuild:\n%s\nwant\n%s", got, want)
		}
		if got := listJSON(t, ix, Filter{Search: "sprocket"}); !bytes.Contains([]byte(got), []byte(ids[5])) {
			t.Fatalf("search after rebuild: %s", got)
		}
	}
	t.Run("warm reopen", reopen)
	t.Run("rebuilt after delete", func(t *testing.T) {
		os.Remove(path)
		reopen(t)
	})
	t.Run("rebuilt after garbage", func(t *testing.T) {
		os.WriteFile(path, bytes.Repeat([]byte("garbage!"), 4096), 0o600)
		reopen(t)
	})
	t.Run("rebuilt after garbage in the middle", func(t *testing.T) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 3; i < len(b)/3+8192 && i < len(b); i++ {
			b[i] = byte(i*7 + 1)
		}
		os.WriteFile(path, b, 0o600)
		reopen(t)
	})
	t.Run("rebuilt after another version", func(t *testing.T) {
		ix, err := OpenIndex(ctx, path, s)
		if err != nil {
			t.Fatal(err)
		}
		ix.db.Exec("UPDATE meta SET value = 'old' WHERE key = 'schema'")
		ix.Close()
		reopen(t)
	})
	// An index written unsynced in another boot may have lost writes that
	// leave it well-formed but wrong: it is rebuilt, not checked. A row
	// that no change made stands in for such a loss.
	bogus := func(t *testing.T) {
		t.Helper()
		ix, err := OpenIndex(ctx, path, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.db.Exec("UPDATE issues SET state = 'bogus' WHERE id = ?", ids[5]); err != nil {
			t.Fatal(err)
		}
		ix.Close()
	}
	t.Run("kept in the same boot", func(t *testing.T) {
		if bootID() == "" {
			t.Skip("no boot ID here: the index is synced instead")
		}
		bogus(t)
		ix, err := OpenIndex(ctx, path, s)
		if err != nil {
			t.Fatal(err)
		}
		got := listJSON(t, ix, Filter{State: "bogus"})
		ix.Close()
		if !strings.Contains(got, ids[5]) {
			t.Fatalf("the same boot's index was not trusted: %s", got)
		}
	})
	t.Run("rebuilt after another boot", func(t *testing.T) {
		if bootID() == "" {
			t.Skip("no boot ID here: the index is synced instead")
		}
		bogus(t)
		st, err := os.ReadFile(path + ".stamp")
		if err != nil || !stampedIn(string(st), bootID()) {
			t.Fatalf("stamp %q, %v: not of this boot", st, err)
		}
		other := strings.Replace(string(st), bootID(), "00000000-0000-0000-0000-000000000000", 1)
		if err := os.WriteFile(path+".stamp", []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		reopen(t)
		ix, err := OpenIndex(ctx, path, s)
		if err != nil {
			t.Fatal(err)
		}
		got := listJSON(t, ix, Filter{State: "bogus"})
		ix.Close()
		if strings.Contains(got, ids[5]) {
			t.Fatalf("another boot's index was trusted: %s", got)
		}
	})
}

func mustIdentity(t *testing.T, s *Store) *protocol.Identity {
	t.Helper()
	doc, _, err := s.Repo.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestFTSQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"crash", `"crash"*`},
		{"crash-on start", `"crash"* AND "on"* AND "start"*`},
		{`"AND" OR (`, `"AND"* AND "OR"*`},
		{"crash crash start", `"crash"* AND "start"*`},
		{"  ", ""},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.in); got != tt.want {
			t.Errorf("ftsQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestConvergenceGit runs the convergence property over real storages:
// three peers, each with its own bare repository, exchange namespaces with
// plain git fetch in random orders, and all end with identical issues.
func TestConvergenceGit(t *testing.T) {
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	ctx := context.Background()
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
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
		rules := RulesOf(mustIdentity(t, first))
		id, err := first.CreateIssue(ctx, keys[0], t0, NewIssue{Title: "root"})
		if err != nil {
			t.Fatal(err)
		}
		fetch := func(to, from int) {
			ns := keys[from].NID().String()
			gitRun(t, stores[to].Repo.Path, "fetch", "-q", stores[from].Repo.Path, "+refs/namespaces/"+ns+"/*:refs/namespaces/"+ns+"/*")
		}
		for step := range 25 {
			i := rng.IntN(3)
			if rng.IntN(3) == 0 {
				if j := rng.IntN(3); j != i {
					fetch(i, j)
				}
				continue
			}
			is, obj, err := stores[i].Issue(ctx, id, rules)
			if err != nil {
				continue // not seen yet
			}
			a := randomAction(rng, is, []*simPeer{{key: keys[0]}, {key: keys[1]}, {key: keys[2]}})
			if CheckActions(a) != nil {
				continue
			}
			if _, err := stores[i].Update(ctx, IssueKind, keys[i], t0.Add(time.Duration(step)*time.Second), obj, a); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range rng.Perm(3) {
			for _, j := range rng.Perm(3) {
				if i != j {
					fetch(i, j)
				}
			}
		}
		for _, i := range rng.Perm(3) {
			for _, j := range rng.Perm(3) {
				if i != j {
					fetch(i, j)
				}
			}
		}
		var want *Issue
		for i, s := range stores {
			is, _, err := s.Issue(ctx, id, rules)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				want = is
			} else if !reflect.DeepEqual(is, want) {
				t.Fatalf("seed %d: peer %d differs", seed, i)
			}
		}
	}
}

func gitRun(t testing.TB, dir string, args ...string) {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Env = repo.GitEnv()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}
