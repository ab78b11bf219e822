package cmd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledIssueCommandsLeaveStoreSound kills issue commands with
// SIGKILL at random points of their run (writing objects, signing, the
// ref transaction, the index): after each, the storage fscks clean and
// verifies, the listing works (the index catches up or rebuilds), every
// issue a command reported as made is there, and the next command
// completes. Most writing commands are killed in their ref
// transaction, which takes a few hundred microseconds of a command's
// tens of milliseconds: inotify sees the signed refs' lock file (or the
// transaction's journal) written, and the kill follows at once or a
// little later. Before the transaction was crash-atomic, a kill between
// its renames (a namespace whose refs differ from its signed refs, so
// verify fails) was found in a few runs that way.
func TestKilledIssueCommandsLeaveStoreSound(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	first := p.run(dir, "grove", "issue", "new", "--title", "first")
	// How long a whole command takes here, so that kills spread over it.
	start := time.Now()
	p.run(dir, "grove", "issue", "comment", first, "--body", "timing")
	full := time.Since(start)
	runs := 60
	if testing.Short() {
		runs = 10
	}
	storage := p.storage(rid)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var made []string
	killed, inTx := 0, 0
	for i := range runs {
		var args []string
		switch i % 3 {
		case 0:
			args = []string{"issue", "new", "--title", fmt.Sprintf("issue %d", i)}
		case 1:
			args = []string{"issue", "comment", first, "--body", fmt.Sprintf("comment %d", i)}
		default:
			args = []string{"issue", "list", "--state", "all"}
			// The index is written by a listing: make it work.
			os.RemoveAll(filepath.Join(p.home(), "cache"))
		}
		k := p.plan(t, rng, full, storage, i%2 == 0, i%3 != 2 && i%4 != 0)
		out, wasKilled, triggered := p.runKilledAfter(dir, k.delay, k.trigger, false, "grove", args...)
		k.stop()
		if wasKilled {
			killed++
			if triggered {
				inTx++
			}
		} else if args[1] == "new" {
			made = append(made, strings.TrimSpace(out))
		}
		where := fmt.Sprintf("run %d (%s, killed=%v %s)", i, args[1], wasKilled, k.what)
		if err := p.check(storage, "git", "fsck", "--no-progress", "--no-dangling"); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if err := p.check(dir, "grove", "verify", rid); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		list := p.run(dir, "grove", "issue", "list", "--state", "all")
		for _, id := range made {
			if !strings.Contains(list, id[:7]) {
				t.Fatalf("%s: issue %s, reported as made, is not listed:\n%s", where, id, list)
			}
		}
	}
	if killed == 0 {
		t.Fatalf("no command of %d was killed before it finished (a whole one takes %v): the test kills too late", runs, full)
	}
	p.run(dir, "grove", "issue", "comment", first, "--body", "after the kills")
	show := p.run(dir, "grove", "issue", "show", first)
	if !strings.Contains(show, "after the kills") {
		t.Fatalf("the last comment is not shown:\n%s", show)
	}
	t.Logf("%d of %d commands killed before they finished, %d of them in a ref transaction; %d issues made", killed, runs, inTx, len(made))
}

// kill is when runKilledAfter kills a program: on trigger, if not nil,
// else after delay.
type kill struct {
	delay   time.Duration
	trigger <-chan struct{}
	what    string
	w       *dirWatch
}

// plan picks when to kill a command that takes about full to run on the
// storage at path storage (of p's namespace). Early kills fall in the
// first half of a typical run, the others anywhere up to twice its length
// (the machine's speed varies). In a ref transaction (inTx) they fall
// when the signed refs' lock file is made, or written, or the journal is
// written, and then within 300 µs; such a command that makes no such
// event runs to its end. Call stop when the command is done.
func (p *peer) plan(t *testing.T, rng *rand.Rand, full time.Duration, storage string, early, inTx bool) *kill {
	span := int64(full) * 2
	if early {
		span = int64(full) / 2
	}
	k := &kill{delay: time.Duration(rng.Int64N(span))}
	k.what = fmt.Sprintf("after %v", k.delay)
	if !inTx {
		return k
	}
	sigrefsDir := filepath.Join(storage, "refs", "namespaces", p.nid, "refs", "grove")
	os.MkdirAll(sigrefsDir, 0o755) // a pack-refs may have removed it
	if k.w = watchDirs(t, sigrefsDir, storage); k.w == nil {
		return k
	}
	match, nth := "closed sigrefs.lock", 1+rng.IntN(2)
	if rng.IntN(4) == 0 {
		match, nth = "closed grove-reftx-", 1
	}
	extra := time.Duration(rng.Int64N(int64(300 * time.Microsecond)))
	k.trigger = afterEvent(k.w, match, nth, extra)
	k.delay = 10 * full
	k.what = fmt.Sprintf("%v after event %d of %q", extra, nth, match)
	return k
}

