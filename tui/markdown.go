package tui

import (
	"strings"

	"github.com/charmbracelet/glamour"
	gstyles "github.com/charmbracelet/glamour/styles"
)

// markdown renders markdown with glamour, one renderer per width, in the
// colours the styles' renderer allows.
type markdown struct {
	st    *Styles
	cache map[int]*glamour.TermRenderer
}

func newMarkdown(st *Styles) *markdown {
	return &markdown{st: st, cache: make(map[int]*glamour.TermRenderer)}
}

// render returns text rendered for width cells; on any failure it returns
// the text as it is.
func (m *markdown) render(text string, width int) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	width = max(width, 20)
	r, ok := m.cache[width]
	if !ok {
		style := gstyles.DarkStyle
		switch {
		case m.st.Plain():
			style = gstyles.NoTTYStyle
		case !m.st.r.HasDarkBackground():
			style = gstyles.LightStyle
		}
		var err error
		r, err = glamour.NewTermRenderer(
			glamour.WithStandardStyle(style),
			glamour.WithColorProfile(m.st.r.ColorProfile()),
			glamour.WithWordWrap(width),
		)
		if err != nil {
			r = nil
		}
		m.cache[width] = r
	}
	if r == nil {
		return text
	}
	out, err := r.Render(text)
	if err != nil {
		return text
	}
	return strings.Trim(out, "\n")
}
