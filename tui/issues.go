package tui

import (
	"context"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// issuesTab lists a project's issues from the index: filtered by state and
// label, searched with /.
//
// The source is asked only for the search: the tab keeps every issue the
// search matches and filters by state and label itself, so s and L answer
// in the same frame. Only one query runs at a time; a search typed while
// one runs waits for it, and then only the newest text is asked.
//
// The first query asks for a page first: the newest rows the filter
// selects and how many it selects, which is all the first screen draws,
// then for everything. Until everything is in, the rows are that page.
type issuesTab struct {
	c       *common
	id      int
	rid     string
	w, h    int
	list    list
	all     []IssueSummary // every issue the search matches, newest first
	issues  []IssueSummary // all, filtered by state and label: the rows
	paged   bool           // not loaded yet, and issues is the first page
	ofPage  int            // how many issues the page's filter selects
	filter  IssueFilter
	seq     int  // the newest query asked; older answers are dropped
	running bool // a query is running
	queued  bool // and another was asked meanwhile
	done    int  // while the source builds its index: issues done
	total   int  // and to do
	loaded  bool
	err     error
	prompt  prompt
}

type issuesMsg struct {
	seq    int
	issues []IssueSummary
	err    error
}

// issuesPageMsg is the first page of a first query; next loads the rest.
type issuesPageMsg struct {
	issues []IssueSummary
	total  int
	err    error
	next   tea.Cmd
}

// firstPage is how many rows the first query asks for before the rest:
// more than a terminal shows.
const firstPage = 200

func newIssuesTab(c *common, rid string) *issuesTab {
	return &issuesTab{c: c, id: c.id(), rid: rid, filter: IssueFilter{State: "open"}, prompt: newPrompt(c.st)}
}

func (t *issuesTab) Init() tea.Cmd { return t.Reload() }

func (t *issuesTab) Reload() tea.Cmd {
	if t.c.src.Issues == nil {
		return nil
	}
	t.seq++
	if t.running {
		t.queued = true
		return nil
	}
	return t.query()
}

// query asks the source for the issues the search matches, in every state
// and with any label; while the tab has nothing to show, it first asks
// for the page of them the filter shows first.
func (t *issuesTab) query() tea.Cmd {
	t.running = true
	seq, src, rid, f := t.seq, t.c.src.Issues, t.rid, IssueFilter{Search: t.filter.Search}
	all := t.c.loadWithProgress(t.id, func(ctx context.Context, progress func(done, total int)) tea.Msg {
		is, err := src.ListIssues(ctx, rid, f, progress)
		return issuesMsg{seq, is, err}
	})
	if t.loaded {
		return all
	}
	pf := t.filter
	return t.c.loadWithProgress(t.id, func(ctx context.Context, progress func(done, total int)) tea.Msg {
		is, n, err := src.IssuePage(ctx, rid, pf, firstPage, progress)
		return issuesPageMsg{issues: is, total: n, err: err, next: all}
	})
}

func (t *issuesTab) Title() string { return "Issues" }
func (t *issuesTab) Typing() bool  { return t.prompt.active }

func (t *issuesTab) SetSize(w, h int) {
	t.w, t.h = w, h
	t.list.setHeight(h - 2)
	t.prompt.setWidth(w)
}

func (t *issuesTab) selected() (IssueSummary, bool) {
	if t.list.cursor < len(t.issues) {
		return t.issues[t.list.cursor], true
	}
	return IssueSummary{}, false
}

// refilter makes the rows again from all after the state or label filter
// or the data changed; keep leaves the cursor on the issue it was on.
func (t *issuesTab) refilter(keep bool) {
	cur, had := t.selected()
	if !t.loaded {
		// A page filtered otherwise: wait for everything.
		t.issues, t.paged = nil, false
		t.list.setLen(0)
		return
	}
	f := t.filter
	match := func(is *IssueSummary) bool {
		return (f.State == "" || is.State == f.State) && (f.Label == "" || slices.Contains(is.Labels, f.Label))
	}
	n := 0
	for i := range t.all {
		if match(&t.all[i]) {
			n++
		}
	}
	if n == len(t.all) {
		t.issues = t.all // often all open: no copy
	} else {
		t.issues = make([]IssueSummary, 0, n)
		for i := range t.all {
			if match(&t.all[i]) {
				t.issues = append(t.issues, t.all[i])
			}
		}
	}
	if !keep {
		t.list.cursor, t.list.offset = 0, 0
	}
	t.list.setLen(len(t.issues))
	if keep && had {
		for i, is := range t.issues {
			if is.ID == cur.ID {
				t.list.cursor = i
				t.list.scroll()
				break
			}
		}
	}
}

func (t *issuesTab) Update(msg tea.Msg) (page, tea.Cmd) {
	k := t.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != t.id {
			return t, nil
		}
		switch m := msg.msg.(type) {
		case progressMsg:
			t.done, t.total = m.done, m.total
			return t, m.next
		case issuesPageMsg:
			t.done, t.total = 0, 0
			if t.queued {
				// The filter changed meanwhile: start again for it.
				t.queued = false
				return t, t.query()
			}
			if m.err == nil && !t.loaded {
				t.issues, t.paged, t.ofPage = m.issues, true, m.total
				t.list.setLen(len(t.issues))
			}
			// On an error the whole list's query says what is wrong.
			return t, m.next
		case issuesMsg:
			t.running = false
			t.done, t.total = 0, 0
			var cmd tea.Cmd
			if t.queued {
				t.queued = false
				cmd = t.query()
			}
			if m.seq == t.seq {
				t.loaded, t.paged = true, false
				t.err = m.err
				if m.err == nil {
					t.all = m.issues
					t.refilter(true)
				}
			}
			return t, cmd
		}
		return t, nil
	case tea.KeyMsg:
		if t.prompt.active {
			return t, t.updatePrompt(msg)
		}
		switch {
		case key.Matches(msg, k.Open, k.Right):
			if is, ok := t.selected(); ok {
				return t, push(newIssuePage(t.c, t.rid, is.ID))
			}
			return t, nil
		case key.Matches(msg, k.Search):
			t.prompt.open("search", "/ ", t.filter.Search)
			return t, nil
		case key.Matches(msg, k.LabelFilter):
			t.prompt.open("label", "label: ", t.filter.Label)
			return t, nil
		case key.Matches(msg, k.State):
			switch t.filter.State {
			case "open":
				t.filter.State = "closed"
			case "closed":
				t.filter.State = ""
			default:
				t.filter.State = "open"
			}
			t.refilter(false)
			return t, nil
		case key.Matches(msg, k.New):
			return t, push(newIssueForm(t.c, t.rid))
		case msg.String() == "esc" && (t.filter.Search != "" || t.filter.Label != ""):
			var cmd tea.Cmd
			if t.filter.Search != "" {
				t.filter.Search = ""
				cmd = t.Reload()
			}
			t.filter.Label = ""
			t.refilter(true)
			return t, cmd
		}
	}
	t.list.update(msg, k)
	return t, nil
}

