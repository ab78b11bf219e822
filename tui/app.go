package tui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Options configure the UI.
type Options struct {
	Source Source
	// Renderer draws every style; nil means lipgloss's default renderer
	// (standard output). Tests pass one fixed to termenv.Ascii.
	Renderer *lipgloss.Renderer
	// Now is the clock for relative times (time.Now when nil).
	Now func() time.Time
	// RID opens this project instead of the project list.
	RID string
	// Editor is the command line of the user's editor ($VISUAL or
	// $EDITOR); nil leaves only the built-in text area.
	Editor []string
	// Poll is how often the UI asks the source whether data changed; 0
	// never does.
	Poll time.Duration
	// Timeout bounds each call into the source (30 s when 0).
	Timeout time.Duration
	// Text renders markdown and highlights code for Renderer's terminal;
	// nil shows them plain. It is called in commands, never from Update,
	// and text shows plain until its rendering arrives.
	Text TextRenderer
}

// page is one screen: the project list, a project, an issue, a patch, a
// file. Its children (tabs, forms) follow the same contract.
type page interface {
	Init() tea.Cmd
	Update(tea.Msg) (page, tea.Cmd)
	View() string
	SetSize(w, h int)
	help.KeyMap
	// Title is the page's part of the breadcrumb.
	Title() string
	// Reload fetches the page's data again.
	Reload() tea.Cmd
	// Typing reports whether keys go to a text input (so q is a letter).
	Typing() bool
}

// common is what every page shares.
type common struct {
	src     Source
	st      *Styles
	keys    keyMap
	now     func() time.Time
	editor  []string
	timeout time.Duration
	// text renders markdown and code; it may wait for another process,
	// so only commands call it. Pages draw from cache, which the Model
	// fills through text.
	text   TextRenderer
	cache  *textCache
	nextID int
	// drafts are the forms left unsent, by what they write (form.draft).
	drafts map[string]draft
}

func (c *common) id() int { c.nextID++; return c.nextID }

// pageMsg carries a result to the page (or tab) with ID to.
type pageMsg struct {
	to  int
	msg tea.Msg
}

// load runs f off the event loop, bounded by the timeout, and delivers its
// message to page to.
func (c *common) load(to int, f func(ctx context.Context) tea.Msg) tea.Cmd {
	timeout := c.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return pageMsg{to: to, msg: f(ctx)}
	}
}

// progressMsg tells a page how far a load that reports progress got; next
// waits for the load's next message.
type progressMsg struct {
	done, total int
	next        tea.Cmd
}

// progressEvery is how often a load's progress reaches the page at most.
const progressEvery = 50 * time.Millisecond

// loadWithProgress is load for work that may take long but says how far
// it got, such as building an index: what f tells progress reaches page to
// as progressMsgs (each with the command that waits for the next
// message), and the timeout bounds the time between two reports rather
// than the whole load.
func (c *common) loadWithProgress(to int, f func(ctx context.Context, progress func(done, total int)) tea.Msg) tea.Cmd {
	timeout := c.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		watchdog := time.AfterFunc(timeout, cancel)
		res := make(chan tea.Msg, 1)
		prog := make(chan progressMsg, 1)
		var mu sync.Mutex
		var last time.Time
		report := func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			watchdog.Reset(timeout)
			if t := time.Now(); t.Sub(last) >= progressEvery {
				last = t
				select {
				case prog <- progressMsg{done: done, total: total}:
				default: // the page has not taken the last one yet
				}
			}
		}
		go func() {
			defer cancel()
			defer watchdog.Stop()
			res <- f(ctx, report)
		}()
		var wait tea.Cmd
		wait = func() tea.Msg {
			select {
			case m := <-res:
				return pageMsg{to: to, msg: m}
			default:
			}
			select {
			case m := <-res:
				return pageMsg{to: to, msg: m}
			case p := <-prog:
				p.next = wait
				return pageMsg{to: to, msg: p}
			}
		}
		return wait()
	}
}

// Messages pages send to the app.
type (
	pushMsg    struct{ p page }
	popMsg     struct{ status string } // leave the page, then show status
	errMsg     struct{ err error }
	statusMsg  struct{ text string }
	changedMsg struct{ status string } // a write landed: reload what shows it
	tickMsg    time.Time
	stampMsg   struct{ stamp string }
)

func push(p page) tea.Cmd       { return func() tea.Msg { return pushMsg{p} } }
func pop() tea.Cmd              { return func() tea.Msg { return popMsg{} } }
func showErr(err error) tea.Cmd { return func() tea.Msg { return errMsg{err} } }
func status(s string) tea.Cmd   { return func() tea.Msg { return statusMsg{s} } }