// stop ends k's watch, if any.
func (k *kill) stop() {
	if k.w != nil {
		k.w.Close()
	}
}

// TestKilledPushesLeaveStoreSound kills git push through the helper
// (git, git-remote-grove and receive-pack: the process group, or all but
// git) at random points or inside the push's ref transaction, pushing branches and, every
// other time, a patch (to refs/patches): after each, the storage fscks
// clean and verifies; a branch push git took as done (exit 0, or its
// remote-tracking ref moved, which a killed git may have done) is in the
// storage, and a patch push git reported is a listed patch (the report
// goes to git only once the push landed); and the next push completes.
func TestKilledPushesLeaveStoreSound(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	storage := p.storage(rid)
	start := time.Now()
	p.run(dir, "git", "push", "-q", "grove", "HEAD:refs/heads/timing")
	full := time.Since(start)
	runs := 50
	if testing.Short() {
		runs = 6
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	killed, inTx, patches := 0, 0, 0
	for i := range runs {
		branch := fmt.Sprintf("b%d", i)
		p.run(dir, "git", "checkout", "-q", "-B", branch, "main")
		p.run(dir, "git", "commit", "-q", "--allow-empty", "-m", "change "+branch)
		head := p.run(dir, "git", "rev-parse", "HEAD")
		dst := "refs/heads/" + branch
		if i%2 == 1 {
			dst = "refs/patches"
		}
		k := p.plan(t, rng, full, storage, i%4 < 2, i%3 != 0)
		// Every other time only git's children die (the helper, and
		// receive-pack): git lives on to act on what it was told.
		onlyChildren := rng.IntN(2) == 0
		_, wasKilled, triggered := p.runKilledAfter(dir, k.delay, k.trigger, onlyChildren, "git", "push", "-q", "grove", "HEAD:"+dst)
		k.stop()
		where := fmt.Sprintf("run %d (push to %s, killed=%v (only git's children: %v) %s)", i, dst, wasKilled, onlyChildren, k.what)
		if wasKilled {
			killed++
			if triggered {
				inTx++
			}
		} else if dst == "refs/patches" {
			patches++
		}
		// git moves its remote-tracking ref only on an ok in the report,
		// even if it is killed before it exits.
		tracking, _ := p.try(dir, "git", "rev-parse", "--verify", "-q", "refs/remotes/grove/"+branch)
		if (tracking == head || dst != "refs/patches" && !wasKilled) && p.storageRef(storage, dst) != head {
			t.Fatalf("%s: git took the push as done, the storage has %s at %q, not %s", where, dst, p.storageRef(storage, dst), head)
		}
		if err := p.check(storage, "git", "fsck", "--no-progress", "--no-dangling"); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if err := p.check(dir, "grove", "verify", rid); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		list := p.run(dir, "grove", "patch", "list")
		if n := len(regexp.MustCompile(`(?m)^[0-9a-f]{7} `).FindAllString(list, -1)); n < patches {
			t.Fatalf("%s: %d patches listed, git reported %d opened:\n%s", where, n, patches, list)
		}
	}
	if killed == 0 {
		t.Fatalf("no push of %d was killed before it finished (a whole one takes %v): the test kills too late", runs, full)
	}
	p.run(dir, "git", "checkout", "-q", "main")
	p.run(dir, "git", "commit", "-q", "--allow-empty", "-m", "after the kills")
	p.run(dir, "git", "push", "-q", "grove", "main")
	t.Logf("%d of %d pushes killed before they finished, %d of them in a ref transaction; %d patches opened", killed, runs, inTx, patches)
}

// storageRef returns the value of ref name in p's namespace of the
// storage, "" if there is none.
func (p *peer) storageRef(storage, name string) string {
	out, _ := p.try(storage, "git", "rev-parse", "--verify", "-q", "refs/namespaces/"+p.nid+"/"+name)
	return out
}

// check runs a program in dir; its error has all the program printed.
func (p *peer) check(dir, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = dir, p.env
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// afterEvent returns a channel closed extra after w's nth event that
// starts with match.
func afterEvent(w *dirWatch, match string, nth int, extra time.Duration) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		for ev := range w.events {
			if strings.HasPrefix(ev, match) {
				if nth--; nth == 0 {
					// Spin: a timer this short would fire late.
					for start := time.Now(); time.Since(start) < extra; {
					}
					close(c)
					return
				}
			}
		}
	}()
	return c
}

