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
// completes.
func TestKilledIssueCommandsLeaveStoreSound(t *testing.T) {
	if os.Getenv("GROVE_FAULT_TESTS") == "" {
		// Known, open (issue 18, finding 7): a ref transaction renames its
		// refs one at a time, so a kill between two renames can leave a
		// namespace whose refs differ from its signed refs ('grove verify'
		// fails). This test finds it within 50 runs; it runs on demand
		// until the transaction is crash-atomic.
		t.Skip("a kill between a transaction's renames breaks verify (issue 18, finding 7): set GROVE_FAULT_TESTS=1 to run")
	}
	p := newPeer(t)
	dir, rid := p.project()
	first := p.run(dir, "grove", "issue", "new", "--title", "first")
	// How long a whole command takes here, so that kills spread over it.
	start := time.Now()
	p.run(dir, "grove", "issue", "comment", first, "--body", "timing")
	full := time.Since(start)
	runs := 50
	if testing.Short() {
		runs = 10
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var made []string
	killed := 0
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
		// Half the kills fall in the first half of a typical run, the
		// rest anywhere up to twice its length (the machine's speed varies).
		span := int64(full) * 2
		if i%2 == 0 {
			span = int64(full) / 2
		}
		delay := time.Duration(rng.Int64N(span))
		out, wasKilled := p.runKilledAfter(dir, delay, "grove", args...)
		if wasKilled {
			killed++
		} else if args[1] == "new" {
			made = append(made, strings.TrimSpace(out))
		}
		p.run(p.storage(rid), "git", "fsck", "--no-progress", "--no-dangling")
		p.run(dir, "grove", "verify", rid)
		list := p.run(dir, "grove", "issue", "list", "--state", "all")
		for _, id := range made {
			if !strings.Contains(list, id[:7]) {
				t.Fatalf("run %d (%s, killed after %v): issue %s, reported as made, is not listed:\n%s", i, args[1], delay, id, list)
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
	t.Logf("%d of %d commands killed before they finished; %d issues made", killed, runs, len(made))
}

// runKilledAfter runs a program in its own process group and kills the
// group with SIGKILL after delay, unless it finished first. It returns
// the program's stdout and whether it was killed.
func (p *peer) runKilledAfter(dir string, delay time.Duration, name string, args ...string) (string, bool) {
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
	select {
	case err := <-done:
		if err != nil {
			p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), false
	case <-time.After(delay):
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		err := <-done
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) {
			// It finished between the timer and the kill.
			return stdout.String(), false
		}
		return stdout.String(), true
	}
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
