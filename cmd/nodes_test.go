package cmd_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeNotInstalled checks what grove says for a command that needs
// grove-node when grove-node is neither next to grove nor on PATH.
func TestNodeNotInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	bin := buildPrograms(t, "grove")
	c := exec.Command(filepath.Join(bin, "grove"), "node", "start", "--foreground")
	c.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "GROVE_HOME=" + t.TempDir()}
	out, err := c.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("grove node start: err = %v, want exit 1\n%s", err, out)
	}
	const want = "grove: grove-node is not installed next to grove: run 'go install ./cmd/...'\n"
	if string(out) != want {
		t.Errorf("grove node start said %q, want %q", out, want)
	}
}
