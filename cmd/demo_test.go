package cmd_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `grove demo` end to end: three real nodes on loopback, real
// git, the real helper. It must succeed, tell the whole story and leave
// nothing behind.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "grove", "demo", "--dir", dir)
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("grove demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"[1/7]", "grove init", "grove clone", "without asking",
		"Alice's node has Bob's issue", "opened patch", "fast-forwarded into main", "merged", "Done:",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// Names travel: on Alice's side, Bob's issue and patch show his alias.
	for _, re := range []string{
		`(?m)^      [0-9a-f]{7}\s+open\s+Greet the reader by name\s+bob\s`,
		`(?m)^      [0-9a-f]{7}\s+merged\s+.*\s+bob\s+\d{4}-`,
		// The merge closed the issue Bob's commit fixes, on Bob's side too.
		`(?m)^      [0-9a-f]{7}\s+closed\s+`,
	} {
		if !regexp.MustCompile(re).Match(out) {
			t.Errorf("demo output lacks %s:\n%s", re, out)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("demo left %s behind", dir)
	}
	if ps := processesIn(t, dir); len(ps) > 0 {
		t.Errorf("demo left processes running: %s", strings.Join(ps, "; "))
	}
}

// A reader that goes away must not kill the demo before it stops its
// nodes: `grove demo | head -3` leaves nothing running and nothing behind.
func TestDemoReaderGoesAway(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "grove", "demo", "--dir", dir)
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout = w
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Read until the nodes are up (the first step's addresses), then go.
	br := bufio.NewReader(r)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("demo output ended before its nodes started: %v", err)
		}
		if strings.Contains(l, "/p2p/") {
			break
		}
	}
	r.Close()
	if err := c.Wait(); err == nil {
		t.Error("demo with no reader exited 0")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("demo left %s behind", dir)
	}
	if ps := processesIn(t, dir); len(ps) > 0 {
		t.Errorf("demo left processes running: %s", strings.Join(ps, "; "))
	}
}

// processesIn lists the processes whose environment points into dir (the
// demo's nodes run with GROVE_HOME there), from /proc.
func processesIn(t *testing.T, dir string) []string {
	t.Helper()
	envs, err := filepath.Glob("/proc/[0-9]*/environ")
	if err != nil || len(envs) == 0 {
		t.Skip("no /proc to look for processes in")
	}
	var out []string
	for _, f := range envs {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte("GROVE_HOME="+dir)) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(f), "cmdline"))
		out = append(out, filepath.Base(filepath.Dir(f))+" "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte(" "))))
	}
	return out
}
