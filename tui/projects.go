package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// projectsPage lists the projects in local storage.
type projectsPage struct {
	c        *common
	id       int
	w, h     int
	list     list
	projects []Project
	loaded   bool
	err      error
	running  bool // a load is running
	queued   bool // and another was asked meanwhile
	done     int  // while the source builds an issue index: issues done
	total    int  // and to do
}

type projectsMsg struct {
	projects []Project
	err      error
}

func newProjectsPage(c *common) *projectsPage {
	return &projectsPage{c: c, id: c.id()}
}

func (p *projectsPage) Init() tea.Cmd { return p.Reload() }

func (p *projectsPage) Reload() tea.Cmd {
	if p.running {
		p.queued = true
		return nil
	}
	p.running = true
	src := p.c.src.Projects
	return p.c.loadWithProgress(p.id, func(ctx context.Context, progress func(done, total int)) tea.Msg {
		ps, err := src.Projects(ctx, progress)
		return projectsMsg{ps, err}
	})
}

func (p *projectsPage) Title() string { return "projects" }
func (p *projectsPage) Typing() bool  { return false }

func (p *projectsPage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.list.setHeight(h - 2)
}

func (p *projectsPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != p.id {
			return p, nil
		}
		switch m := msg.msg.(type) {
		case progressMsg:
			p.done, p.total = m.done, m.total
			return p, m.next
		case projectsMsg:
			p.running = false
			p.done, p.total = 0, 0
			p.loaded = true
			p.projects, p.err = m.projects, m.err
			p.list.setLen(len(p.projects))
			if p.queued {
				p.queued = false
				return p, p.Reload()
			}
		}
		return p, nil
	case tea.KeyMsg:
		k := p.c.keys
		switch {
		case key.Matches(msg, k.Open, k.Right):
			if p.list.cursor < len(p.projects) {
				return p, push(newProjectPage(p.c, p.projects[p.list.cursor], false))
			}
			return p, nil
		}
	}
	p.list.update(msg, p.c.keys)
	return p, nil
}

func (p *projectsPage) View() string {
	st := p.c.st
	switch {
	case p.err != nil:
		return errorText(st, "projects", p.err)
	case !p.loaded && p.total > 0:
		return st.Dim.Render("  " + indexing(p.done, p.total))
	case !p.loaded:
		return st.Dim.Render("  loading projects…")
	case len(p.projects) == 0:
		return st.Dim.Render("  no projects yet: run 'grove init' in a git repository, or 'grove clone RID'")
	}
	// name | description | rid | seeding | peers | issues | patches
	wide := p.w >= 100
	nameW := 20
	ridW := 14
	tailW := 8 + 7 + 8 + 9 // seeding, peers, issues, patches
	if !wide {
		ridW = 0
	}
	descW := max(p.w-2-nameW-ridW-tailW-2, 10)
	cols := func(name, desc, rid, seed, peers, iss, pat string) string {
		s := fit(name, nameW) + " " + fit(desc, descW) + " "
		if wide {
			s += fit(rid, ridW)
		}
		return s + fitRight(seed, 8) + fitRight(peers, 7) + fitRight(iss, 8) + fitRight(pat, 9)
	}
	head := "  " + st.Dim.Render(cols("NAME", "DESCRIPTION", "RID", "SEEDING", "PEERS", "ISSUES", "PATCHES"))
	body := p.list.render(st, p.w, true, func(i, w int) string {
		pr := p.projects[i]
		seed := st.Dim.Render("no")
		if pr.Seeding {
			seed = st.Open.Render("yes")
		}
		return cols(st.Bold.Render(pr.Name), pr.Description, st.Dim.Render(shortRID(pr.RID)), seed,
			itoa(pr.Peers), itoa(pr.OpenIssues), itoa(pr.OpenPatches))
	})
	foot := st.Dim.Render("  " + plural(len(p.projects), "project"))
	return strings.Join([]string{head, body, foot}, "\n")
}

func (p *projectsPage) ShortHelp() []key.Binding {
	k := p.c.keys
	return []key.Binding{k.Up, k.Down, k.Open, k.Back}
}

func (p *projectsPage) FullHelp() [][]key.Binding {
	k := p.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Open, k.Refresh}}
}

// shortRID shows the distinctive end of an RID.
func shortRID(rid string) string {
	if len(rid) > 16 {
		return rid[:4] + "…" + rid[len(rid)-8:]
	}
	return rid
}
