package tui

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// issuePage shows one issue: its rendered body, labels, assignees and the
// comment thread, and acts on it.
type issuePage struct {
	c      *common
	id     int
	rid    string
	issue  string
	w, h   int
	vp     viewport.Model
	is     *Issue
	err    error
	order  []threaded // comments in thread order
	focus  int        // index into order, -1 for none
	starts []int      // first content line of each comment in order
	prompt prompt
	// follow says the user just wrote a comment: show it when it lands.
	follow bool
	refs   refList
	// refsAt is the content line of the first reference.
	refsAt int
}

type threaded struct {
	Comment
	depth int
}

type issueMsg struct {
	is  *Issue
	err error
}

func newIssuePage(c *common, rid, id string) *issuePage {
	p := &issuePage{c: c, id: c.id(), rid: rid, issue: id, focus: -1, prompt: newPrompt(c.st), refs: newRefList()}
	p.vp = newViewport(c)
	return p
}

// newViewport returns a viewport that scrolls with our keys and the wheel.
func newViewport(c *common) viewport.Model {
	vp := viewport.New(0, 0)
	vp.MouseWheelEnabled = true
	vp.MouseWheelDelta = 3
	k := c.keys
	vp.KeyMap = viewport.KeyMap{
		Up: k.Up, Down: k.Down, PageUp: k.PageUp, PageDown: k.PageDown,
		HalfPageUp: key.NewBinding(key.WithDisabled()), HalfPageDown: key.NewBinding(key.WithDisabled()),
		Left: key.NewBinding(key.WithDisabled()), Right: key.NewBinding(key.WithDisabled()),
	}
	vp.Style = c.st.r.NewStyle()
	return vp
}

func (p *issuePage) Init() tea.Cmd { return p.Reload() }

func (p *issuePage) Reload() tea.Cmd {
	src, rid, id := p.c.src.Issues, p.rid, p.issue
	return p.c.load(p.id, func(ctx context.Context) tea.Msg {
		is, err := src.Issue(ctx, rid, id)
		return issueMsg{is, err}
	})
}

func (p *issuePage) Title() string { return "issue " + shortID(p.issue) }
func (p *issuePage) Typing() bool  { return p.prompt.active }

func (p *issuePage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.vp.Width, p.vp.Height = w, max(h-1, 1)
	p.prompt.setWidth(w)
	p.build()
}

