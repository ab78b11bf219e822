package issues

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestIndexSurvivesKill kills a process in the middle of writing the
// index, after its changes reached the database file, and finds the
// index as it was before: the journal is rolled back on the next open.
func TestIndexSurvivesKill(t *testing.T) {
	if dir := os.Getenv("GROVE_TEST_INDEX_KILL"); dir != "" {
		killMidWrite(dir)
		return
	}
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	tx := s.Begin(alice, t0)
	for i := range 300 {
		if _, err := tx.CreateIssue(NewIssue{Title: fmt.Sprintf("issue %d", i), Body: strings.Repeat("words in a body ", 40)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	path := IndexPath(h, s.Repo.RID)
	ix, err := OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	want := listJSON(t, ix, Filter{})
	ix.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIndexSurvivesKill$")
	cmd.Env = append(os.Environ(), "GROVE_TEST_INDEX_KILL="+h.Dir+"\n"+s.Repo.RID.String())
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("the writer was not killed: %v\n%s", err, out)
	}
	if !pending(path) {
		t.Fatalf("the killed writer left no journal to roll back: the test did not catch it mid-write\n%s", out)
	}
	ix, err = OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if got := listJSON(t, ix, Filter{}); got != want {
		t.Fatalf("after the kill the index lists:\n%.500s\nwant\n%.500s", got, want)
	}
	if l, _ := ix.List(ctx, Filter{State: "bogus"}); len(l) != 0 {
		t.Fatalf("%d half-written rows survived the kill", len(l))
	}
}

// killMidWrite opens the index of the project named in spec (home and
// RID on two lines), changes every issue's row in one transaction with a
// page cache too small to hold them, so that pages reach the database
// file before the commit, and kills its own process before committing.
func killMidWrite(spec string) {
	home, rid, _ := strings.Cut(spec, "\n")
	id, err := protocol.ParseRID(rid)
	if err != nil {
		panic(err)
	}
	r, err := repo.Open(repo.Home{Dir: home}, id)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	ix, err := OpenIndex(ctx, IndexPath(repo.Home{Dir: home}, id), NewStore(r))
	if err != nil {
		panic(err)
	}
	if _, err := ix.db.Exec("PRAGMA cache_size = 2"); err != nil {
		panic(err)
	}
	tx, err := ix.db.Begin()
	if err != nil {
		panic(err)
	}
	if _, err := tx.Exec("UPDATE issues SET state = 'bogus', row = row || ?", strings.Repeat("x", 2000)); err != nil {
		panic(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestIndexRebuildClearsStaleTemps: a writer killed while it wrote an ID
// list or a memo leaves its temporary file. When the index is made anew
// (as after a reboot) those older than an hour go; younger ones, which
// may be another process's write in progress, and the caches themselves
// stay.
func TestIndexRebuildClearsStaleTemps(t *testing.T) {
	ctx := context.Background()
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	path := IndexPath(h, s.Repo.RID)
	dir := filepath.Dir(path)
	files := []struct {
		name       string
		old, stays bool
	}{
		{"grove.issue.ids.tmp123", true, false},
		{"grove.issue.ids.heads.tmp456", true, false},
		{"cobs/grove.issue/abc.tmp789", true, false},
		{"cobs/grove.patch/def.tmp1", true, false},
		{"grove.patch.ids.tmp2", false, true}, // written just now
		{"cobs/grove.issue/abc", true, true},
		{"grove.issue.ids", true, true},
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if f.old {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	ix, err := OpenIndex(ctx, path, s)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	for _, f := range files {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.name)))
		if gone := errors.Is(err, os.ErrNotExist); gone == f.stays {
			t.Errorf("%s: gone %v, want %v", f.name, gone, !f.stays)
		}
	}
}
