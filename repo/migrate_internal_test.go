package repo

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMigrateObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	git := func(dir string, stdin string, args ...string) string {
		t.Helper()
		var in []byte
		if stdin != "" {
			in = []byte(stdin)
		}
		out, err := runGit(ctx, dir, in, args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	from, to, other := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{from, to, other} {
		git(d, "", "init", "-q", "--bare")
	}
	// Loose objects in the quarantine, one also already in the storage.
	loose := git(from, "loose\n", "hash-object", "-w", "--stdin")
	shared := git(from, "shared\n", "hash-object", "-w", "--stdin")
	git(to, "shared\n", "hash-object", "-w", "--stdin")
	// A pack in the quarantine.
	p1 := git(other, "packed 1\n", "hash-object", "-w", "--stdin")
	p2 := git(other, "packed 2\n", "hash-object", "-w", "--stdin")
	git(other, p1+"\n"+p2+"\n", "pack-objects", "-q", filepath.Join(from, "objects", "pack", "pack"))

	if err := migrateObjects(filepath.Join(from, "objects"), filepath.Join(to, "objects")); err != nil {
		t.Fatal(err)
	}
	for _, oid := range []string{loose, shared, p1, p2} {
		git(to, "", "cat-file", "-e", oid)
		if _, err := runGit(ctx, from, nil, "cat-file", "-e", oid); err == nil && oid != shared {
			t.Errorf("%s is still in the quarantine", oid)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(to, "objects", "pack", "pack-*"))
	var exts []string
	for _, p := range packs {
		exts = append(exts, filepath.Ext(p))
	}
	if len(packs) < 2 || !slices.Contains(exts, ".pack") || !slices.Contains(exts, ".idx") {
		t.Errorf("storage packs = %v", packs)
	}
	if left, _ := filepath.Glob(filepath.Join(from, "objects", "pack", "*")); len(left) != 0 {
		t.Errorf("left in the quarantine: %v", left)
	}
	if out, err := runGit(ctx, to, nil, "fsck", "--no-progress"); err != nil {
		t.Errorf("fsck: %v %s", err, out)
	}

	// Nothing to move is not an error.
	if err := migrateObjects(filepath.Join(t.TempDir(), "objects"), filepath.Join(to, "objects")); err != nil {
		t.Errorf("empty quarantine: %v", err)
	}
	if _, err := os.Stat(filepath.Join(to, "objects")); err != nil {
		t.Fatal(err)
	}
}