func (p *issuePage) Update(msg tea.Msg) (page, tea.Cmd) {
	k := p.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != p.id {
			return p, nil
		}
		if m, ok := msg.msg.(issueMsg); ok {
			p.err = m.err
			if m.err == nil {
				seen := map[string]bool{}
				for _, c := range p.order {
					seen[c.ID] = true
				}
				p.is = m.is
				p.refs.set(m.is.Refs)
				p.order = thread(m.is.Thread)
				if p.focus >= len(p.order) {
					p.focus = len(p.order) - 1
				}
				p.build()
				if p.follow {
					for i, c := range p.order {
						if !seen[c.ID] {
							p.follow = false
							p.focus = i
							p.moveFocus(0)
							break
						}
					}
				}
			}
		}
		return p, nil
	case tea.KeyMsg:
		if p.prompt.active {
			switch msg.String() {
			case "enter":
				p.prompt.close()
				return p, p.setLabels(splitCSV(p.prompt.value()))
			case "esc":
				p.prompt.close()
				return p, nil
			}
			return p, p.prompt.update(msg)
		}
		if p.is == nil {
			break
		}
		may := p.is.May
		switch {
		case !may.Comment && (key.Matches(msg, k.Comment) || key.Matches(msg, k.Reply)),
			!may.Triage && (key.Matches(msg, k.Close) || key.Matches(msg, k.Labels)):
			return p, showErr(errors.New(may.Why))
		case key.Matches(msg, k.Comment):
			p.follow = true
			return p, push(newCommentForm(p.c, p.rid, p.issue, "", ""))
		case key.Matches(msg, k.Reply):
			p.follow = true
			if p.focus >= 0 {
				c := p.order[p.focus]
				return p, push(newCommentForm(p.c, p.rid, p.issue, c.ID, c.Author))
			}
			return p, push(newCommentForm(p.c, p.rid, p.issue, "", ""))
		case key.Matches(msg, k.Close):
			return p, p.toggleState()
		case key.Matches(msg, k.Labels):
			p.prompt.open("labels", "labels: ", strings.Join(p.is.Labels, ", "))
			return p, nil
		case key.Matches(msg, k.Follow):
			if p.refs.next() {
				p.build()
				p.vp.SetYOffset(max(p.refsAt+p.refs.focus-2, 0))
			}
			return p, nil
		case key.Matches(msg, k.Open):
			return p, p.refs.open(p.c, p.rid)
		case key.Matches(msg, k.NextItem):
			p.moveFocus(1)
			return p, nil
		case key.Matches(msg, k.PrevItem):
			p.moveFocus(-1)
			return p, nil
		case key.Matches(msg, k.Top):
			p.vp.GotoTop()
			return p, nil
		case key.Matches(msg, k.Bottom):
			p.vp.GotoBottom()
			return p, nil
		}
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

func (p *issuePage) moveFocus(d int) {
	if len(p.order) == 0 {
		return
	}
	p.focus = clamp(p.focus+d, 0, len(p.order)-1)
	p.build()
	if p.focus < len(p.starts) {
		p.vp.SetYOffset(max(p.starts[p.focus]-1, 0))
	}
}

func (p *issuePage) toggleState() tea.Cmd {
	src, rid, id := p.c.src.Issues, p.rid, p.issue
	state, reason, done := "closed", "solved", "issue closed"
	if p.is.State == "closed" {
		state, reason, done = "open", "", "issue reopened"
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), p.c.timeout)
		defer cancel()
		if err := src.SetState(ctx, rid, id, state, reason); err != nil {
			return errMsg{err}
		}
		return changedMsg{done}
	}
}

func (p *issuePage) setLabels(want []string) tea.Cmd {
	have := map[string]bool{}
	for _, l := range p.is.Labels {
		have[l] = true
	}
	var add, remove []string
	wantSet := map[string]bool{}
	for _, l := range want {
		wantSet[l] = true
		if !have[l] {
			add = append(add, l)
		}
	}
	for _, l := range p.is.Labels {
		if !wantSet[l] {
			remove = append(remove, l)
		}
	}
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	src, rid, id, timeout := p.c.src.Issues, p.rid, p.issue, p.c.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := src.Label(ctx, rid, id, add, remove); err != nil {
			return errMsg{err}
		}
		return changedMsg{"labels updated"}
	}
}

// thread orders comments as a tree: each reply after its parent, siblings
// by time.
func thread(cs []Comment) []threaded {
	kids := map[string][]Comment{}
	ids := map[string]bool{}
	for _, c := range cs {
		ids[c.ID] = true
	}
	for _, c := range cs {
		parent := c.ReplyTo
		if !ids[parent] {
			parent = ""
		}
		kids[parent] = append(kids[parent], c)
	}
	for _, l := range kids {
		sort.SliceStable(l, func(i, j int) bool { return l[i].Created.Before(l[j].Created) })
	}
	var out []threaded
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, c := range kids[parent] {
			out = append(out, threaded{c, depth})
			walk(c.ID, depth+1)
		}
	}
	walk("", 0)
	return out
}

func (p *issuePage) redraw() { p.build() }

