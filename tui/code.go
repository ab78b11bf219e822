package tui

import (
	"context"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"example.com/grove/protocol/termtext"
)

// codeTab browses the tree of a branch, and its log.
type codeTab struct {
	c        *common
	id       int
	rid      string
	w, h     int
	branches []Branch
	branch   string
	dir      string
	entries  []TreeEntry
	commits  []Commit
	showLog  bool
	list     list
	seq      int
	loaded   bool
	err      error
	cursors  map[string]int // cursor per directory, to come back to
}

type (
	branchesMsg struct {
		branches []Branch
		err      error
	}
	treeMsg struct {
		seq     int
		entries []TreeEntry
		err     error
	}
	logMsg struct {
		seq     int
		commits []Commit
		err     error
	}
)

const logLimit = 500

func newCodeTab(c *common, rid, branch string) *codeTab {
	return &codeTab{c: c, id: c.id(), rid: rid, branch: branch, cursors: map[string]int{}}
}

func (t *codeTab) Init() tea.Cmd {
	if t.c.src.Code == nil {
		return nil
	}
	src, rid := t.c.src.Code, t.rid
	return t.c.load(t.id, func(ctx context.Context) tea.Msg {
		bs, err := src.Branches(ctx, rid)
		return branchesMsg{bs, err}
	})
}

// Reload reloads the branches, then the tree or log.
func (t *codeTab) Reload() tea.Cmd { return t.Init() }

func (t *codeTab) loadView() tea.Cmd {
	if t.branch == "" {
		t.loaded = true
		return nil
	}
	t.seq++
	seq, src, rid, rev, dir := t.seq, t.c.src.Code, t.rid, "refs/heads/"+t.branch, t.dir
	if t.showLog {
		return t.c.load(t.id, func(ctx context.Context) tea.Msg {
			cs, err := src.Log(ctx, rid, rev, logLimit)
			return logMsg{seq, cs, err}
		})
	}
	return t.c.load(t.id, func(ctx context.Context) tea.Msg {
		es, err := src.Tree(ctx, rid, rev, dir)
		return treeMsg{seq, es, err}
	})
}

func (t *codeTab) Title() string { return "Code" }
func (t *codeTab) Typing() bool  { return false }

func (t *codeTab) SetSize(w, h int) {
	t.w, t.h = w, h
	t.list.setHeight(h - 2)
}

func (t *codeTab) Update(msg tea.Msg) (page, tea.Cmd) {
	k := t.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != t.id {
			return t, nil
		}
		switch m := msg.msg.(type) {
		case branchesMsg:
			if m.err != nil {
				t.err, t.loaded = m.err, true
				return t, nil
			}
			t.branches = m.branches
			found := false
			for _, b := range m.branches {
				found = found || b.Name == t.branch
			}
			if !found {
				t.branch = ""
				for _, b := range m.branches {
					if b.Default || t.branch == "" {
						t.branch = b.Name
					}
				}
			}
			return t, t.loadView()
		case treeMsg:
			if m.seq == t.seq && !t.showLog {
				t.loaded, t.err = true, m.err
				t.entries = m.entries
				t.list.setLen(len(t.entries))
			}
		case logMsg:
			if m.seq == t.seq && t.showLog {
				t.loaded, t.err = true, m.err
				t.commits = m.commits
				t.list.setLen(len(t.commits))
			}
		}
		return t, nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Open, k.Right):
			return t, t.open()
		case key.Matches(msg, k.Up1, k.Left):
			if !t.showLog && t.dir != "" {
				t.cursors[t.dir] = t.list.cursor
				t.dir = parentDir(t.dir)
				t.list.cursor, t.list.offset = t.cursors[t.dir], 0
				return t, t.loadView()
			}
			return t, nil
		case key.Matches(msg, k.Branch):
			if len(t.branches) > 1 {
				for i, b := range t.branches {
					if b.Name == t.branch {
						t.branch = t.branches[(i+1)%len(t.branches)].Name
						break
					}
				}
				t.dir, t.list.cursor, t.list.offset = "", 0, 0
				return t, t.loadView()
			}
			return t, nil
		case key.Matches(msg, k.Log):
			t.showLog = !t.showLog
			t.list.cursor, t.list.offset = 0, 0
			t.list.setLen(0)
			return t, t.loadView()
		}
	}
	t.list.update(msg, k)
	return t, nil
}

func (t *codeTab) open() tea.Cmd {
	i := t.list.cursor
	if t.showLog {
		if i < len(t.commits) {
			return push(newCommitPage(t.c, t.rid, t.commits[i]))
		}
		return nil
	}
	if i >= len(t.entries) {
		return nil
	}
	e := t.entries[i]
	p := path.Join(t.dir, e.Name)
	if e.Dir {
		t.cursors[t.dir] = i
		t.dir = p
		t.list.cursor, t.list.offset = 0, 0
		return t.loadView()
	}
	return push(newFilePage(t.c, t.rid, "refs/heads/"+t.branch, t.branch, p))
}

