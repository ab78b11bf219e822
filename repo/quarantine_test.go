package repo_test

import (
	"context"
	"maps"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestQuarantineSetRefs: the refs SetRefs gives a quarantine (a fresh
// fetch's, held in memory) are what Refs returns, what reading the
// quarantine's ref files returns, and what git finds there, each by
// itself (git looks a ref up by bisection in a packed-refs file that says
// it is sorted); changing what Refs returned changes nothing.
func TestQuarantineSetRefs(t *testing.T) {
	ctx := context.Background()
	rid, err := protocol.RIDFromOID(strings.Repeat("ab", 20))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.CreateEmpty(ctx, repo.Home{Dir: t.TempDir()}, rid)
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.NewQuarantine("fetch", nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	tree := gitIn(t, q.Dir(), nil, "mktree")
	p := repo.NamespacePrefix(testKey(t, 1).NID())
	want := map[string]string{}
	// Names whose byte order differs from their order by component.
	for i, name := range []string{"refs/heads/a", "refs/heads/a-b", "refs/heads/a/b", "refs/heads/a.b",
		"refs/heads/\u00e9", "refs/heads/B", "refs/tags/v1", "refs/grove/sigrefs"} {
		want[p+name] = gitIn(t, q.Dir(), nil, "commit-tree", tree, "-m", strings.Repeat("x", i+1))
	}
	if err := q.SetRefs(want); err != nil {
		t.Fatal(err)
	}
	got, err := q.Refs(ctx)
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("Refs = %v, %v; want %v", got, err, want)
	}
	clear(got)
	if got, err := q.Refs(ctx); err != nil || !maps.Equal(got, want) {
		t.Errorf("Refs after its result was changed = %v, %v", got, err)
	}
	v, err := q.View()
	if err != nil {
		t.Fatal(err)
	}
	if read, err := v.RefFiles().List("refs/"); err != nil || !maps.Equal(read, want) {
		t.Errorf("ref files = %v, %v; want %v", read, err, want)
	}
	for name, oid := range want {
		if got := gitIn(t, q.Dir(), nil, "rev-parse", "--verify", "--end-of-options", name); got != oid {
			t.Errorf("git rev-parse %s = %s, want %s", name, got, oid)
		}
	}
}
