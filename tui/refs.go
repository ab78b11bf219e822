package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// Ref is a reference between two objects, as a detail page lists it:
// one the object makes ("#8eb1ca1" in its text) or one made to it (a
// backlink). The user selects it with f and opens the other object with
// enter; back returns.
type Ref struct {
	Kind   string // the other object's kind: "issue" or "patch"
	ID     string // the other object's full ID
	Title  string // its title
	Back   bool   // the other object refers to this one
	Author string // who wrote the reference: display name
}

// refList is a page's references and which one is selected (-1: none).
type refList struct {
	refs  []Ref
	focus int
}

func newRefList() refList { return refList{focus: -1} }

// set replaces the references, keeping the selection on the same one.
func (l *refList) set(refs []Ref) {
	var was string
	if l.focus >= 0 && l.focus < len(l.refs) {
		was = l.refs[l.focus].Kind + l.refs[l.focus].ID
	}
	l.refs, l.focus = refs, -1
	for i, r := range refs {
		if was != "" && r.Kind+r.ID == was {
			l.focus = i
		}
	}
}

// next selects the next reference, after the last the first again; it
// reports false when there is none.
func (l *refList) next() bool {
	if len(l.refs) == 0 {
		return false
	}
	l.focus = (l.focus + 1) % len(l.refs)
	return true
}

// open opens the selected reference's object on a page of its own.
func (l *refList) open(c *common, rid string) tea.Cmd {
	if l.focus < 0 || l.focus >= len(l.refs) {
		return nil
	}
	r := l.refs[l.focus]
	if r.Kind == "patch" {
		return push(newPatchPage(c, rid, r.ID))
	}
	return push(newIssuePage(c, rid, r.ID))
}

// lines renders the references, one a line, the selected one marked.
func (l *refList) lines(st *Styles) []string {
	var out []string
	for i, r := range l.refs {
		mark := "  "
		if i == l.focus {
			mark = st.Focus.Render("▸ ")
		}
		what := "→ " + r.Kind + " "
		if r.Back {
			what = "← mentioned in " + r.Kind + " "
		}
		line := mark + st.Dim.Render(what) + shortID(r.ID) + " " + r.Title
		if r.Back && r.Author != "" {
			line += st.Dim.Render(" · " + r.Author)
		}
		out = append(out, line)
	}
	return out
}

// text is lines, joined, each line indented by one space.
func (l *refList) text(st *Styles) string {
	ls := l.lines(st)
	for i := range ls {
		ls[i] = " " + ls[i]
	}
	return strings.Join(ls, "\n")
}
