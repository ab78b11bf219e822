package remote

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muesli/termenv"

	"example.com/grove/tui/render"
)

func newRender(p termenv.Profile, dark bool) Renderer { return render.New(p, dark) }

// pipeLaunch serves requests in this process, over pipes.
func pipeLaunch() (*proc, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := Serve(inR, outW, newRender)
		outW.CloseWithError(err)
	}()
	return &proc{
		in:  inW,
		out: bufio.NewReader(outR),
		kill: func() {
			inW.Close()
			outR.Close()
		},
		wait: func() { <-done },
	}, nil
}

var (
	markdowns = []string{
		"It **panics**.",
		"# Title\n\nSome `code`, a [link](https://example.com) and _emphasis_.\n\n- one\n- two\n\n> quoted\n\n```go\nfunc main() {\n\tprintln(\"hi\")\n}\n```\n",
		"A paragraph long enough to wrap at forty cells, and then some more words to wrap again.",
		"   \n",
		"not \xff UTF-8",
	}
	codes = []struct{ path, text string }{
		{"main.go", "package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n"},
		{"script", "#!/bin/sh\necho hi\n"},
		{"a.py", "def f():\n    return 1\n"},
		{"README.md", "# Grove\n\nPeer-to-peer.\n"},
		{"latin1.txt", "caf\xe9\n"},
		{"empty.go", ""},
	}
	profiles = []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii}
)

// checkSame checks that c renders every sample as render does in
// process, byte for byte.
func checkSame(t *testing.T, darks []bool, newClient func(p termenv.Profile, dark bool) *Client) {
	t.Helper()
	for _, p := range profiles {
		for _, dark := range darks {
			c := newClient(p, dark)
			want := render.New(p, dark)
			for _, md := range markdowns {
				for _, w := range []int{10, 40, 80, 120} {
					if got, want := c.Markdown(md, w), want.Markdown(md, w); got != want {
						t.Errorf("profile %v, dark %v: Markdown(%q, %d) = %q, want %q", p, dark, md, w, got, want)
					}
				}
			}
			for _, f := range codes {
				if got, want := c.Highlight(f.path, f.text), want.Highlight(f.path, f.text); !slices.Equal(got, want) {
					t.Errorf("profile %v, dark %v: Highlight(%q) = %q, want %q", p, dark, f.path, got, want)
				}
			}
			if c.starts != 1 {
				t.Errorf("profile %v, dark %v: %d starts, want 1", p, dark, c.starts)
			}
			c.Close()
		}
	}
}

// TestRoundTrip: markdown and code rendered through Serve are the bytes
// render gives in process.
func TestRoundTrip(t *testing.T) {
	checkSame(t, []bool{true, false}, func(p termenv.Profile, dark bool) *Client {
		return &Client{launch: pipeLaunch, profile: p, dark: dark, first: 10 * time.Second, each: 10 * time.Second}
	})
}

// TestProgram: the same through the real grove-render.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds grove-render; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "grove-render")
	if out, err := exec.Command("go", "build", "-o", bin, "example.com/grove/cmd/grove-render").CombinedOutput(); err != nil {
		t.Fatalf("go build grove-render: %v\n%s", err, out)
	}
	// Dark only: glamour registers the chroma theme of its code blocks
	// globally, once, with the colours of the first style that draws one,
	// so this process draws light code blocks in dark colours after a dark
	// one. A grove-render, like grove-tui before it, serves one terminal.
	checkSame(t, []bool{true}, func(p termenv.Profile, dark bool) *Client {
		return New(bin, p, dark, 10*time.Second, 10*time.Second)
	})
}

