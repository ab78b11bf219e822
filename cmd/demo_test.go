package cmd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("demo left %s behind", dir)
	}
	if out, err := exec.Command("pgrep", "-f", dir).Output(); err == nil {
		t.Errorf("demo left processes running: %s", out)
	}
}