func parentDir(d string) string {
	if i := strings.LastIndexByte(d, '/'); i >= 0 {
		return d[:i]
	}
	return ""
}

func (t *codeTab) View() string {
	st := t.c.st
	where := st.Dim.Render("branch: ") + st.Bold.Render(termtext.Line(t.branch))
	if t.showLog {
		where += st.Dim.Render("  log")
	} else {
		where += st.Dim.Render("  path: ") + "/" + termtext.Line(t.dir)
	}
	var body string
	switch {
	case t.c.src.Code == nil:
		body = st.Dim.Render("  code is not available")
	case t.err != nil:
		body = " " + errorText(st, "code", t.err)
	case !t.loaded:
		body = st.Dim.Render("  loading…")
	case t.branch == "":
		body = st.Dim.Render("  no branches yet — push one with 'git push grove main'")
	case t.showLog && len(t.commits) == 0:
		body = st.Dim.Render("  no commits")
	case t.showLog:
		body = t.list.render(st, t.w, true, t.logRow)
	case len(t.entries) == 0:
		body = st.Dim.Render("  empty directory")
	default:
		body = t.list.render(st, t.w, true, t.treeRow)
	}
	count := plural(len(t.entries), "entry")
	if len(t.entries) != 1 {
		count = itoa(len(t.entries)) + " entries"
	}
	if t.showLog {
		count = plural(len(t.commits), "commit")
	}
	foot := spread(" "+where, st.Dim.Render(count)+" ", t.w)
	head := "  " + st.Dim.Render(map[bool]string{false: "NAME", true: "COMMIT   SUBJECT"}[t.showLog])
	return head + "\n" + padLines(body, t.list.height) + "\n" + foot
}

func (t *codeTab) treeRow(i, w int) string {
	st := t.c.st
	e := t.entries[i]
	if e.Dir {
		return st.DiffHunk.Render("▸ " + termtext.Line(e.Name) + "/")
	}
	size := st.Dim.Render(humanSize(e.Size))
	return fit("  "+termtext.Line(e.Name), w-lipgloss.Width(size)-1) + " " + size
}

func (t *codeTab) logRow(i, w int) string {
	st := t.c.st
	c := t.commits[i]
	right := st.Dim.Render(c.Author + "  " + fitRight(ago(t.c.now(), c.Time), 7))
	left := st.DiffHunk.Render(shortID(c.OID)) + "  " + c.Subject
	if w < 60 {
		return truncate(left, w)
	}
	return fit(left, w-lipgloss.Width(right)-1) + " " + right
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return itoa(int(n)) + " B"
	case n < 1<<20:
		return itoa(int(n>>10)) + " KiB"
	}
	return itoa(int(n>>20)) + " MiB"
}

func (t *codeTab) ShortHelp() []key.Binding {
	k := t.c.keys
	return []key.Binding{k.Open, k.Up1, k.Branch, k.Log}
}

func (t *codeTab) FullHelp() [][]key.Binding {
	k := t.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, k.Up1, k.Branch, k.Log}}
}

// filePage shows one file, highlighted, with line numbers.
type filePage struct {
	c                    *common
	id                   int
	rid, rev, label, pth string
	w, h                 int
	vp                   viewport.Model
	f                    *File
	lines                []string
	err                  error
}

type fileMsg struct {
	f     *File
	lines []string
	err   error
}

func newFilePage(c *common, rid, rev, label, p string) *filePage {
	return &filePage{c: c, id: c.id(), rid: rid, rev: rev, label: label, pth: p, vp: newViewport(c)}
}

func (p *filePage) Init() tea.Cmd { return p.Reload() }

func (p *filePage) Reload() tea.Cmd {
	src, rid, rev, pth, text := p.c.src.Code, p.rid, p.rev, p.pth, p.c.text
	return p.c.load(p.id, func(ctx context.Context) tea.Msg {
		f, err := src.File(ctx, rid, rev, pth)
		if err != nil {
			return fileMsg{err: err}
		}
		var lines []string
		if !f.Binary {
			// Highlighting is work, not I/O; doing it here keeps big
			// files from stalling the event loop.
			lines = text.Highlight(pth, f.Text)
		}
		return fileMsg{f: f, lines: lines}
	})
}

func (p *filePage) Title() string { return termtext.Line(p.pth) }
func (p *filePage) Typing() bool  { return false }

func (p *filePage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.vp.Width, p.vp.Height = w, max(h-1, 1)
	p.build()
}