func (t *issuesTab) updatePrompt(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		t.prompt.close()
		if t.prompt.kind == "label" {
			t.filter.Label = strings.TrimSpace(t.prompt.value())
			t.refilter(false)
		}
		return nil
	case "esc":
		t.prompt.close()
		if t.prompt.kind == "search" && t.filter.Search != "" {
			t.filter.Search = ""
			return t.Reload()
		}
		return nil
	}
	cmd := t.prompt.update(msg)
	if t.prompt.kind == "search" && t.prompt.value() != t.filter.Search {
		// Search as you type: the index answers in milliseconds.
		t.filter.Search = t.prompt.value()
		t.list.cursor, t.list.offset = 0, 0
		return tea.Batch(cmd, t.Reload())
	}
	return cmd
}

func (t *issuesTab) filterLine() string {
	st := t.c.st
	state := t.filter.State
	if state == "" {
		state = "all"
	}
	parts := []string{st.Dim.Render("state:") + " " + st.Bold.Render(state)}
	if t.filter.Label != "" {
		parts = append(parts, st.Dim.Render("label:")+" "+st.Label.Render(t.filter.Label))
	}
	if t.filter.Search != "" {
		parts = append(parts, st.Dim.Render("search:")+" "+st.Bold.Render(t.filter.Search))
	}
	left := " " + strings.Join(parts, "  ")
	n := len(t.issues)
	if t.paged {
		n = t.ofPage
	}
	right := st.Dim.Render(plural(n, "issue"))
	if n > t.list.height {
		right = st.Dim.Render(t.list.scrollInfo(n))
	}
	if (t.loaded || t.paged) && t.total > 0 {
		right = st.Dim.Render(indexing(t.done, t.total))
	}
	return spread(left, right+" ", t.w)
}

