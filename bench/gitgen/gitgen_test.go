package gitgen

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// None of these tests looks at testing.Short: they are small enough to run
// in every mode.

// testOptions is a small history that still has every feature.
var testOptions = Options{Commits: 500, Branches: 8, Merges: 12, Tags: 6, Files: 40, Seed: 7}

func needGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not found on PATH")
	}
}

// generate runs Generate into a new directory and returns its path.
func generate(t testing.TB, o Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	if err := Generate(context.Background(), dir, o); err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return dir
}

// git runs git on the repository whose git directory is gitDir and returns
// its trimmed standard output.
func git(t testing.TB, gitDir string, args ...string) string {
	t.Helper()
	out, err := runGit(context.Background(), "", gitEnv("GIT_DIR="+gitDir), args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func gitInt(t testing.TB, gitDir string, args ...string) int {
	t.Helper()
	out := git(t, gitDir, args...)
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("git %s: not a number: %q", strings.Join(args, " "), out)
	}
	return n
}

func lines(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}

func TestGenerateCounts(t *testing.T) {
	needGit(t)
	t.Parallel()
	o := testOptions
	dir := generate(t, o)

	if got := gitInt(t, dir, "rev-list", "--all", "--count"); got != o.Commits {
		t.Errorf("rev-list --all --count = %d, want Commits = %d", got, o.Commits)
	}
	if got := gitInt(t, dir, "rev-list", "--all", "--merges", "--count"); got != o.Merges {
		t.Errorf("merge commits = %d, want %d", got, o.Merges)
	}
	if got := gitInt(t, dir, "rev-list", "--first-parent", "--merges", "--count", "main"); got != o.Merges {
		t.Errorf("merges on main's first-parent line = %d, want %d", got, o.Merges)
	}
	if got := gitInt(t, dir, "rev-list", "--all", "--min-parents=3", "--count"); got != 0 {
		t.Errorf("octopus merges = %d, want 0", got)
	}
	if got := gitInt(t, dir, "rev-list", "--all", "--max-parents=0", "--count"); got != 1 {
		t.Errorf("root commits = %d, want 1", got)
	}
	root := git(t, dir, "rev-list", "--max-parents=0", "main")
	if got := lines(git(t, dir, "ls-tree", "-r", "--name-only", root)); got != o.Files {
		t.Errorf("files in root commit = %d, want %d", got, o.Files)
	}

	heads := git(t, dir, "for-each-ref", "--format=%(refname)", "refs/heads")
	if got := lines(heads); got != o.Branches+1 {
		t.Errorf("refs/heads has %d refs, want Branches+1 = %d:\n%s", got, o.Branches+1, heads)
	}
	merged := git(t, dir, "for-each-ref", "--format=%(refname)", "--merged=main", "refs/heads")
	if got, want := lines(merged), 1+o.mergedBranches(); got != want {
		t.Errorf("branches merged into main (main included) = %d, want %d:\n%s", got, want, merged)
	}
	lightweight := (o.Tags + 4) / 5
	if got := lines(git(t, dir, "for-each-ref", "refs/tags")); got != o.Tags+lightweight {
		t.Errorf("refs/tags has %d refs, want %d", got, o.Tags+lightweight)
	}
	types := git(t, dir, "for-each-ref", "--format=%(objecttype)", "refs/tags")
	if got := strings.Count(types, "tag"); got != o.Tags {
		t.Errorf("annotated tags = %d, want %d", got, o.Tags)
	}
	if got := strings.Count(types, "commit"); got != lightweight {
		t.Errorf("lightweight tags = %d, want %d", got, lightweight)
	}
	if got := git(t, dir, "cat-file", "-t", "refs/tags/v0.1.0"); got != "tag" {
		t.Errorf("cat-file -t v0.1.0 = %q, want tag", got)
	}
	if got := git(t, dir, "cat-file", "-t", "refs/tags/ci/build-1"); got != "commit" {
		t.Errorf("cat-file -t ci/build-1 = %q, want commit", got)
	}
	if all := git(t, dir, "for-each-ref", "--format=%(refname)"); lines(all) != o.Branches+1+o.Tags+lightweight {
		t.Errorf("unexpected refs left behind:\n%s", all)
	}
	if got := git(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %q, want refs/heads/main", got)
	}

	fsck := exec.Command("git", "fsck", "--strict", "--no-progress")
	fsck.Env = gitEnv("GIT_DIR=" + dir)
	if out, err := fsck.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("git fsck --strict: %v\n%s", err, out)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	needGit(t)
	t.Parallel()
	refs := func(o Options) string {
		return git(t, generate(t, o), "for-each-ref", "--format=%(objectname) %(objecttype) %(refname)")
	}
	a, b := refs(testOptions), refs(testOptions)
	if a != b {
		t.Errorf("same options gave different refs:\n%s\n---\n%s", a, b)
	}
	o := testOptions
	o.Seed++
	if c := refs(o); c == a {
		t.Errorf("seeds %d and %d gave the same refs", testOptions.Seed, o.Seed)
	}
}

func TestGenerateExistingRepo(t *testing.T) {
	needGit(t)
	t.Parallel()
	dir := t.TempDir()
	if _, err := runGit(context.Background(), dir, gitEnv(), "init", "--quiet", "--initial-branch=trunk"); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "untracked.txt")
	if err := os.WriteFile(keep, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := Options{Commits: 50, Branches: 2, Merges: 2, Tags: 1, Files: 5, Seed: 1}
	if err := Generate(context.Background(), dir, o); err != nil {
		t.Fatal(err)
	}
	gitDir := filepath.Join(dir, ".git")
	first := git(t, gitDir, "for-each-ref")
	if got := git(t, gitDir, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %q, want refs/heads/main", got)
	}
	if got := gitInt(t, gitDir, "rev-list", "--all", "--count"); got != o.Commits {
		t.Errorf("commits = %d, want %d", got, o.Commits)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine\n" {
		t.Errorf("work tree file changed: %q, %v", b, err)
	}

	// A second history would mix with the first, so Generate refuses.
	err := Generate(context.Background(), dir, o)
	if err == nil || !strings.Contains(err.Error(), "already has refs") {
		t.Errorf("second Generate = %v, want an error about existing refs", err)
	}
	if again := git(t, gitDir, "for-each-ref"); again != first {
		t.Errorf("refs changed by a refused generation:\n%s\n---\n%s", first, again)
	}
}

func TestGenerateSmallest(t *testing.T) {
	needGit(t)
	t.Parallel()
	for _, o := range []Options{
		{Commits: 1, Files: 1},
		{Commits: 1, Files: 1, Tags: 3},
		{Commits: 7, Branches: 3, Merges: 2, Files: 2}, // exactly minCommits
		{Commits: 9, Merges: 4, Files: 3},              // merges of deleted topics only
	} {
		dir := generate(t, o)
		if got := gitInt(t, dir, "rev-list", "--all", "--count"); got != o.Commits {
			t.Errorf("%+v: commits = %d, want %d", o, got, o.Commits)
		}
		if got := gitInt(t, dir, "rev-list", "--all", "--merges", "--count"); got != o.Merges {
			t.Errorf("%+v: merges = %d, want %d", o, got, o.Merges)
		}
		want := 1 + o.Branches + o.Tags + (o.Tags+4)/5
		if got := lines(git(t, dir, "for-each-ref")); got != want {
			t.Errorf("%+v: refs = %d, want %d", o, got, want)
		}
	}
}

func TestGenerateInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Commits: 0, Files: 1}, "Commits must be at least 1"},
		{Options{Commits: -5, Files: 1}, "Commits must be at least 1 (got -5)"},
		{Options{Commits: 10, Files: 0}, "Files must be at least 1"},
		{Options{Commits: 10, Files: 1, Branches: -1}, "Branches must not be negative"},
		{Options{Commits: 10, Files: 1, Merges: -2}, "Merges must not be negative"},
		{Options{Commits: 10, Files: 1, Tags: -3}, "Tags must not be negative"},
		{Options{Commits: 1 << 30, Files: 1}, "Commits must be at most"},
		{Options{Commits: 6, Branches: 3, Merges: 2, Files: 1}, "Commits must be at least 7 for 2 merges and 3 branches"},
	} {
		dir := filepath.Join(t.TempDir(), "repo")
		err := Generate(context.Background(), dir, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Generate(%+v) = %v, want error containing %q", tc.o, err, tc.want)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Generate(%+v) created %s despite invalid options", tc.o, dir)
		}
	}
}

func TestGenerateCanceled(t *testing.T) {
	needGit(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Generate(ctx, filepath.Join(t.TempDir(), "repo"), testOptions)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with canceled context = %v, want context.Canceled", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	needGit(b)
	o := Options{Commits: 3000, Branches: 30, Merges: 40, Tags: 20, Files: 200, Seed: 1}
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), strconv.Itoa(i))
		if err := Generate(context.Background(), dir, o); err != nil {
			b.Fatal(err)
		}
	}
}
