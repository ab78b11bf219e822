package issues

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkIndex compares every listed summary with the issue materialized
// from git, and checks the order: newest first, then by ID.
func checkIndex(t *testing.T, ix *Index, s *Store, wantN int) []Summary {
	t.Helper()
	ctx := context.Background()
	l, err := ix.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != wantN {
		t.Fatalf("listed %d issues, want %d", len(l), wantN)
	}
	rules, err := ix.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, sum := range l {
		if i > 0 {
			p := l[i-1]
			if p.Created.Before(sum.Created) || p.Created.Equal(sum.Created) && p.ID >= sum.ID {
				t.Fatalf("out of order at %d: %s %v before %s %v", i, p.ID, p.Created, sum.ID, sum.Created)
			}
		}
		is, _, err := s.Issue(ctx, sum.ID, rules)
		if err != nil {
			t.Fatal(err)
		}
		want := Summary{ID: is.ID, Title: is.Title, State: is.State, Reason: is.Reason, Author: is.Author,
			Labels: is.Labels, Assignees: is.Assignees, CommentCount: len(is.Comments), Created: is.Created, Updated: is.Updated}
		if !reflect.DeepEqual(sum, want) {
			t.Fatalf("index has\n%+v\ngit has\n%+v", sum, want)
		}
	}
	return l
}

// TestIndexMatchesGit changes issues in every way a summary shows and
// checks after each step that the index lists exactly what git holds.
func TestIndexMatchesGit(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	tx := s.Begin(alice, t0)
	var ids []string
	for i := range 12 {
		// Four issues share each second: ties are ordered by ID.
		tx.now = t0.Add(time.Duration(i/4) * time.Second)
		id, err := tx.CreateIssue(NewIssue{Title: fmt.Sprintf("widget w%c: colons, 12:34 and ünïcode", 'a'+i), Body: "body " + strings.Repeat("x", i),
			Labels: []string{"bug", "ui", "a:b"}[:i%4], Assignees: []string{bob.NID().String()}[:i%2]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ix := mustOpenIndex(t, s, h)
	checkIndex(t, ix, s, 12)

	change := func(id string, acts ...Action) {
		t.Helper()
		rules, _ := ix.Rules(ctx)
		_, obj, err := s.Issue(ctx, id, rules)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Hour), obj, acts...); err != nil {
			t.Fatal(err)
		}
		if n, err := ix.Refresh(ctx); n != 1 || err != nil {
			t.Fatalf("refreshed %d issues (%v), want 1", n, err)
		}
	}
	change(ids[3], Action{Type: ActTitle, Title: "sprocket"}, Action{Type: ActLabel, Add: []string{"new"}, Remove: []string{"bug", "ui"}})
	change(ids[5], Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}, Action{Type: ActAssign, Remove: []string{bob.NID().String()}})
	change(ids[6], Action{Type: ActComment, Body: "gear"})
	checkIndex(t, ix, s, 12)

	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"old title words are gone", Filter{Search: "wd"}, nil},
		{"title words", Filter{Search: "widget we"}, []string{ids[4]}},
		{"new title", Filter{Search: "sprock"}, []string{ids[3]}},
		{"comment", Filter{Search: "gear"}, []string{ids[6]}},
		{"removed label", Filter{Label: "ui"}, []string{ids[2], ids[6], ids[7], ids[10], ids[11]}},
		{"added label", Filter{Label: "new"}, []string{ids[3]}},
		{"label with a colon", Filter{Label: "a:b"}, []string{ids[3], ids[7], ids[11]}},
		{"closed", Filter{State: StateClosed}, []string{ids[5]}},
		{"closed by author", Filter{State: StateClosed, Author: alice.NID().String()}, []string{ids[5]}},
		{"by nobody", Filter{Author: bob.NID().String()}, nil},
		{"open and searched", Filter{State: StateOpen, Search: "widget wf"}, nil},
		{"closed and searched", Filter{State: StateClosed, Search: "widget wf"}, []string{ids[5]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ix.List(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range l {
				got = append(got, s.ID)
			}
			// Order as List gives it: newest first, then by ID.
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b string) int {
				ia, ib := slices.Index(ids, a), slices.Index(ids, b)
				if ia/4 != ib/4 {
					return ib/4 - ia/4
				}
				return strings.Compare(a, b)
			})
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestRowRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   Thread
	}{
		{"empty", Thread{Labels: []string{}, Assignees: []string{}}},
		{"colons and digits", Thread{ID: "12:34", Title: "3:", State: ":", Reason: "0", Author: "-1:",
			Labels: []string{":", "1"}, Assignees: []string{"a"}, Comments: make([]Comment, 3)}},
		{"unicode and negative times", Thread{Title: "ünï ✓\x00\t", Labels: []string{}, Assignees: []string{},
			Created: time.Unix(-5, 0).UTC(), Updated: time.Unix(1<<40, 0).UTC()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := string(appendRow(nil, &tt.in))
			var rd rowReader
			var got Summary
			if !rd.summary(row, &got) {
				t.Fatalf("row %q does not decode", row)
			}
			want := Summary{ID: tt.in.ID, Title: tt.in.Title, State: tt.in.State, Reason: tt.in.Reason, Author: tt.in.Author,
				Labels: tt.in.Labels, Assignees: tt.in.Assignees, CommentCount: len(tt.in.Comments),
				Created: tt.in.Created.UTC(), Updated: tt.in.Updated.UTC()}
			if want.Created.IsZero() {
				want.Created, want.Updated = unixTime(tt.in.Created.Unix()), unixTime(tt.in.Updated.Unix())
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
			if c, id, ok := rd.key(row); !ok || c != want.Created.Unix() || id != want.ID {
				t.Fatalf("key %d %q %v", c, id, ok)
			}
			// Every cut of a row is refused, not misread.
			for i := range len(row) {
				if rd.summary(row[:i], &got) {
					t.Fatalf("prefix %q decodes", row[:i])
				}
			}
		})
	}
}

