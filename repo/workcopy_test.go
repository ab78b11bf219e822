package repo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/repo"
)

// projectWithFiles is a project whose canonical main and topic branches,
// tag and notes hold real files, for a working copy to check out. It
// returns the blob of main's README.
func projectWithFiles(t *testing.T) (*repo.Repo, string) {
	t.Helper()
	k := testKey(t, 1)
	_, r := newProject(t, "files", k)
	readme := gitIn(t, r.Path, []byte("Hello.\n"), "hash-object", "-w", "--stdin")
	code := gitIn(t, r.Path, []byte("package main\n"), "hash-object", "-w", "--stdin")
	sub := gitIn(t, r.Path, []byte("100644 blob "+code+"\tmain.go\n"), "mktree")
	tree := gitIn(t, r.Path, []byte("100644 blob "+readme+"\tREADME\n040000 tree "+sub+"\tcmd\n"), "mktree")
	main := gitIn(t, r.Path, nil, "commit-tree", tree, "-m", "first")
	topic := gitIn(t, r.Path, nil, "commit-tree", tree, "-p", main, "-m", "topic")
	note := gitIn(t, r.Path, nil, "commit-tree", tree, "-m", "notes")
	update(t, r, k,
		repo.RefUpdate{Name: "refs/heads/main", New: main},
		repo.RefUpdate{Name: "refs/heads/topic/x", New: topic},
		repo.RefUpdate{Name: "refs/tags/v1", New: main},
		repo.RefUpdate{Name: "refs/notes/commits", New: note},
	)
	if got := canonRefs(t, r)["refs/heads/topic/x"]; got != topic {
		t.Fatalf("canonical topic/x = %q, want %s", got, topic)
	}
	return r, readme
}

// TestCloneIntoMatchesGitClone: the working copy CloneInto makes is the
// one `git clone --shared` of the storage under grove://RID made: the same
// refs, remote and upstream config, checked-out files and index, the same
// borrowed objects and none of its own; it passes git fsck.
func TestCloneIntoMatchesGitClone(t *testing.T) {
	ctx := context.Background()
	r, _ := projectWithFiles(t)
	if err := r.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	viaGit, viaGrove := filepath.Join(root, "git"), filepath.Join(root, "grove")
	storage, err := filepath.Abs(r.Path)
	if err != nil {
		t.Fatal(err)
	}
	gitIn(t, root, nil, "-c", "url."+storage+".insteadOf="+r.RID.URL(), "clone", "-q", "--shared", "-o", "grove", r.RID.URL(), viaGit)
	var stderr bytes.Buffer
	if err := r.CloneInto(ctx, repo.NewWorkingCopy(ctx, viaGrove), "grove", true, &stderr); err != nil {
		t.Fatalf("CloneInto: %v\n%s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("a quiet clone printed %q", stderr.String())
	}
	for _, args := range [][]string{
		{"for-each-ref", "--format=%(objectname) %(refname) %(symref)"},
		{"symbolic-ref", "HEAD"},
		{"rev-parse", "HEAD"},
		{"config", "--get-all", "remote.grove.url"},
		{"config", "--get-all", "remote.grove.fetch"},
		{"rev-parse", "--abbrev-ref", "main@{upstream}"},
		{"ls-files", "-s"},
		{"status", "--porcelain", "--ignored"},
		{"count-objects"},
		{"notes", "list"},
		{"tag"},
	} {
		want, got := gitIn(t, viaGit, nil, args...), gitIn(t, viaGrove, nil, args...)
		if got != want {
			t.Errorf("git %s:\n got %q\nwant %q", strings.Join(args, " "), got, want)
		}
	}
	for _, f := range []string{".git/objects/info/alternates", "README", "cmd/main.go"} {
		want, err1 := os.ReadFile(filepath.Join(viaGit, f))
		got, err2 := os.ReadFile(filepath.Join(viaGrove, f))
		if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got %q (%v), want %q (%v)", f, got, err2, want, err1)
		}
	}
	if out, err := gitTry(viaGrove, nil, "fsck", "--no-dangling"); err != nil || strings.Contains(out, "missing") {
		t.Errorf("git fsck: %v\n%s", err, out)
	}
	if got := gitIn(t, viaGrove, nil, "reflog", "-1", "--format=%gs"); got != "clone: from "+r.RID.URL() {
		t.Errorf("HEAD's reflog says %q", got)
	}
}

// TestCloneIntoEmptyProject: a project with no branch yet gives a
// working copy on its unborn default branch, with git clone's warning.
func TestCloneIntoEmptyProject(t *testing.T) {
	ctx := context.Background()
	_, r := newProject(t, "empty", testKey(t, 1))
	dir := filepath.Join(t.TempDir(), "w")
	var stderr bytes.Buffer
	if err := r.CloneInto(ctx, repo.NewWorkingCopy(ctx, dir), "grove", true, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "cloned an empty repository") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if got := gitIn(t, dir, nil, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %s", got)
	}
	if _, err := gitTry(dir, nil, "rev-parse", "--verify", "-q", "HEAD"); err == nil {
		t.Error("HEAD of an empty project's clone resolves")
	}
	if got := gitIn(t, dir, nil, "config", "remote.grove.url"); got != r.RID.URL() {
		t.Errorf("remote.grove.url = %s", got)
	}
}

// TestCloneIntoFailureLeavesNothing: when the checkout fails (an object
// main needs is missing), the directory is left as it was found: gone if
// CloneInto made it, empty if it was an empty directory.
func TestCloneIntoFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	r, readme := projectWithFiles(t)
	if err := os.Remove(filepath.Join(r.Path, "objects", readme[:2], readme[2:])); err != nil {
		t.Fatal(err)
	}
	made := filepath.Join(t.TempDir(), "new")
	var stderr bytes.Buffer
	err := r.CloneInto(ctx, repo.NewWorkingCopy(ctx, made), "grove", true, &stderr)
	if err == nil {
		t.Fatal("CloneInto succeeded with a blob missing")
	}
	if !strings.Contains(err.Error(), "git checkout") {
		t.Errorf("error = %v", err)
	}
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Errorf("the directory CloneInto made is still there: %v", err)
	}
	empty := t.TempDir()
	if err := r.CloneInto(ctx, repo.NewWorkingCopy(ctx, empty), "grove", true, &stderr); err == nil {
		t.Fatal("CloneInto succeeded with a blob missing")
	}
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Errorf("the empty directory now holds %v (%v)", ents, err)
	}
	if err := r.CloneInto(ctx, repo.NewWorkingCopy(ctx, empty), "a\"b", true, &stderr); err == nil || !strings.Contains(err.Error(), "not a remote name") {
		t.Errorf("a remote name with a quote: %v", err)
	}
}
