package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// projectPage is one project with tabs: issues, patches, code, peers.
type projectPage struct {
	c        *common
	id       int
	w, h     int
	project  Project
	needLoad bool
	err      error
	tabs     []page
	names    []string
	active   int
	started  []bool
	stale    []bool
}

type projectMsg struct {
	project Project
	err     error
}

// newProjectPage opens project pr; byRID means only pr.RID is known yet.
func newProjectPage(c *common, pr Project, byRID bool) *projectPage {
	p := &projectPage{c: c, id: c.id(), project: pr, needLoad: byRID}
	p.tabs = []page{
		newIssuesTab(c, pr.RID),
		newPatchesTab(c, pr.RID),
		newCodeTab(c, pr.RID, pr.DefaultBranch),
		newPeersTab(c, pr.RID),
	}
	p.names = []string{"Issues", "Patches", "Code", "Peers"}
	p.started = make([]bool, len(p.tabs))
	p.stale = make([]bool, len(p.tabs))
	return p
}

// Init loads the first tab. A page opened by RID loads its header once the
// tab has its first answer: the list comes first, and on a busy machine
// the two would only slow each other down.
func (p *projectPage) Init() tea.Cmd {
	p.started[p.active] = true
	cmd := p.tabs[p.active].Init()
	if cmd == nil && p.needLoad {
		p.needLoad = false
		return p.loadProject()
	}
	return cmd
}

func (p *projectPage) loadProject() tea.Cmd {
	src, rid := p.c.src.Projects, p.project.RID
	return p.c.load(p.id, func(ctx context.Context) tea.Msg {
		pr, err := src.Project(ctx, rid)
		return projectMsg{project: pr, err: err}
	})
}

func (p *projectPage) Reload() tea.Cmd {
	for i := range p.tabs {
		p.stale[i] = i != p.active && p.started[i]
	}
	return tea.Batch(p.loadProject(), p.tabs[p.active].Reload())
}

func (p *projectPage) Title() string {
	if p.project.Name != "" {
		return p.project.Name
	}
	return shortRID(p.project.RID)
}

func (p *projectPage) Typing() bool { return p.tabs[p.active].Typing() }

const projectHeader = 3 // description, tab bar, rule

func (p *projectPage) SetSize(w, h int) {
	p.w, p.h = w, h
	for _, t := range p.tabs {
		t.SetSize(w, max(h-projectHeader, 1))
	}
}

func (p *projectPage) switchTo(i int) tea.Cmd {
	i = (i + len(p.tabs)) % len(p.tabs)
	p.active = i
	switch {
	case !p.started[i]:
		p.started[i] = true
		return p.tabs[i].Init()
	case p.stale[i]:
		p.stale[i] = false
		return p.tabs[i].Reload()
	}
	return nil
}

func (p *projectPage) Update(msg tea.Msg) (page, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to == p.id {
			if m, ok := msg.msg.(projectMsg); ok {
				if m.err == nil {
					p.project = m.project
				}
				p.err = m.err
			}
			return p, nil
		}
		var cmds []tea.Cmd
		if p.needLoad {
			p.needLoad = false
			cmds = append(cmds, p.loadProject())
		}
		for i := range p.tabs {
			var cmd tea.Cmd
			p.tabs[i], cmd = p.tabs[i].Update(msg)
			cmds = append(cmds, cmd)
		}
		return p, tea.Batch(cmds...)
	case tea.KeyMsg:
		if !p.Typing() {
			k := p.c.keys
			switch {
			case key.Matches(msg, k.NextTab):
				return p, p.switchTo(p.active + 1)
			case key.Matches(msg, k.PrevTab):
				return p, p.switchTo(p.active - 1)
			case msg.String() >= "1" && msg.String() <= "4":
				return p, p.switchTo(int(msg.String()[0] - '1'))
			}
		}
	}
	var cmd tea.Cmd
	p.tabs[p.active], cmd = p.tabs[p.active].Update(msg)
	return p, cmd
}

func (p *projectPage) View() string {
	st := p.c.st
	pr := p.project
	info := st.Title.Render(p.Title())
	if pr.Description != "" {
		info += st.Dim.Render(" — " + pr.Description)
	}
	var right []string
	if pr.Visibility == "private" {
		right = append(right, st.Label.Render("private"))
	}
	if pr.Seeding {
		right = append(right, st.Open.Render("seeding"))
	}
	right = append(right, st.Dim.Render(shortRID(pr.RID)))
	if p.err != nil {
		right = []string{st.Error.Render(p.err.Error())}
	}
	line1 := spread(" "+info, strings.Join(right, "  ")+" ", p.w)
	var tabs []string
	for i, n := range p.names {
		label := fmt.Sprintf("%d %s", i+1, n)
		if i == p.active {
			tabs = append(tabs, st.TabActive.Render("["+label+"]"))
		} else {
			tabs = append(tabs, st.Tab.Render(" "+label+" "))
		}
	}
	bar := " " + strings.Join(tabs, " ")
	rule := st.TabGap.Render(strings.Repeat("─", max(p.w, 0)))
	return strings.Join([]string{line1, fit(bar, p.w), rule, p.tabs[p.active].View()}, "\n")
}

func (p *projectPage) ShortHelp() []key.Binding {
	return append(p.tabs[p.active].ShortHelp(), p.c.keys.NextTab)
}

func (p *projectPage) FullHelp() [][]key.Binding {
	k := p.c.keys
	return append(p.tabs[p.active].FullHelp(), []key.Binding{k.NextTab, k.PrevTab, k.Refresh})
}
