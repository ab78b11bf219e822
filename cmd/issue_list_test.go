package cmd_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/grove/cmd"
)

// blockingWriter blocks every write until released, like a pipe that
// nobody reads (grove issue list | less, with less waiting).
type blockingWriter struct {
	once    sync.Once
	blocked chan struct{}
	release chan struct{}
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.blocked) })
	<-w.release
	return len(b), nil
}

// TestIssueListLetsGoOfTheIndex: while one `grove issue list` is stuck
// writing its output, other issue commands still run: the list has let go
// of the index (and its lock) before printing.
func TestIssueListLetsGoOfTheIndex(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	p.run(dir, "grove", "issue", "new", "--title", "stuck in a pipe")
	home := filepath.Join(p.work, ".grove")
	stdio := func(out io.Writer) cmd.IO {
		return cmd.IO{In: strings.NewReader(""), Out: out, Err: io.Discard, LookupEnv: func(k string) (string, bool) {
			if k == "GROVE_HOME" {
				return home, true
			}
			return "", false
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &blockingWriter{blocked: make(chan struct{}), release: make(chan struct{})}
	first := make(chan int, 1)
	go func() { first <- cmd.Grove(ctx, []string{"issue", "list", "-R", rid}, stdio(w)) }()
	select {
	case <-w.blocked:
	case code := <-first:
		t.Fatalf("first list exited %d without writing", code)
	case <-ctx.Done():
		t.Fatal("first list never wrote")
	}
	second := make(chan int, 1)
	var out strings.Builder
	go func() { second <- cmd.Grove(ctx, []string{"issue", "list", "-R", rid, "--json"}, stdio(&out)) }()
	select {
	case code := <-second:
		if code != 0 || !strings.Contains(out.String(), "stuck in a pipe") {
			t.Fatalf("second list: exit %d, %q", code, out.String())
		}
	case <-ctx.Done():
		t.Fatal("a second list waited for the first one's reader")
	}
	close(w.release)
	if code := <-first; code != 0 {
		t.Fatalf("first list: exit %d", code)
	}
}
