package sync_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/grove/issues"
	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// TestManyNodesConverge is thirty nodes on loopback, each started with
// two earlier ones as its bootstrap peers (a sparse graph, not a mesh),
// each cloning the project from one of them. Ten authors spread over the
// graph then file an issue each, comment on their neighbour's issue, and
// five of them open a patch, all at once; nobody runs a sync. Every node
// ends with the same signed refs in every author's namespace, and the
// same issues, comments and patches.
func TestManyNodesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("thirty nodes: not with -short")
	}
	if raceDetector {
		t.Skip("thirty nodes under the race detector outlast the test's deadlines on two cores")
	}
	const total, authors = 30, 10
	// Each phase (clones, then each wave of changes) gets its own
	// deadline: generous, since thirty nodes share the machine's cores
	// with whatever else runs; the figures are in docs/BENCHMARKS.md.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(7, 30))
	nodes := []*testNode{startNode(t)}
	rid := nodes[0].project("converge")
	if err := nodes[0].Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	from := make([]int, total)
	for i := 1; i < total; i++ {
		a, b := rng.IntN(i), rng.IntN(i)
		from[i] = a
		boot := []string{nodes[a].Addrs()[0], nodes[b].Addrs()[0]}
		nodes = append(nodes, startNode(t, func(c *p2psync.Config) { c.Bootstrap = boot }))
	}
	// Clones four at a time, each from the first of its bootstrap peers
	// that has the project (earlier nodes clone first).
	var wg sync.WaitGroup
	for lo := 1; lo < total; lo += 4 {
		for i := lo; i < min(lo+4, total); i++ {
			wg.Go(func() {
				src := nodes[from[i]]
				eventually(t, time.Minute, fmt.Sprintf("node %d's source to hold the project", i), func() bool {
					_, err := repo.Open(src.home, rid)
					return err == nil
				})
				if _, err := nodes[i].Clone(ctx, rid, src.Addrs()[:1]); err != nil {
					t.Errorf("node %d clones from node %d: %v", i, from[i], err)
				}
			})
		}
		wg.Wait()
	}
	if t.Failed() {
		t.FailNow()
	}
	writers := make([]*testNode, authors)
	for a := range authors {
		writers[a] = nodes[a*total/authors]
	}
	store := func(n *testNode) *issues.Store {
		r, err := repo.Open(n.home, rid)
		if err != nil {
			t.Fatal(err)
		}
		return issues.NewStore(r)
	}
	ids := make([]string, authors)
	for a, w := range writers {
		wg.Go(func() {
			id, err := store(w).CreateIssue(ctx, w.key, time.Now(), issues.NewIssue{Title: fmt.Sprintf("issue of author %d", a), Body: "found on node " + w.NID().String()})
			if err != nil {
				t.Errorf("author %d: %v", a, err)
				return
			}
			ids[a] = id
			if a%2 == 0 {
				head := w.commit(rid, fmt.Sprintf("work of author %d", a))
				s := store(w)
				base := w.ref(rid, nodes[0].NID(), "refs/heads/main")
				if _, _, err := s.OpenPatch(ctx, w.key, time.Now(), issues.NewPatch{Title: fmt.Sprintf("patch of author %d", a), Base: base, Head: head}); err != nil {
					t.Errorf("author %d: open patch: %v", a, err)
				}
			}
			if err := w.Announce(ctx, rid); err != nil {
				t.Errorf("author %d: announce: %v", a, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	converged(t, ctx, nodes, writers, rid, "issues and patches")
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Each author comments on the issue of the author before it, which it
	// holds by now.
	for a, w := range writers {
		wg.Go(func() {
			s := store(w)
			rules, err := s.Rules(ctx)
			if err != nil {
				t.Errorf("author %d: %v", a, err)
				return
			}
			_, obj, err := s.Issue(ctx, ids[(a+authors-1)%authors], rules)
			if err != nil {
				t.Errorf("author %d: the neighbour's issue: %v", a, err)
				return
			}
			if _, err := s.Update(ctx, issues.IssueKind, w.key, time.Now(), obj, issues.Action{Type: issues.ActComment, Body: fmt.Sprintf("seen by author %d", a)}); err != nil {
				t.Errorf("author %d: comment: %v", a, err)
				return
			}
			if err := w.Announce(ctx, rid); err != nil {
				t.Errorf("author %d: announce: %v", a, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	converged(t, ctx, nodes, writers, rid, "comments")
	// Same issues and patches everywhere, as each node's storage reads them.
	var want string
	for i, n := range nodes {
		got := projectState(t, ctx, store(n))
		if i == 0 {
			want = got
			if strings.Count(want, "\n  comment ") != authors || strings.Count("\n"+want, "\npatch ") != authors/2 {
				t.Fatalf("node 0 holds:\n%s", want)
			}
			continue
		}
		if got != want {
			t.Fatalf("node %d differs from node 0:\n%s\nwant:\n%s", i, got, want)
		}
	}
}

// converged waits until every node holds each writer's signed refs as the
// writer has them, and logs how long that took (median and slowest).
func converged(t *testing.T, ctx context.Context, nodes, writers []*testNode, rid gproto.RID, what string) {
	t.Helper()
	start := time.Now()
	type pair struct{ w, n int }
	want := make([]string, len(writers))
	left := map[pair]bool{}
	for wi, w := range writers {
		want[wi] = w.sigrefs(rid, w.NID())
		for ni := range nodes {
			left[pair{wi, ni}] = true
		}
	}
	var took []time.Duration
	for len(left) > 0 {
		for p := range left {
			if nodes[p.n].sigrefs(rid, writers[p.w].NID()) == want[p.w] {
				delete(left, p)
				took = append(took, time.Since(start))
			}
		}
		if len(left) == 0 {
			break
		}
		if ctx.Err() != nil {
			for p := range left {
				t.Errorf("%s: node %d lacks author %d's signed refs after %v", what, p.n, p.w, time.Since(start))
			}
			t.FailNow()
		}
		time.Sleep(20 * time.Millisecond)
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("%s reached all %d nodes: median %v, last %v", what, len(nodes), took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
}

// projectState renders what a node's storage holds of the project's issues
// and patches, for comparison.
func projectState(t *testing.T, ctx context.Context, s *issues.Store) string {
	t.Helper()
	rules, err := s.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	names, err := s.Repo.RefFiles().Names("refs/namespaces/*/" + issues.RefPrefix(issues.IssueType))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, n := range names {
		ids[n[strings.LastIndexByte(n, '/')+1:]] = true
	}
	for id := range ids {
		is, _, err := s.Issue(ctx, id, rules)
		if err != nil {
			t.Fatal(err)
		}
		l := fmt.Sprintf("issue %s %q %s", id, is.Title, is.State)
		for _, c := range is.Comments {
			l += fmt.Sprintf("\n  comment %s %q", c.Author, c.Body)
		}
		lines = append(lines, l)
	}
	ps, _, err := s.Patches(ctx, v, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		lines = append(lines, fmt.Sprintf("patch %s %q %s %d", p.ID, p.Title, p.State, len(p.Revisions)))
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		t.Fatal("no issues or patches")
	}
	return strings.Join(lines, "\n")
}
