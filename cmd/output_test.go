package cmd

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/repo"
)

// TestTable checks that alignTable prints what text/tabwriter prints.
func TestTable(t *testing.T) {
	tests := []struct {
		name string
		in   [][]string
	}{
		{"empty", nil},
		{"one cell", [][]string{{"a"}}},
		{"issues", [][]string{
			{"3f2a1b7", "open", "crash on start", "bug,ui", "12D3Ko…kBGKSd", "2025-01-07"},
			{"00b265b", "closed (solved)", "ünïcödé title ✓", "", "12D3Ko…kBGKSd", "2025-01-06"},
			{"0241ff6", "open", "", "docs", "", ""},
		}},
		{"wide cell", [][]string{{strings.Repeat("x", 200), "y"}, {"", "z"}}},
		{"ragged", [][]string{{"a", "bb", "c"}, {"dddd"}, {"e", "f"}}},
		{"tab in a cell", [][]string{{"a\tb", "c"}, {"d", "e"}}},
		{"newline in a cell", [][]string{{"a\nb", "c"}, {"d", "e"}}},
		{"escape in a cell", [][]string{{"a\xffb\xff", "c"}, {"d", "e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkTable(t, tt.in)
		})
	}
}

func checkTable(t *testing.T, rows [][]string) {
	t.Helper()
	var got, want strings.Builder
	if err := alignTable(&got, rows); err != nil {
		t.Fatal(err)
	}
	if err := tabTable(&want, rows); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("table(%q):\n%q\nwant (tabwriter)\n%q", rows, got.String(), want.String())
	}
}

func FuzzTable(f *testing.F) {
	f.Add("a|bb|c\nddd|e|\n|ü|f", 3)
	f.Add("x\ty|z\n1|2", 2)
	f.Fuzz(func(t *testing.T, s string, cols int) {
		if cols < 1 || cols > 8 {
			return
		}
		var rows [][]string
		for _, line := range strings.Split(s, "\n") {
			cells := strings.Split(line, "|")
			for len(cells) < cols {
				cells = append(cells, "")
			}
			rows = append(rows, cells[:cols])
		}
		checkTable(t, rows)
		checkStreamTable(t, rows)
	})
}

// TestStreamTable checks that streamTable prints what table prints, for
// rows of one length: cells with tabs, newlines, escapes, bytes that are
// not UTF-8 and bidirectional controls, and a cell made of parts.
func TestStreamTable(t *testing.T) {
	for _, rows := range [][][]string{
		{{"a"}},
		{{"ID", "LABELS", "AUTHOR"}, {"3f2a1b7", "bug,ui,crash,a,b,c,d", "alice"}, {"00b265b", "ünïcödé ✓", ""}},
		{{"a\tb", "c\nd", "x"}, {"\x1b]0;t\a", "\xffe\xfe,\u202eg,h\t", "\u202eg,h"}, {"", ",", ","}},
		{{strings.Repeat("é", 100), "y", "\t,\t"}, {"", "z", "a,,b"}},
	} {
		checkStreamTable(t, rows)
	}
}

// checkStreamTable checks streamTable against table, the middle cell of
// each row given as its parts between commas.
func checkStreamTable(t *testing.T, rows [][]string) {
	t.Helper()
	if len(rows) == 0 {
		return
	}
	var got, want strings.Builder
	st := newStreamTable(&got, len(rows[0]))
	for st.pass() {
		for _, r := range rows {
			for i, c := range r {
				if i == len(r)/2 {
					st.cellJoin(strings.Split(c, ","), ",")
				} else {
					st.cell(c)
				}
			}
			st.end()
		}
	}
	if err := st.flush(); err != nil {
		t.Fatal(err)
	}
	if err := table(&want, rows); err != nil { // last: it makes the cells safe in place
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("streamTable(%q):\n%q\nwant (table)\n%q", rows, got.String(), want.String())
	}
}

// TestJSONList: a list written item by item is byte for byte what
// writeJSON writes for the slice.
func TestJSONList(t *testing.T) {
	type item struct {
		ID     string    `json:"id"`
		Title  string    `json:"title"`
		Labels []string  `json:"labels"`
		Reason string    `json:"reason,omitempty"`
		N      int       `json:"n"`
		When   time.Time `json:"when"`
		Nested *item     `json:"nested,omitempty"`
	}
	lists := [][]item{
		{},
		{{ID: "a"}},
		{
			{ID: "1", Title: "quotes \" and <html> & \\ and \u2028 and \x01 and \xff", Labels: []string{"bug", "ui"}, N: 3, When: time.Date(2026, 12, 2, 6, 0, 0, 5, time.UTC)},
			{ID: "2", Labels: []string{}, Reason: "solved", Nested: &item{ID: "in", Labels: []string{"x"}}},
			{ID: "3", Title: "naïve 日本語"},
		},
	}
	for _, l := range lists {
		var want, got bytes.Buffer
		if err := writeJSON(&want, l); err != nil {
			t.Fatal(err)
		}
		out := newJSONList(&got)
		for i := range l {
			if err := out.add(&l[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := out.close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("item by item:\n%s\nwriteJSON:\n%s", got.String(), want.String())
		}
	}
}

// TestWithNamesMatchesPatch checks that withNames, which decodes only the
// fields of a patch's JSON that name someone, names everyone newPatchJSON
// names from the whole patch: one alias for each place a NID can be.
func TestWithNamesMatchesPatch(t *testing.T) {
	persons := map[string]*repo.PersonChain{}
	nid := func(alias string) string {
		n := "z6Mk" + alias
		persons[n] = &repo.PersonChain{Doc: &repo.Person{Alias: alias}, Revs: []string{"root of " + alias}, Devices: []string{n}}
		return n
	}
	p := &issues.Patch{}
	p.ID, p.Title, p.Author = "0123456789abcdef0123456789abcdef01234567", "t", nid("author")
	p.Assignees = []string{nid("assignee")}
	p.ClosedBy = &issues.ClosedBy{Author: nid("closer")}
	p.Reactions = []issues.Reaction{{Emoji: "+1", Authors: []string{nid("reactor")}}}
	p.Comments = []issues.Comment{
		{Author: nid("commenter"), Reactions: []issues.Reaction{{Emoji: "+1", Authors: []string{nid("comment-reactor")}}}},
		{Author: nid("second-commenter")},
	}
	p.Revisions = []issues.Revision{{Author: nid("reviser")}}
	p.Reviews = []issues.Review{{Author: nid("reviewer")}}
	p.Merges = []issues.Merge{{Author: nid("merger")}}
	nid("stranger") // named by nothing in the patch
	nm := cli.NamesWith(repo.Home{Dir: t.TempDir()}, repo.ResolvePeople(persons))
	doc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	out, err := withNames(doc, nm)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		CommentCount int               `json:"commentCount"`
		AuthorName   string            `json:"authorName"`
		Names        map[string]string `json:"names"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := newPatchJSON(p, nm)
	if got.CommentCount != 2 || got.AuthorName != want.AuthorName || !maps.Equal(got.Names, want.Names) {
		t.Errorf("withNames: %d comments, author %q, names %v; want 2, %q, %v", got.CommentCount, got.AuthorName, got.Names, want.AuthorName, want.Names)
	}
	if len(want.Names) != len(persons)-1 {
		t.Errorf("newPatchJSON names %d of the %d NIDs the patch names", len(want.Names), len(persons)-1)
	}
}
