package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// heldText is a TextRenderer whose answers wait until the test closes
// release. It counts its calls, and those made from the Model's Update or
// View, which must be none: those answer at once, so that such a bug
// fails the test instead of hanging it.
type heldText struct {
	TextRenderer
	release  chan struct{}
	calls    atomic.Int32
	inUpdate atomic.Int32
	// limit, when not 0, is how many calls are too many: a UI that asks
	// for the same renderings in a loop panics then rather than hang.
	limit int32
}

func newHeldText() *heldText {
	return &heldText{TextRenderer: testText(), release: make(chan struct{})}
}

func (h *heldText) wait() {
	if n := h.calls.Add(1); h.limit > 0 && n > h.limit {
		panic(fmt.Sprintf("%d renderings asked for, more than %d: the UI asks for the same ones again and again", n, h.limit))
	}
	buf := make([]byte, 64<<10)
	stack := buf[:runtime.Stack(buf, false)]
	if bytes.Contains(stack, []byte("(*Model).Update(")) || bytes.Contains(stack, []byte("(*Model).View(")) {
		h.inUpdate.Add(1)
		return
	}
	<-h.release
}

func (h *heldText) Markdown(text string, width int) string {
	h.wait()
	return h.TextRenderer.Markdown(text, width)
}

func (h *heldText) Highlight(path, text string) []string {
	h.wait()
	return h.TextRenderer.Highlight(path, text)
}

