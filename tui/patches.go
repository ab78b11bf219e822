package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// patchesTab lists a project's patches with their state, revisions and
// review verdicts.
type patchesTab struct {
	c       *common
	id      int
	rid     string
	w, h    int
	list    list
	patches []PatchSummary
	state   string
	seq     int
	loaded  bool
	err     error
}

type patchesMsg struct {
	seq     int
	patches []PatchSummary
	err     error
}

func newPatchesTab(c *common, rid string) *patchesTab {
	return &patchesTab{c: c, id: c.id(), rid: rid, state: PatchOpen}
}

func (t *patchesTab) Init() tea.Cmd { return t.Reload() }

func (t *patchesTab) Reload() tea.Cmd {
	if t.c.src.Patches == nil {
		return nil
	}
	t.seq++
	seq, src, rid, state := t.seq, t.c.src.Patches, t.rid, t.state
	return t.c.load(t.id, func(ctx context.Context) tea.Msg {
		ps, err := src.ListPatches(ctx, rid, state)
		return patchesMsg{seq, ps, err}
	})
}

func (t *patchesTab) Title() string { return "Patches" }
func (t *patchesTab) Typing() bool  { return false }

func (t *patchesTab) SetSize(w, h int) {
	t.w, t.h = w, h
	t.list.setHeight(h - 2)
}

func (t *patchesTab) Update(msg tea.Msg) (page, tea.Cmd) {
	k := t.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != t.id {
			return t, nil
		}
		if m, ok := msg.msg.(patchesMsg); ok && m.seq == t.seq {
			t.loaded, t.err = true, m.err
			if m.err == nil {
				t.patches = m.patches
				t.list.setLen(len(t.patches))
			}
		}
		return t, nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Open, k.Right):
			if t.list.cursor < len(t.patches) {
				return t, push(newPatchPage(t.c, t.rid, t.patches[t.list.cursor].ID))
			}
			return t, nil
		case key.Matches(msg, k.State):
			switch t.state {
			case PatchOpen:
				t.state = PatchMerged
			case PatchMerged:
				t.state = PatchClosed
			case PatchClosed:
				t.state = ""
			default:
				t.state = PatchOpen
			}
			t.list.cursor, t.list.offset = 0, 0
			return t, t.Reload()
		}
	}
	t.list.update(msg, k)
	return t, nil
}

func (t *patchesTab) View() string {
	st := t.c.st
	var body string
	switch {
	case t.c.src.Patches == nil:
		body = st.Dim.Render("  no patches")
	case t.err != nil:
		body = " " + errorText(st, "patches", t.err)
	case !t.loaded:
		body = st.Dim.Render("  loading patches…")
	case len(t.patches) == 0:
		body = st.Dim.Render("  no patches — open one with 'git push grove HEAD:refs/patches'")
	default:
		body = t.list.render(st, t.w, true, t.row)
	}
	state := t.state
	if state == "" {
		state = "all"
	}
	head := t.head(t.w - 2)
	foot := spread(" "+st.Dim.Render("state:")+" "+st.Bold.Render(state), st.Dim.Render(plural(len(t.patches), "patch"))+" ", t.w)
	return head + "\n" + padLines(body, t.list.height) + "\n" + foot
}

func (t *patchesTab) row(i, w int) string {
	st := t.c.st
	p := t.patches[i]
	var icon string
	switch p.State {
	case PatchMerged:
		icon = st.Merged.Render("◆ ")
	case PatchClosed:
		icon = st.Closed.Render("✕ ")
	default:
		icon = st.Open.Render("● ")
	}
	left := icon + st.Dim.Render(fit(shortID(p.ID), 8)) + p.Title
	if len(p.Labels) > 0 {
		left += " " + labelList(st, p.Labels)
	}
	// Fixed widths, so that every column lines up with its head.
	aw, counts := columns(w)
	var cols []string
	if counts {
		var v []string
		if p.Accepted > 0 {
			v = append(v, st.Accept.Render("✔"+itoa(min(p.Accepted, 9))))
		}
		if p.Rejected > 0 {
			v = append(v, st.Reject.Render("✘"+itoa(min(p.Rejected, 9))))
		}
		cols = append(cols, fitRight(strings.Join(v, " "), 5), st.Dim.Render(fitRight("r"+itoa(min(p.Revisions, 99)), 3)))
	}
	if aw > 0 {
		cols = append(cols, st.Dim.Render(fit(p.Author, aw)))
	}
	return withColumns(left, w, append(cols, st.Dim.Render(fitRight(age(t.c.now(), p.Updated), ageWidth)))...)
}

// head is the patch list's header line, over rows w cells wide.
func (t *patchesTab) head(w int) string {
	aw, counts := columns(w)
	var cols []string
	if counts {
		cols = append(cols, fit("", 5), fitRight("REV", 3))
	}
	if aw > 0 {
		cols = append(cols, fit("AUTHOR", aw))
	}
	return columnHead(t.c.st, w, append(cols, fitRight("AGE", ageWidth))...)
}

func (t *patchesTab) ShortHelp() []key.Binding {
	k := t.c.keys
	return []key.Binding{k.Open, key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "state"))}
}

func (t *patchesTab) FullHelp() [][]key.Binding {
	k := t.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "open/merged/closed/all"))}}
}
