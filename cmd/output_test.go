package cmd

import (
	"strings"
	"testing"
)

// TestTable checks that table prints what text/tabwriter prints.
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
	if err := table(&got, rows); err != nil {
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
	})
}
