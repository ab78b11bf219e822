package repo_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestKeepObjectsFreshStorage: a storage just made for a clone is marked
// precious by writing its config file, which leaves it byte for byte as
// `git config` marks it; git then reads it as precious and refuses to
// prune. A config someone edited is marked through git config, keeping
// the edit, and Precious reads both.
func TestKeepObjectsFreshStorage(t *testing.T) {
	ctx := context.Background()
	rid, err := protocol.RIDFromOID(strings.Repeat("ab", 20))
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() *repo.Repo {
		r, err := repo.CreateEmpty(ctx, repo.Home{Dir: t.TempDir()}, rid)
		if err != nil {
			t.Fatal(err)
		}
		if r.Precious(ctx) {
			t.Fatal("a new storage is precious before KeepObjects")
		}
		return r
	}
	git := func(r *repo.Repo, args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", r.Path}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	config := func(r *repo.Repo) string {
		b, err := os.ReadFile(filepath.Join(r.Path, "config"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	a := fresh()
	if err := a.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.Precious(ctx) {
		t.Fatal("not precious after KeepObjects")
	}
	if _, err := os.Stat(filepath.Join(a.Path, "config.lock")); !os.IsNotExist(err) {
		t.Fatalf("config.lock left behind: %v", err)
	}
	for key, want := range map[string]string{"extensions.preciousObjects": "true", "core.repositoryformatversion": "1", "gc.autoDetach": "false"} {
		if got, err := git(a, "config", key); err != nil || got != want {
			t.Errorf("git config %s = %q (%v), want %q", key, got, err, want)
		}
	}
	if out, err := git(a, "prune"); err == nil {
		t.Fatalf("git prune in a precious storage succeeded: %s", out)
	}

	// Marked by git config, a fresh storage reads the same.
	b := fresh()
	for _, kv := range [][2]string{{"core.repositoryformatversion", "1"}, {"extensions.preciousObjects", "true"}} {
		if out, err := git(b, "config", kv[0], kv[1]); err != nil {
			t.Fatalf("git config: %v: %s", err, out)
		}
	}
	if config(b) != config(a) {
		t.Fatalf("marked by git config:\n%s\nmarked by KeepObjects:\n%s", config(b), config(a))
	}
	if !b.Precious(ctx) {
		t.Fatal("marked by git config, Precious says no")
	}

	// An edited config keeps the edit.
	c := fresh()
	if out, err := git(c, "config", "pack.threads", "1"); err != nil {
		t.Fatalf("git config: %v: %s", err, out)
	}
	if err := c.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Precious(ctx) {
		t.Fatal("an edited config not precious after KeepObjects")
	}
	if got, _ := git(c, "config", "pack.threads"); got != "1" {
		t.Fatalf("the edit was lost: pack.threads = %q", got)
	}
}
