package tuicmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/tui"
)

// TestMainArgs: without a terminal grove-tui says so, and what to use
// instead, and exits 1; bad arguments are a usage error (exit 2).
func TestMainArgs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		tty      bool
		wantCode int
		wantErr  string
	}{
		{name: "no terminal", wantCode: 1, wantErr: "grove: grove tui needs a terminal: run it in one, or use 'grove ls' and 'grove issue list' in scripts\n"},
		{name: "no terminal, with a RID", args: []string{"baf4bcfbfeeepdnqxbdn5x4ayqd6ha5tikp3ujgy"}, wantCode: 1, wantErr: "grove: grove tui needs a terminal"},
		{name: "two arguments", args: []string{"a", "b"}, tty: true, wantCode: 2, wantErr: "grove: grove tui takes at most 1 argument(s), got 2\n"},
		{name: "unknown flag", args: []string{"--frob"}, tty: true, wantCode: 2, wantErr: "grove: flag provided but not defined: -frob\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			io := IO{In: strings.NewReader(""), Out: &out, Err: &errOut, InTTY: tt.tty, OutTTY: tt.tty,
				LookupEnv: func(k string) (string, bool) {
					if k == "GROVE_HOME" {
						return t.TempDir(), true
					}
					return "", false
				}}
			code := Main(context.Background(), tt.args, io)
			if code != tt.wantCode || !strings.HasPrefix(errOut.String(), tt.wantErr) {
				t.Errorf("Main(%q) = %d, stderr %q; want %d, %q", tt.args, code, errOut.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestOpensWorkingCopyProject: grove tui run inside a working copy (a git
// repository whose remote, here "origin" as git clone grove://RID names
// it, has a grove:// URL) opens that project, and the UI's first screen
// is its issues; an RID given wins, outside a working copy the UI opens on
// the project list, and a working copy of a project not in storage says
// what to do.
func TestOpensWorkingCopyProject(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	h := repo.Home{Dir: t.TempDir()}
	create := func(name string) *repo.Repo {
		t.Helper()
		doc := &protocol.Identity{Name: name, DefaultBranch: "main", Delegates: []protocol.NID{alice.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
		r, err := repo.Create(ctx, h, alice, doc, t0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	demo, other := create("demo"), create("other")
	if _, err := issues.NewStore(demo).CreateIssue(ctx, alice, t0, issues.NewIssue{Title: "Crash when the home is unset"}); err != nil {
		t.Fatal(err)
	}
	clone := t.TempDir()
	gitRun(t, clone, "init", "-q", "-b", "main")
	gitRun(t, clone, "remote", "add", "origin", protocol.URLScheme+demo.RID.String())
	plain := t.TempDir()
	gitRun(t, plain, "init", "-q", "-b", "main")
	gitRun(t, plain, "remote", "add", "origin", "https://example.com/x.git")
	elsewhere := t.TempDir()
	gitRun(t, elsewhere, "init", "-q", "-b", "main")
	gone, err := protocol.RIDFromOID(strings.Repeat("ab", 20)) // a project no storage holds
	if err != nil {
		t.Fatal(err)
	}
	gitRun(t, elsewhere, "remote", "add", "grove", gone.URL())

	e := &cli.Env{Now: func() time.Time { return t0.Add(time.Hour) }, IO: IO{
		In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		LookupEnv: func(k string) (string, bool) {
			if k == "GROVE_HOME" {
				return h.Dir, true
			}
			return "", false
		}}}
	tests := []struct {
		name, dir, flag string
		want            string
		wantErr         string
	}{
		{name: "working copy", dir: clone, want: demo.RID.String()},
		{name: "RID wins", dir: clone, flag: other.RID.String(), want: other.RID.String()},
		{name: "no grove remote", dir: plain, want: ""},
		{name: "not a git repository", dir: t.TempDir(), want: ""},
		{name: "project not stored", dir: elsewhere, wantErr: "is not in local storage: clone it with 'grove clone "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := setup(ctx, e, &options{Repo: tt.flag}, tt.dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("setup: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.RID != tt.want {
				t.Errorf("opens %q, want %q", o.RID, tt.want)
			}
		})
	}

	// The program as grove-tui runs it, started in the clone: its first
	// screen is the project's issues.
	o, err := setup(ctx, e, &options{}, clone)
	if err != nil {
		t.Fatal(err)
	}
	o.Poll = 0
	tm := teatest.NewTestModel(t, tui.New(o), teatest.WithInitialTermSize(100, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("Crash when the home is unset")) && bytes.Contains(b, []byte("1 Issues"))
	}, teatest.WithDuration(20*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}
