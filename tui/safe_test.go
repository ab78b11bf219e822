package tui

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"example.com/grove/protocol/termtext"
)

// What a malicious peer writes into every field (as in cmd's
// termsafe_test.go): window title (OSC 0), clipboard (OSC 52), link
// (OSC 8), screen clear and colour (CSI), DCS, C1 controls, bidi
// override and isolate, DEL and backspace, and bytes that are not UTF-8
// where git lets them in (paths, commits, files).
const (
	evilLine = "evil \x1b]0;pwned\x07 \x1b]52;c;cm0gLXJmIH4K\x07 \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ " +
		"\x1b[2J\x1b[31mRED\x1b[0m \x1bP+q544e\x1b\\ \u009b2J \u009d0;c1\u009c \u202egnp.exe\u2066 \x7f\b"
	evilText = evilLine + "\nsecond line \x1b[1A\x1b[2K\rover \xff\xfe"
	// Authors are aliases, short.
	evilName = "m\x1b]0;a\x07\u202e"
)

// poison makes every string of f that a peer or a commit writes evil,
// keeping IDs (which the screens' keys and the fixture look up).
func poison(f *fixture) {
	for i := range f.projects {
		p := &f.projects[i]
		p.Name, p.Description = evilLine+p.Name, evilLine
		p.Delegates = append(p.Delegates, evilLine)
	}
	for _, l := range f.issues {
		for _, is := range l {
			is.Title, is.Body, is.Author = "Crash "+evilLine+is.Title, evilText+is.Body, evilName
			is.Labels, is.Assignees = append(is.Labels, evilLine), append(is.Assignees, evilLine)
			for i := range is.Thread {
				is.Thread[i].Body, is.Thread[i].Author = evilText, evilName
			}
		}
	}
	for _, l := range f.patches {
		for _, p := range l {
			p.Title, p.Body, p.Author = evilLine+p.Title, evilText, evilName
			p.Labels = append(p.Labels, evilLine)
			for i := range p.Revisions {
				r := &p.Revisions[i]
				r.Description, r.Author = evilText, evilName
				r.Diff += "diff --git a/" + evilLine + " b/" + evilLine + "\n--- a/" + evilLine + "\n+++ b/" + evilLine + "\n@@ -1 +1 @@\n-" + evilLine + "\n+" + evilText + "\n"
				for j := range r.Reviews {
					rv := &r.Reviews[j]
					rv.Body, rv.Author = evilText, evilName
					for k := range rv.Comments {
						rv.Comments[k].Body = evilText
					}
				}
			}
		}
	}
	for p, content := range f.files {
		f.files[p] = content + evilText
	}
	f.files["evil \x1b]0;pwned\x07 \u202egnp\u009b2J\x7f.go"] = evilText
	for i := range f.commits {
		c := &f.commits[i]
		c.Subject, c.Body, c.Author, c.Diff = evilLine+c.Subject, evilText, evilName, c.Diff+"+"+evilText+"\n"
	}
	for i := range f.peers {
		f.peers[i].Alias = evilName
	}
	f.node.Addrs = append(f.node.Addrs, evilLine)
}

// colourRenderer draws in 256 colours, as on most terminals: the frames
// then hold the styles' own escape sequences beside the text.
func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	r.SetHasDarkBackground(true)
	return r
}

// evilBranches is the fixture's code with a branch whose name a peer
// chose (git allows C1 and bidi controls in ref names).
type evilBranches struct{ *fixture }

func (e evilBranches) Branches(ctx context.Context, rid string) ([]Branch, error) {
	return []Branch{{Name: "dev\u202e\u009b2J", Head: evilLine}, {Name: "main", Head: "e1e1e1e1", Default: true}}, nil
}

func hostileSource() Source {
	f := newFixture()
	poison(f)
	s := f.source()
	s.Code = evilBranches{f}
	return s
}

