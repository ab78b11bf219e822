package cmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
)

// What a malicious peer writes into every field the reducer takes from
// it, to act on the terminal of whoever reads the project: set the
// window title (OSC 0), write the clipboard (OSC 52), forge a link
// (OSC 8), clear the screen and colour (CSI), talk to the terminal (DCS,
// APC), the same in C1 controls, reverse the text that follows (bidi
// override, isolate), erase with DEL and backspace.
const (
	evilLine = "evil \x1b]0;pwned\x07 \x1b]52;c;cm0gLXJmIH4K\x07 \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ " +
		"\x1b[2J\x1b[31mRED\x1b[0m \x1bP+q544e\x1b\\ \x1b_apc\x1b\\ \u009b2J \u009d0;c1\u009c \u202egnp.exe\u2066 \x7f\b"
	// Bodies, comments and reviews are lines: a carriage return too.
	evilText = evilLine + "\nsecond line \x1b[1A\x1b[2K\rover"
	// Labels take no C0 control (the reducer skips them): C1 and bidi.
	evilLabel = "bug\u009b2J\u202e\u2066x"
	// Reactions take no space.
	evilEmoji = "\x1b]0;e\x07\u202e"
	// Paths, commit messages and file content are git's: any bytes.
	evilPath   = "src/\x1b]0;pwned\x07\u202etxt.go\xff"
	evilCommit = evilLine + "\xff\xfe\n\nbody " + evilText
)

// checkTerminalSafe fails t if out holds anything a terminal acts on: ESC,
// BEL or any other C0 control but newline and tab, DEL, a C1 control, a
// bidirectional control, or bytes that are not UTF-8 (raw 8-bit C1).
func checkTerminalSafe(t *testing.T, what string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s: output is not UTF-8:\n%q", what, out)
		return
	}
	for i, r := range string(out) {
		if termtext.Unsafe(r) && r != '\n' && r != '\t' {
			t.Errorf("%s: %U at byte %d of\n%q", what, r, i, out)
			return
		}
	}
}

// hostileProject is a home whose project was written by mallory, a
// malicious peer, directly into storage as its node would have received
// it (no validator of grove's commands in the way): a project whose name,
// description and default branch, an issue whose title, body, labels,
// comments and reactions, and a patch whose title, description, commits
// (message, path, content), revision and review carry evil text. The
// home's own key is alice's, a reader.
type hostileProject struct {
	home           repo.Home
	rid            string
	issue, patch   string
	branch         string
	revision, head string
}

