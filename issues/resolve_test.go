package issues

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

// TestResolve finds issues by prefix from the refs of every namespace,
// loose and packed, as the index's Resolve does.
func TestResolve(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	var ids []string
	for i, k := range []*protocol.Key{alice, alice, alice, bob, bob, bob} {
		id, err := s.CreateIssue(ctx, k, t0, NewIssue{Title: fmt.Sprintf("issue %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if i == 2 {
			// Alice's first three issues are in packed-refs from now on.
			gitRun(t, s.Repo.Path, "pack-refs", "--all")
		}
	}
	ix := mustOpenIndex(t, s, h)
	same := func(prefix string) {
		t.Helper()
		got, gerr := s.Resolve(IssueType, prefix)
		want, werr := ix.Resolve(ctx, prefix)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("Resolve(%q) = %q, %v; the index says %q, %v", prefix, got, gerr, want, werr)
		}
	}
	for _, id := range ids {
		for _, n := range []int{4, 7, 12, 40} {
			same(id[:n])
			same(strings.ToUpper(id[:n]))
		}
	}
	for d := range "0123456789abcdef" {
		same(string("0123456789abcdef"[d]))
	}
	for _, bad := range []string{"", "xyz", strings.Repeat("a", 41), strings.Repeat("0", 40), "../.."} {
		if _, err := s.Resolve(IssueType, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Resolve(%q) = %v, want not found", bad, err)
		}
	}
	// No issue is a patch.
	if _, err := s.Resolve(PatchType, ids[0][:7]); !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "patch ") {
		t.Errorf("an issue's ID as a patch: %v", err)
	}
}
