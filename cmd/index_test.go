package cmd_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestIssueListWithoutIndexProgram runs a grove built on its own, with no
// grove-index anywhere: after changes to issues it still lists them, from
// the list snapshot it brings forward itself, and a listing that needs
// the index says how to get grove-index.
func TestIssueListWithoutIndexProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	bin := buildPrograms(t, "grove")
	p := newPeer(t)
	dir, rid := p.project()
	id := p.run(dir, "grove", "issue", "new", "--title", "a lonely grove")
	p.run(dir, "grove", "issue", "list") // grove-index (the test's) writes the snapshot
	p.run(dir, "grove", "issue", "comment", id[:8], "--body", "still here")
	p.run(dir, "grove", "issue", "close", id[:8])
	grove := func(args ...string) (string, error) {
		c := exec.Command(filepath.Join(bin, "grove"), args...)
		c.Env = append(append([]string{}, p.env...), "PATH="+bin)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	out, err := grove("issue", "list", "-R", rid, "--state", "closed")
	if err != nil || !strings.Contains(out, "a lonely grove") || !strings.Contains(out, "closed (solved)") {
		t.Fatalf("grove issue list after a comment and a close: %v\n%s", err, out)
	}
	out, err = grove("issue", "list", "-R", rid, "--search", "lonely")
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("grove issue list --search: err = %v, want exit 1\n%s", err, out)
	}
	const want = "grove: grove-index is not installed next to grove: run 'go install ./cmd/...'\n"
	if out != want {
		t.Errorf("grove issue list --search said %q, want %q", out, want)
	}
}
