package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestCommentFromUI opens an issue in a running program, writes a comment
// in the text area, sends it, and sees it in the source and on screen.
func TestCommentFromUI(t *testing.T) {
	f := newFixture()
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA, Poll: 50 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash on start")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "Reproduced on")
	tm.Type("c")
	w.waitFor(t, "Comment on issue 3f2a1b7")
	tm.Type("Confirmed on arm64 too.")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlS})
	w.waitFor(t, "comment added")
	w.waitFor(t, "Confirmed on arm64 too.")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))

	is, err := f.Issue(t.Context(), ridA, "3f2a1b7")
	if err != nil {
		t.Fatal(err)
	}
	last := is.Thread[len(is.Thread)-1]
	if last.Body != "Confirmed on arm64 too." || last.ReplyTo != "" {
		t.Errorf("last comment = %+v", last)
	}
}

// watcher keeps everything a test program has drawn, so that text drawn
// in one frame with an earlier expectation is still found.
type watcher struct {
	tm  *teatest.TestModel
	all bytes.Buffer
}

// waitFor reads the program's output until s has been drawn.
//
// The deadline is generous on purpose: it only bounds a failing test, and
// under -race on a loaded machine a frame can take seconds (a 5 s wait
// failed there once). Text is matched with escape codes removed, so a
// style change inside the expected words doesn't hide them.
func (w *watcher) waitFor(t *testing.T, s string) {
	t.Helper()
	const wait = time.Minute
	deadline := time.Now().Add(wait)
	buf := make([]byte, 64<<10)
	for !strings.Contains(ansi.Strip(w.all.String()), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%q not drawn in %v; the last output:\n%s", s, wait, tail(w.all.String(), 2000))
		}
		n, _ := w.tm.Output().Read(buf)
		w.all.Write(buf[:n])
		if n == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestActions drives the issue and patch actions through the model.
func TestActions(t *testing.T) {
	f := newFixture()
	d := newDriver(t, f, ridA, 100, 30)

	// New issue: title, labels, body.
	d.keys("n")
	d.typeText("Keyboard help is hidden")
	d.keys("tab")
	d.typeText("tui, ux")
	d.keys("tab")
	d.typeText("Press ? to see it.")
	d.keys("ctrl+s")
	if got := d.screen(); !strings.Contains(got, "Keyboard help is hidden [tui] [ux]") || !strings.Contains(got, "filed issue") {
		t.Fatalf("new issue not listed:\n%s", got)
	}

	// Reply to the focused comment, close, relabel.
	d.keys("enter", "]", "r")
	if !strings.Contains(d.screen(), "Reply to bob") {
		t.Fatalf("reply form:\n%s", d.screen())
	}
	d.typeText("Same here.")
	d.keys("ctrl+s")
	d.keys("x")
	d.keys("e")
	for range 5 {
		d.keys("backspace")
	}
	d.typeText(", regression")
	d.keys("enter")
	is, _ := f.Issue(t.Context(), ridA, "3f2a1b7")
	last := is.Thread[len(is.Thread)-1]
	if last.Body != "Same here." || last.ReplyTo != "c1aa000000000000000000000000000000000001" {
		t.Errorf("reply = %+v", last)
	}
	if is.State != "closed" || is.Reason != "solved" {
		t.Errorf("state = %s %s", is.State, is.Reason)
	}
	if strings.Join(is.Labels, ",") != "bug,regression" {
		t.Errorf("labels = %v", is.Labels)
	}
	scr := d.screen()
	if !strings.Contains(scr, "closed (solved)") || !strings.Contains(scr, "[regression]") || !strings.Contains(scr, "↳ alice") {
		t.Errorf("issue screen after actions:\n%s", scr)
	}

	// Back to the list: closed issues are filtered out.
	d.keys("q")
	if strings.Contains(d.screen(), "Crash on start") {
		t.Errorf("closed issue still listed as open:\n%s", d.screen())
	}

	// Review: accept the latest revision, then comment on a line.
	d.keys("2", "enter", "a")
	d.typeText("Ship it.")
	d.keys("ctrl+s")
	for !strings.Contains(lineAt(d), "if err != nil {") {
		before := d.m.top().(*patchPage).list.cursor
		d.keys("j")
		if d.m.top().(*patchPage).list.cursor == before {
			t.Fatalf("no diff line found:\n%s", d.screen())
		}
	}
	d.keys("i")
	d.typeText("Wrap the error?")
	d.keys("ctrl+s")
	want := []NewReview{
		{Revision: "2222bbbb000000000000000000000000000000bb", Verdict: VerdictAccept, Body: "Ship it."},
		{Revision: "2222bbbb000000000000000000000000000000bb", Verdict: VerdictComment, Body: "Wrap the error?", Path: "cmd/root.go", Line: 26},
	}
	if len(f.reviews) != 2 || f.reviews[0] != want[0] || f.reviews[1] != want[1] {
		t.Errorf("reviews = %+v", f.reviews)
	}
	d.keys("j", "j", "j", "j")
	if !strings.Contains(d.screen(), "Wrap the error?") {
		t.Errorf("line comment not shown:\n%s", d.screen())
	}
}

func lineAt(d *driver) string {
	p := d.m.top().(*patchPage)
	return p.rows[p.list.cursor]
}

// TestRefreshOnChange: when the source's stamp moves (a node landed
// data), the open view reloads without a key.
func TestRefreshOnChange(t *testing.T) {
	f := newFixture()
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA, Poll: 20 * time.Millisecond})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash on start")
	f.waitPolled(t, 2) // the first poll's stamp is recorded before the second is asked
	f.NewIssue(t.Context(), ridA, NewIssue{Title: "Filed by a peer while we looked"})
	w.waitFor(t, "Filed by a peer")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
}

