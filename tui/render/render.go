// Package render draws markdown with glamour and highlights code with
// chroma for the terminal UI, in grove-tui's process.
package render

import (
	"io"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	cstyles "github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/glamour"
	gstyles "github.com/charmbracelet/glamour/styles"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// MaxHighlight is the size above which code is shown without colours.
const MaxHighlight = 512 << 10

// Renderer renders markdown and code for a terminal with one colour
// profile and background.
type Renderer struct {
	r *lipgloss.Renderer

	mu    sync.Mutex
	cache map[int]*glamour.TermRenderer // by width; nil when one failed
}

// New returns a renderer for a terminal with colour profile p and a dark
// background or not.
func New(p termenv.Profile, dark bool) *Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	r.SetHasDarkBackground(dark)
	return &Renderer{r: r, cache: make(map[int]*glamour.TermRenderer)}
}

// Markdown returns text rendered for width cells; on any failure, a panic
// in glamour included (texts come from peers), it returns the text as it
// is.
func (m *Renderer) Markdown(text string, width int) (out string) {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	width = max(width, 20)
	m.mu.Lock()
	defer m.mu.Unlock()
	defer func() {
		if recover() != nil {
			delete(m.cache, width) // a renderer that panicked is not used again
			out = text
		}
	}()
	r, ok := m.cache[width]
	if !ok {
		style := gstyles.DarkStyle
		switch {
		case m.r.ColorProfile() == termenv.Ascii:
			style = gstyles.NoTTYStyle
		case !m.r.HasDarkBackground():
			style = gstyles.LightStyle
		}
		var err error
		r, err = glamour.NewTermRenderer(
			glamour.WithStandardStyle(style),
			glamour.WithColorProfile(m.r.ColorProfile()),
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

// Highlight returns text split into lines, coloured by chroma's lexer for
// path (guessed from the content when the name says nothing), so a plain
// terminal gets plain lines; on a panic in chroma, plain lines too.
func (m *Renderer) Highlight(path, text string) (out []string) {
	text = strings.ReplaceAll(text, "\t", "    ")
	text = strings.TrimSuffix(text, "\n")
	defer func() {
		if recover() != nil {
			out = strings.Split(text, "\n")
		}
	}()
	if m.r.ColorProfile() == termenv.Ascii || len(text) > MaxHighlight {
		return strings.Split(text, "\n")
	}
	lx := lexers.Match(path)
	if lx == nil {
		lx = lexers.Analyse(text)
	}
	if lx == nil {
		return strings.Split(text, "\n")
	}
	lx = chroma.Coalesce(lx)
	it, err := lx.Tokenise(nil, text)
	if err != nil {
		return strings.Split(text, "\n")
	}
	theme := cstyles.Get("monokai")
	if !m.r.HasDarkBackground() {
		theme = cstyles.Get("github")
	}
	cache := make(map[chroma.TokenType]lipgloss.Style)
	styleOf := func(t chroma.TokenType) lipgloss.Style {
		if s, ok := cache[t]; ok {
			return s
		}
		e := theme.Get(t)
		s := m.r.NewStyle()
		if e.Colour.IsSet() {
			s = s.Foreground(lipgloss.Color(e.Colour.String()))
		}
		if e.Bold == chroma.Yes {
			s = s.Bold(true)
		}
		if e.Italic == chroma.Yes {
			s = s.Italic(true)
		}
		cache[t] = s
		return s
	}
	var lines []string
	var cur strings.Builder
	for tok := it(); tok != chroma.EOF; tok = it() {
		parts := strings.Split(tok.Value, "\n")
		s := styleOf(tok.Type)
		for i, p := range parts {
			if i > 0 {
				lines = append(lines, cur.String())
				cur.Reset()
			}
			if p != "" {
				cur.WriteString(s.Render(p))
			}
		}
	}
	lines = append(lines, cur.String())
	return lines
}
