package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// list is a cursor over n rows, scrolled to keep the cursor in a window of
// height rows. It only moves indices: pages draw the rows in view, so a
// list of 10,000 issues costs what its window costs.
type list struct {
	n, cursor, offset, height int
}

func (l *list) setHeight(h int) {
	l.height = max(h, 1)
	l.scroll()
}

func (l *list) setLen(n int) {
	l.n = n
	l.cursor = clamp(l.cursor, 0, max(n-1, 0))
	l.scroll()
}

func (l *list) move(d int) {
	l.cursor = clamp(l.cursor+d, 0, max(l.n-1, 0))
	l.scroll()
}

func (l *list) scroll() {
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+l.height {
		l.offset = l.cursor - l.height + 1
	}
	l.offset = clamp(l.offset, 0, max(l.n-l.height, 0))
}

// update moves the cursor for navigation keys and the mouse wheel and
// reports whether msg was one.
func (l *list) update(msg tea.Msg, k keyMap) bool {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Up):
			l.move(-1)
		case key.Matches(msg, k.Down):
			l.move(1)
		case key.Matches(msg, k.PageUp):
			l.move(-l.height)
		case key.Matches(msg, k.PageDown):
			l.move(l.height)
		case key.Matches(msg, k.Top):
			l.move(-l.n)
		case key.Matches(msg, k.Bottom):
			l.move(l.n)
		default:
			return false
		}
		return true
	case tea.MouseMsg:
		if msg.Action != tea.MouseActionPress {
			return false
		}
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			l.move(-3)
		case tea.MouseButtonWheelDown:
			l.move(3)
		default:
			return false
		}
		return true
	}
	return false
}

// window returns the indices of the rows in view.
func (l *list) window() (from, to int) {
	return l.offset, min(l.offset+l.height, l.n)
}

// render draws the rows in view, each cut to w: row(i) draws row i in
// w-2 cells; the selected row gets a marker (seen on any terminal) and,
// with colours, a highlight.
func (l *list) render(st *Styles, w int, focused bool, row func(i, w int) string) string {
	from, to := l.window()
	lines := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		r := row(i, w-2)
		if i == l.cursor && focused {
			lines = append(lines, st.Focus.Render("▌ ")+st.Selected.Render(fit(ansi.Strip(r), w-2)))
			continue
		}
		lines = append(lines, "  "+fit(r, w-2))
	}
	return strings.Join(lines, "\n")
}

// scrollInfo says where the window is among n rows, e.g. "12-31 of
// 10000"; n is more than the list's own rows while only the first of
// them are loaded.
func (l *list) scrollInfo(n int) string {
	if l.n == 0 {
		return ""
	}
	from, to := l.window()
	return itoa(from+1) + "-" + itoa(to) + " of " + itoa(n)
}

// columns are the widths of the right-hand columns of an issue or patch
// list whose rows are w cells wide: the author's name (0: not shown) and
// whether the counts (comments; verdicts and revisions) show. The age
// always shows, in ageWidth cells; the title takes the rest, so that on a
// narrow terminal the title keeps room and the columns that matter least
// go first.
func columns(w int) (author int, counts bool) {
	switch {
	case w >= 98:
		return 20, true // a name and the short NID that tells two apart: bob (12D3Ko…3ANaba)
	case w >= 70:
		return 12, true
	case w >= 50:
		return 9, false
	}
	return 0, false
}

const ageWidth = 4

// withColumns lays out a list row: left cut or padded to what the columns
// leave, then each column (styled by the caller), one space apart.
func withColumns(left string, w int, cols ...string) string {
	right := strings.Join(cols, " ")
	rw := lipgloss.Width(right)
	if rw+1 >= w {
		return truncate(left, w)
	}
	return fit(left, w-rw-1) + " " + right
}

// columnHead is the header line of a list whose rows are w cells wide:
// ID and TITLE over the left, and the names of the columns over theirs
// (cols as the rows lay them out, with empty names for unnamed ones).
func columnHead(st *Styles, w int, cols ...string) string {
	left := fit("", 2) + fit("ID", 8) + "TITLE"
	return "  " + st.Dim.Render(withColumns(left, w, cols...))
}
