package gitstore

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// crashTx sets up a storage whose refs a transaction moves in every way
// one can (update a loose and a packed ref, create one, delete a loose and
// a packed one) and returns it, the transaction, and the refs before and
// after it.
func crashTx(t *testing.T) (dir string, tx []RefUpdate, before, after map[string]string) {
	t.Helper()
	dir, s := newStore(t)
	a := commit(t, dir, "a")
	b := commit(t, dir, "b", a)
	if err := s.UpdateRefs([]RefUpdate{
		{Name: "refs/test/packed", New: a}, {Name: "refs/test/gone-packed", New: a},
	}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, nil, "pack-refs", "--all")
	if err := s.UpdateRefs([]RefUpdate{
		{Name: "refs/test/loose", New: a}, {Name: "refs/test/gone/loose", New: a},
	}); err != nil {
		t.Fatal(err)
	}
	tx = []RefUpdate{
		{Name: "refs/test/loose", Old: a, New: b},
		{Name: "refs/test/new/one", New: b},
		{Name: "refs/test/gone-packed", Old: a},
		{Name: "refs/test/gone/loose", Old: a},
		{Name: "refs/test/packed", Old: a, New: b},
	}
	before = refState(t, dir, "refs/")
	after = map[string]string{"refs/test/loose": b, "refs/test/new/one": b, "refs/test/packed": b}
	return dir, tx, before, after
}

// TestCrashHelper is the process TestRefTxKilledAtEachStep kills: it runs
// crashTx's transaction in GITSTORE_CRASH_DIR and kills itself with
// SIGKILL after step GITSTORE_CRASH_STEP, first printing the step's name.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("GITSTORE_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestRefTxKilledAtEachStep")
	}
	stop, err := strconv.Atoi(os.Getenv("GITSTORE_CRASH_STEP"))
	if err != nil {
		t.Fatal(err)
	}
	var tx []RefUpdate
	for _, l := range strings.Split(strings.TrimSpace(os.Getenv("GITSTORE_CRASH_TX")), "\n") {
		f := strings.Fields(l)
		tx = append(tx, RefUpdate{Name: f[0], Old: strings.Trim(f[1], "-"), New: strings.Trim(f[2], "-")})
	}
	s := Open(dir)
	n := 0
	s.step = func(what string) {
		if n++; n == stop {
			os.Stdout.WriteString(what)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // until the signal lands
		}
	}
	if err := s.UpdateRefs(tx); err != nil {
		t.Fatal(err)
	}
}

// TestRefTxKilledAtEachStep kills a process running a ref transaction
// after each of its steps in turn (each lock taken, each new value
// written, the journal, packed-refs, each rename or deletion, the
// journal's removal). After FinishInterrupted, which the next writer runs,
// the refs are all as before or all as after, as git sees them, and as
// after once the journal was written; no lock file or journal is left,
// and git fsck is clean.
func TestRefTxKilledAtEachStep(t *testing.T) {
	committed := false
	for step := 1; ; step++ {
		if step > 100 {
			t.Fatal("the transaction has over 100 steps")
		}
		dir, tx, before, after := crashTx(t)
		var enc strings.Builder
		for _, u := range tx {
			enc.WriteString(u.Name + " -" + u.Old + " -" + u.New + "\n")
		}
		c := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
		c.Env = append(os.Environ(), "GITSTORE_CRASH_DIR="+dir, "GITSTORE_CRASH_STEP="+strconv.Itoa(step), "GITSTORE_CRASH_TX="+enc.String())
		out, err := c.Output()
		var ee *exec.ExitError
		if err == nil {
			// No step left to stop at: it ran to the end.
			sameRefs(t, refState(t, dir, "refs/"), after)
			if step < 10 {
				t.Fatalf("the transaction ran to the end with only %d steps", step-1)
			}
			break
		}
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("step %d: the helper did not die of SIGKILL: %v\n%s", step, err, out)
		}
		what := string(out)
		if what == "write the journal" {
			committed = true
		}
		s := Open(dir)
		if committed && !s.Interrupted() && what != "remove the journal" {
			t.Fatalf("killed after %q: no journal left", what)
		}
		if _, err := s.FinishInterrupted(); err != nil {
			t.Fatalf("killed after %q: %v", what, err)
		}
		// The next writer also clears the lock files of a writer killed
		// before its commit point (repo.UpdateRefs, under the writer
		// lock); git sees the refs as they are without doing so.
		got := refState(t, dir, "refs/")
		switch {
		case committed && !mapsEqual(got, after):
			t.Fatalf("killed after %q (past the commit point): refs %v, want %v", what, got, after)
		case !committed && !mapsEqual(got, before):
			t.Fatalf("killed after %q (before the commit point): refs %v, want %v", what, got, before)
		}
		if committed {
			var left []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && (strings.HasSuffix(p, ".lock") || strings.HasPrefix(d.Name(), journalPrefix)) {
					left = append(left, p)
				}
				return nil
			})
			if len(left) > 0 {
				t.Fatalf("killed after %q: left %v", what, left)
			}
		}
		gitIn(t, dir, nil, "fsck", "--no-dangling")
		t.Logf("step %d: killed after %q: refs as %s", step, what, map[bool]string{false: "before", true: "after"}[committed])
	}
	if !committed {
		t.Fatal("no kill fell after the commit point")
	}
}

