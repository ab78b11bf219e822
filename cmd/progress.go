package cmd

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressLine is one status line on stderr that redraws in place. It
// draws only on a terminal; otherwise every method does nothing.
type progressLine struct {
	w     io.Writer // nil: not a terminal
	start time.Time
	delay time.Duration // draw nothing until the work has run this long

	mu    sync.Mutex
	drawn bool
}

// newProgress returns a status line on io's stderr, drawn only when it is
// a terminal and the work has lasted delay.
func newProgress(io IO, delay time.Duration) *progressLine {
	l := &progressLine{start: time.Now(), delay: delay}
	if io.ErrTTY {
		l.w = io.Err
	}
	return l
}

// set redraws the line as s.
func (l *progressLine) set(s string) {
	if l.w == nil || time.Since(l.start) < l.delay {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r%s\x1b[K", s)
	l.drawn = true
}

// clear erases the line, if one was drawn.
func (l *progressLine) clear() {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.drawn = false
	}
}

// fetchProgress returns what draws a fetch's status lines on l ("" ends
// the fetch and clears the line), or nil when l does not draw.
func (l *progressLine) fetchProgress() func(string) {
	if l.w == nil {
		return nil
	}
	return func(s string) {
		if s == "" {
			l.clear()
			return
		}
		l.set(s)
	}
}

// spin redraws "label… 3s" until the returned stop is called; stop waits
// for the spinner and clears the line. For work that reports no progress.
func (l *progressLine) spin(label string) (stop func()) {
	if l.w == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		frames := `|/-\`
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			l.set(fmt.Sprintf("%s… %c %s", label, frames[i%len(frames)], time.Since(l.start).Truncate(time.Second)))
		}
	}()
	return func() {
		close(quit)
		<-done
		l.clear()
	}
}