// checkDrawn fails t if s, a frame the UI drew, holds anything a terminal
// acts on other than the styles' own colours (SGR: ESC [ digits m): no
// OSC, DCS or other ESC sequence, no C0 control but newline, no C1 or
// bidi control, nothing that is not UTF-8.
func checkDrawn(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s: not UTF-8:\n%q", what, s)
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b {
			j := i + 1
			if j < len(s) && s[j] == '[' {
				j++
				for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
					j++
				}
				if j < len(s) && s[j] == 'm' {
					i = j + 1
					continue
				}
			}
			t.Fatalf("%s: an escape sequence that is not a colour at byte %d: %q", what, i, s[i:min(len(s), i+24)])
		}
		if termtext.Unsafe(r) && r != '\n' {
			t.Fatalf("%s: %U at byte %d of\n%q", what, r, i, s)
		}
		i += n
	}
}

// TestHostileTextIsDrawnSafely draws every screen of a world a malicious
// peer wrote (titles, bodies, comments, labels, names, aliases, branch and
// file names, file contents, commit messages, diffs, reviews), at two
// sizes and with a colour renderer: no frame holds a sequence a terminal
// acts on, and the evil text is still shown, made visible.
func TestHostileTextIsDrawnSafely(t *testing.T) {
	for _, sc := range screens {
		for _, size := range [][2]int{{80, 24}, {160, 50}} {
			name := sc.name + "-" + itoa(size[0]) + "x" + itoa(size[1])
			t.Run(name, func(t *testing.T) {
				m := New(Options{Source: hostileSource(), Renderer: colourRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: sc.rid})
				d := &driver{t: t, m: m}
				d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				d.run(m.Init())
				d.keys(sc.keys...)
				checkDrawn(t, name, d.m.View())
			})
		}
	}
	// The evil text is shown, made visible.
	d := &driver{t: t, m: New(Options{Source: hostileSource(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA})}
	d.send(tea.WindowSizeMsg{Width: 200, Height: 50})
	d.run(d.m.Init())
	if s := d.screen(); !strings.Contains(s, "Crash evil ^[]0;pwned^G ^[]52;c;") {
		t.Errorf("the evil title is not shown visibly:\n%s", s)
	}
	d.keys("3") // the code tab: a branch and a file named by a peer
	if s := d.screen(); !strings.Contains(s, "  evil ^[]0;pwned^G <U+202E>gnp<U+009B>2J^?.go") {
		t.Errorf("the evil file name is not shown visibly:\n%s", s)
	}
	d.keys("b") // the next branch, dev and its controls
	checkDrawn(t, "dev branch", d.m.View())
	if s := d.screen(); !strings.Contains(s, "branch: dev<U+202E><U+009B>2J") {
		t.Errorf("the evil branch name is not shown visibly:\n%s", s)
	}
	d.keys("b", "down", "down", "down", "enter") // the evil file
	checkDrawn(t, "evil file", d.m.View())
	if s := d.screen(); !strings.Contains(s, "main:evil ^[]0;pwned^G <U+202E>gnp<U+009B>2J^?.go") || !strings.Contains(s, "second line ^[[1A^[[2K^Mover \uFFFD\uFFFD") {
		t.Errorf("the evil file is not shown visibly:\n%s", s)
	}
}

// TestHostileTitleEmitsNoOSC runs the UI as a program (teatest) on a
// project whose issue titles a malicious peer wrote: what the program
// writes to the terminal holds the title, made visible, and no OSC, DCS,
// APC, PM or SOS sequence, BEL, C1 or bidi control.
func TestHostileTitleEmitsNoOSC(t *testing.T) {
	m := New(Options{Source: hostileSource(), Renderer: colourRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 40))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash evil ^[]0;pwned^G")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "second line ^[[1A^[[2K^Mover")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	out := w.all.String()
	for _, seq := range []string{"\x1b]", "\x1bP", "\x1b_", "\x1b^", "\x1bX", "\x07"} {
		if i := strings.Index(out, seq); i >= 0 {
			t.Fatalf("the program wrote %q at byte %d: %q", seq, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
	if !utf8.ValidString(out) {
		t.Fatalf("the program wrote bytes that are not UTF-8")
	}
	for i, r := range out {
		if r >= 0x80 && termtext.Unsafe(r) {
			t.Fatalf("the program wrote %U at byte %d: %q", r, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
}