// TestFinishInterrupted finishes journals as a dead writer left them: a
// complete one whose new objects are there rolls forward, one naming a
// missing object rolls back, and one cut short (before the commit point)
// moves nothing; each is removed with the lock files of its refs.
func TestFinishInterrupted(t *testing.T) {
	missing := strings.Repeat("e", 40)
	tests := []struct {
		name  string
		cut   bool
		newer func(b string) string
		want  func(a, b string) map[string]string
	}{
		{"forward", false, func(b string) string { return b },
			func(a, b string) map[string]string { return map[string]string{"refs/test/x": b, "refs/test/y": b} }},
		{"back when an object is missing", false, func(string) string { return missing },
			func(a, b string) map[string]string { return map[string]string{"refs/test/x": a} }},
		{"cut short", true, func(b string) string { return b },
			func(a, b string) map[string]string { return map[string]string{"refs/test/x": b} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, s := newStore(t)
			a := commit(t, dir, "a")
			b := commit(t, dir, "b", a)
			if err := s.UpdateRefs([]RefUpdate{{Name: "refs/test/x", New: a}}); err != nil {
				t.Fatal(err)
			}
			// Killed after moving x and before y's rename: y.lock
			// holds its new value.
			tx := []RefUpdate{{Name: "refs/test/x", Old: a, New: b}, {Name: "refs/test/y", New: tt.newer(b)}}
			j, err := writeJournal(dir, tx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.cut {
				// Cut short, the refs had not moved; x was moved by
				// another transaction since.
				data, _ := os.ReadFile(j)
				os.WriteFile(j, data[:len(data)-8], 0o644)
			}
			os.WriteFile(filepath.Join(dir, "refs", "test", "x"), []byte(b+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "refs", "test", "y.lock"), []byte(b+"\n"), 0o644)
			if !s.Interrupted() {
				t.Fatal("a journal is there, Interrupted says no")
			}
			n, err := s.FinishInterrupted()
			if err != nil || n != 1 {
				t.Fatalf("FinishInterrupted = %d, %v", n, err)
			}
			sameRefs(t, refState(t, dir, "refs/"), tt.want(a, b))
			if s.Interrupted() {
				t.Fatal("the journal is still there")
			}
			if _, err := os.Stat(filepath.Join(dir, "refs", "test", "y.lock")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("y.lock: %v", err)
			}
		})
	}
}

// TestRefTxFailedRenameRollsBack: a rename that fails after the commit
// point (here its lock file vanished) makes the transaction put back the
// refs it had moved, remove its journal and report the failure.
func TestRefTxFailedRenameRollsBack(t *testing.T) {
	dir, tx, before, _ := crashTx(t)
	s := Open(dir)
	s.step = func(what string) {
		if what == "rename refs/test/loose.lock" {
			os.Remove(filepath.Join(dir, "refs", "test", "new", "one.lock"))
		}
	}
	err := s.UpdateRefs(tx)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("UpdateRefs = %v, want the failed rename", err)
	}
	sameRefs(t, refState(t, dir, "refs/"), before)
	if s.Interrupted() {
		t.Fatal("the journal is still there")
	}
	locks, _ := filepath.Glob(filepath.Join(dir, "refs", "test", "*.lock"))
	if len(locks) > 0 {
		t.Fatalf("lock files left: %v", locks)
	}
	gitIn(t, dir, nil, "fsck", "--no-dangling")
}
