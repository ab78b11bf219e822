package issues

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestPageMatchesList checks that every page of every filter is the same
// slice of List's answer, and that the total is List's length.
func TestPageMatchesList(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	tx := s.Begin(alice, t0)
	for i := range 23 {
		// Three issues share each second (ties are ordered by ID), and
		// some were created before 1970 (a negative sort key).
		tx.now = t0.Add(time.Duration(i/3) * time.Second)
		if i%7 == 6 {
			tx.now = time.Unix(-int64(i), 0)
		}
		labels := []string{"bug", "ui"}[:i%3]
		if _, err := tx.CreateIssue(NewIssue{Title: fmt.Sprintf("gadget %d", i), Body: "body", Labels: labels}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ix := mustOpenIndex(t, s, h)
	all, err := ix.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := ix.Rules(ctx)
	for _, sum := range all[:8] {
		if sum.Title == "gadget 4" || sum.Title == "gadget 5" {
			continue
		}
		_, obj, err := s.Issue(ctx, sum.ID, rules)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Hour), obj, Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Filter{
		{},
		{State: StateOpen},
		{State: StateClosed},
		{Label: "ui"},
		{State: StateOpen, Label: "bug"},
		{Search: "gadget"},
		{Search: "gadget 1"},
		{Search: "nothing"},
		{Search: "--"}, // no words: nothing
		{Author: alice.NID().String()},
		{Author: "someone else"},
	} {
		want, err := ix.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, pg := range []struct{ offset, limit int }{{0, 1}, {0, 5}, {3, 4}, {0, 100}, {20, 10}, {40, 5}, {0, 0}} {
			t.Run(fmt.Sprintf("%+v/%d+%d", f, pg.offset, pg.limit), func(t *testing.T) {
				got, total, err := ix.Page(ctx, f, pg.offset, pg.limit)
				if err != nil {
					t.Fatal(err)
				}
				if total != len(want) {
					t.Errorf("total %d, want %d", total, len(want))
				}
				w := want[min(pg.offset, len(want)):min(pg.offset+pg.limit, len(want))]
				if len(got) != len(w) || len(w) > 0 && !reflect.DeepEqual(got, w) {
					t.Errorf("page is\n%v\nList has\n%v", ids(got), ids(w))
				}
			})
		}
	}
}

func ids(l []Summary) []string {
	var out []string
	for _, s := range l {
		out = append(out, s.ID[:7]+" "+s.Title)
	}
	return out
}

// BenchmarkPage times the first screen's query against a home made by
// bench/issues (set GROVE_BENCH_HOME): the newest 200 open issues and
// their count, beside List of the open issues.
//
//	GROVE_BENCH_HOME=/tmp/h10k go test -run '^$' -bench Page ./issues
func BenchmarkPage(b *testing.B) {
	dir := os.Getenv("GROVE_BENCH_HOME")
	if dir == "" {
		b.Skip("GROVE_BENCH_HOME is not set")
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "storage", "*.git"))
	if len(ents) != 1 {
		b.Fatalf("want one project in %s", dir)
	}
	h := repo.Home{Dir: dir}
	rid, err := protocol.ParseRID(strings.TrimSuffix(filepath.Base(ents[0]), ".git"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Open(h, rid)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ix, err := OpenIndex(ctx, IndexPath(h, rid), NewStore(r))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	f := Filter{State: StateOpen}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := ix.Page(ctx, f, 0, 200); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.List(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSortRows checks sortRows against a plain sort of the decoded keys,
// with docs following their rows: times shared by many rows, times before
// 1970, IDs that share their first 8 bytes (which the sort keys alone do
// not order), rows already in order and in reverse.
func TestSortRows(t *testing.T) {
	type obj struct {
		created int64
		id      string
	}
	var objs []obj
	for i := range 60 {
		id := fmt.Sprintf("%040x", i*7919%1000)
		if i%3 == 0 {
			id = "aaaaaaaaaaaaaaaa" + fmt.Sprintf("%024x", i*31%97) // first 8 bytes shared
		}
		objs = append(objs, obj{[]int64{-5, 0, 7, 1735689600}[i%4], id})
	}
	want := slices.Clone(objs)
	slices.SortFunc(want, func(a, b obj) int {
		if a.created != b.created {
			return cmp.Compare(b.created, a.created)
		}
		return strings.Compare(a.id, b.id)
	})
	reversed := slices.Clone(want)
	slices.Reverse(reversed)
	for name, in := range map[string][]obj{"shuffled": objs, "sorted": want, "reversed": reversed} {
		var rows, docs []string
		for _, o := range in {
			rows = append(rows, string(appendField(appendField(appendNum(nil, o.created), o.id), "title")))
			docs = append(docs, "doc of "+o.id)
		}
		if err := sortRows(rows, docs); err != nil {
			t.Fatal(err)
		}
		var rd rowReader
		for i, row := range rows {
			c, id, ok := rd.key(row)
			if !ok || c != want[i].created || id != want[i].id || docs[i] != "doc of "+id {
				t.Fatalf("%s: row %d is %q (doc %q), want %d %s", name, i, row, docs[i], want[i].created, want[i].id)
			}
		}
	}
	if err := sortRows([]string{"12:3:abc"}, nil); err == nil {
		t.Error("a row whose ID is shorter than 8 bytes sorted without an error")
	}
}
