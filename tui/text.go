package tui

import "strings"

// TextRenderer renders markdown and highlights code for the terminal the
// styles draw on (grove-tui's and the tests' is tui/render). The UI calls
// it in commands, off the event loop, and from several at once.
type TextRenderer interface {
	// Markdown returns text rendered for width cells ("" for blank text).
	Markdown(text string, width int) string
	// Highlight returns text split into lines, coloured for a file at
	// path.
	Highlight(path, text string) []string
}

// plainText renders nothing: markdown shows as it is, code without
// colours. It stands in when Options has no TextRenderer.
type plainText struct{}

func (plainText) Markdown(text string, width int) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return text
}

func (plainText) Highlight(path, text string) []string { return plainLines(text) }

// plainLines splits text into lines as a TextRenderer's Highlight does,
// without colours: tabs as four spaces, no final empty line.
func plainLines(text string) []string {
	text = strings.ReplaceAll(text, "\t", "    ")
	text = strings.TrimSuffix(text, "\n")
	return strings.Split(text, "\n")
}
