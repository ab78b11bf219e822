package tuicmd

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"example.com/grove/repo"
	"example.com/grove/tui"
	"example.com/grove/tui/render"
)

// These benchmarks run the UI in process over the real adapter and a home
// made by bench/issues (10,000 issues: see docs/BENCHMARKS.md, "TUI"), at
// 120x40 with colours, the way grove-tui runs it but without a terminal.
// Set GROVE_BENCH_HOME to run them:
//
//	GROVE_BENCH_HOME=/tmp/h10k go test -run '^$' -bench . ./cmd/tuicmd

func benchHome(b *testing.B) (repo.Home, string) {
	dir := os.Getenv("GROVE_BENCH_HOME")
	if dir == "" {
		b.Skip("GROVE_BENCH_HOME is not set")
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "storage", "*.git"))
	if len(ents) != 1 {
		b.Fatalf("want one project in %s", dir)
	}
	return repo.Home{Dir: dir}, strings.TrimSuffix(filepath.Base(ents[0]), ".git")
}

// firstRow matches a list row with the cursor on it, as drawn.
var firstRow = regexp.MustCompile(`(?m)^▌ [●✕] [0-9a-f]{7} `)

// loop runs a Model as bubbletea does, minus the terminal: commands run in
// goroutines and their messages come back to Update one at a time.
type loop struct {
	b       *testing.B
	m       tea.Model
	msgs    chan tea.Msg
	pending int
}

func newLoop(b *testing.B, h repo.Home, rid string) *loop {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	r.SetHasDarkBackground(true)
	m := tui.New(tui.Options{Source: newAdapter(h, time.Now).source(), Renderer: r, Text: render.New(termenv.ANSI256, true), RID: rid})
	l := &loop{b: b, m: m, msgs: make(chan tea.Msg, 64)}
	l.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	l.start(m.Init())
	return l
}

// openList returns a loop with the first rows of the open issues drawn
// and no command left to run.
func openList(b *testing.B, h repo.Home, rid string) *loop {
	l := newLoop(b, h, rid)
	l.until(firstRow.MatchString)
	l.settle()
	return l
}

func (l *loop) start(c tea.Cmd) {
	if c == nil {
		return
	}
	l.pending++
	go func() { l.msgs <- c() }()
}

func (l *loop) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			l.start(c)
		}
	default:
		_, c := l.m.Update(msg)
		l.start(c)
	}
}

// until handles messages until the view satisfies ok, and returns it.
func (l *loop) until(ok func(string) bool) string {
	deadline := time.After(10 * time.Minute)
	for {
		v := ansi.Strip(l.m.View())
		if ok(v) {
			return v
		}
		if l.pending == 0 {
			l.b.Fatalf("nothing left to wait for, and the screen is:\n%s", v)
		}
		select {
		case msg := <-l.msgs:
			l.pending--
			l.send(msg)
		case <-deadline:
			l.b.Fatalf("gave up waiting; the screen is:\n%s", v)
		}
	}
}

// settle handles messages until no command is left.
func (l *loop) settle() {
	for l.pending > 0 {
		msg := <-l.msgs
		l.pending--
		l.send(msg)
	}
}

func (l *loop) key(k tea.KeyMsg) string {
	_, c := l.m.Update(k)
	l.start(c)
	return l.m.View()
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// BenchmarkOpen times what grove-tui RID does before the first issue row is
// drawn: the model, the first queries and the first frames.
func BenchmarkOpen(b *testing.B) {
	h, rid := benchHome(b)
	for b.Loop() {
		l := newLoop(b, h, rid)
		l.until(firstRow.MatchString)
		b.StopTimer()
		l.settle()
		b.StartTimer()
	}
}

// BenchmarkKey times Update and View for one key on the open list of all
// issues: what each key press costs before the next frame.
func BenchmarkKey(b *testing.B) {
	h, rid := benchHome(b)
	for _, k := range []struct {
		name string
		keys []tea.KeyMsg
	}{
		{"j", []tea.KeyMsg{runes("j")}},
		{"k", []tea.KeyMsg{runes("k")}},
		{"pgdn", []tea.KeyMsg{{Type: tea.KeyPgDown}}},
		{"G-g", []tea.KeyMsg{runes("G"), runes("g")}},
	} {
		b.Run(k.name, func(b *testing.B) {
			l := openList(b, h, rid)
			l.key(runes("G")) // in the middle, so that j and k both move
			for range 5000 {
				l.key(runes("k"))
			}
			for b.Loop() {
				for _, m := range k.keys {
					l.key(m)
				}
			}
			l.settle()
		})
	}
}

// BenchmarkState times s (open → closed → all → open) from the key press
// until the new list is drawn.
func BenchmarkState(b *testing.B) {
	h, rid := benchHome(b)
	l := openList(b, h, rid)
	for b.Loop() {
		for _, want := range []string{"state: closed", "state: all", "state: open"} {
			l.key(runes("s"))
			l.until(func(v string) bool { return strings.Contains(v, want) && l.pending == 0 })
		}
	}
}

// BenchmarkSearchKey times Update and View for one letter typed into the
// search prompt (the query it starts runs after the frame).
func BenchmarkSearchKey(b *testing.B) {
	h, rid := benchHome(b)
	l := openList(b, h, rid)
	l.key(runes("/"))
	for b.Loop() {
		l.key(runes("x"))
		b.StopTimer()
		l.key(tea.KeyMsg{Type: tea.KeyBackspace})
		l.settle()
		b.StartTimer()
	}
}

// BenchmarkSearch times typing "timeout 17" at once into the search
// prompt until the answer is drawn.
func BenchmarkSearch(b *testing.B) {
	h, rid := benchHome(b)
	l := openList(b, h, rid)
	for b.Loop() {
		l.key(runes("/"))
		for _, r := range "timeout 17" {
			l.key(runes(string(r)))
		}
		l.key(tea.KeyMsg{Type: tea.KeyEnter})
		l.until(func(v string) bool {
			return strings.Contains(v, "search: timeout 17") && l.pending == 0
		})
		b.StopTimer()
		l.key(tea.KeyMsg{Type: tea.KeyEsc})
		l.settle()
		b.StartTimer()
	}
}
