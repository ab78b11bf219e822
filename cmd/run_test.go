package cmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// These tests call commands' run functions directly, with their
// dependencies injected: a home and a project in temporary directories,
// buffers for the streams, a terminal or not, a fixed clock, and
// recorders for the editor and for announcements. testdata/script covers
// the same commands end to end, through the programs.

var runT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// runEnv is a home with a key and a project delegated to it.
type runEnv struct {
	t         *testing.T
	home      repo.Home
	key       *protocol.Key
	r         *repo.Repo
	out, err  bytes.Buffer
	announced int      // changes announced
	edited    int      // times the editor was asked
	initial   string   // what the editor was last given
	editor    string   // what the editor returns
	tty       bool     // every stream is a terminal
	stdin     string   // what stdin holds
	env       []string // the environment, as KEY=VALUE
}

func newRunEnv(t *testing.T) *runEnv {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	k, err := repo.CreateKey(h, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := &protocol.Identity{Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(context.Background(), h, k, doc, runT0)
	if err != nil {
		t.Fatal(err)
	}
	return &runEnv{t: t, home: h, key: k, r: r}
}

// deps returns the dependencies of one command run as the user with key
// k (nil: the project's delegate).
func (re *runEnv) deps(k *protocol.Key) deps {
	if k == nil {
		k = re.key
	}
	re.out.Reset()
	re.err.Reset()
	return deps{
		IO: IO{
			In: strings.NewReader(re.stdin), Out: &re.out, Err: &re.err,
			LookupEnv: func(name string) (string, bool) {
				for _, kv := range re.env {
					if v, ok := strings.CutPrefix(kv, name+"="); ok {
						return v, true
					}
				}
				return "", false
			},
			InTTY: re.tty, OutTTY: re.tty, ErrTTY: re.tty,
		},
		Now:      func() time.Time { return runT0.Add(time.Hour) },
		Home:     func() (repo.Home, error) { return re.home, nil },
		Key:      func() (*protocol.Key, error) { return k, nil },
		NID:      func() (protocol.NID, error) { return k.NID(), nil },
		Repo:     func(context.Context) (*repo.Repo, error) { return re.r, nil },
		Announce: func(context.Context, protocol.RID) { re.announced++ },
		Editor: func(_ context.Context, initial string) (string, error) {
			re.edited++
			re.initial = initial
			return re.editor, nil
		},
	}
}

func (re *runEnv) on(k *protocol.Key, id string) on { return on{deps: re.deps(k), ID: id} }

// must fails the test on err.
func (re *runEnv) must(err error) {
	re.t.Helper()
	if err != nil {
		re.t.Fatalf("%v (stderr %q)", err, re.err.String())
	}
}

// line returns stdout's one line.
func (re *runEnv) line() string {
	re.t.Helper()
	s, ok := strings.CutSuffix(re.out.String(), "\n")
	if !ok || strings.Contains(s, "\n") {
		re.t.Fatalf("stdout %q, want one line", re.out.String())
	}
	return s
}

func (re *runEnv) thread(kind *cobKind, id string) *issues.Thread {
	re.t.Helper()
	o := re.on(nil, id)
	th, err := o.thread(context.Background(), kind)
	re.must(err)
	return th
}

// TestIssueRun files, lists, shows, discusses and triages an issue through
// the run functions, with a terminal and without.
func TestIssueRun(t *testing.T) {
	ctx := context.Background()
	for _, tty := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipe", true: "terminal"}[tty], func(t *testing.T) {
			re := newRunEnv(t)
			re.tty = tty

			// Nothing to list: a terminal hears so on stderr, a pipe
			// gets nothing at all.
			re.must(issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "open"}))
			if re.out.Len() != 0 || (re.err.String() == "No issues match.\n") != tty {
				t.Fatalf("empty list: stdout %q stderr %q", re.out.String(), re.err.String())
			}

			// With no body flag, a terminal opens the editor on the
			// title, for the body below it; a pipe files no body.
			re.editor = "Crash on start\n\n## from the editor\n\n" + scissors + "\n# help\n"
			re.must(issueNewRun(ctx, &issueNewOptions{on: re.on(nil, ""), Title: give("Crash on start"), Labels: []string{"bug"}}))
			id := re.line()
			if th := re.thread(issueKind, id); (th.Body == "## from the editor") != tty || re.edited != map[bool]int{false: 0, true: 1}[tty] {
				t.Fatalf("body %q after %d editor runs", th.Body, re.edited)
			}
			if tty && !strings.HasPrefix(re.initial, "Crash on start\n\n\n"+scissors+"\n# ") {
				t.Fatalf("editor given %q", re.initial)
			}
			if re.announced != 1 {
				t.Fatalf("%d announcements after filing", re.announced)
			}

			// --body-file - reads stdin, not the editor.
			re.stdin = "## Steps\n"
			o := &issueNewOptions{on: re.on(nil, ""), Title: give("Second"), JSON: true}
			o.Body.File = give("-")
			re.must(issueNewRun(ctx, o))
			var second issues.Issue
			if err := json.Unmarshal(re.out.Bytes(), &second); err != nil || second.Body != "## Steps\n" || !second.Created.Equal(runT0.Add(time.Hour)) {
				t.Fatalf("--json: %v %+v", err, second)
			}

			// A comment and a reply by prefix; the reply needs the issue
			// materialized, the comment does not.
			c := &commentOptions{on: re.on(nil, id[:6]), Kind: issueKind}
			c.Body.Body = give("me too")
			re.must(commentRun(ctx, c))
			c1 := re.line()
			c = &commentOptions{on: re.on(nil, id[:6]), Kind: issueKind, ReplyTo: c1[:5]}
			c.Body.Body = give("same")
			re.must(commentRun(ctx, c))

			e := &editOptions{on: re.on(nil, id), Kind: issueKind, Title: give("Crash on every start")}
			re.must(editRun(ctx, e))
			re.must(labelRun(ctx, &setOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}, Add: []string{"ui"}, Remove: []string{"bug"}}))
			re.must(assignRun(ctx, &setOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}, Add: []string{re.key.NID().String()}}))
			re.must(reactRun(ctx, &reactOptions{on: re.on(nil, id), Kind: issueKind, Emoji: "👍", Comment: c1}))
			re.must(closeRun(ctx, &closeOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}, Reason: issues.ReasonOther}))
			// A terminal hears what was done, in one line; a pipe nothing.
			if want := map[bool]string{true: "Closed issue " + id[:7] + "\n"}[tty]; re.err.String() != want || re.out.Len() != 0 {
				t.Fatalf("close: stdout %q stderr %q, want stderr %q", re.out.String(), re.err.String(), want)
			}
			// Closing it again writes nothing, and says so.
			re.must(closeRun(ctx, &closeOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}, Reason: issues.ReasonOther}))
			if want := "grove: issue " + id[:7] + " is closed already; nothing changed\n"; re.err.String() != want {
				t.Fatalf("second close: stderr %q, want %q", re.err.String(), want)
			}

			th := re.thread(issueKind, id)
			switch {
			case th.Title != "Crash on every start", th.State != issues.StateClosed, th.Reason != issues.ReasonOther:
				t.Fatalf("title %q state %q reason %q", th.Title, th.State, th.Reason)
			case strings.Join(th.Labels, ",") != "ui", len(th.Assignees) != 1:
				t.Fatalf("labels %v assignees %v", th.Labels, th.Assignees)
			case len(th.Comments) != 2 || th.Comments[1].ReplyTo != c1 || len(th.Comments[0].Reactions) != 1:
				t.Fatalf("comments %+v", th.Comments)
			}
			if re.announced != 9 {
				t.Fatalf("%d announcements after 9 changes", re.announced)
			}

			// show prints the thread, the reply under the comment.
			re.must(issueShowRun(ctx, &jsonOptions{on: re.on(nil, id[:7])}))
			for _, want := range []string{"Crash on every start\nclosed (other) · opened by ", "labels: ui\n", "\n── comment " + c1[:7], "\n    ── reply ", "    same\n", "👍 1"} {
				if !strings.Contains(re.out.String(), want) {
					t.Fatalf("show: no %q in\n%s", want, re.out.String())
				}
			}

			// The list, as a table and as JSON.
			// On a terminal, under a header row.
			re.must(issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "all"}))
			if n := strings.Count(re.out.String(), "\n"); n != map[bool]int{false: 2, true: 3}[tty] || !strings.Contains(re.out.String(), id[:7]+"  closed (other)  Crash on every start  ui  ") {
				t.Fatalf("list:\n%s", re.out.String())
			}
			if strings.HasPrefix(re.out.String(), "ID       STATE           TITLE") != tty {
				t.Fatalf("list, header row only on a terminal:\n%s", re.out.String())
			}
			re.must(issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "closed", JSON: true}))
			var list []issues.Summary
			if err := json.Unmarshal(re.out.Bytes(), &list); err != nil || len(list) != 1 || list[0].ID != id {
				t.Fatalf("list --json: %v %s", err, re.out.String())
			}
			if re.announced != 9 {
				t.Fatal("reading announced something")
			}
		})
	}
}

