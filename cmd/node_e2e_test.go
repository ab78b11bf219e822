package cmd_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/grove/bench/gitgen"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// foregroundNode is `grove node start --foreground` run as a child of the
// test, in its own process group.
type foregroundNode struct {
	p    *peer
	cmd  *exec.Cmd
	addr string // its loopback TCP address
}

func (p *peer) home() string { return filepath.Join(p.work, ".grove") }

// startForeground starts p's node in the foreground, with extra flags
// for grove node start, and waits, bounded, until it has written its
// addresses; by then its control socket must answer, since a script reads
// the addresses and runs the next command.
func (p *peer) startForeground(extra ...string) *foregroundNode {
	p.t.Helper()
	addrs := filepath.Join(p.home(), "node", "addrs")
	os.Remove(addrs)
	c := exec.Command("grove", append([]string{"node", "start", "--foreground", "--log-level", "debug"}, extra...)...)
	c.Dir, c.Env = p.work, p.env
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	n := &foregroundNode{p: p, cmd: c}
	p.t.Cleanup(n.kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(addrs)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") {
				n.addr = l
				c, err := net.DialTimeout("unix", control.Path(repo.Home{Dir: p.home()}), 5*time.Second)
				if err != nil {
					p.t.Fatalf("the node wrote its addresses before its control socket answered: %v", err)
				}
				c.Close()
				return n
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("node did not write %s within 20s", addrs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the node and everything it started at once, and reaps it.
func (n *foregroundNode) kill() {
	if n.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	n.cmd.Wait()
}

// stop ends the node with SIGTERM and waits, bounded, for a clean exit.
func (n *foregroundNode) stop() {
	n.p.t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			n.p.t.Errorf("node exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		n.kill()
		n.p.t.Fatal("node did not stop within 15s of SIGTERM")
	}
}

// TestNodeKilledMidClone kills the serving node (SIGKILL, with its git
// children) while another peer's background node is receiving a big
// project: the receiver's storage is left sound or absent, its node keeps
// running, and once the server is back a clone and a sync complete.
func TestNodeKilledMidClone(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	src := filepath.Join(a.work, "big")
	a.run(a.work, "git", "init", "-q", "-b", "main", src)
	commits := 2000
	if testing.Short() {
		commits = 400
	}
	if err := gitgen.Generate(context.Background(), src, gitgen.Options{Commits: commits, Branches: 4, Merges: 2, Tags: 3, Files: 100, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	rid := a.run(src, "grove", "init", "--name", "big")
	a.run(src, "git", "push", "-q", "grove", "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
	want := a.run(a.storage(rid), "git", "for-each-ref", "--format=%(objectname) %(refname)", "refs/namespaces/"+a.nid)

	srv := a.startForeground()
	b.run(b.work, "grove", "node", "start")
	t.Cleanup(func() {
		b.try(b.work, "grove", "node", "stop")
		stopNodes(b.work)
	})

	// Clone through b's node, and kill a as soon as pack data arrives.
	work := filepath.Join(b.work, "big")
	clone := exec.Command("grove", "clone", rid, work, "--from", srv.addr)
	clone.Dir, clone.Env = b.work, b.env
	var cloneErr strings.Builder
	clone.Stderr = &cloneErr
	start := time.Now()
	if err := clone.Start(); err != nil {
		t.Fatal(err)
	}
	cloneDone := make(chan error, 1)
	go func() { cloneDone <- clone.Wait() }()
	killed := false
	deadline := time.Now().Add(30 * time.Second)
poll:
	for time.Now().Before(deadline) {
		select {
		case err := <-cloneDone:
			cloneDone <- err
			break poll
		default:
		}
		if receiving(b.storageDir()) {
			srv.kill()
			killed = true
			t.Logf("killed the serving node %v into the clone", time.Since(start).Round(time.Millisecond))
			break
		}
		time.Sleep(time.Millisecond)
	}
	var err error
	select {
	case err = <-cloneDone:
	case <-time.After(30 * time.Second):
		clone.Process.Kill()
		t.Fatal("grove clone did not return within 30s of the kill")
	}
	if !killed {
		t.Fatalf("the clone ended (%v) before any pack data was seen: %s", err, cloneErr.String())
	}
	if err == nil {
		t.Logf("the clone completed before the kill landed")
	} else {
		t.Logf("grove clone failed as expected: %s", strings.TrimSpace(cloneErr.String()))
		if !strings.HasPrefix(cloneErr.String(), "grove: ") || strings.Count(strings.TrimSpace(cloneErr.String()), "\n") != 0 {
			t.Errorf("want one line starting with 'grove: ', got %q", cloneErr.String())
		}
	}

	// b's node survived, and its storage is whole or absent.
	if out := b.run(b.work, "grove", "node", "status"); !strings.Contains(out, "running") {
		t.Fatalf("b's node after the kill: %s", out)
	}
	stored := false
	if _, err := os.Stat(b.storage(rid)); err == nil {
		stored = true
		b.run(b.work, "grove", "verify", rid)
		b.run(b.storage(rid), "git", "fsck", "--no-dangling", "--no-progress")
	}
	if left, _ := filepath.Glob(filepath.Join(b.storageDir(), ".clone-*")); len(left) != 0 {
		t.Errorf("half-cloned storage left behind: %v", left)
	}
	t.Logf("after the kill b has the project: %v", stored)

	// a comes back on a new port; b clones and syncs from it.
	srv = a.startForeground()
	b.run(b.work, "grove", "connect", srv.addr)
	if !stored {
		os.RemoveAll(work)
		b.run(b.work, "grove", "clone", rid, work, "--from", srv.addr)
	}
	out := b.run(b.work, "grove", "sync", rid, "--fetch", "--timeout", "1m")
	if !strings.Contains(out, a.nid) {
		t.Fatalf("sync did not ask a:\n%s", out)
	}
	got := b.run(b.storage(rid), "git", "for-each-ref", "--format=%(objectname) %(refname)", "refs/namespaces/"+a.nid)
	if got != want {
		t.Fatalf("b has a's namespace as\n%s\nwant\n%s", got, want)
	}
	b.run(b.work, "grove", "verify", rid)
	if _, err := os.Stat(filepath.Join(work, ".git")); err != nil {
		b.run(b.work, "grove", "clone", rid, work)
	}
	if head, main := b.run(work, "git", "rev-parse", "HEAD"), a.run(src, "git", "rev-parse", "main"); head != main {
		t.Fatalf("b's working copy at %s, a's main at %s", head, main)
	}

	// SIGTERM stops a foreground node cleanly: its files go with it.
	srv.stop()
	for _, f := range []string{"pid", "addrs", "control.sock"} {
		if _, err := os.Stat(filepath.Join(a.home(), "node", f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("node/%s left after SIGTERM: %v", f, err)
		}
	}
	b.run(b.work, "grove", "node", "stop")
}

func (p *peer) storageDir() string { return filepath.Join(p.home(), "storage") }

// receiving reports whether git is writing a pack anywhere under dir.
func receiving(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return nil
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "tmp_pack_") {
			if fi, err := d.Info(); err == nil && fi.Size() > 0 {
				found = true
				return filepath.SkipAll
			}
		}
		return nil
	})
	return found
}