// FuzzRow feeds garbage to the row decoder (an index file is only a
// cache and may be damaged): it must refuse or decode, never panic, and
// what it decodes must encode back to the same row.
func FuzzRow(f *testing.F) {
	f.Add(string(appendRow(nil, &Thread{ID: "x", Title: "t", Labels: []string{"a"}, Assignees: []string{}})))
	f.Add("0:0:0:0:0:0:0:0:0:0:")
	f.Add("-9223372036854775808:1:x")
	f.Add("1:99999999999999999999:x")
	f.Fuzz(func(t *testing.T, row string) {
		var rd rowReader
		var s Summary
		if !rd.summary(row, &s) || s.CommentCount > 1000 {
			return
		}
		is := Thread{ID: s.ID, Title: s.Title, State: s.State, Reason: s.Reason, Author: s.Author,
			Labels: s.Labels, Assignees: s.Assignees, Comments: make([]Comment, s.CommentCount),
			Created: s.Created, Updated: s.Updated}
		if back := string(appendRow(nil, &is)); back != row {
			t.Fatalf("%q decodes and encodes as %q", row, back)
		}
	})
}

// TestIndexPagesRewritten: an index made with 4 KiB pages (before they
// were 64 KiB) is rewritten with 64 KiB pages when it is next opened, and
// holds what it held: no rebuild, and the same search.
func TestIndexPagesRewritten(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	for i := range 5 {
		if _, err := s.CreateIssue(ctx, alice, t0.Add(time.Duration(i)*time.Minute), NewIssue{Title: fmt.Sprintf("crash %d", i), Body: "on start"}); err != nil {
			t.Fatal(err)
		}
	}
	path := IndexPath(h, s.Repo.RID)
	pageSize := func(db *sql.DB) int {
		t.Helper()
		var ps int
		if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&ps); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	ix, err := OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ix.Search(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	if ps := pageSize(ix.db); ps != indexPageSize {
		t.Fatalf("a new index has %d-byte pages, want %d", ps, indexPageSize)
	}
	ix.Close()
	db, err := sql.Open(SQLDriver, "file:"+path+"?_pragma=page_size(4096)")
	if err != nil {
		t.Fatal(err)
	}
	// A row only this index has: a rebuild would lose it.
	if _, err := db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('test', 'kept')"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		t.Fatal(err)
	}
	if ps := pageSize(db); ps != 4096 {
		t.Fatalf("VACUUM left %d-byte pages, want 4096", ps)
	}
	db.Close()
	ix, err = OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ps := pageSize(ix.db); ps != indexPageSize {
		t.Fatalf("reopened index has %d-byte pages, want %d", ps, indexPageSize)
	}
	var kept string
	if err := ix.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'test'").Scan(&kept); err != nil || kept != "kept" {
		t.Fatalf("the index was rebuilt, not rewritten: %q, %v", kept, err)
	}
	got, err := ix.Search(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the rewrite, search found %+v, want %+v", got, want)
	}
}