func (p *filePage) build() {
	if p.f == nil {
		return
	}
	st := p.c.st
	if p.f.Binary {
		p.vp.SetContent("  " + st.Dim.Render("binary file, "+humanSize(p.f.Size)))
		return
	}
	numW := len(itoa(len(p.lines)))
	var b strings.Builder
	for i, l := range p.lines {
		b.WriteString(st.LineNo.Render(fitRight(itoa(i+1), numW+1)+" │ ") + truncate(l, p.w-numW-4))
		if i < len(p.lines)-1 {
			b.WriteByte('\n')
		}
	}
	if p.f.Cut {
		b.WriteString("\n" + st.Dim.Render("  … cut: the file is "+humanSize(p.f.Size)))
	}
	p.vp.SetContent(b.String())
}

func (p *filePage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != p.id {
			return p, nil
		}
		if m, ok := msg.msg.(fileMsg); ok {
			p.err = m.err
			if m.err == nil {
				p.f, p.lines = m.f, m.lines
				p.build()
			}
		}
		return p, nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, p.c.keys.Top):
			p.vp.GotoTop()
			return p, nil
		case key.Matches(msg, p.c.keys.Bottom):
			p.vp.GotoBottom()
			return p, nil
		}
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

func (p *filePage) View() string {
	st := p.c.st
	switch {
	case p.err != nil && p.f == nil:
		return " " + errorText(st, termtext.Line(p.pth), p.err)
	case p.f == nil:
		return st.Dim.Render("  loading " + termtext.Line(p.pth) + "…")
	}
	foot := spread(" "+st.Dim.Render(termtext.Line(p.label)+":")+termtext.Line(p.pth)+st.Dim.Render(" · "+plural(len(p.lines), "line")+" · "+humanSize(p.f.Size)),
		st.Dim.Render(pct(p.vp.ScrollPercent()))+" ", p.w)
	return p.vp.View() + "\n" + foot
}

func (p *filePage) ShortHelp() []key.Binding {
	k := p.c.keys
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Back}
}

func (p *filePage) FullHelp() [][]key.Binding {
	k := p.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}}
}

// commitPage shows one commit and its diff.
type commitPage struct {
	c      *common
	id     int
	rid    string
	commit Commit
	full   *Commit
	err    error
	w, h   int
	vp     viewport.Model
}

type commitMsg struct {
	c   *Commit
	err error
}

func newCommitPage(c *common, rid string, cm Commit) *commitPage {
	return &commitPage{c: c, id: c.id(), rid: rid, commit: cm, vp: newViewport(c)}
}

func (p *commitPage) Init() tea.Cmd { return p.Reload() }

func (p *commitPage) Reload() tea.Cmd {
	src, rid, oid := p.c.src.Code, p.rid, p.commit.OID
	return p.c.load(p.id, func(ctx context.Context) tea.Msg {
		c, err := src.Show(ctx, rid, oid)
		return commitMsg{c, err}
	})
}

func (p *commitPage) Title() string { return "commit " + shortID(p.commit.OID) }
func (p *commitPage) Typing() bool  { return false }

func (p *commitPage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.vp.Width, p.vp.Height = w, h
	p.build()
}

func (p *commitPage) redraw() { p.build() }

// build lays out the commit, with its diff as far as it has been
// highlighted (plain until then).
func (p *commitPage) build() {
	if p.full == nil || p.w == 0 {
		return
	}
	st := p.c.st
	c := p.full
	lines := []string{
		" " + st.Title.Render(c.Subject),
		" " + st.DiffHunk.Render(c.OID) + st.Dim.Render(" · "+c.Author+" · "+ago(p.c.now(), c.Time)),
	}
	if b := strings.TrimSpace(c.Body); b != "" {
		lines = append(lines, "")
		for _, l := range strings.Split(b, "\n") {
			lines = append(lines, " "+l)
		}
	}
	lines = append(lines, "")
	rows, _ := diffRows(st, p.c.cache, parseDiff(c.Diff), p.w-1, nil)
	for _, r := range rows {
		lines = append(lines, " "+r)
	}
	p.vp.SetContent(strings.Join(lines, "\n"))
}

func (p *commitPage) Update(msg tea.Msg) (page, tea.Cmd) {
	if m, ok := msg.(pageMsg); ok {
		if m.to != p.id {
			return p, nil
		}
		if cm, ok := m.msg.(commitMsg); ok {
			p.err = cm.err
			if cm.err == nil {
				p.full = cm.c
				p.build()
			}
		}
		return p, nil
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return p, cmd
}

func (p *commitPage) View() string {
	st := p.c.st
	switch {
	case p.err != nil && p.full == nil:
		return " " + errorText(st, "commit", p.err)
	case p.full == nil:
		return st.Dim.Render("  loading commit…")
	}
	return p.vp.View()
}

func (p *commitPage) ShortHelp() []key.Binding {
	k := p.c.keys
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Back}
}

func (p *commitPage) FullHelp() [][]key.Binding {
	k := p.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}}
}