// TestPlainWithout: without a renderer that answers, text shows plain and
// the UI does not wait for long: a missing program fails at once, one that
// dies or hangs is started twice at most.
func TestPlainWithout(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name   string
		path   string
		starts int
		slow   bool // a call waits out the timeout
	}{
		{"none", "", 2, false},
		{"missing", filepath.Join(dir, "grove-render"), 2, false},
		{"dies", script("dies", "exit 0"), 2, false},
		{"garbage", script("garbage", "echo nonsense; exec cat >/dev/null"), 2, false},
		{"hangs", script("hangs", "exec sleep 30"), 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.path, termenv.TrueColor, true, timeout, timeout)
			defer c.Close()
			for i := range 3 {
				start := time.Now()
				md := "It **panics**."
				if got := c.Markdown(md, 80); got != md {
					t.Errorf("call %d: Markdown = %q, want %q", i, got, md)
				}
				text := "package main\n\tfunc main() {}\n"
				if got, want := c.Highlight("main.go", text), Plain(text); !slices.Equal(got, want) {
					t.Errorf("call %d: Highlight = %q, want %q", i, got, want)
				}
				limit := timeout / 2
				if tt.slow && i == 0 {
					limit = 2*timeout + time.Second // the start and its restart
				}
				if d := time.Since(start); d > limit {
					t.Errorf("call %d took %v, want at most %v", i, d, limit)
				}
			}
			if c.starts != tt.starts {
				t.Errorf("%d starts, want %d", c.starts, tt.starts)
			}
			if c.proc != nil {
				t.Errorf("a process is still running")
			}
		})
	}
}

// slowRenderer renders as render does, after a pause for the text "slow".
type slowRenderer struct {
	Renderer
	pause time.Duration
}

func (s slowRenderer) Markdown(text string, width int) string {
	if text == "slow" {
		time.Sleep(s.pause)
	}
	return s.Renderer.Markdown(text, width)
}

// TestFirstAnswerWaitsLonger: a process's first answer, which includes its
// start, may take up to the first timeout; a later one is cut off after
// the shorter one.
func TestFirstAnswerWaitsLonger(t *testing.T) {
	const first, each, startUp = 5 * time.Second, 100 * time.Millisecond, 300 * time.Millisecond
	launch := func() (*proc, error) {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(startUp) // a slow start, longer than each
			err := Serve(inR, outW, func(p termenv.Profile, dark bool) Renderer {
				return slowRenderer{Renderer: newRender(p, dark), pause: 3 * each}
			})
			outW.CloseWithError(err)
		}()
		return &proc{in: inW, out: bufio.NewReader(outR), kill: func() { inW.Close(); outR.Close() }, wait: func() { <-done }}, nil
	}
	c := &Client{launch: launch, profile: termenv.Ascii, dark: true, first: first, each: each}
	defer c.Close()
	want := render.New(termenv.Ascii, true).Markdown("It **panics**.", 80)
	if got := c.Markdown("It **panics**.", 80); got != want {
		t.Errorf("first answer, after a slow start: Markdown = %q, want %q", got, want)
	}
	if got := c.Markdown("slow", 80); got != "slow" {
		t.Errorf("a later answer slower than each: Markdown = %q, want the text as it is", got)
	}
	if c.starts != 1 {
		t.Errorf("%d starts before the restart, want 1", c.starts)
	}
}

// TestLimits: messages over their limit are refused, not read whole.
func TestLimits(t *testing.T) {
	long := strings.Repeat("x", maxRequest+1) + "\n"
	err := Serve(strings.NewReader(long), io.Discard, newRender)
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("Serve of a long request: %v, want %v", err, ErrTooLong)
	}
	c := &Client{launch: pipeLaunch, profile: termenv.TrueColor, dark: true, first: 10 * time.Second, each: 10 * time.Second}
	defer c.Close()
	big := strings.Repeat("a ", MaxText/2+1)
	if got := c.Markdown(big, 80); got != big {
		t.Errorf("Markdown of a text over MaxText was not left as it is")
	}
	if c.starts != 0 {
		t.Errorf("a text over MaxText started the renderer")
	}
}

// TestCloseDuringCall: closing ends a call under way at once, with plain
// text, rather than after the call's timeout.
func TestCloseDuringCall(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hangs")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := New(p, termenv.TrueColor, true, 20*time.Second, 20*time.Second)
	got := make(chan string, 1)
	go func() { got <- c.Markdown("It **panics**.", 80) }()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	c.Close()
	select {
	case s := <-got:
		if s != "It **panics**." {
			t.Errorf("Markdown = %q, want the text as it is", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end when the client closed")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if s := c.Markdown("x", 80); s != "x" {
		t.Errorf("Markdown after Close = %q, want %q", s, "x")
	}
}
