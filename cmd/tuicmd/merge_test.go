package tuicmd

import (
	"bytes"
	"context"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/tui"
)

// TestMergeThroughUI runs the UI over a real storage: to bob, who opened
// the patch but is no delegate, the patch offers no merge and says who
// may, and m then y writes nothing; alice, a delegate, merges it from the
// patch view: main fast-forwards to the patch's head and the issue the
// patch fixes is closed, as grove patch merge does.
func TestMergeThroughUI(t *testing.T) {
	ctx := context.Background()
	w := newPatchWorld(t)
	h, r, st, alice, bob, c0, c1 := w.h, w.r, w.st, w.alice, w.bob, w.c0, w.c1
	iid, err := st.CreateIssue(ctx, alice, t0, issues.NewIssue{Title: "b is missing"})
	if err != nil {
		t.Fatal(err)
	}
	pid, _, err := st.OpenPatch(ctx, bob, t0, issues.NewPatch{Title: "add b", Body: "Fixes #" + iid[:7], Base: c0, Head: c1})
	if err != nil {
		t.Fatal(err)
	}
	refs := func(k *protocol.Key) map[string]string {
		t.Helper()
		m, err := r.NamespaceRefs(ctx, k.NID())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// run opens the patch in the UI as key, presses keys and returns the
	// last screen, once want is drawn.
	run := func(key *protocol.Key, want string, keys ...string) string {
		t.Helper()
		s := newAdapter(h, func() time.Time { return t0.Add(time.Hour) })
		s.key = key
		rend := lipgloss.NewRenderer(io.Discard)
		rend.SetColorProfile(termenv.Ascii)
		m := tui.New(tui.Options{Source: s.source(), Renderer: rend, Now: s.now, RID: r.RID.String()})
		tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 30))
		var seen bytes.Buffer
		wait := func(s string) {
			t.Helper()
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				seen.Write(b)
				return bytes.Contains(seen.Bytes(), []byte(s)) || strings.Contains(ansi.Strip(seen.String()), s)
			}, teatest.WithDuration(60*time.Second))
		}
		wait("b is missing")
		tm.Type("2")
		wait("add b")
		tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		wait("Reviews of r1")
		for _, k := range keys {
			tm.Type(k)
		}
		wait(want)
		tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		return ansi.Strip(tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).View())
	}

	// Without a key nothing is offered, and a review key says why.
	if sc := run(nil, "error: no key yet: run 'grove auth' to write", "a"); bytes.Contains([]byte(sc), []byte("a accept")) {
		t.Errorf("review offered without a key:\n%s", sc)
	}

	// counts returns the project list's open issues and open patches.
	counts := func() (int, int) {
		t.Helper()
		ps, err := newAdapter(h, time.Now).Projects(ctx, nil)
		if err != nil || len(ps) != 1 {
			t.Fatalf("projects %+v %v", ps, err)
		}
		return ps[0].OpenIssues, ps[0].OpenPatches
	}
	if is, ps := counts(); is != 1 || ps != 1 {
		t.Errorf("before the merge the project list counts %d open issues and %d open patches, want 1 and 1", is, ps)
	}
	beforeBob, beforeAlice := refs(bob), refs(alice)
	sc := run(bob, "error: patch "+pid[:7]+": only a delegate may merge", "m", "y")
	if bytes.Contains([]byte(sc), []byte("m merge")) {
		t.Errorf("merge offered to bob:\n%s", sc)
	}
	if !maps.Equal(refs(bob), beforeBob) || !maps.Equal(refs(alice), beforeAlice) {
		t.Errorf("bob's m wrote: bob %v → %v, alice %v → %v", beforeBob, refs(bob), beforeAlice, refs(alice))
	}

	run(alice, "patch "+pid[:7]+" fast-forwarded into main at "+c1[:7]+"; closed 1 issue it fixes: "+iid[:7], "m", "y")
	v, err := st.PatchView(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := st.Patch(ctx, pid, v)
	if err != nil {
		t.Fatal(err)
	}
	if v.Tip != c1 || p.State != issues.StateMerged || p.Merge == nil || p.Merge.Author != alice.NID().String() {
		t.Errorf("after alice's merge: main at %s (want %s), patch %s, merge %+v", v.Tip, c1, p.State, p.Merge)
	}
	is, _, err := st.Issue(ctx, iid, v.Rules)
	if err != nil {
		t.Fatal(err)
	}
	if is.State != issues.StateClosed {
		t.Errorf("the issue the patch fixes is %s", is.State)
	}
	if is, ps := counts(); is != 0 || ps != 0 {
		t.Errorf("after the merge the project list counts %d open issues and %d open patches, want none", is, ps)
	}
}
