package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

type demoOptions struct {
	on
	Keep bool
	Dir  string
}

func newDemoCmd(e *env) *cobra.Command {
	o := &demoOptions{}
	c := o.bind(e, doc("demo", "Run a throwaway three-peer network on this machine and show Grove at work",
		`Start three throwaway peers (alice, bob and carol, each with a temporary
GROVE_HOME and a node listening on loopback only), then walk through what a
team does: create a project, clone it from a peer, push and watch gossip
carry the push to a third peer, file an issue offline and see it arrive,
open a patch, review and merge it. Every step prints the commands a user
would type. Everything the demo started is stopped and removed at the end,
unless --keep is given.`,
		"  grove demo\n  grove demo --keep",
	), 0, false, func(ctx context.Context) error { return demoRun(ctx, o) })
	c.Flags().BoolVar(&o.Keep, "keep", false, "keep the peers' homes and print how to open them in 'grove tui'")
	c.Flags().StringVar(&o.Dir, "dir", "", "where to put the peers (default: a new temporary directory)")
	return c
}

// demo runs the walkthrough: peers, their environments and the output.
type demo struct {
	out   io.Writer
	bin   string // this program's directory
	root  string
	path  string // PATH with this program's directory first, for git
	peers []*demoPeer
	n     int // steps printed
	total int
}

type demoPeer struct {
	name string
	home string
	work string // the peer's working copy
	addr string // its node's first address
	env  []string
}

func demoRun(ctx context.Context, o *demoOptions) (err error) {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: find this program: %w", err)
	}
	bin := filepath.Dir(self)
	// A reader that goes away (grove demo | head) must not kill the demo
	// before it stops the nodes it started: with SIGPIPE ignored the write
	// fails instead, which ends the story, and the cleanup below runs.
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &stopOnError{w: o.IO.Out, stop: cancel}
	d := &demo{out: out, bin: bin, total: 7, path: bin + string(os.PathListSeparator) + o.getenv("PATH")}
	if _, err := exec.LookPath("git"); err != nil {
		return fmt.Errorf("demo: git is not on PATH: install git 2.31 or newer")
	}
	for _, prog := range []string{"git-remote-grove", nodeProgram} {
		if _, err := os.Stat(filepath.Join(bin, prog)); err != nil {
			if _, lerr := exec.LookPath(prog); lerr != nil {
				return fmt.Errorf("demo: %s is not next to %s nor on PATH: run 'go install ./cmd/...'", prog, self)
			}
		}
	}
	d.root = o.Dir
	if d.root == "" {
		if d.root, err = os.MkdirTemp("", "grove-demo-"); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	} else if err := os.MkdirAll(d.root, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		d.stopNodes()
		if o.Keep {
			d.printKeep()
			return
		}
		os.RemoveAll(d.root)
	}()
	fmt.Fprintf(d.out, "Grove demo: three peers on this machine, talking over loopback only.\nWorking in %s\n", d.root)
	for _, name := range []string{"alice", "bob", "carol"} {
		d.peers = append(d.peers, d.newPeer(name))
	}
	if err := d.story(ctx); err != nil {
		if out.err != nil {
			return fmt.Errorf("demo: output: %w", out.err)
		}
		return err
	}
	return out.err
}

// stopOnError writes to w and, at its first failure, calls stop.
type stopOnError struct {
	w    io.Writer
	stop func()
	err  error
}

func (s *stopOnError) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
		s.stop()
	}
	return n, err
}

func (d *demo) newPeer(name string) *demoPeer {
	p := &demoPeer{name: name, home: filepath.Join(d.root, name, "grove"), work: filepath.Join(d.root, name, "work")}
	env := os.Environ()
	env = append(env,
		"GROVE_HOME="+p.home,
		"HOME="+filepath.Join(d.root, name),
		"PATH="+d.path,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(d.root, name, "gitconfig"),
		"GIT_AUTHOR_NAME="+strings.ToUpper(name[:1])+name[1:],
		"GIT_AUTHOR_EMAIL="+name+"@example.com",
		"GIT_COMMITTER_NAME="+strings.ToUpper(name[:1])+name[1:],
		"GIT_COMMITTER_EMAIL="+name+"@example.com",
		"GIT_TERMINAL_PROMPT=0",
		"GROVE_PASSPHRASE=",
		"EDITOR=true",
	)
	p.env = env
	return p
}

