package tui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// prompt is a one-line input shown at the bottom of a tab: search, a label
// filter, labels to set.
type prompt struct {
	ti     textinput.Model
	active bool
	kind   string // what the input is for; the owner decides
}

func newPrompt(st *Styles) prompt {
	ti := textinput.New()
	ti.PromptStyle = st.Prompt
	ti.TextStyle = st.r.NewStyle()
	ti.PlaceholderStyle = st.Dim
	ti.Cursor.Style = st.r.NewStyle().Reverse(true)
	ti.Cursor.TextStyle = st.r.NewStyle()
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.CharLimit = 1000
	return prompt{ti: ti}
}

// open starts input of kind with a prompt label and initial value.
func (p *prompt) open(kind, label, value string) {
	p.kind, p.active = kind, true
	p.ti.Prompt = label
	p.ti.SetValue(value)
	p.ti.CursorEnd()
	p.ti.Focus()
}

func (p *prompt) close() {
	p.active = false
	p.ti.Blur()
}

func (p *prompt) setWidth(w int) { p.ti.Width = max(w-len(p.ti.Prompt)-2, 1) }

func (p *prompt) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.ti, cmd = p.ti.Update(msg)
	return cmd
}

func (p *prompt) value() string { return p.ti.Value() }

func (p *prompt) view() string { return p.ti.View() }
