package cmd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"example.com/grove/bench/gitgen"
)

// peer is one Grove user on this machine: a home and a git environment.
type peer struct {
	t    *testing.T
	work string
	env  []string
	nid  string
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	work := t.TempDir()
	env := os.Environ()
	for k, v := range gitTestEnv(work) {
		env = append(env, k+"="+v)
	}
	p := &peer{t: t, work: work, env: env}
	p.nid = p.run(work, "grove", "auth")
	return p
}

// run runs a program in dir and returns its trimmed stdout; it fails the
// test on a non-zero exit.
func (p *peer) run(dir, name string, args ...string) string {
	p.t.Helper()
	out, err := p.try(dir, name, args...)
	if err != nil {
		p.t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

func (p *peer) try(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = dir, p.env
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("%w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// project makes a working copy with one commit and turns it into a project.
func (p *peer) project() (dir, rid string) {
	p.t.Helper()
	dir = filepath.Join(p.work, "origin")
	p.run(p.work, "git", "init", "-q", "-b", "main", dir)
	p.run(dir, "git", "commit", "-q", "--allow-empty", "-m", "first")
	return dir, p.run(dir, "grove", "init", "--name", "test")
}

func (p *peer) storage(rid string) string {
	return filepath.Join(p.work, ".grove", "storage", rid+".git")
}

// TestConcurrentPushes pushes 16 branches at once from 16 working copies
// into one storage: every one lands, and the signed refs match.
func TestConcurrentPushes(t *testing.T) {
	p := newPeer(t)
	_, rid := p.project()
	const n = 16
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = filepath.Join(p.work, fmt.Sprintf("w%02d", i))
		p.run(p.work, "git", "clone", "-q", "grove://"+rid, dirs[i])
		p.run(dirs[i], "git", "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("work %d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, d := range dirs {
		wg.Go(func() {
			if _, err := p.try(d, "git", "push", "-q", "origin", fmt.Sprintf("HEAD:refs/heads/b%02d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	refs := p.run(p.work, "git", "ls-remote", "grove://"+rid)
	for i, d := range dirs {
		want := p.run(d, "git", "rev-parse", "HEAD") + "\trefs/heads/" + fmt.Sprintf("b%02d", i)
		if !strings.Contains(refs, want) {
			t.Errorf("branch b%02d did not land: want %q in\n%s", i, want, refs)
		}
	}
	p.run(p.work, "grove", "verify", rid)
	// One signed-refs revision for the project, one per push.
	count := p.run(p.storage(rid), "git", "rev-list", "--count", "refs/namespaces/"+p.nid+"/refs/grove/sigrefs")
	if count != fmt.Sprint(n+2) {
		t.Errorf("sigrefs history has %s revisions, want %d (create, init push, %d pushes)", count, n+2, n)
	}
}

// TestKilledPushLeavesStoreSound kills pushes (git, the helper and
// receive-pack together) at many points: each time the storage still
// verifies, fscks clean, and holds either the old or the new branch; a
// final push then completes.
func TestKilledPushLeavesStoreSound(t *testing.T) {
	p := newPeer(t)
	_, rid := p.project()
	src := filepath.Join(p.work, "big")
	commits := 2000
	if testing.Short() {
		commits = 300
	}
	if err := gitgen.Generate(context.Background(), src, gitgen.Options{Commits: commits, Branches: 4, Merges: 2, Tags: 3, Files: 100, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	want := p.run(src, "git", "rev-parse", "main")
	// Time a whole push into a plain bare repository, then kill ours at
	// points spread over that time and a little past it.
	bare := filepath.Join(p.work, "timing.git")
	p.run(p.work, "git", "init", "-q", "--bare", bare)
	start := time.Now()
	p.run(src, "git", "push", "-q", bare, "main")
	full := time.Since(start)
	landed := false
	for i := range 12 {
		delay := full * time.Duration(i+1) / 10
		c := exec.Command("git", "push", "-q", "--force", "grove://"+rid, "main:refs/heads/big")
		c.Dir, c.Env = src, p.env
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		c.Wait()
		// Wait for the whole group to be gone before looking.
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(-c.Process.Pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if out, err := p.try(p.work, "grove", "verify", rid); err != nil {
			t.Fatalf("kill %d after %v: verify: %v %s", i, delay, err, out)
		}
		if out, err := p.try(p.storage(rid), "git", "fsck", "--no-dangling", "--no-progress"); err != nil {
			t.Fatalf("kill %d after %v: fsck: %v %s", i, delay, err, out)
		}
		got, _ := p.try(p.storage(rid), "git", "rev-parse", "--verify", "-q", "refs/heads/big")
		switch got {
		case "":
		case want:
			landed = true
		default:
			t.Fatalf("kill %d: refs/heads/big at %s, neither absent nor %s", i, got, want)
		}
	}
	t.Logf("a killed push landed whole before its kill: %v", landed)
	p.run(src, "git", "push", "-q", "--force", "grove://"+rid, "main:refs/heads/big")
	if got := p.run(p.storage(rid), "git", "rev-parse", "refs/heads/big"); got != want {
		t.Fatalf("after a clean push refs/heads/big = %s, want %s", got, want)
	}
	p.run(p.work, "grove", "verify", rid)
	if quarantines, _ := filepath.Glob(filepath.Join(p.storage(rid), "grove-tmp", "push-*")); len(quarantines) != 0 {
		t.Errorf("quarantines left behind: %v", quarantines)
	}
}

// TestMirrorRoundTrip pushes a real-sized history (thousands of commits,
// merges, dozens of branches, annotated tags) with plain git and checks that
// `git clone --mirror grove://RID` brings back exactly the same refs, and
// that the storage verifies and fscks clean.
func TestMirrorRoundTrip(t *testing.T) {
	p := newPeer(t)
	src := filepath.Join(p.work, "history")
	p.run(p.work, "git", "init", "-q", "-b", "main", src)
	o := gitgen.Options{Commits: 3000, Branches: 30, Merges: 12, Tags: 20, Files: 200, Seed: 42}
	if testing.Short() {
		o.Commits, o.Branches, o.Tags = 400, 8, 5
	}
	if err := gitgen.Generate(context.Background(), src, o); err != nil {
		t.Fatal(err)
	}
	rid := p.run(src, "grove", "init", "--name", "history")
	p.run(src, "git", "push", "-q", "grove", "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")

	mirror := filepath.Join(p.work, "mirror.git")
	p.run(p.work, "git", "clone", "-q", "--mirror", "grove://"+rid, mirror)
	refs := func(dir string) string {
		return p.run(dir, "git", "for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", "refs/heads/", "refs/tags/")
	}
	want, got := refs(src), refs(mirror)
	if want != got {
		t.Fatalf("mirror differs from the pushed history:\nwant\n%s\ngot\n%s", want, got)
	}
	if n := strings.Count(got, "\n") + 1; n < o.Branches+o.Tags {
		t.Fatalf("only %d refs came back", n)
	}
	if a, b := p.run(src, "git", "rev-list", "--all", "--count"), p.run(mirror, "git", "rev-list", "--all", "--count"); a != b {
		t.Fatalf("commit count: pushed %s, mirrored %s", a, b)
	}
	p.run(mirror, "git", "fsck", "--strict", "--no-progress")
	p.run(p.storage(rid), "git", "fsck", "--no-dangling", "--no-progress")
	p.run(p.work, "grove", "verify", rid)
}