// TestRunRefusals: what a run function refuses, and how: usage errors
// (exit 2) before touching anything, and a stranger's triage.
func TestRunRefusals(t *testing.T) {
	ctx := context.Background()
	re := newRunEnv(t)
	re.must(issueNewRun(ctx, &issueNewOptions{on: re.on(nil, ""), Title: give("bug")}))
	id := re.line()
	stranger, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		run       func() error
		usage     bool
		wantError string
	}{
		{"no title", func() error { return issueNewRun(ctx, &issueNewOptions{on: re.on(nil, "")}) }, true, "--title is required"},
		{"bad reason", func() error {
			return closeRun(ctx, &closeOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}, Reason: "because"})
		}, true, "--reason must be solved or other"},
		{"nothing to label", func() error {
			return labelRun(ctx, &setOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: issueKind}})
		}, true, "nothing to change"},
		{"bad state", func() error { return issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "merged"}) }, true, "--state must be open, closed or all"},
		{"empty comment", func() error {
			c := &commentOptions{on: re.on(nil, id), Kind: issueKind}
			c.Body.Body = give(" \n")
			return commentRun(ctx, c)
		}, true, "empty comment"},
		{"no comment on a pipe", func() error { return commentRun(ctx, &commentOptions{on: re.on(nil, id), Kind: issueKind}) }, true, "give the comment with --body or --body-file"},
		{"stranger closes", func() error {
			return closeRun(ctx, &closeOptions{triageOptions: triageOptions{on: re.on(stranger, id), Kind: issueKind}, Reason: issues.ReasonSolved})
		}, false, "issue " + id[:7] + ": only its author or a delegate may close it"},
		{"stranger edits the body", func() error {
			e := &editOptions{on: re.on(stranger, id), Kind: issueKind}
			e.Body.Body = give("mine")
			return editRun(ctx, e)
		}, false, "only its author may edit its body"},
		{"no such comment", func() error {
			return reactRun(ctx, &reactOptions{on: re.on(nil, id), Kind: issueKind, Emoji: "👍", Comment: "ffff"})
		}, false, "comment ffff: not found in issue " + id[:7]},
		{"no such issue", func() error { return issueShowRun(ctx, &jsonOptions{on: re.on(nil, "ffff")}) }, false, "issue ffff: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := re.announced
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.wantError) || errors.As(err, new(*UsageError)) != tt.usage {
				t.Fatalf("got %v, want %q (usage %v)", err, tt.wantError, tt.usage)
			}
			if re.announced != before {
				t.Fatal("a refused change was announced")
			}
		})
	}
	if th := re.thread(issueKind, id); th.State != issues.StateOpen || len(th.Comments) != 0 {
		t.Fatalf("refusals changed the issue: %+v", th)
	}
}

