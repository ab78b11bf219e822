package tui

import (
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	cstyles "github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/lipgloss"
)

// maxHighlight is the size above which files are shown without colours.
const maxHighlight = 512 << 10

// highlight returns text split into lines, coloured by chroma's lexer for
// path (guessed from the content when the name says nothing) through the
// styles' renderer, so a plain terminal gets plain lines.
func highlight(st *Styles, path, text string) []string {
	text = strings.ReplaceAll(text, "\t", "    ")
	text = strings.TrimSuffix(text, "\n")
	if st.Plain() || len(text) > maxHighlight {
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
	if !st.r.HasDarkBackground() {
		theme = cstyles.Get("github")
	}
	cache := make(map[chroma.TokenType]lipgloss.Style)
	styleOf := func(t chroma.TokenType) lipgloss.Style {
		if s, ok := cache[t]; ok {
			return s
		}
		e := theme.Get(t)
		s := st.r.NewStyle()
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
