package tui

import (
	"strings"
	"testing"

	"example.com/grove/protocol/termtext"
	"github.com/charmbracelet/x/ansi"
)

// FuzzDiff draws a diff of anyone's commits (paths, hunks and lines are
// theirs) as the patch and code views do, in any width, with line
// comments beside or under it and the code highlighted for its path:
// every line is drawn once, in order, and no row is wider than the view.
func FuzzDiff(f *testing.F) {
	for _, d := range []string{
		"diff --git a/cmd/root.go b/cmd/root.go\nindex 1111111..2222222 100644\n--- a/cmd/root.go\n+++ b/cmd/root.go\n@@ -20,9 +20,12 @@ type env struct {\n \n func (e *env) home() {\n-\th, _ := os.UserHomeDir()\n+\th, err := os.UserHomeDir()\n+\tif err != nil {\n \treturn\n }\n",
		"diff --git a/x.md b/x.md\nnew file mode 100644\n--- /dev/null\n+++ b/x.md\n@@ -0,0 +1,2 @@\n+# Title\n+text\n",
		"diff --git a/a b/b\nsimilarity index 90%\nrename from a\nrename to b\n",
		"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n",
		"@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n",
		"@@ -99999999999999999999,1 +-5 @@\n+x\n",
		"+++ b/\x1b]0;pwned\x07.go\n@@ -1 +1 @@\n+\x1b[2J\t\u202etext\n",
		"diff --git a/a b/a b/c\n+x\n\n\n",
		"",
	} {
		f.Add(d, uint8(80), false)
		f.Add(d, uint8(140), true)
	}
	st := NewStyles(plainRenderer())
	text := testText()
	f.Fuzz(func(t *testing.T, diff string, width uint8, withNotes bool) {
		w := int(width)
		if w < 20 {
			return
		}
		// Pages draw what the safe source gives them: a diff made safe by
		// termtext.Text (safe.go), so no \r or stray bytes of a broken
		// UTF-8 sequence reach diffRows.
		lines := parseDiff(termtext.Text(diff))
		notes := map[string][]note{}
		if withNotes {
			for _, l := range lines {
				if l.kind == '+' || l.kind == ' ' {
					// Review comments are valid UTF-8 (issues.ValidPath, validComment).
					n := note{head: strings.ToValidUTF8(l.path, "?"), body: strings.ToValidUTF8(l.text, "?")}
					notes[anchor(l.path, l.new)] = append(notes[anchor(l.path, l.new)], n)
				}
			}
		}
		cache := newTextCache()
		highlightDiff(cache, lines) // queues the renderings, done here as grove-tui does off the loop
		for _, k := range cache.take() {
			cache.put(k, rendered{lines: text.Highlight(k.path, k.text)})
		}
		rows, info := diffRows(st, cache, lines, w, notes)
		if len(rows) != len(info) {
			t.Fatalf("%d rows, %d infos", len(rows), len(info))
		}
		next := 0
		for r, i := range info {
			if i >= 0 {
				if i != next {
					t.Fatalf("row %d draws line %d, want %d", r, i, next)
				}
				next++
			}
			if got := ansi.StringWidth(rows[r]); got > w {
				t.Fatalf("diff %q: row %d is %d cells wide in %d: %q", diff, r, got, w, rows[r])
			}
		}
		if next != len(lines) {
			t.Fatalf("drew %d of %d lines", next, len(lines))
		}
		for _, l := range lines {
			if strings.Contains(l.text, "\n") {
				t.Fatalf("line %q holds a newline", l.text)
			}
		}
	})
}