// TestResize: every screen fits after the terminal shrinks and grows.
func TestResize(t *testing.T) {
	for _, sc := range screens {
		d := newDriver(t, newFixture(), sc.rid, 120, 40)
		d.keys(sc.keys...)
		for _, sz := range [][2]int{{80, 24}, {60, 15}, {200, 50}, {80, 24}} {
			d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			checkSize(t, d, sz[0], sz[1])
		}
	}
}

// countingIssues is the fixture's issues with a count of the queries, each
// held until release is closed when release is not nil.
type countingIssues struct {
	*fixture
	mu      sync.Mutex
	queries []IssueFilter
	release chan struct{}
}

func (c *countingIssues) ListIssues(ctx context.Context, rid string, f IssueFilter, progress func(done, total int)) ([]IssueSummary, error) {
	c.mu.Lock()
	c.queries = append(c.queries, f)
	rel := c.release
	c.mu.Unlock()
	if rel != nil {
		<-rel
	}
	return c.fixture.ListIssues(ctx, rid, f, progress)
}

func (c *countingIssues) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queries)
}

// manyIssues is the fixture with 10,000 more issues in project A, half of
// them closed.
func manyIssues() *fixture {
	f := newFixture()
	base := f.issues[ridA][0]
	for i := range 10000 {
		c := *base
		c.ID = strings.Repeat("0", 30) + itoa(1000000000+i)
		c.Thread = nil
		if i%2 == 1 {
			c.State = "closed"
		}
		f.issues[ridA] = append(f.issues[ridA], &c)
	}
	return f
}

// TestManyIssues: with 10,000 issues, a frame draws only the rows in view,
// and moving, paging and changing the state or label filter ask the source
// nothing: the list is queried once, and again only for a new search.
func TestManyIssues(t *testing.T) {
	f := manyIssues()
	src := &countingIssues{fixture: f}
	var clock atomic.Int64 // calls to Now: every row drawn asks it once
	o := Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), RID: ridA,
		Now: func() time.Time { clock.Add(1); return now }}
	o.Source.Issues = src
	d := &driver{t: t, m: New(o)}
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	d.run(d.m.Init())
	tab := d.m.top().(*projectPage).tabs[0].(*issuesTab)
	if n := src.count(); n != 1 {
		t.Fatalf("opening asked for the issues %d times, want 1", n)
	}
	if !strings.Contains(d.screen(), "of 5003") {
		t.Errorf("no scroll position over the 5,003 open issues:\n%s", d.screen())
	}
	rows := tab.list.height
	for _, k := range []string{"j", "down", "k", "space", "G", "k", "g", "pgdown", "s", "s", "j", "s", "L", "b", "u", "g", "enter", "G", "esc", "j", "s", "s"} {
		if k == "pgdown" {
			d.send(tea.KeyMsg{Type: tea.KeyPgDown})
		} else {
			d.keys(k)
		}
		clock.Store(0)
		v := tab.View()
		if lines := strings.Count(v, "\n") + 1; lines != rows+2 {
			t.Fatalf("after %s the issues tab drew %d lines, want %d (its rows, header and filter line)", k, lines, rows+2)
		}
		if n := clock.Load(); n > int64(rows) {
			t.Fatalf("after %s a frame drew %d rows, want at most the %d in view", k, n, rows)
		}
	}
	if n := src.count(); n != 1 {
		t.Errorf("moving and filtering asked for the issues %d times in all, want 1: %+v", n, src.queries)
	}
	if !strings.Contains(d.screen(), "of 10004") {
		t.Errorf("no scroll position over all 10,004 issues after s, s, s, L bug, esc, s, s:\n%s", d.screen())
	}
}

