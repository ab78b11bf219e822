package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap holds every binding; pages pick the ones they show in the help bar.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Left, Right, Open, Back, Quit, Help     key.Binding
	NextTab, PrevTab, Refresh               key.Binding
	Search, State, LabelFilter, New         key.Binding
	Comment, Reply, Close, Labels           key.Binding
	NextItem, PrevItem                      key.Binding
	Accept, Reject, Review, LineComment     key.Binding
	Merge, Confirm                          key.Binding
	Branch, Log, Up1                        key.Binding
	Submit, Editor, Cancel, NextField       key.Binding
	Leave, Follow                           key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:          b("↑/k", "up", "up", "k"),
		Down:        b("↓/j", "down", "down", "j"),
		PageUp:      b("pgup/ctrl+u", "page up", "pgup", "ctrl+u", "ctrl+b"),
		PageDown:    b("pgdn/ctrl+d", "page down", "pgdown", "ctrl+d", "ctrl+f", " "),
		Top:         b("g/home", "top", "g", "home"),
		Bottom:      b("G/end", "bottom", "G", "end"),
		Left:        b("←/h", "left", "left", "h"),
		Right:       b("→/l", "right", "right", "l"),
		Open:        b("enter", "open", "enter"),
		Back:        b("q/esc", "back", "q", "esc"),
		Quit:        b("ctrl+c", "quit", "ctrl+c"),
		Help:        b("?", "help", "?"),
		NextTab:     b("tab", "next tab", "tab"),
		PrevTab:     b("shift+tab", "prev tab", "shift+tab"),
		Refresh:     b("R", "reload", "R"),
		Search:      b("/", "search", "/"),
		State:       b("s", "open/closed/all", "s"),
		LabelFilter: b("L", "label filter", "L"),
		New:         b("n", "new issue", "n"),
		Comment:     b("c", "comment", "c"),
		Reply:       b("r", "reply", "r"),
		Close:       b("x", "close/reopen", "x"),
		Labels:      b("e", "edit labels", "e"),
		NextItem:    b("]", "next", "]", "J"),
		PrevItem:    b("[", "previous", "[", "K"),
		Accept:      b("a", "accept", "a"),
		Reject:      b("x", "reject", "x"),
		Review:      b("c", "comment", "c"),
		LineComment: b("i", "comment line", "i"),
		Merge:       b("m", "merge", "m"),
		Confirm:     b("y", "merge", "y"),
		Branch:      b("b", "branch", "b"),
		Log:         b("o", "log/tree", "o"),
		Up1:         b("backspace", "parent dir", "backspace", "-"),
		Submit:      b("ctrl+s", "submit", "ctrl+s"),
		Editor:      b("ctrl+e", "$EDITOR", "ctrl+e"),
		Cancel:      b("esc", "cancel", "esc"),
		Leave:       b("esc", "leave", "esc"),
		NextField:   b("tab", "next field", "tab"),
		Follow:      b("f", "select link", "f"),
	}
}

// typed returns what a key message means to a text input, as messages no
// binding mistakes for a key. A terminal sends a fast burst of typing (or
// a paste without bracketed paste) as one read, and bubbletea delivers the
// characters between two spaces of it as one KeyMsg whose String() is the
// word itself: the word "end" would match the binding "end", "up" would
// move the cursor and "tab" or "enter" would leave the field. A run of
// characters is therefore marked as a paste, which bubbletea prints as
// "[end]" and no binding matches, while the text areas insert its runes
// as they are. An alt-modified run is the escape key's alt on its first
// character and plain text after it, which is what the terminal sent.
func typed(msg tea.KeyMsg) []tea.KeyMsg {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return []tea.KeyMsg{msg}
	}
	if msg.Alt {
		first := tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes[:1], Alt: true}
		rest := tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes[1:]}
		return append([]tea.KeyMsg{first}, typed(rest)...)
	}
	msg.Paste = true
	return []tea.KeyMsg{msg}
}
