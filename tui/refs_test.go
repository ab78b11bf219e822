package tui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestFollowReference: an issue lists the patch that mentions it; f
// selects that reference and enter opens the patch, whose own reference
// opens the issue again; back returns page by page.
func TestFollowReference(t *testing.T) {
	f := newFixture()
	is, pt := f.issues[ridA][0], f.patches[ridA][0]
	is.Refs = []Ref{{Kind: "patch", ID: pt.ID, Title: pt.Title, Back: true, Author: "carol"}}
	pt.Refs = []Ref{{Kind: "issue", ID: is.ID, Title: is.Title}}
	m := New(Options{Source: f.source(), Renderer: plainRenderer(), Text: testText(), Now: func() time.Time { return now }, RID: ridA, Poll: time.Hour})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	w := &watcher{tm: tm}
	w.waitFor(t, "Crash on start")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "← mentioned in patch 9a8b7c6 Fix crash when GROVE_HOME is unset · carol")
	tm.Type("f")
	w.waitFor(t, "▸ ← mentioned in patch 9a8b7c6")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "→ issue 3f2a1b7 Crash on start")
	tm.Type("f")
	w.waitFor(t, "▸ → issue 3f2a1b7")
	w.all.Reset()
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	w.waitFor(t, "Reproduced on") // the issue again, on a third page
	// Back: the patch, then the issue the user started from.
	w.all.Reset()
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	w.waitFor(t, "Revisions")
	w.all.Reset()
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	w.waitFor(t, "Reproduced on")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	fm := tm.FinalModel(t).(*Model)
	var titles []string
	for _, e := range fm.stack {
		titles = append(titles, e.p.Title())
	}
	if len(titles) < 2 || titles[len(titles)-1] != "issue "+shortID(is.ID) {
		t.Fatalf("pages after back, back: %q, want the first issue on top", titles)
	}
	for _, ti := range titles {
		if ti == "patch "+shortID(pt.ID) {
			t.Fatalf("the patch page is still open after back: %q", titles)
		}
	}
}