// TestPatchRun: what every kind offers works on patches through the same
// run functions, and patch list and show print them, with a terminal and
// without.
func TestPatchRun(t *testing.T) {
	ctx := context.Background()
	for _, tty := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipe", true: "terminal"}[tty], func(t *testing.T) {
			re := newRunEnv(t)
			re.tty = tty
			re.must(patchListRun(ctx, &patchListOptions{on: re.on(nil, ""), State: "open"}))
			if re.out.Len() != 0 || (re.err.String() == "No patches match.\n") != tty {
				t.Fatalf("empty list: stdout %q stderr %q", re.out.String(), re.err.String())
			}
			id := openTestPatch(t, re)

			c := &commentOptions{on: re.on(nil, id[:5]), Kind: patchKind}
			c.Body.Body = give("why?")
			re.must(commentRun(ctx, c))
			c1 := re.line()
			c = &commentOptions{on: re.on(nil, id[:5]), Kind: patchKind, ReplyTo: c1}
			c.Body.Body = give("because")
			re.must(commentRun(ctx, c))
			re.must(reactRun(ctx, &reactOptions{on: re.on(nil, id), Kind: patchKind, Emoji: "🎉"}))
			re.must(assignRun(ctx, &setOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: patchKind}, Add: []string{re.key.NID().String()}}))
			re.must(labelRun(ctx, &setOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: patchKind}, Add: []string{"needs-tests"}}))
			re.must(closeRun(ctx, &closeOptions{triageOptions: triageOptions{on: re.on(nil, id), Kind: patchKind}}))
			re.must(reopenRun(ctx, &triageOptions{on: re.on(nil, id), Kind: patchKind}))
			if re.announced != 7 {
				t.Fatalf("%d announcements after 7 changes", re.announced)
			}

			re.must(patchShowRun(ctx, &patchShowOptions{on: re.on(nil, id), JSON: true}))
			var p issues.Patch
			if err := json.Unmarshal(re.out.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.State != issues.StateOpen || len(p.Reactions) != 1 || len(p.Assignees) != 1 || len(p.Comments) != 2 || p.Comments[1].ReplyTo != c1 || len(p.Revisions) != 1 {
				t.Fatalf("patch %+v", p)
			}
			re.must(patchShowRun(ctx, &patchShowOptions{on: re.on(nil, id), Diff: true}))
			// The diff is coloured on a terminal, as git colours it.
			added := map[bool]string{false: "\n+b\n", true: "\n\x1b[32m+b\x1b[0m\n"}[tty]
			for _, want := range []string{"add b\nopen · opened by ", " · 1 revision · no verdicts\n", "labels: needs-tests\n", "🎉 1\n", "── revision 1 ", "    ── reply ", "── diff ", added} {
				if !strings.Contains(re.out.String(), want) {
					t.Fatalf("show: no %q in\n%s", want, re.out.String())
				}
			}
			if tty && !strings.Contains(re.out.String(), "\x1b[36m@@ ") {
				t.Fatalf("show: hunk header not coloured:\n%q", re.out.String())
			}
			// NO_COLOR turns colours off, as does a pipe.
			re.env = []string{"NO_COLOR=1"}
			re.must(patchShowRun(ctx, &patchShowOptions{on: re.on(nil, id), Diff: true}))
			re.env = nil
			if strings.Contains(re.out.String(), "\x1b") || !strings.Contains(re.out.String(), "\n+b\n") {
				t.Fatalf("show with NO_COLOR:\n%q", re.out.String())
			}
			// --json carries the diff.
			re.must(patchShowRun(ctx, &patchShowOptions{on: re.on(nil, id), Diff: true, JSON: true}))
			var withDiff struct {
				Diff *diffJSON `json:"diff"`
			}
			if err := json.Unmarshal(re.out.Bytes(), &withDiff); err != nil || withDiff.Diff == nil || !strings.Contains(withDiff.Diff.Text, "\n+b\n") || withDiff.Diff.To != p.Revisions[0].Head {
				t.Fatalf("show --diff --json: %v %s", err, re.out.String())
			}
			re.must(patchListRun(ctx, &patchListOptions{on: re.on(nil, ""), State: "all"}))
			rows := re.out.String()
			if tty {
				header, rest, _ := strings.Cut(rows, "\n")
				if !strings.HasPrefix(header, "ID       STATE  TITLE  REVISION  REVIEWS") {
					t.Fatalf("list: header %q", header)
				}
				rows = rest
			}
			if f := strings.Fields(rows); len(f) < 7 || strings.Join(f[:7], " ") != id[:7]+" open add b r1 no verdicts" {
				t.Fatalf("list: %q", re.out.String())
			}
		})
	}
}