// trimmed is a screen as the goldens hold it: no colours, no trailing
// spaces, a final newline.
func trimmed(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestRenderOffEventLoop: opening an issue while the renderer holds its
// answers shows the body as written at once, without Update calling the
// renderer; when the answers come, the screen is the rendered one.
func TestRenderOffEventLoop(t *testing.T) {
	text := newHeldText()
	var once sync.Once
	release := func() { once.Do(func() { close(text.release) }) }
	t.Cleanup(release)
	o := Options{Source: newFixture().source(), Renderer: plainRenderer(), Text: text, RID: ridA, Now: func() time.Time { return now }}
	a := newAsync(t, o)
	a.waitFor("Crash on start")
	a.send(keyMsg("enter"))
	a.waitFor("Running `grove tui` with no `GROVE_HOME` panics:") // as written
	// The body and three comments are asked for, in commands, and held;
	// whatever else comes back meanwhile goes through Update.
	for deadline := time.Now().Add(5 * time.Second); text.calls.Load() < 4; {
		select {
		case msg := <-a.msgs:
			a.pending--
			a.send(msg)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d renderings asked for, want 4", text.calls.Load())
		}
	}
	if n := text.inUpdate.Load(); n != 0 {
		t.Fatalf("Update or View called the text renderer %d times", n)
	}
	if sc := a.screen(); !strings.Contains(sc, "Thanks! Is it the home lookup?") {
		t.Errorf("the comments are not shown while their rendering is held:\n%s", sc)
	}
	release()
	a.settle()
	want, err := os.ReadFile(filepath.Join("testdata", "issue-80x24.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := trimmed(a.screen()); got != string(want) {
		t.Errorf("after the renderings came, the screen is\n%s\nwant (issue-80x24.golden)\n%s", got, want)
	}
	if n := text.inUpdate.Load(); n != 0 {
		t.Errorf("Update or View called the text renderer %d times", n)
	}
}

// TestStaleRendering: a rendering that arrives for a width or a text the
// page no longer shows leaves the screen as it is; the current one then
// shows as if it had come first.
func TestStaleRendering(t *testing.T) {
	d := newDriver(t, newFixture(), ridA, 80, 24)
	d.hold = true
	d.keys("enter")
	if sc := d.screen(); !strings.Contains(sc, "Running `grove tui` with no `GROVE_HOME` panics:") {
		t.Fatalf("the body is not shown as written while its rendering is held:\n%s", sc)
	}
	old := d.held
	d.held = nil
	if len(old) != 4 {
		t.Fatalf("%d renderings held, want 4 (a body, three comments)", len(old))
	}
	d.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	plain := d.screen()
	d.deliver(old...)
	if got := d.screen(); got != plain {
		t.Errorf("renderings for 80 columns changed the screen at 120; before:\n%s\nafter:\n%s", plain, got)
	}
	held := d.held
	d.held = nil
	d.deliver(held...)
	fresh := newDriver(t, newFixture(), ridA, 120, 40)
	fresh.keys("enter")
	if got, want := d.screen(), fresh.screen(); got != want {
		t.Errorf("after the 120-column renderings the screen is\n%s\nwant\n%s", got, want)
	}

	// A new body, while the old one's rendering is under way.
	f := newFixture()
	d = newDriver(t, f, ridA, 80, 24)
	d.hold = true
	d.keys("enter")
	f.mu.Lock()
	oldBody := f.issues[ridA][0].Body
	f.issues[ridA][0].Body = "Now `grove tui` hangs."
	f.mu.Unlock()
	held = d.held
	d.held = nil
	d.keys("R")
	plain = d.screen()
	if !strings.Contains(plain, "Now `grove tui` hangs.") {
		t.Fatalf("the new body is not shown as written:\n%s", plain)
	}
	delivered := 0
	for _, r := range held {
		if r.key.text == oldBody {
			d.deliver(r)
			delivered++
		}
	}
	if delivered != 1 {
		t.Fatalf("%d renderings of the old body, want 1", delivered)
	}
	if got := d.screen(); got != plain {
		t.Errorf("the old body's rendering changed the screen; before:\n%s\nafter:\n%s", plain, got)
	}
	held = d.held
	d.held = nil
	d.deliver(held...)
	if sc := d.screen(); !strings.Contains(sc, "  Now grove tui hangs.") {
		t.Errorf("the new body is not rendered:\n%s", sc)
	}
}

// TestTextCacheBound: however many renderings arrive, the cache holds at
// most its bounds of those the screen does not use.
func TestTextCacheBound(t *testing.T) {
	tests := []struct {
		name                 string
		n, textLen           int
		maxEntries, maxBytes int
	}{
		{"entries", 1000, 10, 50, 1 << 20},
		{"bytes", 1000, 1000, 500, 20 << 10},
		{"default bounds", 3 * maxRendered, 20 << 10, maxRendered, maxRenderedBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTextCache()
			c.maxEntries, c.maxBytes = tt.maxEntries, tt.maxBytes
			for i := range tt.n {
				text := fmt.Sprintf("%d %s", i, strings.Repeat("x", tt.textLen))
				c.markdown(text, 80)
				for _, k := range c.take() {
					c.put(k, rendered{text: "  " + k.text})
				}
				if len(c.entries) > tt.maxEntries || c.bytes > tt.maxBytes {
					t.Fatalf("after %d renderings the cache holds %d entries, %d bytes; want at most %d, %d",
						i+1, len(c.entries), c.bytes, tt.maxEntries, tt.maxBytes)
				}
			}
			sum := 0
			for k, e := range c.entries {
				sum += k.size(e.r)
			}
			if sum != c.bytes {
				t.Errorf("the cache counts %d bytes, its entries hold %d", c.bytes, sum)
			}
			if len(c.pending) != 0 || len(c.queue) != 0 {
				t.Errorf("%d pending, %d queued after every rendering arrived", len(c.pending), len(c.queue))
			}
		})
	}
}

// TestRenderMoreThanCacheHolds: a screen that needs more renderings than
// the cache's bound gets each once, keeps them all while it shows, and
// does not ask for them again in a loop.
func TestRenderMoreThanCacheHolds(t *testing.T) {
	f := newFixture()
	is := f.issues[ridA][0]
	for i := range 30 {
		is.Thread = append(is.Thread, Comment{ID: fmt.Sprintf("%040x", 0xfeed00+i), Author: "dave", Body: fmt.Sprintf("Comment `%d`.", i), Created: now})
	}
	text := newHeldText()
	text.limit = 1000
	close(text.release)
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: text, Now: func() time.Time { return now }, RID: ridA})
	m.c.cache.maxEntries = 10
	d := &driver{t: t, m: m}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(m.Init())
	d.keys("enter", "G")
	if n := text.calls.Load(); n != 34 {
		t.Errorf("%d renderings for a body and 33 comments, want 34", n)
	}
	if n := len(m.c.cache.entries); n != 34 {
		t.Errorf("the cache holds %d renderings the screen uses, want all 34", n)
	}
	if sc := d.screen(); !strings.Contains(sc, "Comment 29.") || strings.Contains(sc, "`") {
		t.Errorf("the last comments are not rendered:\n%s", sc)
	}
	// Another screen's renderings: the issue's are dropped down to the
	// bound.
	d.keys("q", "2", "enter")
	if n := len(m.c.cache.entries); n > 10 {
		t.Errorf("the cache holds %d renderings after leaving the issue, want at most 10", n)
	}
	if n := text.inUpdate.Load(); n != 0 {
		t.Errorf("Update or View called the text renderer %d times", n)
	}
}
