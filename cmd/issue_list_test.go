package cmd_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestIssueCommandsAtOnce runs comments, a close, listings and shows at
// the same time on one home, through the caches they share (the ID list
// and its heads file, the memos and the index): every command succeeds,
// nothing is lost, and what the caches answer afterwards is what a home
// with no cache answers.
func TestIssueCommandsAtOnce(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	var ids []string
	for _, title := range []string{"one", "two", "three"} {
		ids = append(ids, strings.TrimSpace(p.run(dir, "grove", "issue", "new", "--title", title)))
	}
	home := filepath.Join(p.work, ".grove")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		stdio := cmd.IO{In: strings.NewReader(""), Out: &out, Err: &errOut, LookupEnv: func(k string) (string, bool) {
			if k == "GROVE_HOME" {
				return home, true
			}
			return "", false
		}}
		if code := cmd.Grove(ctx, append(args, "-R", rid), stdio); code != 0 {
			return "", fmt.Errorf("grove %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String(), nil
	}
	if _, err := run("issue", "list"); err != nil { // the caches exist
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w, id := range ids[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if _, err := run("issue", "comment", id[:8], "--body", fmt.Sprintf("writer %d, comment %d", w, i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := run("issue", "close", ids[2][:8]); err != nil {
			errs <- err
		}
		for range n {
			for _, args := range [][]string{{"issue", "list", "--state", "all", "--json"}, {"issue", "show", ids[0][:8], "--json"}} {
				if _, err := run(args...); err != nil {
					errs <- err
				}
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	answers := func() []string {
		var out []string
		for _, args := range [][]string{{"issue", "list", "--state", "all", "--json"}, {"issue", "show", ids[0][:8], "--json"}, {"issue", "show", ids[1][:8], "--json"}} {
			s, err := run(args...)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	cached := answers()
	for i, id := range ids[:2] {
		if got := strings.Count(cached[1+i], `"writer `); got != n {
			t.Errorf("issue %.7s shows %d comments, want %d", id, got, n)
		}
	}
	if !strings.Contains(cached[0], `"state": "closed"`) {
		t.Errorf("the close is not listed:\n%s", cached[0])
	}
	if err := os.RemoveAll(filepath.Join(home, "cache")); err != nil {
		t.Fatal(err)
	}
	if fresh := answers(); !slices.Equal(fresh, cached) {
		t.Errorf("with caches:\n%s\nwithout:\n%s", strings.Join(cached, "\n"), strings.Join(fresh, "\n"))
	}
}

// TestIssueListDamagedRowPrintsNothing: an index row that does not
// decode (the index is a cache, and may be damaged) fails the list before
// any of it is printed, as a table and as JSON: a script never reads half
// a list as if it were all of it. Each issue's labels make its JSON
// longer than the 64 KiB that output is buffered in, so that the first is
// written out before the last is decoded, were they printed as decoded.
func TestIssueListDamagedRowPrintsNothing(t *testing.T) {
	p, dir := twoLabelledIssues(t)
	p.run(dir, "grove", "issue", "list") // builds the index
	// The row listed last gets a byte past its end: its sort key still
	// reads, the rest does not.
	p.damageLastIssueRow(t, "row || 'x'")
	p.printsNothing(t, dir, []string{"issue", "list"}, []string{"issue", "list", "--json"})
}

// TestSearchDamagedRowPrintsNothing: as for issue list, a hit whose index
// row does not decode fails grove search before any of it is printed, as
// a table and as JSON.
func TestSearchDamagedRowPrintsNothing(t *testing.T) {
	p, dir := twoLabelledIssues(t)
	if out := p.run(dir, "grove", "search", "labelled"); strings.Count(out, "\n") != 1 { // builds the index
		t.Fatalf("search before the damage:\n%s", out)
	}
	// The hit printed last (the older; of two as old, the greater ID)
	// loses the end of its row: its sort key still reads, the rest does
	// not.
	p.damageLastIssueRow(t, "substr(row, 1, length(row) - 3)")
	p.printsNothing(t, dir, []string{"search", "labelled"}, []string{"search", "labelled", "--json"})
}

// twoLabelledIssues makes a project with two issues of 700 labels each,
// each longer as JSON than one buffer of output.
func twoLabelledIssues(t *testing.T) (*peer, string) {
	p := newPeer(t)
	dir, _ := p.project()
	args := []string{"issue", "new", "--title", "labelled"}
	for i := range 700 {
		args = append(args, "--label", fmt.Sprintf("%03d-%s", i, strings.Repeat("l", 90)))
	}
	for range 2 {
		p.run(dir, "grove", args...)
	}
	return p, dir
}

// damageLastIssueRow sets the index row of the issue listed last (the
// oldest; of two as old, the greater ID) in p's one project to the SQL
// expression row.
func (p *peer) damageLastIssueRow(t *testing.T, row string) {
	t.Helper()
	dbs, _ := filepath.Glob(filepath.Join(p.work, ".grove", "cache", "*", "issues.db"))
	if len(dbs) != 1 {
		t.Fatalf("want one index, found %v", dbs)
	}
	db, err := sql.Open("sqlite", dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE issues SET row = ` + row + ` WHERE n = (SELECT n FROM issues WHERE type = 'grove.issue'
		ORDER BY CAST(substr(row, 1, instr(row, ':') - 1) AS INTEGER), id DESC LIMIT 1)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("damaged %d rows", n)
	}
}

// printsNothing runs each grove command in dir and wants it to fail
// having printed nothing on its standard output.
func (p *peer) printsNothing(t *testing.T, dir string, commands ...[]string) {
	t.Helper()
	for _, args := range commands {
		c := exec.Command("grove", args...)
		c.Dir, c.Env = dir, p.env
		out, err := c.Output()
		if err == nil || len(out) > 0 {
			t.Errorf("grove %s on a damaged index: %v, printed %d bytes", strings.Join(args, " "), err, len(out))
		}
	}
}
