package tui

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// terminal runs a program whose input is the bytes a terminal would send,
// so that bubbletea's own input parser turns them into messages: a fast
// burst of typing arrives as one read, a paste as a bracketed paste.
// (teatest's TestModel sends one message a character, which hides how
// words of a burst reach the model.)
type terminal struct {
	t   *testing.T
	in  *io.PipeWriter
	out *syncBuffer
	p   *tea.Program
	end chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTerminal(t *testing.T, m tea.Model, w, h int) *terminal {
	t.Helper()
	r, wr := io.Pipe()
	term := &terminal{t: t, in: wr, out: &syncBuffer{}, end: make(chan error, 1)}
	term.p = tea.NewProgram(m, tea.WithInput(r), tea.WithOutput(term.out), tea.WithoutSignals())
	go func() {
		_, err := term.p.Run()
		term.end <- err
	}()
	term.p.Send(tea.WindowSizeMsg{Width: w, Height: h})
	t.Cleanup(func() {
		term.p.Kill()
		wr.Close()
		select {
		case <-term.end:
		case <-time.After(5 * time.Second):
			t.Errorf("program did not end")
		}
	})
	return term
}

// write sends b as the terminal would, in one write.
func (term *terminal) write(b string) {
	term.t.Helper()
	if _, err := term.in.Write([]byte(b)); err != nil {
		term.t.Fatal(err)
	}
}

// paste sends s as a bracketed paste.
func (term *terminal) paste(s string) { term.write("\x1b[200~" + s + "\x1b[201~") }

// waitFor waits until s has been drawn, at most 5 s.
func (term *terminal) waitFor(s string) {
	term.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(ansi.Strip(term.out.String()), s) {
		if time.Now().After(deadline) {
			term.t.Fatalf("%q not drawn in 5s; the last output:\n%s", s, tail(ansi.Strip(term.out.String()), 2000))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// navigationWords are the names of every key a text input or form acts on,
// written as words.
const navigationWords = "up down left right home end pgup pgdown tab shift+tab enter esc backspace delete insert ctrl+s ctrl+e space"

// TestTypedTextSurvives files an issue, comments and sets labels with text
// that holds every navigation word, typed in fast bursts (one read each)
// and pasted, through bubbletea's input parser; what the source stores is
// exactly the text.
func TestTypedTextSurvives(t *testing.T) {
	f := newFixture()
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA})
	term := newTerminal(t, m, 120, 40)
	term.waitFor("Crash on start")

	title := "Scroll up and down to the end, " + navigationWords
	body1 := "Press home then end, left or right\nshould end with a newline?\ngo up and down"
	body2 := " and " + navigationWords
	labels := "up, end, home"

	term.write("n")
	term.waitFor("File a new issue.")
	term.write(title) // a burst
	term.write("\t")  // the tab key: next field
	term.write(labels)
	term.write("\t")
	term.paste(body1)
	term.write(body2)
	term.write("\x13") // ctrl+s
	term.waitFor("filed issue")

	f.mu.Lock()
	got := *f.issues[ridA][0]
	f.mu.Unlock()
	if got.Title != title {
		t.Errorf("title = %q, want %q", got.Title, title)
	}
	if want := body1 + body2; got.Body != want {
		t.Errorf("body = %q, want %q", got.Body, want)
	}
	if strings.Join(got.Labels, ",") != "up,end,home" {
		t.Errorf("labels = %q", got.Labels)
	}

	// A comment, pasted with no bracketing (one burst with an enter in
	// it), on the first issue of the list.
	const crash = "3f2a1b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6"
	term.write("\r") // open it
	term.waitFor("r reply")
	term.write("c")
	term.waitFor("Comment on issue")
	term.write("should end with a newline? home end\rup down")
	term.write("\x13")
	term.waitFor("comment added")
	is, err := f.Issue(t.Context(), ridA, crash)
	if err != nil {
		t.Fatal(err)
	}
	if last := is.Thread[len(is.Thread)-1]; last.Body != "should end with a newline? home end\nup down" {
		t.Errorf("comment = %q", last.Body)
	}

	// The labels prompt keeps the words too; enter, the key, sets them.
	term.write("e")
	term.waitFor("labels: ")
	term.write("\x15") // ctrl+u: clear the line
	term.write("enter, esc, tab")
	term.write("\r")
	deadline := time.Now().Add(5 * time.Second)
	for {
		is, err = f.Issue(t.Context(), ridA, crash)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(is.Labels, ",") == "enter,esc,tab" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("labels = %q, want enter,esc,tab", is.Labels)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTyped(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   tea.KeyMsg
		want []string // String() of each message
	}{
		{"word", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("end")}, []string{"[end]"}},
		{"letter", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}, []string{"q"}},
		{"key", tea.KeyMsg{Type: tea.KeyEnd}, []string{"end"}},
		{"paste", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("up"), Paste: true}, []string{"[up]"}},
		{"alt letter", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("b"), Alt: true}, []string{"alt+b"}},
		{"alt word", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("bend"), Alt: true}, []string{"alt+b", "[end]"}},
		{"alt two", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("bx"), Alt: true}, []string{"alt+b", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range typed(tc.in) {
				got = append(got, m.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("typed(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDraftSurvivesEsc leaves a multi-line comment with esc, opens the
// form again, finds the draft and sends it; a sent draft is gone, and an
// empty form leaves nothing behind.
func TestDraftSurvivesEsc(t *testing.T) {
	f := newFixture()
	d := newDriver(t, f, ridA, 100, 30)
	d.keys("enter", "c")
	d.typeText("First line")
	d.keys("enter")
	d.typeText("second line")
	d.keys("esc")
	if scr := d.screen(); !strings.Contains(scr, "draft kept") || strings.Contains(scr, "Comment on issue") {
		t.Fatalf("after esc:\n%s", scr)
	}
	d.keys("c")
	if scr := d.screen(); !strings.Contains(scr, "(your draft)") || !strings.Contains(scr, "second line") {
		t.Fatalf("draft not restored:\n%s", scr)
	}
	d.typeText(", and more")
	d.keys("ctrl+s")
	is, _ := f.Issue(t.Context(), ridA, "3f2a1b7")
	if last := is.Thread[len(is.Thread)-1]; last.Body != "First line\nsecond line, and more" {
		t.Errorf("comment = %q", last.Body)
	}
	d.keys("c")
	if scr := d.screen(); strings.Contains(scr, "(your draft)") || strings.Contains(scr, "second line,") {
		t.Errorf("a sent draft came back:\n%s", scr)
	}
	d.keys("esc")
	if scr := d.screen(); strings.Contains(scr, "draft kept") {
		t.Errorf("an empty form kept a draft:\n%s", scr)
	}
	// A reply is another draft than a comment.
	d.keys("r")
	d.typeText("a reply")
	d.keys("esc", "c")
	if scr := d.screen(); strings.Contains(scr, "a reply") {
		t.Errorf("the reply's draft opened as a comment:\n%s", scr)
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n          int
		noun, want string
	}{{1, "patch", "1 patch"}, {3, "patch", "3 patches"}, {0, "issue", "0 issues"}, {2, "comment", "2 comments"}} {
		if got := plural(tc.n, tc.noun); got != tc.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
