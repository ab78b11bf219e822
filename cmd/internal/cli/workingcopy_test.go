package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInGitRepository: inGitRepository says true wherever git finds a
// repository (a work tree, its subdirectory, inside .git, a linked
// worktree, a bare repository), and false in a directory git finds none
// in, where WorkingCopy then answers ErrNotWorkingCopy without git.
func TestInGitRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	top := t.TempDir()
	git := func(dir string, args ...string) error {
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+top)
		out, err := c.CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	wc := filepath.Join(top, "wc")
	plain := filepath.Join(top, "plain", "deep")
	for _, d := range []string{wc, plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", wc},
		{"init", "-q", "--bare", filepath.Join(top, "bare.git")},
		{"-C", wc, "commit", "-q", "--allow-empty", "-m", "x", "--author", "a <a@a>"},
		{"-C", wc, "worktree", "add", "-q", filepath.Join(top, "linked")},
	} {
		c := append([]string{"-c", "user.name=a", "-c", "user.email=a@a"}, args...)
		if err := git(top, c...); err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(wc, "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{
		wc, filepath.Join(wc, "sub", "dir"), filepath.Join(wc, ".git"),
		filepath.Join(wc, ".git", "objects"), filepath.Join(top, "bare.git"),
		filepath.Join(top, "bare.git", "refs"), filepath.Join(top, "linked"),
	} {
		if git(d, "rev-parse", "--git-dir") != nil {
			t.Fatalf("git finds no repository in %s", d)
		}
		if !inGitRepository(d) {
			t.Errorf("inGitRepository(%s) = false, but git finds a repository there", d)
		}
	}
	// A symbolic link from outside into the work tree: git finds the
	// repository from the directory it leads to.
	link := filepath.Join(top, "plain", "link")
	if err := os.Symlink(filepath.Join(wc, "sub"), link); err != nil {
		t.Fatal(err)
	}
	if git(link, "rev-parse", "--git-dir") != nil {
		t.Fatalf("git finds no repository through %s", link)
	}
	t.Chdir(link)
	t.Setenv("PWD", link)
	if !inGitRepository("") {
		t.Errorf("inGitRepository in %s (PWD, a link into a work tree) = false", link)
	}
	if git(plain, "rev-parse", "--git-dir") == nil {
		t.Skipf("%s is inside a git repository: no directory outside one to test", top)
	}
	if inGitRepository(plain) {
		t.Errorf("inGitRepository(%s) = true outside any repository", plain)
	}
	if _, err := WorkingCopy(context.Background(), plain); !errors.Is(err, ErrNotWorkingCopy) {
		t.Errorf("WorkingCopy outside a repository: %v, want ErrNotWorkingCopy", err)
	}
}