type entry struct {
	p     page
	stale bool
}

// A redrawer is a page that draws rendered text from the cache: it lays
// itself out again when a rendering arrives.
type redrawer interface{ redraw() }

// Model is the root of the UI: a stack of pages, a header with the
// breadcrumb and a help bar.
type Model struct {
	c        *common
	stack    []entry
	help     help.Model
	fullHelp bool
	w, h     int
	status   string
	err      error
	stamp    string
	poll     time.Duration
}

// New returns the UI's root model.
func New(o Options) *Model {
	r := o.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	st := NewStyles(r)
	c := &common{src: safeSource(o.Source), st: st, keys: newKeyMap(), now: now, editor: o.Editor, timeout: timeout, cache: newTextCache(), drafts: map[string]draft{}}
	c.text = o.Text
	if c.text == nil {
		c.text = plainText{}
	}
	h := help.New()
	h.Styles = help.Styles{
		ShortKey: st.Key, ShortDesc: st.KeyDesc, ShortSeparator: st.KeySep,
		FullKey: st.Key, FullDesc: st.KeyDesc, FullSeparator: st.KeySep,
		Ellipsis: st.KeySep,
	}
	m := &Model{c: c, help: h, poll: o.Poll}
	var first page
	if o.RID != "" {
		first = newProjectPage(c, Project{RID: o.RID}, true)
	} else {
		first = newProjectsPage(c)
	}
	m.stack = []entry{{p: first}}
	return m
}

// Init starts loading the first page and polling.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.top().Init(), m.tick())
}

func (m *Model) tick() tea.Cmd {
	if m.poll <= 0 || m.c.src.Projects == nil {
		return nil
	}
	return tea.Tick(m.poll, func(t time.Time) tea.Msg { return tickMsg(t) })
}

func (m *Model) checkStamp() tea.Cmd {
	src, timeout := m.c.src.Projects, m.c.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		s, err := src.Stamp(ctx)
		if err != nil {
			return stampMsg{}
		}
		return stampMsg{s}
	}
}

func (m *Model) top() page { return m.stack[len(m.stack)-1].p }

// Update handles app-wide keys and messages and passes the rest to the
// page on top; then it starts the renderings the pages asked for while
// they built.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	return m, tea.Batch(cmd, m.renderQueued())
}

// update is Update before the renderings start.
func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.resize()
		return m, nil
	case tea.KeyMsg:
		m.err = nil
		m.status = ""
		if key.Matches(msg, m.c.keys.Quit) {
			return m, tea.Quit
		}
		if m.top().Typing() {
			// Text goes to the input as text (typed says why).
			var cmds []tea.Cmd
			for _, part := range typed(msg) {
				var cmd tea.Cmd
				m.stack[len(m.stack)-1].p, cmd = m.top().Update(part)
				cmds = append(cmds, cmd)
			}
			return m, tea.Batch(cmds...)
		}
		switch {
		case key.Matches(msg, m.c.keys.Help):
			m.fullHelp = !m.fullHelp
			m.resize()
			return m, nil
		case key.Matches(msg, m.c.keys.Refresh):
			return m, m.top().Reload()
		case key.Matches(msg, m.c.keys.Back):
			if msg.String() == "esc" && len(m.stack) == 1 {
				break // esc at the root only clears
			}
			return m.popPage()
		}
	case tea.MouseMsg:
		// wheel and clicks go to the page
	case pushMsg:
		msg.p.SetSize(m.bodySize())
		m.stack = append(m.stack, entry{p: msg.p})
		return m, msg.p.Init()
	case popMsg:
		mm, cmd := m.popPage()
		if msg.status != "" {
			m.status = msg.status
		}
		return mm, cmd
	case errMsg:
		m.err = msg.err
		return m, nil
	case statusMsg:
		m.status = msg.text
		return m, nil
	case changedMsg:
		if msg.status != "" {
			m.status = msg.status
		}
		return m, m.reloadAll()
	case tickMsg:
		return m, m.checkStamp()
	case stampSeenMsg:
		if msg.stamp != "" {
			m.stamp = msg.stamp
		}
		return m, nil
	case stampMsg:
		var cmd tea.Cmd
		if msg.stamp != "" && m.stamp != "" && msg.stamp != m.stamp {
			cmd = m.reloadAll()
		}
		if msg.stamp != "" {
			m.stamp = msg.stamp
		}
		return m, tea.Batch(cmd, m.tick())
	case renderedMsg:
		// The page on top may show it; the others take it from the cache
		// when they build next. A rendering no page shows any more (an
		// old width or text) changes nothing on screen.
		m.c.cache.put(msg.key, msg.r)
		if r, ok := m.top().(redrawer); ok {
			r.redraw()
		}
		return m, nil
	case pageMsg:
		// Results go to whichever page in the stack asked for them.
		var cmds []tea.Cmd
		for i := range m.stack {
			var cmd tea.Cmd
			m.stack[i].p, cmd = m.stack[i].p.Update(msg)
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	}
	var cmd tea.Cmd
	m.stack[len(m.stack)-1].p, cmd = m.top().Update(msg)
	return m, cmd
}