// async runs a Model as bubbletea does: each command in a goroutine of its
// own, each message back through Update in the test's goroutine.
type async struct {
	t       *testing.T
	m       *Model
	msgs    chan tea.Msg
	pending int
}

func newAsync(t *testing.T, o Options) *async {
	a := &async{t: t, m: New(o), msgs: make(chan tea.Msg, 16)}
	a.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	a.start(a.m.Init())
	return a
}

func (a *async) start(c tea.Cmd) {
	if c == nil {
		return
	}
	a.pending++
	go func() { a.msgs <- c() }()
}

func (a *async) send(msg tea.Msg) {
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			a.start(c)
		}
		return
	}
	if msg != nil {
		_, c := a.m.Update(msg)
		a.start(c)
	}
}

// next handles one message from a command.
func (a *async) next() {
	a.t.Helper()
	select {
	case msg := <-a.msgs:
		a.pending--
		a.send(msg)
	case <-time.After(5 * time.Second):
		a.t.Fatalf("no command finished in 5s; the screen:\n%s", a.screen())
	}
}

// settle handles messages until no command is left.
func (a *async) settle() {
	a.t.Helper()
	for a.pending > 0 {
		a.next()
	}
}

// waitFor handles messages until the screen shows s.
func (a *async) waitFor(s string) {
	a.t.Helper()
	for !strings.Contains(a.screen(), s) {
		if a.pending == 0 {
			a.t.Fatalf("%q is not on the screen, and nothing is left to wait for:\n%s", s, a.screen())
		}
		a.next()
	}
}

func (a *async) screen() string { return ansi.Strip(a.m.View()) }

// TestSearchWhileQuerying: letters typed while a query runs are asked in
// one query when it returns, and the list shows the newest search.
func TestSearchWhileQuerying(t *testing.T) {
	f := manyIssues()
	src := &countingIssues{fixture: f}
	o := Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), RID: ridA, Now: func() time.Time { return now }}
	o.Source.Issues = src
	a := newAsync(t, o)
	a.settle()
	src.mu.Lock()
	src.release = make(chan struct{})
	src.mu.Unlock()
	a.send(keyMsg("/"))
	for _, r := range "crash" {
		a.send(keyMsg(string(r)))
		// The first letter's query is running (held); the rest wait.
		for deadline := time.Now().Add(5 * time.Second); src.count() < 2; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the search's first query did not start")
			}
		}
	}
	close(src.release)
	a.settle()
	a.send(keyMsg("enter"))
	if n := src.count(); n != 3 {
		t.Errorf("typing crash asked %d queries, want 3 (open, c, then crash): %+v", n, src.queries)
	}
	if last := src.queries[len(src.queries)-1]; last.Search != "crash" || last.State != "" {
		t.Errorf("last query = %+v, want the search crash in every state", last)
	}
	sc := a.screen()
	if !strings.Contains(sc, "search: crash") || !strings.Contains(sc, "of 5001") { // 5,001 of them open
		t.Errorf("the list is not the answer to crash:\n%s", sc)
	}
}

// buildingIssues is the fixture's issues behind an index that takes a while
// to build: the first query, a page or the whole list, reports progress
// every step for steps steps.
type buildingIssues struct {
	*fixture
	steps int
	step  time.Duration
	built atomic.Bool
}

func (b *buildingIssues) build(ctx context.Context, progress func(done, total int)) error {
	if b.built.Load() {
		return nil
	}
	for i := range b.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		progress(i, b.steps)
		time.Sleep(b.step)
	}
	b.built.Store(true)
	return nil
}