// openTestPatch makes two commits in the project's storage, main and one
// on top, and opens a patch proposing the second; it returns its ID.
func openTestPatch(t *testing.T, re *runEnv) string {
	t.Helper()
	ctx := context.Background()
	git := func(stdin string, args ...string) string {
		t.Helper()
		c := repo.GitCommand(ctx, re.r.Path, args...)
		c.Env = append(c.Env, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@a", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@a")
		c.Stdin = strings.NewReader(stdin)
		out, err := c.Output()
		if err != nil {
			var ee *exec.ExitError
			errors.As(err, &ee)
			t.Fatalf("git %v: %v %s", args, err, ee.Stderr)
		}
		return strings.TrimSpace(string(out))
	}
	blobA := git("a\n", "hash-object", "-w", "--stdin")
	blobB := git("a\nb\n", "hash-object", "-w", "--stdin")
	base := git("", "commit-tree", git("100644 blob "+blobA+"\ta\n", "mktree"), "-m", "first")
	head := git("", "commit-tree", git("100644 blob "+blobB+"\ta\n", "mktree"), "-p", base, "-m", "add b")
	ups := []repo.RefUpdate{{Name: "refs/heads/main", New: base}}
	re.must(re.r.UpdateNamespace(ctx, re.key, ups, runT0))
	s := issues.NewCachedStore(re.r, re.home)
	id, _, err := s.OpenPatch(ctx, re.key, runT0, issues.NewPatch{Title: "add b", Base: base, Head: head})
	re.must(err)
	return id
}