// runKilledAfter runs a program in its own process group and kills the
// group with SIGKILL when trigger is closed or after delay, unless it
// finished first; with onlyChildren, only the processes it started (and
// theirs), so that it sees them die. It returns the program's stdout,
// whether it was killed (or failed once its children were), and whether
// trigger did it.
func (p *peer) runKilledAfter(dir string, delay time.Duration, trigger <-chan struct{}, onlyChildren bool, name string, args ...string) (string, bool, bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = dir, p.env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	triggered := false
	select {
	case err := <-done:
		if err != nil {
			p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), false, false
	case <-trigger:
		triggered = true
	case <-timer.C:
	}
	if kids := descendants(c.Process.Pid); onlyChildren && len(kids) > 0 {
		for _, pid := range kids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	} else {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
	err := <-done
	var ee *exec.ExitError
	if err == nil || !errors.As(err, &ee) {
		// It finished between the timer and the kill.
		return stdout.String(), false, false
	}
	return stdout.String(), true, triggered
}

// TestFullDisk runs issue commands with the home on a small, full tmpfs:
// each fails with one line that says so, the refs and signed refs do not
// move, nothing is left locked, and once there is room again the next
// command completes. Needs root to mount (CI runs as root).
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs as root)")
	}
	p := newPeer(t)
	dir, rid := p.project()
	first := p.run(dir, "grove", "issue", "new", "--title", "before the disk filled")
	small := filepath.Join(p.work, "small")
	if err := os.Mkdir(small, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
	home := filepath.Join(small, ".grove")
	p.run(p.work, "cp", "-a", p.home(), home)
	p.env = append(p.env, "GROVE_HOME="+home)
	storage := filepath.Join(home, "storage", rid+".git")
	refsBefore := p.run(storage, "git", "for-each-ref")

	// Fill it, leaving no block free.
	filler := filepath.Join(small, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	fillFile(t, f)
	f.Close()

	for _, args := range [][]string{
		{"issue", "new", "--title", "on a full disk", "--body", strings.Repeat("a body that needs room. ", 400)},
		{"issue", "comment", first, "--body", strings.Repeat("a comment that needs room. ", 400)},
	} {
		_, err := p.try(dir, "grove", args...)
		if err == nil {
			t.Fatalf("grove %s succeeded on a full disk", strings.Join(args, " "))
		}
		msg := err.Error()
		if !strings.Contains(msg, "no space left on device") {
			t.Errorf("grove %s: the error does not say the disk is full:\n%s", strings.Join(args, " "), msg)
		}
		if lines := strings.Count(strings.TrimSpace(msg[strings.Index(msg, "\n")+1:]), "\n") + 1; lines > 1 {
			t.Errorf("grove %s: %d lines on stderr, want one:\n%s", strings.Join(args, " "), lines, msg)
		}
		if after := p.run(storage, "git", "for-each-ref"); after != refsBefore {
			t.Fatalf("refs moved on a full disk:\nbefore\n%s\nafter\n%s", refsBefore, after)
		}
	}
	p.run(storage, "git", "fsck", "--no-progress", "--no-dangling")

	// Room again: the next command completes, nothing was left locked.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	id := p.run(dir, "grove", "issue", "new", "--title", "after the disk had room")
	p.run(dir, "grove", "issue", "comment", first, "--body", "and a comment")
	p.run(dir, "grove", "verify", rid)
	list := p.run(dir, "grove", "issue", "list", "--state", "all")
	for _, want := range []string{id[:7], first[:7]} {
		if !strings.Contains(list, want) {
			t.Errorf("issue %s not listed after the disk had room:\n%s", want, list)
		}
	}
}

// fillFile appends to f until its file system has no block left: whole
// blocks while they fit, then single bytes.
func fillFile(t *testing.T, f *os.File) {
	t.Helper()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for {
		if _, err := f.Write(block[:1]); err != nil {
			break
		}
	}
}
