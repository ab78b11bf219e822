package sync_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"example.com/grove/issues"
	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// hostileIssue writes, in n's namespace of rid, an issue whose change DAG
// is shaped by shape: "deep", a chain of size comments; "wide", size
// comments on the issue's first change, merged by one change that has
// them all as parents. It returns the issue's ID.
func (n *testNode) hostileIssue(ctx context.Context, rid gproto.RID, shape string, size int) string {
	n.t.Helper()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		n.t.Fatal(err)
	}
	now := time.Now()
	tx := issues.NewStore(r).Begin(n.key, now)
	id, err := tx.CreateIssue(issues.NewIssue{Title: shape + " DAG", Body: "from a stranger"})
	if err != nil {
		n.t.Fatal(err)
	}
	prev, siblings := id, []string{}
	for i := range size {
		parent := prev
		if shape == "wide" {
			parent = id
		}
		oid, err := tx.AppendIssue(id, []string{parent}, issues.Action{Type: issues.ActComment, Body: fmt.Sprintf("%s %d", shape, i)})
		if err != nil {
			n.t.Fatal(err)
		}
		prev = oid
		siblings = append(siblings, oid)
	}
	if shape == "wide" {
		if _, err := tx.AppendIssue(id, siblings, issues.Action{Type: issues.ActComment, Body: "the merge"}); err != nil {
			n.t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		n.t.Fatal(err)
	}
	return id
}

// TestHostileChangeDAGs: a stranger (neither a delegate nor followed)
// writes into a public project an issue whose change DAG is very deep, or
// very wide (one change with hundreds of parents), and a node fetches
// from it. The namespace is refused whole, as over the stranger's quota
// (a DAG over MaxChanges is three objects a change, past
// MaxStrangerObjects by default; here the quota is lowered to fit a test):
// the node's storage is byte-identical, the stranger is not struck, the
// delegate's work from the same fetch arrives, and the node goes on
// serving an honest clone. A node that follows the stranger takes the
// same DAGs, and loads each issue whole, its listing unharmed.
func TestHostileChangeDAGs(t *testing.T) {
	const size = 400 // changes; the quota below is 300 objects
	for _, shape := range []string{"deep", "wide"} {
		t.Run(shape, func(t *testing.T) {
			a := startNode(t)
			rid := a.project("dags")
			v := startNode(t, func(c *p2psync.Config) { c.Limits.MaxStrangerObjects = 300 })
			s := startNode(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			for _, n := range []*testNode{v, s} {
				if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
					t.Fatal(err)
				}
			}
			id := s.hostileIssue(ctx, rid, shape, size)
			a.commit(rid, "delegate's work")
			if _, err := s.Fetch(ctx, a.Host().ID(), rid); err != nil {
				t.Fatal(err)
			}
			want := a.sigrefs(rid, a.NID())
			res, err := v.Fetch(ctx, s.Host().ID(), rid)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "quota") {
				t.Errorf("rejected %q, want the stranger's namespace over its quota", res.Rejected)
			}
			if got := v.sigrefs(rid, s.NID()); got != "" {
				t.Errorf("the stranger's namespace was taken at %s", got)
			}
			if _, err := exec.Command("git", "-C", v.storage(rid), "cat-file", "-e", id).Output(); err == nil {
				t.Errorf("the stranger's issue %.7s is in the storage", id)
			}
			if got := v.sigrefs(rid, a.NID()); got != want {
				t.Errorf("the delegate's namespace is at %.7s, want %.7s", got, want)
			}
			if n := v.Strikes(s.Host().ID()); n != 0 {
				t.Errorf("a stranger's %s DAG is %d strikes", shape, n)
			}
			v.verify(rid)
			if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
				t.Errorf("updated %v, want the delegate's namespace alone", res.Updated)
			}
			honest := startNode(t)
			if _, err := honest.Clone(ctx, rid, v.Addrs()[:1]); err != nil {
				t.Fatalf("an honest clone from the node after the %s DAG: %v", shape, err)
			}
			honest.verify(rid)

			// Byte-identical when nothing else arrives: the same DAG again.
			before := storeDigest(t, v.storage(rid))
			if res, err = v.Fetch(ctx, s.Host().ID(), rid); err != nil {
				t.Fatal(err)
			}
			if after := storeDigest(t, v.storage(rid)); after != before {
				t.Errorf("a refused %s DAG changed the storage (fetch %+v)", shape, res)
			}

			// Followed, the DAG is taken, and loads whole and bounded.
			f := startNode(t)
			if _, err := f.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
				t.Fatal(err)
			}
			pol, err := p2psync.LoadPolicy(f.home)
			if err != nil {
				t.Fatal(err)
			}
			if pol.Follows == nil {
				pol.Follows = map[string]string{}
			}
			pol.Follows[s.NID().String()] = ""
			if err := pol.Save(f.home); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Fetch(ctx, s.Host().ID(), rid); err != nil {
				t.Fatal(err)
			}
			r, err := repo.Open(f.home, rid)
			if err != nil {
				t.Fatal(err)
			}
			is, obj, err := issues.NewStore(r).Issue(ctx, id, issues.Rules{})
			if err != nil {
				t.Fatalf("the followed stranger's %s issue: %v", shape, err)
			}
			wantChanges := size + 1
			if shape == "wide" {
				wantChanges++
			}
			if len(obj.Changes) != wantChanges || is.Title != shape+" DAG" {
				t.Errorf("the %s issue loads with %d changes and title %q, want %d and %q", shape, len(obj.Changes), is.Title, wantChanges, shape+" DAG")
			}
			f.verify(rid)
		})
	}
}
