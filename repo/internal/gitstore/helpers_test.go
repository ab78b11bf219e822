package gitstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testTime is the time of the commits tests write, in a zone west of UTC.
var testTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -(90*60)))

// TestMain isolates git from the user's and the system's configuration and
// gives commits a fixed author.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "grove-gitstore-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"HOME":                home,
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   filepath.Join(home, ".gitconfig"),
		"GIT_AUTHOR_NAME":     "Grove Test",
		"GIT_AUTHOR_EMAIL":    "test@grove.invalid",
		"GIT_AUTHOR_DATE":     "2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME":  "Grove Test",
		"GIT_COMMITTER_EMAIL": "test@grove.invalid",
		"GIT_COMMITTER_DATE":  "2026-01-02T03:04:05Z",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// runGit runs git in dir with stdin (may be nil) and returns its stdout.
func runGit(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, "git", args...)
	c.Dir = dir
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes(), nil
}

// gitIn runs git in dir and returns its trimmed stdout, failing the test
// on error.
func gitIn(t testing.TB, dir string, stdin []byte, args ...string) string {
	t.Helper()
	out, err := runGit(context.Background(), dir, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
