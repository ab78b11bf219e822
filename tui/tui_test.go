package tui

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"example.com/grove/tui/render"
)

// updating reports whether -update was given (the flag is charm's golden
// package's, which teatest brings in).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// plainRenderer draws without colours, as on a dumb terminal.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// testText renders markdown and code for plainRenderer's terminal, as
// grove-tui does for its own.
func testText() TextRenderer { return render.New(termenv.Ascii, true) }

// driver runs a Model in the test's goroutine: it feeds messages to
// Update and runs the commands that come back, to a fixed point. With
// hold set, renderings (renderedMsg) are kept in held instead, for the
// test to deliver when it wants.
type driver struct {
	t    *testing.T
	m    *Model
	quit bool
	hold bool
	held []renderedMsg
}

func newDriver(t *testing.T, f *fixture, rid string, w, h int) *driver {
	t.Helper()
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: rid})
	d := &driver{t: t, m: m}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	if _, ok := msg.(tea.QuitMsg); ok {
		d.quit = true
		return
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			d.run(c)
		}
		return
	}
	if r, ok := msg.(renderedMsg); ok && d.hold {
		d.held = append(d.held, r)
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// run runs cmd and sends its message; commands that wait (ticks, an
// editor) are dropped after a while.
func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		if msg != nil && reflect.TypeOf(msg).String() != "tea.execMsg" {
			d.send(msg)
		}
	case <-time.After(2 * time.Second):
		d.t.Logf("dropped a command that did not finish")
	}
}

// deliver sends held renderings to the model.
func (d *driver) deliver(rs ...renderedMsg) {
	d.t.Helper()
	for _, r := range rs {
		_, cmd := d.m.Update(r)
		d.run(cmd)
	}
}

func (d *driver) keys(ks ...string) {
	d.t.Helper()
	for _, k := range ks {
		d.send(keyMsg(k))
	}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+s":
		return tea.KeyMsg{Type: tea.KeyCtrlS}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// screen is the view as plain text, trailing spaces cut.
func (d *driver) screen() string {
	s := ansi.Strip(d.m.View())
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s\nwant:\n%s", name, got, want)
	}
}

// checkSize fails if the screen is not exactly w by h cells.
func checkSize(t *testing.T, d *driver, w, h int) {
	t.Helper()
	v := d.m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d cells wide, want at most %d: %q", i+1, lw, w, ansi.Strip(l))
		}
	}
}

// screens are the goldens: how to reach each screen from the start.
var screens = []struct {
	name string
	rid  string
	keys []string
}{
	{"projects", "", nil},
	{"issues", "", []string{"enter"}},
	{"issues-all", ridA, []string{"s", "s"}},
	{"issues-search", ridA, []string{"/", "c", "r", "a", "s", "h"}},
	{"issue", ridA, []string{"enter"}},
	{"issue-focus", ridA, []string{"enter", "]", "]"}},
	{"new-issue", ridA, []string{"n"}},
	{"comment", ridA, []string{"enter", "c"}},
	{"patches", ridA, []string{"tab"}},
	{"patch", ridA, []string{"2", "enter"}},
	{"patch-r1", ridA, []string{"2", "enter", "["}},
	{"code", ridA, []string{"3"}},
	{"code-dir", ridA, []string{"3", "enter"}},
	{"file", ridA, []string{"3", "down", "down", "down", "down", "enter"}},
	{"log", ridA, []string{"3", "o"}},
	{"commit", ridA, []string{"3", "o", "enter"}},
	{"peers", ridA, []string{"4"}},
	{"help", ridA, []string{"?"}},
}

func TestScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range screens {
			name := sc.name + "-" + itoa(size[0]) + "x" + itoa(size[1])
			t.Run(name, func(t *testing.T) {
				d := newDriver(t, newFixture(), sc.rid, size[0], size[1])
				d.keys(sc.keys...)
				checkSize(t, d, size[0], size[1])
				checkGolden(t, name, d.screen())
			})
		}
	}
}

// TestResolvedColours: styles drawn with colours resolved once look as
// lipgloss draws the adaptive colours, on every kind of terminal.
func TestResolvedColours(t *testing.T) {
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		for _, dark := range []bool{true, false} {
			r := lipgloss.NewRenderer(io.Discard)
			r.SetColorProfile(p)
			r.SetHasDarkBackground(dark)
			for _, c := range []lipgloss.AdaptiveColor{cAccent, cDim, cGreen, cRed, cPurple, cYellow, cSelBg, cBorder} {
				want := r.NewStyle().Foreground(c).Background(c).Render("x")
				got := r.NewStyle().Foreground(resolve(r, c)).Background(resolve(r, c)).Render("x")
				if got != want {
					t.Errorf("profile %v, dark %v, %v: got %q, want %q", p, dark, c, got, want)
				}
			}
		}
	}
}