// renderQueued returns commands that render what the pages asked the
// cache for, one command a rendering, so that a short body is not held up
// behind a long diff in the same batch.
func (m *Model) renderQueued() tea.Cmd {
	q := m.c.cache.take()
	if len(q) == 0 {
		return nil
	}
	cmds := make([]tea.Cmd, len(q))
	for i, k := range q {
		cmds[i] = renderCmd(m.c.text, k)
	}
	return tea.Batch(cmds...)
}

// reloadAll reloads the page on top and marks the others to reload when
// they show again.
func (m *Model) reloadAll() tea.Cmd {
	for i := range m.stack[:len(m.stack)-1] {
		m.stack[i].stale = true
	}
	if m.c.src.Projects != nil && m.poll > 0 {
		return tea.Batch(m.top().Reload(), m.checkStampOnce())
	}
	return m.top().Reload()
}

// checkStampOnce records the stamp after a write without scheduling a
// second poll loop.
func (m *Model) checkStampOnce() tea.Cmd {
	c := m.checkStamp()
	return func() tea.Msg {
		if s, ok := c().(stampMsg); ok {
			return stampSeenMsg(s)
		}
		return nil
	}
}

type stampSeenMsg stampMsg

func (m *Model) popPage() (tea.Model, tea.Cmd) {
	if len(m.stack) == 1 {
		return m, tea.Quit
	}
	m.stack = m.stack[:len(m.stack)-1]
	e := &m.stack[len(m.stack)-1]
	e.p.SetSize(m.bodySize())
	if e.stale {
		e.stale = false
		return m, e.p.Reload()
	}
	return m, nil
}

func (m *Model) helpView() string {
	m.help.Width = m.w
	var v string
	if m.fullHelp {
		v = m.help.FullHelpView(m.fullHelpGroups())
	} else {
		v = m.help.ShortHelpView(append(m.top().ShortHelp(), m.c.keys.Help))
	}
	return frame(v, m.w, lipgloss.Height(v))
}

func (m *Model) fullHelpGroups() [][]key.Binding {
	k := m.c.keys
	return append(m.top().FullHelp(), []key.Binding{k.Back, k.Quit, k.Help})
}

func (m *Model) bodySize() (int, int) {
	h := m.h - 1 - lipgloss.Height(m.helpView())
	if h < 1 {
		h = 1
	}
	return m.w, h
}

func (m *Model) resize() {
	w, h := m.bodySize()
	for _, e := range m.stack {
		e.p.SetSize(w, h)
	}
}

// View draws the header, the page on top and the help bar.
func (m *Model) View() string {
	if m.w == 0 {
		return ""
	}
	st := m.c.st
	var crumbs []string
	for _, e := range m.stack {
		crumbs = append(crumbs, e.p.Title())
	}
	left := st.Header.Render("grove") + st.CrumbSep.Render(" › ") + st.Crumb.Render(strings.Join(crumbs, " › "))
	var right string
	switch {
	case m.err != nil:
		right = st.Error.Render("error: " + m.err.Error())
	case m.status != "":
		right = st.Status.Render(m.status)
	}
	header := spread(left, right, m.w)
	_, bh := m.bodySize()
	body := frame(m.top().View(), m.w, bh)
	return header + "\n" + body + "\n" + m.helpView()
}

// frame cuts or pads s to exactly h lines of at most w cells: a page
// that draws a line too long is cut, never wrapped.
func frame(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// spread puts left and right on one line of width w, cutting right first.
func spread(left, right string, w int) string {
	lw, rw := lipgloss.Width(left), lipgloss.Width(right)
	if lw+1+rw > w {
		right = truncate(right, w-lw-1)
		rw = lipgloss.Width(right)
	}
	if lw > w {
		return truncate(left, w)
	}
	gap := w - lw - rw
	if gap < 0 {
		gap = 0
	}
	return left + strings.Repeat(" ", gap) + right
}

// errorText is how a page shows a load error in its body.
func errorText(st *Styles, what string, err error) string {
	return st.Error.Render(fmt.Sprintf("cannot load %s: %v", what, err))
}
