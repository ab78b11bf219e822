package cmd

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var buf bytes.Buffer
		l := newProgress(IO{Err: &buf, ErrTTY: tty}, 0)
		if got := l.fetchProgress() != nil; got != tty {
			t.Errorf("tty %v: fetch progress drawn: %v", tty, got)
		}
		l.set("Indexing issues… 1/2")
		stop := l.spin("Fetching")
		stop()
		l.clear()
		out := buf.String()
		if !tty && out != "" {
			t.Errorf("not a terminal, yet wrote %q", out)
		}
		if tty && (!strings.HasPrefix(out, "\rIndexing issues… 1/2\x1b[K") || !strings.HasSuffix(out, "\r\x1b[K")) {
			t.Errorf("terminal: wrote %q", out)
		}
	}
	// A delayed line stays blank for quick work.
	var buf bytes.Buffer
	l := newProgress(IO{Err: &buf, ErrTTY: true}, time.Hour)
	l.set("Indexing issues… 1/1")
	l.clear()
	if buf.Len() != 0 {
		t.Errorf("delayed line wrote %q", buf.String())
	}
}
