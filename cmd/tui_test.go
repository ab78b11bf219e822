package cmd_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestTUIInTmux drives the real grove binary, which runs grove-tui, in a
// real terminal: started with no RID in a git clone of a project, it
// opens that project, an issue, writes a comment from the UI, and then
// finds the comment with the CLI.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it): skipping the real-terminal test")
	}
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	bin := buildPrograms(t, "grove", "git-remote-grove", "grove-tui")
	p := newPeer(t)
	path := bin + string(os.PathListSeparator) + os.Getenv("PATH")
	p.env = append(p.env, "PATH="+path)
	dir := filepath.Join(p.work, "origin")
	p.run(p.work, "git", "init", "-q", "-b", "main", dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.run(dir, "git", "add", ".")
	p.run(dir, "git", "commit", "-q", "-m", "first")
	rid := p.run(dir, "grove", "init", "--name", "demo", "--description", "A demo project")

	// Two issues, through the package (the CLI's issue commands may not
	// be there yet).
	home := repo.Home{Dir: filepath.Join(p.work, ".grove")}
	key, err := repo.LoadKey(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := protocol.ParseRID(rid)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(home, id)
	if err != nil {
		t.Fatal(err)
	}
	st := issues.NewStore(r)
	ctx := context.Background()
	t0 := time.Now()
	issueID, err := st.CreateIssue(ctx, key, t0, issues.NewIssue{Title: "Crash when the home is unset", Body: "It **panics**.", Labels: []string{"bug"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateIssue(ctx, key, t0.Add(time.Second), issues.NewIssue{Title: "Document the UI"}); err != nil {
		t.Fatal(err)
	}

	// A working copy as the README makes one: git clone names the remote
	// origin. grove tui, run in it with no RID, opens its project.
	clone := filepath.Join(p.work, "clone")
	p.run(p.work, "git", "clone", "-q", "grove://"+rid, clone)

	sock := filepath.Join(t.TempDir(), "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var env []string
	for _, kv := range p.env {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "HOME" || k == "GROVE_HOME" || strings.HasPrefix(k, "GIT_") {
			env = append(env, shellQuote(kv))
		}
	}
	// env -i: the pane must not inherit the test's environment. CI
	// machines set CI, and termenv then takes any output for a non-terminal
	// and draws without colour, where glamour keeps the stars of **bold**;
	// NO_COLOR or COLORTERM would change the drawing too.
	shell := "cd " + shellQuote(clone) + " && env -i " + strings.Join(env, " ") + " TERM=xterm-256color grove tui 2>" + shellQuote(filepath.Join(p.work, "tui.err"))
	tmux("new-session", "-d", "-s", "grove", "-x", "80", "-y", "24", shell)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })

	screen := func() string { return tmux("capture-pane", "-p", "-t", "grove") }
	waitForIn := func(s string, limit time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(limit)
		for {
			sc := screen()
			if strings.Contains(sc, s) {
				return sc
			}
			if time.Now().After(deadline) {
				errOut, _ := os.ReadFile(filepath.Join(p.work, "tui.err"))
				t.Fatalf("%q not on screen after %v:\n%s\nstderr: %s", s, limit, sc, errOut)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor := func(s string) string {
		t.Helper()
		return waitForIn(s, 15*time.Second)
	}
	keys := func(ks ...string) { tmux(append([]string{"send-keys", "-t", "grove"}, ks...)...) }

	waitFor("Document the UI")
	// The project's header arrives in its own message, maybe after the list.
	sc := waitFor("A demo project")
	for _, want := range []string{"demo", "A demo project", "Crash when the home is unset", "[bug]", "2 issues"} {
		if !strings.Contains(sc, want) {
			t.Errorf("project screen lacks %q:\n%s", want, sc)
		}
	}
	if lines := strings.Split(strings.TrimRight(sc, "\n"), "\n"); len(lines) > 24 {
		t.Errorf("screen has %d lines at 80x24", len(lines))
	}
	// The newest issue is first; open the older one.
	keys("j")
	keys("Enter")
	// The body's markdown is rendered (tui/render): the stars go. It shows
	// as written at once and rendered when its command has run.
	if sc := waitForIn("It panics.", 30*time.Second); strings.Contains(sc, "**panics**") {
		t.Errorf("the issue's body is not rendered:\n%s", sc)
	}
	keys("c")
	waitFor("Comment on issue")
	keys("-l", "Seen from tmux.")
	keys("C-s")
	waitFor("comment added")
	waitFor("Seen from tmux.")

	// The code tab shows the pushed tree.
	keys("q")
	waitFor("Document the UI")
	keys("3")
	waitFor("main.go")
	keys("q")

	// The CLI sees the comment.
	if out, err := p.try(dir, "grove", "issue", "show", issueID[:7]); err == nil {
		if !strings.Contains(out, "Seen from tmux.") {
			t.Errorf("grove issue show lacks the comment:\n%s", out)
		}
	} else {
		t.Logf("grove issue show is not available (%v); checking storage directly", err)
		is, _, err := st.Issue(ctx, issueID, issues.RulesOf(mustIdentity(t, r)))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(is.Comments); n != 1 || is.Comments[0].Body != "Seen from tmux." {
			t.Errorf("comments = %+v", is.Comments)
		}
	}
}

func mustIdentity(t *testing.T, r *repo.Repo) *protocol.Identity {
	t.Helper()
	doc, _, err := r.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// buildPrograms builds the programs cmd/NAME into a new directory and
// returns it.
func buildPrograms(t *testing.T, names ...string) string {
	t.Helper()
	bin := t.TempDir()
	for _, c := range names {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, c), "./"+c).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", c, err, out)
		}
	}
	return bin
}

// TestTUINotInstalled checks what grove tui says when grove-tui is neither
// next to grove nor on PATH.
func TestTUINotInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	bin := buildPrograms(t, "grove")
	c := exec.Command(filepath.Join(bin, "grove"), "tui")
	c.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "GROVE_HOME=" + t.TempDir()}
	out, err := c.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("grove tui: err = %v, want exit 1\n%s", err, out)
	}
	const want = "grove: grove-tui is not installed next to grove: run 'go install ./cmd/...'\n"
	if string(out) != want {
		t.Errorf("grove tui said %q, want %q", out, want)
	}
}
