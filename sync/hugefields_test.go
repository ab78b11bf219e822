package sync_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the index, opened here as `grove issue list` does

	"example.com/grove/issues"
	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// hugeShared is how many changes of the huge-fields issue share one
// action blob just under MaxActionsSize: held one copy each, they would
// be past MaxObjectActions.
const hugeShared = issues.MaxObjectActions/issues.MaxActionsSize + 8

// hugeFieldIssues writes, in n's namespace of rid, two issues as a lying
// peer's own code would, past the checks an honest writer makes: "huge
// fields", whose changes carry a title and a comment far over MaxTitle
// and MaxBody, then hugeShared changes with one action blob just under
// MaxActionsSize, then an honest comment; and "too large", whose changes
// carry distinct blobs just under MaxActionsSize, past MaxObjectActions
// together. It returns the two issues' IDs.
func (n *testNode) hugeFieldIssues(ctx context.Context, rid gproto.RID) (huge, tooLarge string) {
	n.t.Helper()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		n.t.Fatal(err)
	}
	tx := issues.NewStore(r).Begin(n.key, time.Now())
	raw := func(id string, parents []string, a issues.Action) string {
		oid, err := tx.Append(issues.IssueType, id, parents, issues.NewChange{Actions: []any{a}})
		if err != nil {
			n.t.Fatal(err)
		}
		return oid
	}
	big := strings.Repeat("x", issues.MaxActionsSize-100)

	if huge, err = tx.CreateIssue(issues.NewIssue{Title: "huge fields", Body: "from a stranger"}); err != nil {
		n.t.Fatal(err)
	}
	tip := raw(huge, []string{huge}, issues.Action{Type: issues.ActTitle, Title: strings.Repeat("t", 64*issues.MaxTitle)})
	tip = raw(huge, []string{tip}, issues.Action{Type: issues.ActComment, Body: strings.Repeat("b", 3*issues.MaxBody)})
	for range hugeShared {
		tip = raw(huge, []string{tip}, issues.Action{Type: issues.ActComment, Body: big})
	}
	raw(huge, []string{tip}, issues.Action{Type: issues.ActComment, Body: "after the huge fields"})

	if tooLarge, err = tx.CreateIssue(issues.NewIssue{Title: "too large", Body: "from a stranger"}); err != nil {
		n.t.Fatal(err)
	}
	tip = tooLarge
	for i := range issues.MaxObjectActions/len(big) + 1 {
		tip = raw(tooLarge, []string{tip}, issues.Action{Type: issues.ActComment, Body: big[:len(big)-i-1] + "y"})
	}
	if err := tx.Commit(ctx); err != nil {
		n.t.Fatal(err)
	}
	return huge, tooLarge
}

// TestHostileHugeFields: a stranger (neither a delegate nor followed)
// serves a public project's issues whose changes carry huge fields (see
// hugeFieldIssues), and a node fetches them, with the delegate's work, in
// one fetch. Over a lowered stranger quota the namespace is refused
// whole: the issues are not stored, a second fetch leaves the storage
// byte-identical. Within the default quota they are stored, and the
// node's index lists "huge fields" with its fields over the limits
// skipped and its shared blob held once, and leaves "too large" out,
// reported as skipped (ErrTooLarge), which `issue show` refuses too.
// Either way the stranger is not struck, the delegate's work arrives,
// and the node goes on serving an honest clone.
func TestHostileHugeFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quota int // MaxStrangerObjects; 0, the default
	}{{"refused", 100}, {"stored", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			a := startNode(t)
			rid := a.project("huge")
			v := startNode(t, func(c *p2psync.Config) {
				if tc.quota > 0 {
					c.Limits.MaxStrangerObjects = tc.quota
				}
			})
			s := startNode(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			for _, n := range []*testNode{v, s} {
				if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
					t.Fatal(err)
				}
			}
			huge, tooLarge := s.hugeFieldIssues(ctx, rid)
			a.commit(rid, "delegate's work")
			if _, err := s.Fetch(ctx, a.Host().ID(), rid); err != nil {
				t.Fatal(err)
			}
			want := a.sigrefs(rid, a.NID())
			res, err := v.Fetch(ctx, s.Host().ID(), rid)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.sigrefs(rid, a.NID()); got != want {
				t.Errorf("the delegate's namespace is at %.7s, want %.7s", got, want)
			}
			if n := v.Strikes(s.Host().ID()); n != 0 {
				t.Errorf("a stranger's huge fields are %d strikes", n)
			}
			v.verify(rid)

			if tc.quota > 0 {
				if len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "quota") {
					t.Errorf("rejected %q, want the stranger's namespace over its quota", res.Rejected)
				}
				if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
					t.Errorf("updated %v, want the delegate's namespace alone", res.Updated)
				}
				if got := v.sigrefs(rid, s.NID()); got != "" {
					t.Errorf("the stranger's namespace was taken at %s", got)
				}
				for _, id := range []string{huge, tooLarge} {
					if _, err := exec.Command("git", "-C", v.storage(rid), "cat-file", "-e", id).Output(); err == nil {
						t.Errorf("the stranger's issue %.7s is in the storage", id)
					}
				}
				before := storeDigest(t, v.storage(rid))
				if res, err = v.Fetch(ctx, s.Host().ID(), rid); err != nil {
					t.Fatal(err)
				}
				if after := storeDigest(t, v.storage(rid)); after != before {
					t.Errorf("refused huge fields changed the storage (fetch %+v)", res)
				}
			} else {
				if len(res.Rejected) != 0 || len(res.Updated) != 2 {
					t.Errorf("updated %v, rejected %q, want the delegate's and the stranger's namespaces taken", res.Updated, res.Rejected)
				}
				if got, want := v.sigrefs(rid, s.NID()), s.sigrefs(rid, s.NID()); got != want || got == "" {
					t.Errorf("the stranger's namespace is at %.7s, want %.7s", got, want)
				}
				checkHugeFields(ctx, t, v, rid, huge, tooLarge)
			}

			honest := startNode(t)
			if _, err := honest.Clone(ctx, rid, v.Addrs()[:1]); err != nil {
				t.Fatalf("an honest clone from the node after huge fields: %v", err)
			}
			honest.verify(rid)
			if got := honest.sigrefs(rid, a.NID()); got != want {
				t.Errorf("the honest clone has the delegate's namespace at %.7s, want %.7s", got, want)
			}
		})
	}
}

