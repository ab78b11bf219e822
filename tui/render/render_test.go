package render

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

func TestMarkdown(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.Ascii, termenv.ANSI256} {
		r := New(p, true)
		got := ansi.Strip(r.Markdown("It **panics**.", 80))
		if !strings.Contains(got, "panics") || p != termenv.Ascii && strings.Contains(got, "**") {
			t.Errorf("profile %v: Markdown = %q, want the text (without its markup in colour)", p, got)
		}
		if got := r.Markdown(" \n\t", 80); got != "" {
			t.Errorf("profile %v: Markdown of blank text = %q, want \"\"", p, got)
		}
	}
}

func TestHighlight(t *testing.T) {
	src := "package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n"
	want := strings.Split(strings.TrimSuffix(strings.ReplaceAll(src, "\t", "    "), "\n"), "\n")
	plain := New(termenv.Ascii, true).Highlight("main.go", src)
	if strings.Join(plain, "\n") != strings.Join(want, "\n") {
		t.Errorf("Highlight on a plain terminal = %q, want %q", plain, want)
	}
	colour := New(termenv.ANSI256, true).Highlight("main.go", src)
	if len(colour) != len(want) {
		t.Fatalf("Highlight gave %d lines, want %d", len(colour), len(want))
	}
	for i := range want {
		if ansi.Strip(colour[i]) != want[i] {
			t.Errorf("line %d = %q, want %q under its colours", i, ansi.Strip(colour[i]), want[i])
		}
	}
	if colour[0] == want[0] {
		t.Errorf("Highlight on a 256-colour terminal did not colour %q", colour[0])
	}
}
