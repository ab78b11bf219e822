package tuicmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/tui"
	"example.com/grove/tui/render"
)

// TestTUIShowsNames: in a real storage, the issues of bob and of carol,
// who both sign person documents calling themselves "bob", reach the UI
// as "bob" with each one's short NID, in the list and in the issue view;
// alice, who signed none, is her short NID; the program draws them so.
func TestTUIShowsNames(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	h := repo.Home{Dir: t.TempDir()}
	doc := &protocol.Identity{Name: "test", DefaultBranch: "main", Delegates: []protocol.NID{alice.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, alice, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	st := issues.NewStore(r)
	ids := map[string]string{}
	for i, k := range []*protocol.Key{bob, carol} {
		ph, err := repo.SetPerson(ctx, repo.Home{Dir: t.TempDir()}, k, repo.Person{Alias: "bob"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.WritePerson(ctx, k, ph, t0); err != nil {
			t.Fatal(err)
		}
		title := []string{"Crash from bob", "Crash from carol"}[i]
		if ids[k.NID().String()], err = st.CreateIssue(ctx, k, t0.Add(time.Duration(i)*time.Minute), issues.NewIssue{Title: title, Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateIssue(ctx, alice, t0, issues.NewIssue{Title: "Crash from alice", Body: "a"}); err != nil {
		t.Fatal(err)
	}
	s := newAdapter(h, func() time.Time { return t0.Add(time.Hour) })
	rid := r.RID.String()
	want := map[string]string{
		bob.NID().String():   "bob (" + bob.NID().Short() + ")",
		carol.NID().String(): "bob (" + carol.NID().Short() + ")",
	}
	list, err := s.ListIssues(ctx, rid, tui.IssueFilter{State: "open"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, is := range list {
		got[is.Title] = is.Author
	}
	if got["Crash from bob"] != want[bob.NID().String()] || got["Crash from carol"] != want[carol.NID().String()] || got["Crash from alice"] != alice.NID().Short() {
		t.Errorf("authors in the list: %v", got)
	}
	for nid, id := range ids {
		is, err := s.Issue(ctx, rid, id)
		if err != nil {
			t.Fatal(err)
		}
		if is.Author != want[nid] {
			t.Errorf("issue %s by %s", id[:7], is.Author)
		}
	}

	re := lipgloss.NewRenderer(io.Discard)
	re.SetColorProfile(termenv.Ascii)
	m := tui.New(tui.Options{Source: s.source(), Renderer: re, Text: render.New(termenv.Ascii, true), RID: rid, Now: func() time.Time { return t0.Add(time.Hour) }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	var all bytes.Buffer
	waitFor := func(s string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		buf := make([]byte, 64<<10)
		for !strings.Contains(all.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("%q not drawn in 10s; drawn:\n%s", s, all.String()[max(0, all.Len()-3000):])
			}
			n, _ := tm.Output().Read(buf)
			all.Write(buf[:n])
			if n == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	waitFor(want[carol.NID().String()])
	waitFor(want[bob.NID().String()])
	// The newest issue, carol's, is the first row: its view names her.
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(want[carol.NID().String()] + " opened")
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
}