func newHostileProject(t *testing.T) *hostileProject {
	t.Helper()
	ctx := context.Background()
	h := repo.Home{Dir: t.TempDir()}
	if _, err := repo.CreateKey(h, "alice", nil); err != nil {
		t.Fatal(err)
	}
	mallory, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{66}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	hp := &hostileProject{home: h, branch: "main\u202e\u009b2J"}
	doc := &protocol.Identity{Name: "proj " + evilLine, Description: evilLine, DefaultBranch: hp.branch,
		Delegates: []protocol.NID{mallory.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, mallory, doc, runT0)
	if err != nil {
		t.Fatal(err)
	}
	hp.rid = r.RID.String()

	git := func(stdin string, args ...string) string {
		t.Helper()
		c := repo.GitCommand(ctx, r.Path, args...)
		c.Env = append(c.Env, "GIT_AUTHOR_NAME=m\x1b]0;a\x07", "GIT_AUTHOR_EMAIL=m@m", "GIT_COMMITTER_NAME=m", "GIT_COMMITTER_EMAIL=m@m")
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
	blobB := git("a\n"+evilText+"\xff\xfe\n", "hash-object", "-w", "--stdin")
	base := git("", "commit-tree", git("100644 blob "+blobA+"\ta\n", "mktree"), "-m", "first")
	src := git("100644 blob "+blobB+"\t"+strings.TrimPrefix(evilPath, "src/")+"\n", "mktree")
	head := git(evilCommit, "commit-tree", git("100644 blob "+blobA+"\ta\n040000 tree "+src+"\tsrc\n", "mktree"), "-p", base, "-F", "-")
	hp.head = head
	if err := r.UpdateNamespace(ctx, mallory, []repo.RefUpdate{{Name: "refs/heads/" + hp.branch, New: base}}, runT0); err != nil {
		t.Fatal(err)
	}

	s := issues.NewStore(r)
	acts := func(as ...issues.Action) issues.NewChange {
		out := make([]any, len(as))
		for i := range as {
			out[i] = as[i]
		}
		return issues.NewChange{Actions: out}
	}
	tx := s.Begin(mallory, runT0)
	hp.issue, err = tx.Create(issues.IssueType, acts(
		issues.Action{Type: issues.ActTitle, Title: evilLine},
		issues.Action{Type: issues.ActBody, Body: evilText},
		issues.Action{Type: issues.ActLabel, Add: []string{evilLabel, "plain"}}))
	if err != nil {
		t.Fatal(err)
	}
	comment, err := tx.Append(issues.IssueType, hp.issue, []string{hp.issue}, acts(issues.Action{Type: issues.ActComment, Body: evilText}))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := tx.Append(issues.IssueType, hp.issue, []string{comment}, acts(issues.Action{Type: issues.ActComment, Body: evilText, ReplyTo: comment}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Append(issues.IssueType, hp.issue, []string{reply}, acts(
		issues.Action{Type: issues.ActReact, Emoji: evilEmoji},
		issues.Action{Type: issues.ActReact, Emoji: evilEmoji, Comment: comment})); err != nil {
		t.Fatal(err)
	}

	hp.patch, err = tx.Create(issues.PatchType, acts(
		issues.Action{Type: issues.ActTitle, Title: evilLine},
		issues.Action{Type: issues.ActBody, Body: evilText},
		issues.Action{Type: issues.ActLabel, Add: []string{evilLabel}}))
	if err != nil {
		t.Fatal(err)
	}
	hp.revision, err = tx.Append(issues.PatchType, hp.patch, []string{hp.patch, head}, acts(issues.Action{Type: issues.ActRevision, Base: base, Head: head, Body: evilText}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Append(issues.PatchType, hp.patch, []string{hp.revision}, acts(issues.Action{
		Type: issues.ActReview, Revision: hp.revision, Verdict: issues.VerdictComment, Body: evilText,
		Comments: []issues.LineComment{{Path: strings.ToValidUTF8(evilPath, "?"), Line: 1, Body: evilText}},
	})); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return hp
}

// run runs grove args on hp's home, stdout and stderr a terminal or not,
// and returns both.
func (hp *hostileProject) run(t *testing.T, tty bool, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	io := IO{In: strings.NewReader(""), Out: &out, Err: &errb,
		LookupEnv: func(k string) (string, bool) {
			if k == "GROVE_HOME" {
				return hp.home.Dir, true
			}
			return "", false
		},
		InTTY: tty, OutTTY: tty, ErrTTY: tty}
	code = Grove(context.Background(), args, io)
	return out.Bytes(), errb.Bytes(), code
}

// TestHostileTextNeverReachesTheTerminal runs every command that prints
// what peers wrote, as text on a pipe and on a terminal and as JSON, on a
// project a malicious peer wrote: no output holds a byte a terminal acts
// on, and the text still shows what was written, made visible.
func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	hp := newHostileProject(t)
	R := []string{"-R", hp.rid}
	cmds := []struct {
		name string
		args []string
		want []string // in the text output
	}{
		{"issue list", []string{"issue", "list", "--state", "all"}, []string{"evil ^[]0;pwned^G", "bug<U+009B>2J<U+202E><U+2066>x,plain"}},
		{"issue list search", []string{"issue", "list", "--search", "evil"}, []string{"evil ^[]0;pwned^G"}},
		{"search", []string{"search", "evil"}, []string{"evil ^[]0;pwned^G"}},
		{"issue show", []string{"issue", "show", hp.issue}, []string{"evil ^[]0;pwned^G ^[]52;c;", "labels: bug<U+009B>2J<U+202E><U+2066>x, plain", "second line ^[[1A^[[2K^Mover", "^[]0;e^G<U+202E> 1", "── reply "}},
		{"patch list", []string{"patch", "list", "--state", "all"}, []string{"evil ^[]0;pwned^G"}},
		{"patch show", []string{"patch", "show", hp.patch, "--diff"}, []string{"evil ^[]0;pwned^G", "src/^[]0;pwned^G<U+202E>txt.go", "review ", "── diff "}},
		{"ls", []string{"ls"}, []string{"proj evil ^[]0;pwned^G"}},
		{"id show", []string{"id", "show"}, []string{"proj evil ^[]0;pwned^G", "main<U+202E><U+009B>2J"}},
		{"verify", []string{"verify"}, nil},
	}
	for _, c := range cmds {
		args := c.args
		if c.name != "ls" {
			args = append(append([]string{}, c.args...), R...)
		}
		for _, tty := range []bool{false, true} {
			mode := map[bool]string{false: "pipe", true: "terminal"}[tty]
			out, errOut, code := hp.run(t, tty, args...)
			if code != 0 {
				t.Errorf("%s (%s): exit %d: %s", c.name, mode, code, errOut)
			}
			// The colours grove adds on a terminal are the only
			// escapes allowed through; every other is a peer's.
			checkTerminalSafe(t, c.name+" ("+mode+") stdout", withoutOurColours(out))
			checkTerminalSafe(t, c.name+" ("+mode+") stderr", errOut)
			for _, w := range c.want {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("%s (%s): no %q in\n%s", c.name, mode, w, out)
				}
			}
		}
		if c.name == "verify" || c.name == "issue list search" {
			continue
		}
		out, errOut, code := hp.run(t, true, append(args, "--json")...)
		if code != 0 {
			t.Errorf("%s --json: exit %d: %s", c.name, code, errOut)
		}
		checkTerminalSafe(t, c.name+" --json", out)
		if !json.Valid(out) {
			t.Errorf("%s --json: not JSON:\n%s", c.name, out)
		}
	}

	// --json stays exact: what it decodes to is what mallory wrote.
	out, _, _ := hp.run(t, false, append([]string{"issue", "show", hp.issue, "--json"}, R...)...)
	var is issues.Issue
	if err := json.Unmarshal(out, &is); err != nil {
		t.Fatal(err)
	}
	if is.Title != evilLine || is.Body != evilText || len(is.Comments) != 2 || is.Comments[1].Body != evilText ||
		len(is.Labels) != 2 || !strings.Contains(strings.Join(is.Labels, ","), evilLabel) || len(is.Reactions) != 1 || is.Reactions[0].Emoji != evilEmoji {
		t.Errorf("issue show --json does not decode to what was written: %+v", is)
	}
	out, _, _ = hp.run(t, false, append([]string{"issue", "list", "--json"}, R...)...)
	var list []issues.Summary
	if err := json.Unmarshal(out, &list); err != nil || len(list) != 1 || list[0].Title != evilLine {
		t.Errorf("issue list --json: %v %+v", err, list)
	}
	out, _, _ = hp.run(t, false, append([]string{"patch", "show", hp.patch, "--json"}, R...)...)
	var p issues.Patch
	if err := json.Unmarshal(out, &p); err != nil || p.Title != evilLine || len(p.Revisions) != 1 || p.Revisions[0].Description != evilText ||
		len(p.Reviews) != 1 || p.Reviews[0].Body != evilText {
		t.Errorf("patch show --json: %v %+v", err, p)
	}
	out, _, _ = hp.run(t, false, append([]string{"id", "show", "--json"}, R...)...)
	var id projectJSON
	if err := json.Unmarshal(out, &id); err != nil || id.Name != "proj "+evilLine || id.DefaultBranch != hp.branch {
		t.Errorf("id show --json: %v %+v", err, id)
	}
}

// TestHostileErrorText: an error that quotes what a peer wrote is one safe
// line, from grove and from the remote helper.
func TestHostileErrorText(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("patch 3f2a does not merge cleanly into %s: conflict", "main"+evilLine),
		&UsageError{Err: fmt.Errorf("label %s", evilText)},
	} {
		var b bytes.Buffer
		exitCode(err, &b)
		checkTerminalSafe(t, "error", b.Bytes())
		if !bytes.Contains(b.Bytes(), []byte("^[]0;pwned^G")) {
			t.Errorf("error text lost what it quoted: %q", b.String())
		}
	}
}

// TestWritersRefuseControlCharacters: titles, labels, reactions, project
// names and aliases with a character a terminal acts on are refused when
// written (usage errors, exit 2), though others' are shown safely.
func TestWritersRefuseControlCharacters(t *testing.T) {
	hp := newHostileProject(t)
	R := []string{"-R", hp.rid}
	for _, args := range [][]string{
		{"issue", "new", "--title", "a \x1b]0;x\x07 title"},
		{"issue", "new", "--title", "a \u202e title"},
		{"issue", "new", "--title", "a \u009b2J title"},
		{"issue", "new", "--title", "ok", "--label", "a\u202eb"},
		{"issue", "edit", hp.issue, "--title", "\x1b[2J"},
		{"issue", "label", hp.issue, "--add", "x\u0085"},
		{"issue", "react", hp.issue, "\x1b]0;x\x07"},
		{"id", "update", "--name", "n\x1b[31m"},
		{"id", "update", "--description", "d\u2066"},
		{"follow", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "--alias", "bob\x1b]0;x\x07"},
	} {
		if args[0] != "follow" {
			args = append(args, R...)
		}
		_, errOut, code := hp.run(t, false, args...)
		if code != 2 || !bytes.Contains(errOut, []byte("control characters")) {
			t.Errorf("grove %q: exit %d, %s", args, code, errOut)
		}
		checkTerminalSafe(t, fmt.Sprintf("grove %q stderr", args), errOut)
	}
	// The issue kinds refuse them too, for writers other than the CLI
	// (the TUI).
	for _, a := range []issues.Action{
		{Type: issues.ActTitle, Title: "t\x1b]0;x\x07"},
		{Type: issues.ActLabel, Add: []string{"l\u202e"}},
		{Type: issues.ActReact, Emoji: "\u009b"},
	} {
		if err := issues.CheckActions(a); !errors.Is(err, issues.ErrInvalid) {
			t.Errorf("CheckActions(%+v) = %v, want ErrInvalid", a, err)
		}
	}
}

// TestListSkipsBadObjects: an issue and a patch a peer made too large to
// load (ErrTooLarge) leave the project's lists working, in text and
// JSON: the others are listed, and one line on stderr names each one
// left out.
func TestListSkipsBadObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 66 MiB of changes")
	}
	ctx := context.Background()
	re := newRunEnv(t)
	mallory, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{66}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	s := issues.NewStore(re.r)
	if _, err := s.CreateIssue(ctx, re.key, runT0, issues.NewIssue{Title: "a good one"}); err != nil {
		t.Fatal(err)
	}
	tx := s.Begin(mallory, runT0)
	big := strings.Repeat("x", issues.MaxActionsSize-100)
	var bad []string
	for _, typ := range []string{issues.IssueType, issues.PatchType} {
		id, err := tx.Create(typ, issues.NewChange{Actions: []any{issues.Action{Type: issues.ActTitle, Title: "too large"}}})
		if err != nil {
			t.Fatal(err)
		}
		tip := id
		for i := range issues.MaxObjectActions/issues.MaxActionsSize + 1 {
			body := big[:len(big)-i-1] + "y"
			if tip, err = tx.Append(typ, id, []string{tip}, issues.NewChange{Actions: []any{issues.Action{Type: issues.ActComment, Body: body}}}); err != nil {
				t.Fatal(err)
			}
		}
		bad = append(bad, id)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, asJSON := range []bool{false, true} {
		re.must(issueListRun(ctx, &issueListOptions{on: re.on(nil, ""), State: "all", JSON: asJSON}))
		if !strings.Contains(re.out.String(), "a good one") || re.err.String() != "grove: skipped issue "+bad[0][:7]+": grove.issue "+bad[0][:7]+": object too large: over 32 MiB of actions\n" {
			t.Errorf("issue list (json %v): stdout %q, stderr %q", asJSON, re.out.String(), re.err.String())
		}
		re.must(patchListRun(ctx, &patchListOptions{on: re.on(nil, ""), State: "all", JSON: asJSON}))
		if !strings.HasPrefix(re.err.String(), "grove: skipped patch "+bad[1][:7]+": ") || strings.Count(re.err.String(), "\n") != 1 {
			t.Errorf("patch list (json %v): stdout %q, stderr %q", asJSON, re.out.String(), re.err.String())
		}
	}
}

// withoutOurColours returns out without the SGR sequences grove colours
// with (colourDiff); any other escape stays for checkTerminalSafe to find.
func withoutOurColours(out []byte) []byte {
	for _, sgr := range []string{sgrBold, sgrRed, sgrGreen, sgrCyan, sgrReset} {
		out = bytes.ReplaceAll(out, []byte(sgr), nil)
	}
	return out
}