func (d *demo) peer(name string) *demoPeer {
	for _, p := range d.peers {
		if p.name == name {
			return p
		}
	}
	panic("demo: no peer " + name)
}

// step prints a step's heading.
func (d *demo) step(title string) {
	d.n++
	fmt.Fprintf(d.out, "\n[%d/%d] %s\n", d.n, d.total, title)
}

func (d *demo) say(format string, a ...any) {
	fmt.Fprintf(d.out, "      %s\n", fmt.Sprintf(format, a...))
}

// run runs a command as peer p in dir, printing it the way the user would
// type it and its output indented; it returns stdout trimmed.
func (d *demo) run(ctx context.Context, p *demoPeer, dir string, args ...string) (string, error) {
	shown := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		shown[i] = a
	}
	fmt.Fprintf(d.out, "  %s$ %s\n", p.name, strings.Join(shown, " "))
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, d.program(args[0]), args[1:]...)
	c.Dir, c.Env = dir, p.env
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	for _, l := range strings.Split(strings.TrimRight(stdout.String()+stderr.String(), "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(d.out, "      %s\n", l)
		}
	}
	if err != nil {
		return "", fmt.Errorf("demo: %s (as %s): %v", strings.Join(shown, " "), p.name, err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// quiet runs a command without printing it: setup the reader need not see.
func (d *demo) quiet(ctx context.Context, p *demoPeer, dir string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, d.program(args[0]), args[1:]...)
	c.Dir, c.Env = dir, p.env
	out, err := c.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("demo: %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

// program finds a program the way the peers' PATH would: this program's
// directory first. (exec looks names up in our own PATH, which in a fresh
// shell need not hold the install directory.)
func (d *demo) program(name string) string {
	if p := filepath.Join(d.bin, name); fileExists(p) {
		return p
	}
	return name
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (d *demo) write(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// waitFor polls cond until it holds, for at most limit; it returns how long
// it took.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > limit || ctx.Err() != nil {
			return time.Since(start), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *demo) stopNodes() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, p := range d.peers {
		if p.addr != "" {
			d.quiet(ctx, p, d.root, "grove", "node", "stop")
		}
	}
}

func (d *demo) printKeep() {
	fmt.Fprintf(d.out, "\nThe peers' homes are kept in %s. To look around:\n", d.root)
	for _, p := range d.peers {
		fmt.Fprintf(d.out, "  GROVE_HOME=%s grove tui\n", p.home)
	}
	fmt.Fprintf(d.out, "Their nodes are stopped; start one with 'GROVE_HOME=… grove node start'.\n")
}

// story is the walkthrough itself.
func (d *demo) story(ctx context.Context) error {
	alice, bob, carol := d.peer("alice"), d.peer("bob"), d.peer("carol")

	d.step("Everyone makes a key and starts a node (loopback only)")
	for _, p := range d.peers {
		if err := os.MkdirAll(p.work, 0o755); err != nil {
			return err
		}
		if _, err := d.run(ctx, p, p.work, "grove", "auth", "--alias", p.name); err != nil {
			return err
		}
		if _, err := d.quiet(ctx, p, p.work, "grove", "node", "start"); err != nil {
			return err
		}
		addrs, err := d.run(ctx, p, p.work, "grove", "node", "addrs")
		if err != nil {
			return err
		}
		p.addr = strings.SplitN(addrs, "\n", 2)[0]
	}

	d.step("Alice turns a git repository into a Grove project")
	repoDir := filepath.Join(alice.work, "hello")
	if _, err := d.quiet(ctx, alice, alice.work, "git", "init", "-q", "-b", "main", repoDir); err != nil {
		return err
	}
	if err := d.write(filepath.Join(repoDir, "README.md"), "# hello\n\nSays hello, peer to peer.\n"); err != nil {
		return err
	}
	if err := d.write(filepath.Join(repoDir, "hello.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"); err != nil {
		return err
	}
	if _, err := d.quiet(ctx, alice, repoDir, "git", "add", "."); err != nil {
		return err
	}
	if _, err := d.quiet(ctx, alice, repoDir, "git", "commit", "-q", "-m", "Say hello"); err != nil {
		return err
	}
	rid, err := d.run(ctx, alice, repoDir, "grove", "init", "--name", "hello", "--description", "Says hello, peer to peer")
	if err != nil {
		return err
	}

	d.step("Bob clones it straight from Alice's node; Carol seeds it from Bob")
	bobRepo := filepath.Join(bob.work, "hello")
	if _, err := d.run(ctx, bob, bob.work, "grove", "clone", rid, "hello", "--from", alice.addr); err != nil {
		return err
	}
	if _, err := d.run(ctx, carol, carol.work, "grove", "seed", rid, "--from", bob.addr); err != nil {
		return err
	}
	if _, err := d.run(ctx, carol, carol.work, "grove", "connect", alice.addr); err != nil {
		return err
	}

	d.step("Alice pushes; gossip carries it to Bob's and Carol's nodes")
	if err := d.write(filepath.Join(repoDir, "hello.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, grove\") }\n"); err != nil {
		return err
	}
	if _, err := d.quiet(ctx, alice, repoDir, "git", "commit", "-q", "-am", "Greet Grove"); err != nil {
		return err
	}
	head, err := d.quiet(ctx, alice, repoDir, "git", "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	if _, err := d.run(ctx, alice, repoDir, "git", "push", "grove", "main"); err != nil {
		return err
	}
	for _, p := range []*demoPeer{bob, carol} {
		storage := filepath.Join(p.home, "storage", rid+".git")
		took, ok := waitFor(ctx, 20*time.Second, func() bool {
			got, err := d.quiet(ctx, p, d.root, "git", "--git-dir="+storage, "rev-parse", "-q", "--verify", "refs/heads/main")
			return err == nil && got == head
		})
		if !ok {
			return fmt.Errorf("demo: the push did not reach %s's node within %v", p.name, took.Round(time.Second))
		}
		d.say("%s's node has Alice's push %s after %v, without asking", p.name, head[:7], took.Round(time.Millisecond))
	}
	if _, err := d.run(ctx, bob, bobRepo, "git", "pull", "-q", "--ff-only"); err != nil {
		return err
	}
	if _, err := d.run(ctx, bob, bobRepo, "git", "log", "--oneline", "-2"); err != nil {
		return err
	}
	return d.collaborate(ctx, rid, repoDir, bobRepo)
}

// patchIDPattern finds the patch ID the helper prints after a push; it is
// compiled when the demo runs, not at every grove start.
const patchIDPattern = `patch ([0-9a-f]{7,40})`

// collaborate is the second half: an offline issue and a reviewed patch.
func (d *demo) collaborate(ctx context.Context, rid, aliceRepo, bobRepo string) error {
	alice, bob := d.peer("alice"), d.peer("bob")

	d.step("Bob files an issue with his node stopped; his node sends it when it starts")
	if _, err := d.run(ctx, bob, bobRepo, "grove", "node", "stop"); err != nil {
		return err
	}
	out, err := d.run(ctx, bob, bobRepo, "grove", "issue", "new", "--title", "Greet the reader by name",
		"--body", "`hello` should say *who* it greets.")
	if err != nil {
		return err
	}
	issue := strings.Fields(out)[0]
	if _, err := d.run(ctx, bob, bobRepo, "grove", "node", "start"); err != nil {
		return err
	}
	took, ok := waitFor(ctx, 20*time.Second, func() bool {
		_, err := d.quiet(ctx, alice, aliceRepo, "grove", "issue", "show", issue)
		return err == nil
	})
	if !ok {
		return fmt.Errorf("demo: Bob's issue did not reach Alice within %v", took.Round(time.Second))
	}
	d.say("Alice's node has Bob's issue after %v", took.Round(time.Millisecond))
	if _, err := d.run(ctx, alice, aliceRepo, "grove", "issue", "list"); err != nil {
		return err
	}

	d.step("Bob proposes a fix as a patch: a push to refs/patches")
	if _, err := d.quiet(ctx, bob, bobRepo, "git", "checkout", "-q", "-b", "greet-reader"); err != nil {
		return err
	}
	if err := d.write(filepath.Join(bobRepo, "hello.go"), "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Println(\"hello,\", os.Getenv(\"USER\")) }\n"); err != nil {
		return err
	}
	if _, err := d.run(ctx, bob, bobRepo, "git", "commit", "-q", "-am", "Greet the reader by name", "-m", "Fixes issue "+issue[:7]+"."); err != nil {
		return err
	}
	pushOut, err := d.runCombined(ctx, bob, bobRepo, "git", "push", "grove", "HEAD:refs/patches")
	if err != nil {
		return err
	}
	m := regexp.MustCompile(patchIDPattern).FindStringSubmatch(pushOut)
	if m == nil {
		return fmt.Errorf("demo: the push did not say which patch it opened")
	}
	patch := m[1]
	took, ok = waitFor(ctx, 20*time.Second, func() bool {
		_, err := d.quiet(ctx, alice, aliceRepo, "grove", "patch", "show", patch)
		return err == nil
	})
	if !ok {
		return fmt.Errorf("demo: Bob's patch did not reach Alice within %v", took.Round(time.Second))
	}
	d.say("Alice's node has Bob's patch after %v", took.Round(time.Millisecond))

	d.step("Alice reviews the patch and merges it; everyone sees it merged and the issue it fixes closed")
	if _, err := d.run(ctx, alice, aliceRepo, "grove", "patch", "show", patch, "--diff"); err != nil {
		return err
	}
	if _, err := d.run(ctx, alice, aliceRepo, "grove", "patch", "review", patch, "--accept", "--body", "Nice, thanks!"); err != nil {
		return err
	}
	if _, err := d.run(ctx, alice, aliceRepo, "grove", "patch", "merge", patch); err != nil {
		return err
	}
	// "Fixes issue …" in Bob's commit closes the issue with the merge,
	// signed by Alice: nobody closes it by hand.
	took, ok = waitFor(ctx, 20*time.Second, func() bool {
		out, err := d.quiet(ctx, bob, bobRepo, "grove", "patch", "show", patch, "--json")
		if err != nil || !strings.Contains(out, `"state": "merged"`) {
			return false
		}
		out, err = d.quiet(ctx, bob, bobRepo, "grove", "issue", "show", issue[:7], "--json")
		return err == nil && strings.Contains(out, `"state": "closed"`)
	})
	if !ok {
		return fmt.Errorf("demo: Bob does not see the patch merged and the issue it fixes closed after %v", took.Round(time.Second))
	}
	if _, err := d.run(ctx, bob, bobRepo, "grove", "patch", "list", "--state", "all"); err != nil {
		return err
	}
	if _, err := d.run(ctx, bob, bobRepo, "grove", "issue", "list", "--state", "all"); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\nDone: a project, a clone from a peer, a push carried by gossip, an issue filed offline,\na patch opened with git push, reviewed and merged; no server anywhere.\n")
	return nil
}

// runCombined is run that also returns what the command wrote to stderr
// (git shows remote messages there).
func (d *demo) runCombined(ctx context.Context, p *demoPeer, dir string, args ...string) (string, error) {
	fmt.Fprintf(d.out, "  %s$ %s\n", p.name, strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, d.program(args[0]), args[1:]...)
	c.Dir, c.Env = dir, p.env
	out, err := c.CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			fmt.Fprintf(d.out, "      %s\n", l)
		}
	}
	if err != nil {
		return "", fmt.Errorf("demo: %s (as %s): %v", strings.Join(args, " "), p.name, err)
	}
	return string(out), nil
}
