package tui

import (
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the UI's lipgloss styles, all made by one renderer so that a
// plain terminal (or a test) gets plain text.
type Styles struct {
	r *lipgloss.Renderer

	App, Header, Crumb, CrumbSep, Footer, Status, Error lipgloss.Style
	TabActive, Tab, TabGap                              lipgloss.Style
	Selected, Row, Dim, Bold, Title, Label              lipgloss.Style
	Open, Closed, Merged, Accept, Reject                lipgloss.Style
	Box, Note, NoteHead, Focus, LineNo                  lipgloss.Style
	DiffAdd, DiffDel, DiffHunk, DiffFile                lipgloss.Style
	Prompt, Key, KeyDesc, KeySep                        lipgloss.Style
}

var (
	cAccent = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#A78BFA"}
	cDim    = lipgloss.AdaptiveColor{Light: "#6B7280", Dark: "#8B8F98"}
	cGreen  = lipgloss.AdaptiveColor{Light: "#047857", Dark: "#34D399"}
	cRed    = lipgloss.AdaptiveColor{Light: "#B91C1C", Dark: "#F87171"}
	cPurple = lipgloss.AdaptiveColor{Light: "#7C3AED", Dark: "#C4B5FD"}
	cYellow = lipgloss.AdaptiveColor{Light: "#A16207", Dark: "#FACC15"}
	cSelBg  = lipgloss.AdaptiveColor{Light: "#E5E7EB", Dark: "#2E3440"}
	cBorder = lipgloss.AdaptiveColor{Light: "#D1D5DB", Dark: "#4B5563"}
)

// resolve picks c's shade for r's background and converts it to r's
// colour profile once. Left to lipgloss, an adaptive hex colour is
// converted on every Render, and on a 256-colour terminal that means
// finding the nearest of 256 colours in HSLuv, which was most of what
// drawing a list cost.
func resolve(r *lipgloss.Renderer, c lipgloss.AdaptiveColor) lipgloss.TerminalColor {
	hex := c.Light
	if r.HasDarkBackground() {
		hex = c.Dark
	}
	switch p := r.ColorProfile(); p {
	case termenv.Ascii:
		return lipgloss.NoColor{}
	case termenv.TrueColor:
		return lipgloss.Color(hex)
	default:
		switch v := p.Convert(termenv.RGBColor(hex)).(type) {
		case termenv.ANSI256Color:
			return lipgloss.Color(strconv.Itoa(int(v)))
		case termenv.ANSIColor:
			return lipgloss.Color(strconv.Itoa(int(v)))
		}
		return lipgloss.Color(hex)
	}
}

// NewStyles makes the styles with renderer r.
func NewStyles(r *lipgloss.Renderer) *Styles {
	n := r.NewStyle
	s := &Styles{r: r}
	var (
		cAccent = resolve(r, cAccent)
		cDim    = resolve(r, cDim)
		cGreen  = resolve(r, cGreen)
		cRed    = resolve(r, cRed)
		cPurple = resolve(r, cPurple)
		cYellow = resolve(r, cYellow)
		cSelBg  = resolve(r, cSelBg)
		cBorder = resolve(r, cBorder)
	)
	s.App = n()
	s.Header = n().Bold(true).Foreground(cAccent)
	s.Crumb = n().Foreground(cDim)
	s.CrumbSep = n().Foreground(cDim)
	s.Footer = n().Foreground(cDim)
	s.Status = n().Foreground(cGreen)
	s.Error = n().Foreground(cRed).Bold(true)
	s.TabActive = n().Bold(true).Foreground(cAccent).Underline(true)
	s.Tab = n().Foreground(cDim)
	s.TabGap = n().Foreground(cBorder)
	s.Selected = n().Background(cSelBg).Bold(true)
	s.Row = n()
	s.Dim = n().Foreground(cDim)
	s.Bold = n().Bold(true)
	s.Title = n().Bold(true)
	s.Label = n().Foreground(cYellow)
	s.Open = n().Foreground(cGreen)
	s.Closed = n().Foreground(cRed)
	s.Merged = n().Foreground(cPurple)
	s.Accept = n().Foreground(cGreen).Bold(true)
	s.Reject = n().Foreground(cRed).Bold(true)
	s.Box = n().Border(lipgloss.RoundedBorder()).BorderForeground(cBorder).Padding(0, 1)
	s.Note = n().Foreground(cYellow)
	s.NoteHead = n().Foreground(cYellow).Bold(true)
	s.Focus = n().Foreground(cAccent).Bold(true)
	s.LineNo = n().Foreground(cDim)
	s.DiffAdd = n().Foreground(cGreen)
	s.DiffDel = n().Foreground(cRed)
	s.DiffHunk = n().Foreground(cAccent)
	s.DiffFile = n().Bold(true)
	s.Prompt = n().Foreground(cAccent).Bold(true)
	s.Key = n().Foreground(cAccent)
	s.KeyDesc = n().Foreground(cDim)
	s.KeySep = n().Foreground(cBorder)
	return s
}

// Renderer is the renderer the styles were made with.
func (s *Styles) Renderer() *lipgloss.Renderer { return s.r }

// state styles an issue or patch state.
func (s *Styles) state(st string) string {
	switch st {
	case "open":
		return s.Open.Render("● open")
	case "closed":
		return s.Closed.Render("✕ closed")
	case "merged":
		return s.Merged.Render("◆ merged")
	}
	return st
}

// verdict styles a review verdict.
func (s *Styles) verdict(v string) string {
	switch v {
	case VerdictAccept:
		return s.Accept.Render("✔ accept")
	case VerdictReject:
		return s.Reject.Render("✘ reject")
	}
	return s.Dim.Render("○ comment")
}
