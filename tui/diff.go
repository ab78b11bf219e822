package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// diffLine is one line of a unified diff.
type diffLine struct {
	kind     byte // 'f' file, '@' hunk, '+', '-', ' ', 'm' other
	text     string
	path     string // the file (new name) the line belongs to
	old, new int    // line numbers; 0 where the side has none
}

// parseDiff reads a unified diff as git writes it.
func parseDiff(s string) []diffLine {
	var out []diffLine
	var path string
	var old, nw int
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "diff --git "):
			if i := strings.LastIndex(l, " b/"); i >= 0 {
				path = l[i+3:]
			}
			out = append(out, diffLine{kind: 'f', text: path, path: path})
		case strings.HasPrefix(l, "+++ "):
			if p, ok := strings.CutPrefix(l, "+++ b/"); ok && p != path {
				path = p
				if n := len(out); n > 0 && out[n-1].kind == 'f' {
					out[n-1].text, out[n-1].path = p, p
				}
			}
		case strings.HasPrefix(l, "--- "), strings.HasPrefix(l, "index "),
			strings.HasPrefix(l, "new file mode"), strings.HasPrefix(l, "deleted file mode"),
			strings.HasPrefix(l, "similarity index"), strings.HasPrefix(l, "rename "),
			strings.HasPrefix(l, "old mode"), strings.HasPrefix(l, "new mode"):
			// the file header says enough
		case strings.HasPrefix(l, "@@"):
			old, nw = hunkStart(l)
			out = append(out, diffLine{kind: '@', text: l, path: path})
		case strings.HasPrefix(l, "+"):
			out = append(out, diffLine{kind: '+', text: l[1:], path: path, new: nw})
			nw++
		case strings.HasPrefix(l, "-"):
			out = append(out, diffLine{kind: '-', text: l[1:], path: path, old: old})
			old++
		case strings.HasPrefix(l, " "):
			out = append(out, diffLine{kind: ' ', text: l[1:], path: path, old: old, new: nw})
			old++
			nw++
		case l == "":
			if path != "" && nw > 0 {
				out = append(out, diffLine{kind: ' ', path: path, old: old, new: nw})
				old++
				nw++
			}
		default:
			out = append(out, diffLine{kind: 'm', text: l, path: path})
		}
	}
	return out
}

// hunkStart reads "@@ -a,b +c,d @@" into a and c.
func hunkStart(l string) (old, nw int) {
	f := strings.Fields(l)
	if len(f) < 3 {
		return 0, 0
	}
	num := func(s string) int {
		s = strings.TrimLeft(s, "-+")
		if i := strings.IndexByte(s, ','); i >= 0 {
			s = s[:i]
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	return num(f[1]), num(f[2])
}

// note is a comment shown beside a diff line.
type note struct {
	head, body string
}

func anchor(path string, line int) string { return fmt.Sprintf("%s:%d", path, line) }

// diffRows draws a parsed diff in width cells: one row per diff line, with
// notes keyed by anchor(path, line). Wide terminals get the notes in a
// column beside the diff, aligned with their line; narrow ones get them
// under it. info[i] is the diff line row i shows, or -1. The code is
// coloured as far as text has it highlighted.
func diffRows(st *Styles, text *textCache, lines []diffLine, width int, notes map[string][]note) (rows []string, info []int) {
	code := highlightDiff(text, lines)
	numW := 4
	side := width >= 110 && len(notes) > 0
	diffW, noteW := width, 0
	if side {
		noteW = min(44, width/3)
		diffW = width - noteW - 3
	}
	drawLine := func(i int) string {
		l := lines[i]
		switch l.kind {
		case 'f':
			return st.DiffFile.Render("▸ " + l.text)
		case '@':
			return st.DiffHunk.Render(l.text)
		case 'm':
			return st.Dim.Render(l.text)
		}
		n := l.new
		if l.kind == '-' {
			n = l.old
		}
		num := st.LineNo.Render(fitRight(itoa(n), numW) + " ")
		sign := " "
		switch l.kind {
		case '+':
			sign = st.DiffAdd.Render("+")
		case '-':
			sign = st.DiffDel.Render("-")
		}
		return num + sign + " " + code[i]
	}
	noteLines := func(ns []note, w int) []string {
		var out []string
		for _, n := range ns {
			out = append(out, truncate(st.NoteHead.Render(n.head), w)) // cut after Render, which widens tabs
			for _, bl := range strings.Split(wrap(n.body, w), "\n") {
				out = append(out, st.Note.Render(bl))
			}
		}
		return out
	}
	if !side {
		for i, l := range lines {
			rows = append(rows, truncate(drawLine(i), width))
			info = append(info, i)
			if l.kind == '+' || l.kind == ' ' {
				if ns := notes[anchor(l.path, l.new)]; len(ns) > 0 {
					for _, nl := range noteLines(ns, width-8) {
						rows = append(rows, "      "+st.Note.Render("┃ ")+nl)
						info = append(info, -1)
					}
				}
			}
		}
		return rows, info
	}
	// Side by side: notes start on their line's row, pushed down past the
	// previous note when they would overlap.
	right := map[int]string{}
	next := 0
	for i, l := range lines {
		if l.kind != '+' && l.kind != ' ' {
			continue
		}
		ns := notes[anchor(l.path, l.new)]
		if len(ns) == 0 {
			continue
		}
		r := max(i, next)
		for _, nl := range noteLines(ns, noteW-2) {
			right[r] = nl
			r++
		}
		next = r + 1
	}
	total := max(len(lines), next)
	for r := 0; r < total; r++ {
		left := ""
		idx := -1
		if r < len(lines) {
			left, idx = drawLine(r), r
		}
		row := fit(left, diffW)
		if s, ok := right[r]; ok {
			row += " " + st.Note.Render("┃") + " " + s
		}
		rows = append(rows, row)
		info = append(info, idx)
	}
	return rows, info
}

// highlightDiff colours the code of each line with the lexer of its file,
// one rendering a file.
func highlightDiff(r *textCache, lines []diffLine) []string {
	out := make([]string, len(lines))
	start := 0
	for start < len(lines) {
		end := start
		path := lines[start].path
		var idx []int
		var code []string
		for end < len(lines) && lines[end].path == path {
			if k := lines[end].kind; k == '+' || k == '-' || k == ' ' {
				idx = append(idx, end)
				code = append(code, lines[end].text)
			}
			end++
		}
		hl := r.highlight(path, strings.Join(code, "\n"))
		for j, i := range idx {
			if j < len(hl) {
				out[i] = hl[j]
			} else {
				out[i] = lines[i].text
			}
		}
		if end == start {
			end++
		}
		start = end
	}
	return out
}

// wrap wraps plain text to w cells.
func wrap(s string, w int) string {
	return lipgloss.NewStyle().Width(max(w, 10)).Render(s)
}
