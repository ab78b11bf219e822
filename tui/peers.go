package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// peersTab shows the namespaces a project holds (followed peers and when
// they last changed) and the local node's state.
type peersTab struct {
	c      *common
	id     int
	rid    string
	w, h   int
	list   list
	peers  []Peer
	node   NodeState
	loaded bool
	err    error
}

type peersMsg struct {
	peers []Peer
	node  NodeState
	err   error
}

func newPeersTab(c *common, rid string) *peersTab {
	return &peersTab{c: c, id: c.id(), rid: rid}
}

func (t *peersTab) Init() tea.Cmd { return t.Reload() }

func (t *peersTab) Reload() tea.Cmd {
	if t.c.src.Peers == nil {
		return nil
	}
	src, rid := t.c.src.Peers, t.rid
	return t.c.load(t.id, func(ctx context.Context) tea.Msg {
		ps, err := src.Peers(ctx, rid)
		if err != nil {
			return peersMsg{err: err}
		}
		n, err := src.Node(ctx)
		return peersMsg{ps, n, err}
	})
}

func (t *peersTab) Title() string { return "Peers" }
func (t *peersTab) Typing() bool  { return false }

func (t *peersTab) SetSize(w, h int) {
	t.w, t.h = w, h
	t.list.setHeight(h - 3)
}

func (t *peersTab) Update(msg tea.Msg) (page, tea.Cmd) {
	if m, ok := msg.(pageMsg); ok {
		if m.to != t.id {
			return t, nil
		}
		if pm, ok := m.msg.(peersMsg); ok {
			t.loaded, t.err = true, pm.err
			if pm.err == nil {
				t.peers, t.node = pm.peers, pm.node
				t.list.setLen(len(t.peers))
			}
		}
		return t, nil
	}
	t.list.update(msg, t.c.keys)
	return t, nil
}

func (t *peersTab) nodeLine() string {
	st := t.c.st
	n := t.node
	if !n.Running {
		return " " + st.Dim.Render("node: ") + st.Closed.Render("stopped") + st.Dim.Render(" — start it with 'grove node start' to sync")
	}
	s := " " + st.Dim.Render("node: ") + st.Open.Render("running")
	if !n.Started.IsZero() {
		s += st.Dim.Render(" since " + ago(t.c.now(), n.Started))
	}
	s += st.Dim.Render(" · ") + plural(n.Peers, "connected peer") + st.Dim.Render(" · seeding ") + plural(n.Seeds, "project")
	return s
}

func (t *peersTab) addrLine() string {
	if !t.node.Running || len(t.node.Addrs) == 0 {
		return ""
	}
	return " " + t.c.st.Dim.Render("listening on "+strings.Join(t.node.Addrs, "  "))
}

func (t *peersTab) View() string {
	st := t.c.st
	var body string
	switch {
	case t.c.src.Peers == nil:
		body = st.Dim.Render("  peers are not available")
	case t.err != nil:
		body = " " + errorText(st, "peers", t.err)
	case !t.loaded:
		body = st.Dim.Render("  loading peers…")
	case len(t.peers) == 0:
		body = st.Dim.Render("  no namespaces")
	default:
		body = t.list.render(st, t.w, true, t.row)
	}
	head := "  " + st.Dim.Render(t.cols("PEER", "ALIAS", "ROLE", "REFS", "LAST UPDATE", t.w-2))
	return strings.Join([]string{t.nodeLine(), t.addrLine(), head, padLines(body, t.list.height)}, "\n")
}

func (t *peersTab) cols(nid, alias, role, refs, upd string, w int) string {
	nidW := max(w-14-20-6-13, 16)
	return fit(nid, nidW) + fit(alias, 14) + fit(role, 20) + fitRight(refs, 5) + " " + fitRight(upd, 12)
}

func (t *peersTab) row(i, w int) string {
	p := t.peers[i]
	var roles []string
	if p.You {
		roles = append(roles, "you")
	}
	if p.Delegate {
		roles = append(roles, "delegate")
	}
	if p.Followed {
		roles = append(roles, "followed")
	}
	nid := p.NID
	if w < 100 && len(nid) > 20 {
		nid = nid[:8] + "…" + nid[len(nid)-6:]
	}
	return t.cols(nid, p.Alias, strings.Join(roles, ","), itoa(p.Refs), ago(t.c.now(), p.Updated), w)
}

func (t *peersTab) ShortHelp() []key.Binding {
	k := t.c.keys
	return []key.Binding{k.Up, k.Down}
}

func (t *peersTab) FullHelp() [][]key.Binding {
	k := t.c.keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}} // the project page adds reload
}
