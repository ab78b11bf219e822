package tui

import (
	"strings"

	"example.com/grove/tui/remote"
)

// TextRenderer renders markdown and highlights code for the terminal the
// styles draw on. grove-tui's runs in a process of its own (tui/remote),
// so that the UI does not link glamour and chroma; tests use tui/render
// in the test's process. The UI calls it in commands, off the event loop,
// and from several at once.
type TextRenderer interface {
	// Markdown returns text rendered for width cells ("" for blank text).
	Markdown(text string, width int) string
	// Highlight returns text split into lines, coloured for a file at
	// path.
	Highlight(path, text string) []string
}

// A starter is a TextRenderer that can get ready before its first use.
type starter interface{ Start() }

// plainText renders nothing: markdown shows as it is, code without
// colours. It stands in when Options has no TextRenderer.
type plainText struct{}

func (plainText) Markdown(text string, width int) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return text
}

func (plainText) Highlight(path, text string) []string { return remote.Plain(text) }