// build lays out the issue into the viewport, with markdown as far as it
// has been rendered (as written until then).
func (p *issuePage) build() {
	if p.is == nil || p.w == 0 {
		return
	}
	st := p.c.st
	is := p.is
	now := p.c.now()
	var b strings.Builder
	b.WriteString(" " + st.Title.Render(is.Title) + " " + st.Dim.Render(shortID(is.ID)) + "\n")
	meta := st.state(is.State)
	if is.Reason != "" {
		meta += st.Dim.Render(" (" + is.Reason + ")")
	}
	meta += st.Dim.Render(" · " + is.Author + " opened " + ago(now, is.Created) + " · " + plural(len(is.Thread), "comment"))
	b.WriteString(" " + meta + "\n")
	labels := st.Dim.Render("none")
	if len(is.Labels) > 0 {
		labels = labelList(st, is.Labels)
	}
	assignees := st.Dim.Render("none")
	if len(is.Assignees) > 0 {
		assignees = strings.Join(is.Assignees, ", ")
	}
	b.WriteString(" " + st.Dim.Render("labels: ") + labels + "   " + st.Dim.Render("assignees: ") + assignees + "\n")
	if (!is.May.Triage || !is.May.Comment) && is.May.Why != "" {
		b.WriteString(" " + st.Dim.Render(is.May.Why) + "\n")
	}
	if len(p.refs.refs) > 0 {
		p.refsAt = strings.Count(b.String(), "\n")
		b.WriteString(p.refs.text(st) + "\n")
	}
	b.WriteString(st.TabGap.Render(strings.Repeat("─", p.w)) + "\n")
	body := p.c.cache.markdown(is.Body, p.w-2)
	if body == "" {
		body = "  " + st.Dim.Render("No description.")
	}
	b.WriteString(body + "\n")
	p.starts = p.starts[:0]
	for i, c := range p.order {
		b.WriteString("\n")
		p.starts = append(p.starts, strings.Count(b.String(), "\n"))
		indent := strings.Repeat("  ", min(c.depth, 4))
		bar := st.Dim.Render("│ ")
		if i == p.focus {
			bar = st.Focus.Render("┃ ")
		}
		head := st.Bold.Render(c.Author) + st.Dim.Render(" · "+ago(now, c.Created))
		if c.ReplyTo != "" {
			head = st.Dim.Render("↳ ") + head
		}
		if c.Edited {
			head += st.Dim.Render(" · edited")
		}
		head += st.Dim.Render(" · " + shortID(c.ID))
		b.WriteString(" " + indent + bar + head + "\n")
		w := p.w - 3 - len(indent)
		text := p.c.cache.markdown(c.Body, w)
		for _, line := range strings.Split(text, "\n") {
			b.WriteString(" " + indent + bar + line + "\n")
		}
	}
	if len(p.order) == 0 && is.May.Comment {
		b.WriteString("\n " + st.Dim.Render("No comments yet — press c to add one.") + "\n")
	} else if len(p.order) == 0 {
		b.WriteString("\n " + st.Dim.Render("No comments yet.") + "\n")
	}
	p.vp.SetContent(strings.TrimSuffix(b.String(), "\n"))
}

func (p *issuePage) View() string {
	st := p.c.st
	switch {
	case p.err != nil && p.is == nil:
		return " " + errorText(st, "issue "+shortID(p.issue), p.err)
	case p.is == nil:
		return st.Dim.Render("  loading issue…")
	}
	bottom := spread("", st.Dim.Render(pct(p.vp.ScrollPercent())+" "), p.w)
	if p.prompt.active {
		bottom = " " + p.prompt.view()
	}
	return p.vp.View() + "\n" + bottom
}

func pct(f float64) string { return itoa(int(f*100+0.5)) + "%" }

func (p *issuePage) ShortHelp() []key.Binding {
	k := p.c.keys
	if p.prompt.active {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")), k.Cancel}
	}
	out := append(p.actions(), k.NextItem)
	if len(p.refs.refs) > 0 {
		out = append(out, k.Follow)
	}
	return append(out, k.Back)
}

// actions are the keys of what the user may do to the issue.
func (p *issuePage) actions() []key.Binding {
	k := p.c.keys
	var out []key.Binding
	if p.is != nil && p.is.May.Comment {
		out = append(out, k.Comment, k.Reply)
	}
	if p.is != nil && p.is.May.Triage {
		out = append(out, k.Close, k.Labels)
	}
	return out
}

func (p *issuePage) FullHelp() [][]key.Binding {
	k := p.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, append(p.actions(), k.NextItem, k.PrevItem, k.Follow, k.Open, k.Refresh)}
}