// checkHugeFields checks what n, having stored hugeFieldIssues, lists
// and shows.
func checkHugeFields(ctx context.Context, t *testing.T, n *testNode, rid gproto.RID, huge, tooLarge string) {
	t.Helper()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	st := issues.NewStore(r)
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(n.home, rid), st)
	if err != nil {
		t.Fatalf("the index over huge fields: %v", err)
	}
	defer ix.Close()
	list, err := ix.List(ctx, issues.Filter{})
	if err != nil {
		t.Fatalf("issue list over huge fields: %v", err)
	}
	listed := map[string]issues.Summary{}
	for _, s := range list {
		listed[s.ID] = s
	}
	if s, ok := listed[huge]; !ok || s.Title != "huge fields" {
		t.Errorf("issue list has %+v for the huge-fields issue, want it titled %q", s, "huge fields")
	}
	if _, ok := listed[tooLarge]; ok {
		t.Errorf("issue list has the too-large issue %.7s", tooLarge)
	}
	skipped, err := ix.Skipped(ctx, issues.IssueType)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].ID != tooLarge || !strings.Contains(skipped[0].Err, issues.ErrTooLarge.Error()) {
		t.Errorf("skipped %v, want the too-large issue %.7s, too large", skipped, tooLarge)
	}

	// issue show --json: the fields over the limits are skipped, the
	// honest comment after them kept, and the blob shared by many
	// changes is held once.
	rules, err := ix.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	is, obj, err := st.Issue(ctx, huge, rules)
	if err != nil {
		t.Fatalf("issue show of huge fields: %v", err)
	}
	if is.Title != "huge fields" {
		t.Errorf("title %.40q, want the one within MaxTitle", is.Title)
	}
	var bodies []string
	for _, c := range is.Comments {
		if len(c.Body) > issues.MaxBody {
			t.Errorf("a %d-byte comment was taken", len(c.Body))
		}
		bodies = append(bodies, c.Body)
	}
	if len(bodies) == 0 || bodies[len(bodies)-1] != "after the huge fields" {
		t.Errorf("comments %.40q, want the honest one last", bodies)
	}
	if c := listed[huge].CommentCount; c != len(is.Comments) {
		t.Errorf("issue list counts %d comments, issue show %d", c, len(is.Comments))
	}
	if _, err := json.Marshal(is); err != nil {
		t.Errorf("issue show --json of huge fields: %v", err)
	}
	if len(obj.Changes) != hugeShared+4 {
		t.Fatalf("%d changes, want %d", len(obj.Changes), hugeShared+4)
	}
	shared := obj.Changes[3].Actions[0]
	for _, c := range obj.Changes[3 : 3+hugeShared] {
		if len(c.Actions[0]) < issues.MaxBody || &c.Actions[0][0] != &shared[0] {
			t.Fatalf("change %.7s holds its own copy of the shared action blob", c.OID)
		}
	}
	if _, _, err := st.Issue(ctx, tooLarge, rules); !errors.Is(err, issues.ErrTooLarge) {
		t.Errorf("issue show of the too-large issue: %v, want ErrTooLarge", err)
	}
}