// TestIssueNewEditor: with no flags on a terminal, one editor buffer
// holds the title and the body; an empty title aborts with nothing filed;
// without a terminal --title is still required.
func TestIssueNewEditor(t *testing.T) {
	ctx := context.Background()
	re := newRunEnv(t)
	re.tty = true
	re.editor = "\n  Crash on start  \n\n# Steps\n\n    indented code\n\n" + scissors + "\n# Do not change\n# anything\n"
	re.must(issueNewRun(ctx, &issueNewOptions{on: re.on(nil, "")}))
	th := re.thread(issueKind, re.line())
	if th.Title != "Crash on start" || th.Body != "# Steps\n\n    indented code" {
		t.Errorf("filed %q / %q", th.Title, th.Body)
	}
	if !strings.HasPrefix(re.initial, "\n\n\n"+scissors+"\n") || !strings.Contains(re.initial, "An empty title aborts") {
		t.Errorf("editor given %q", re.initial)
	}

	for _, buf := range []string{"", "\n\n", "\n\n" + scissors + "\nTitle below the line\n", "   \n"} {
		re.editor = buf
		err := issueNewRun(ctx, &issueNewOptions{on: re.on(nil, "")})
		if err == nil || err.Error() != "empty title: no issue made" {
			t.Errorf("buffer %q: %v", buf, err)
		}
	}
	re.must(issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "all"}))
	if n := strings.Count(re.out.String(), "\n") - 1; n != 1 { // under a header row
		t.Errorf("%d issues listed after aborts:\n%s", n, re.out.String())
	}

	re.tty = false
	edited := re.edited
	err := issueNewRun(ctx, &issueNewOptions{on: re.on(nil, "")})
	if !errors.As(err, new(*UsageError)) || !strings.Contains(err.Error(), "--title is required") || re.edited != edited {
		t.Errorf("no terminal: %v, %d editor runs", err, re.edited-edited)
	}
}

func TestParseTitled(t *testing.T) {
	for _, tc := range []struct{ in, title, body string }{
		{"Title\n\nBody\n", "Title", "Body"},
		{"Title", "Title", ""},
		{"Title\r\n\r\nBody\r\n", "Title", "Body"},
		{"\n\nTitle\nBody right below\n", "Title", "Body right below"},
		{"Title\n\n# Heading\n" + scissors + "\n# help\n", "Title", "# Heading"},
		{"Title\n" + scissors, "Title", ""},
		{scissors + "\nTitle\n", "", ""},
		{"Title\n\nnot " + scissors + "\nkept\n", "Title", "not " + scissors + "\nkept"},
	} {
		title, body := parseTitled(tc.in)
		if title != tc.title || body != tc.body {
			t.Errorf("parseTitled(%q) = %q, %q; want %q, %q", tc.in, title, body, tc.title, tc.body)
		}
	}
}
