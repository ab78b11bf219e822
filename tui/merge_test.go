package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// openPatch runs the program as user me and opens the fixture's open
// patch from the patches tab.
func openPatch(t *testing.T, f *fixture, me string) (*teatest.TestModel, *watcher) {
	t.Helper()
	f.me = me
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash on start")
	tm.Type("2")
	w.waitFor(t, "Fix crash when GROVE_HOME is unset")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "Reviews of r2")
	return tm, w
}

// TestMergeFromPatchView: a delegate is offered m on a patch, asked to
// confirm (any key but y cancels, writing nothing), and y merges the
// revision shown and says what the merge did.
func TestMergeFromPatchView(t *testing.T) {
	f := newFixture()
	tm, w := openPatch(t, f, "alice")
	w.waitFor(t, "m merge")
	tm.Type("m")
	w.waitFor(t, "y merge r2 (2222bbb) into the default branch")
	tm.Type("n")
	w.waitFor(t, "merge cancelled")
	f.mu.Lock()
	if f.writes != 0 {
		t.Errorf("%d writes after a cancelled merge", f.writes)
	}
	f.mu.Unlock()
	tm.Type("m")
	tm.Type("y")
	w.waitFor(t, "patch 9a8b7c6 fast-forwarded into main at f2f2f2f; closed 1 issue it fixes: 3f2a1b7")
	// The merged patch is read again and shows merged, with no m.
	w.waitFor(t, "merged · carol")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).View())
	if strings.Contains(final, "m merge") {
		t.Errorf("a merged patch offers m:\n%s", final)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.merged) != 1 || f.merged[0] != f.patches[ridA][0].Revisions[1].ID {
		t.Errorf("merged %v, want revision 2", f.merged)
	}
}

// TestMergeNotOffered: to a user who is no delegate, a patch offers no
// merge and says who may; m says so again and writes nothing.
func TestMergeNotOffered(t *testing.T) {
	f := newFixture()
	tm, w := openPatch(t, f, "dave")
	w.waitFor(t, "patch 9a8b7c6: only a delegate may merge")
	tm.Type("m")
	tm.Type("y")
	w.waitFor(t, "error: patch 9a8b7c6: only a delegate may merge")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).View())
	if strings.Contains(final, "m merge") || !strings.Contains(final, "a accept") {
		t.Errorf("offers to a non-delegate:\n%s", final)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writes != 0 || len(f.merged) != 0 || f.patches[ridA][0].State != PatchOpen {
		t.Errorf("a non-delegate's m wrote: %d writes, merged %v", f.writes, f.merged)
	}
}

// TestReviewNotOffered: to a user who may not write (no key yet), a patch
// offers neither reviews nor merge and says why; their keys say so again
// and write nothing.
func TestReviewNotOffered(t *testing.T) {
	f := newFixture()
	tm, w := openPatch(t, f, "")
	w.waitFor(t, "no key yet: run 'grove auth' to write")
	for _, k := range []string{"a", "x", "c", "i", "m"} {
		tm.Type(k)
	}
	w.waitFor(t, "error: no key yet")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	final := ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).View())
	for _, offer := range []string{"a accept", "x reject", "c comment", "i comment line", "m merge"} {
		if strings.Contains(final, offer) {
			t.Errorf("%q offered without a key:\n%s", offer, final)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writes != 0 {
		t.Errorf("%d writes without a key", f.writes)
	}
}
