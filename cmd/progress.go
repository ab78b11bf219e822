package cmd

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	p2psync "example.com/grove/sync"
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

// progress returns a status line on stderr, drawn only when stderr is a
// terminal and the work has lasted delay.
func (e *env) progress(delay time.Duration) *progressLine {
	l := &progressLine{start: time.Now(), delay: delay}
	if e.io.ErrTTY {
		l.w = e.io.Err
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

// fetchOptions returns the options that draw a fetch's progress on l, or
// none when l does not draw.
func (l *progressLine) fetchOptions() []p2psync.FetchOption {
	if l.w == nil {
		return nil
	}
	return []p2psync.FetchOption{p2psync.WithProgress(func(p p2psync.FetchProgress) {
		if p.Phase == p2psync.PhaseDone {
			l.clear()
			return
		}
		l.set(fetchLine(p))
	})}
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

// fetchLine is the status line for one fetch's progress.
func fetchLine(p p2psync.FetchProgress) string {
	who := shortPeer(p.Peer.String())
	switch p.Phase {
	case p2psync.PhaseNegotiating:
		return fmt.Sprintf("Negotiating with %s…", who)
	case p2psync.PhaseVerifying:
		return fmt.Sprintf("Verifying %s from %s…", humanBytes(p.Bytes), who)
	}
	s := fmt.Sprintf("Receiving from %s: %s", who, humanBytes(p.Bytes))
	if p.Elapsed >= 100*time.Millisecond {
		s += ", " + humanBytes(int64(float64(p.Bytes)/p.Elapsed.Seconds())) + "/s"
	}
	return s
}

// shortPeer shortens a peer ID to its first 6 and last 3 characters.
func shortPeer(s string) string {
	if len(s) <= 12 {
		return s
	}
	return s[:6] + "…" + s[len(s)-3:]
}

// humanBytes writes n in B, KiB, MiB or GiB, with one decimal past bytes.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	unit := ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		unit = u
		if f < 1024 {
			break
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%.1f %s", f, unit))
}