func (b *buildingIssues) ListIssues(ctx context.Context, rid string, f IssueFilter, progress func(done, total int)) ([]IssueSummary, error) {
	if err := b.build(ctx, progress); err != nil {
		return nil, err
	}
	return b.fixture.ListIssues(ctx, rid, f, progress)
}

func (b *buildingIssues) IssuePage(ctx context.Context, rid string, f IssueFilter, limit int, progress func(done, total int)) ([]IssueSummary, int, error) {
	if err := b.build(ctx, progress); err != nil {
		return nil, 0, err
	}
	return b.fixture.IssuePage(ctx, rid, f, limit, progress)
}

// TestIndexProgress: while the source builds its index the issues tab
// says how far it got, and a build that keeps reporting outlives the
// timeout, which bounds the time between two reports.
func TestIndexProgress(t *testing.T) {
	f := newFixture()
	o := Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), RID: ridA, Now: func() time.Time { return now },
		Timeout: 300 * time.Millisecond}
	o.Source.Issues = &buildingIssues{fixture: f, steps: 60, step: 10 * time.Millisecond}
	a := newAsync(t, o)
	a.waitFor("indexing issues: ")
	if !strings.Contains(a.screen(), " of 60 (") {
		t.Errorf("no progress on the screen:\n%s", a.screen())
	}
	a.waitFor("Crash on start")
	a.settle()
	if strings.Contains(a.screen(), "cannot load") {
		t.Errorf("the build was cut off:\n%s", a.screen())
	}
}

// TestFirstPageFirst: the first screen of a long list is drawn from the
// page the source answers first, while the whole list is still being read
// (held here until release); when the whole list comes, the list stays as
// it was (the header, loaded meanwhile, names the project). A state filter
// changed meanwhile waits for the whole list.
func TestFirstPageFirst(t *testing.T) {
	f := manyIssues()
	src := &countingIssues{fixture: f, release: make(chan struct{})}
	o := Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), RID: ridA, Now: func() time.Time { return now }}
	o.Source.Issues = src
	a := newAsync(t, o)
	a.waitFor("Crash on start")
	if !strings.Contains(a.screen(), "1-17 of 5003") { // 5,003 open
		t.Errorf("the first page does not say how many issues there are:\n%s", a.screen())
	}
	a.send(keyMsg("j"))
	a.send(keyMsg("j"))
	list := func() string { return strings.SplitN(a.screen(), "\n", 5)[4] }
	paged := list()
	close(src.release)
	a.settle()
	if n := src.count(); n != 1 {
		t.Errorf("asked for the whole list %d times, want 1", n)
	}
	if sc := list(); sc != paged {
		t.Errorf("the whole list changed the screen; with the first page it was\n%s\nnow it is\n%s", paged, sc)
	}

	src = &countingIssues{fixture: f, release: make(chan struct{})}
	o.Source.Issues = src
	a = newAsync(t, o)
	a.waitFor("Crash on start")
	a.send(keyMsg("s"))
	if sc := a.screen(); !strings.Contains(sc, "loading issues…") || !strings.Contains(sc, "state: closed") {
		t.Errorf("s on the first page does not wait for the whole list:\n%s", sc)
	}
	close(src.release)
	a.waitFor("of 5001") // 5,001 closed
}

// TestUnauthorizedOffersNothing opens, as a user who is neither its author
// nor a delegate, an issue: close and labels are not offered, the screen
// says who may, and pressing their keys says so again and writes nothing.
func TestUnauthorizedOffersNothing(t *testing.T) {
	f := newFixture()
	f.me = "dave"
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash on start")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "only its author or a delegate may close, reopen or label it")
	tm.Type("x")
	tm.Type("e")
	w.waitFor(t, "error: only its author or a delegate")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).View())
	for _, offer := range []string{"close/reopen", "edit labels", "labels: crash"} {
		if strings.Contains(final, offer) {
			t.Errorf("%q offered to a stranger:\n%s", offer, final)
		}
	}
	if !strings.Contains(final, "c comment") {
		t.Errorf("comment not offered:\n%s", final)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writes != 0 {
		t.Errorf("%d writes by a stranger", f.writes)
	}
	if is := f.issues[ridA][0]; is.State != "open" || strings.Join(is.Labels, ",") != "bug,cli" {
		t.Errorf("issue changed: %s %v", is.State, is.Labels)
	}
}