func (t *issuesTab) View() string {
	st := t.c.st
	var body string
	switch {
	case t.c.src.Issues == nil:
		body = st.Dim.Render("  issues are not available")
	case t.err != nil:
		body = " " + errorText(st, "issues", t.err)
	case !t.loaded && !t.paged && t.total > 0:
		body = st.Dim.Render("  " + indexing(t.done, t.total))
	case !t.loaded && !t.paged:
		body = st.Dim.Render("  loading issues…")
	case len(t.issues) == 0:
		body = st.Dim.Render("  no issues match — press n to file one")
	default:
		body = t.list.render(st, t.w, true, t.row)
	}
	body = padLines(body, t.list.height)
	bottom := t.filterLine()
	if t.prompt.active {
		bottom = " " + t.prompt.view()
	}
	return t.filterHeader() + "\n" + body + "\n" + bottom
}

// indexing says how far a build of the issue index got.
func indexing(done, total int) string {
	return "indexing issues: " + itoa(done) + " of " + itoa(total) + " (" + itoa(done*100/max(total, 1)) + "%)"
}

func (t *issuesTab) filterHeader() string {
	w := t.w - 2
	aw, counts := columns(w)
	var cols []string
	if aw > 0 {
		cols = append(cols, fit("AUTHOR", aw))
	}
	if counts {
		cols = append(cols, fitRight("↩", 4))
	}
	return columnHead(t.c.st, w, append(cols, fitRight("AGE", ageWidth))...)
}

func (t *issuesTab) row(i, w int) string {
	st := t.c.st
	is := t.issues[i]
	icon := st.Open.Render("● ")
	if is.State == "closed" {
		icon = st.Closed.Render("✕ ")
	}
	left := icon + st.Dim.Render(fit(shortID(is.ID), 8)) + is.Title
	if len(is.Labels) > 0 {
		left += " " + labelList(st, is.Labels)
	}
	// Fixed widths, so that every column lines up with its head.
	aw, counts := columns(w)
	var cols []string
	if aw > 0 {
		cols = append(cols, fit(is.Author, aw))
	}
	if counts {
		n := ""
		if is.Comments > 0 {
			n = "↩ " + itoa(min(is.Comments, 99))
		}
		cols = append(cols, fitRight(n, 4))
	}
	cols = append(cols, fitRight(age(t.c.now(), is.Created), ageWidth))
	return withColumns(left, w, st.Dim.Render(strings.Join(cols, " ")))
}

func (t *issuesTab) ShortHelp() []key.Binding {
	k := t.c.keys
	if t.prompt.active {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")), k.Cancel}
	}
	return []key.Binding{k.Open, k.Search, k.State, k.New}
}

func (t *issuesTab) FullHelp() [][]key.Binding {
	k := t.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, k.Search, k.State, k.LabelFilter, k.New}}
}

// padLines pads s with empty lines to n lines.
func padLines(s string, n int) string {
	have := strings.Count(s, "\n") + 1
	if have < n {
		s += strings.Repeat("\n", n-have)
	}
	return s
}
