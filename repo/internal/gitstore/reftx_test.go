package gitstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// newStore returns a new bare repository and its store.
func newStore(t *testing.T) (string, *Store) {
	t.Helper()
	dir := t.TempDir()
	gitIn(t, dir, nil, "init", "-q", "--bare")
	return dir, Open(dir)
}

// commit makes a commit of the empty tree with git and returns its oid.
func commit(t *testing.T, dir, msg string, parents ...string) string {
	t.Helper()
	args := []string{"commit-tree", "-m", msg}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return gitIn(t, dir, nil, append(args, gitIn(t, dir, nil, "mktree"))...)
}

func sameRefs(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !mapsEqual(got, want) {
		t.Fatalf("git sees %v, want %v", got, want)
	}
}

// TestUpdateRefsAllOrNothing: a transaction that cannot apply one update
// changes no ref and leaves no lock file of its own.
func TestUpdateRefsAllOrNothing(t *testing.T) {
	dir, s := newStore(t)
	a, b := commit(t, dir, "a"), commit(t, dir, "b")
	if err := s.UpdateRefs([]RefUpdate{{Name: "refs/test/x", New: a}, {Name: "refs/test/packed", New: a}}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, nil, "pack-refs", "--all")
	if err := s.UpdateRefs([]RefUpdate{{Name: "refs/test/x", Old: a, New: a}}); err != nil {
		t.Fatal(err)
	}
	missing := strings.Repeat("e", 40)
	tests := []struct {
		name    string
		in      RefUpdate
		wantErr error
	}{
		{"create over an existing ref", RefUpdate{Name: "refs/test/x", New: b}, ErrRefMoved},
		{"create over a packed ref", RefUpdate{Name: "refs/test/packed", New: b}, ErrRefMoved},
		{"update from a wrong old value", RefUpdate{Name: "refs/test/x", Old: b, New: a}, ErrRefMoved},
		{"update a ref that does not exist", RefUpdate{Name: "refs/test/none", Old: a, New: b}, ErrRefMoved},
		{"delete from a wrong old value", RefUpdate{Name: "refs/test/packed", Old: b}, ErrRefMoved},
		{"a missing object", RefUpdate{Name: "refs/test/new", New: missing}, ErrNotFound},
		{"a locked ref", RefUpdate{Name: "refs/test/locked", New: b}, ErrRefLocked},
		{"a ref under a packed ref", RefUpdate{Name: "refs/test/packed/sub", New: b}, nil},
		{"a ref under a loose ref", RefUpdate{Name: "refs/test/x/sub", New: b}, nil},
		{"a bad name", RefUpdate{Name: "refs/test/a..b", New: b}, nil},
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "test", "locked.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := refState(t, dir, "refs/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// With a good update before and after it in the same
			// transaction, which must not happen either.
			err := s.UpdateRefs([]RefUpdate{{Name: "refs/test/aaa", New: b}, tt.in, {Name: "refs/test/zzz", New: b}})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			sameRefs(t, refState(t, dir, "refs/"), want)
			locks, _ := filepath.Glob(filepath.Join(dir, "refs", "test", "*.lock"))
			if len(locks) != 1 || filepath.Base(locks[0]) != "locked.lock" {
				t.Fatalf("lock files after a failed transaction: %v", locks)
			}
		})
	}
	gitIn(t, dir, nil, "fsck", "--no-dangling")
}

// TestUpdateRefsConcurrent races in-process writers and git update-ref on
// one ref, each moving it one commit along a chain with compare-and-swap:
// every move that reports success must be the only one from its value, so
// the ref ends as far along the chain as there were successes.
func TestUpdateRefsConcurrent(t *testing.T) {
	dir, s := newStore(t)
	const steps = 60
	chain := []string{commit(t, dir, "0")}
	index := map[string]int{chain[0]: 0}
	for i := 1; i <= steps; i++ {
		chain = append(chain, commit(t, dir, fmt.Sprint(i), chain[i-1]))
		index[chain[i]] = i
	}
	const name = "refs/test/counter"
	if err := s.UpdateRefs([]RefUpdate{{Name: name, New: chain[0]}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	writer := func(useGit bool) {
		defer wg.Done()
		for {
			cur, err := NewRefs(dir).Get(name)
			if err != nil {
				t.Error(err)
				return
			}
			i, ok := index[cur]
			if !ok {
				t.Errorf("ref at %q, not on the chain", cur)
				return
			}
			if i == steps {
				return
			}
			if useGit {
				_, err = runGit(t.Context(), dir, nil, "update-ref", name, chain[i+1], cur)
			} else {
				err = s.UpdateRefs([]RefUpdate{{Name: name, Old: cur, New: chain[i+1]}})
				if err != nil && !errors.Is(err, ErrRefMoved) && !errors.Is(err, ErrRefLocked) {
					t.Error(err)
					return
				}
			}
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}
	}
	for i := range 5 {
		wg.Add(1)
		go writer(i == 0)
	}
	wg.Wait()
	if got := gitIn(t, dir, nil, "rev-parse", name); got != chain[steps] {
		t.Fatalf("ref at step %d, want %d", index[got], steps)
	}
	if wins != steps {
		t.Fatalf("%d writers reported a move, for %d moves", wins, steps)
	}
	gitIn(t, dir, nil, "fsck", "--no-dangling")
}

// TestUpdateRefsManyPacked: transactions of many refs over a packed-refs
// of many (answered from an index of it, not by scanning it per ref) read
// and check the same as small ones.
func TestUpdateRefsManyPacked(t *testing.T) {
	dir, s := newStore(t)
	a, b := commit(t, dir, "a"), commit(t, dir, "b")
	name := func(i int) string { return fmt.Sprintf("refs/test/many/r%03d", i) }
	var us []RefUpdate
	want := map[string]string{}
	for i := range 30 {
		us = append(us, RefUpdate{Name: name(i), New: a})
		want[name(i)] = a
	}
	if err := s.UpdateRefs(us); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, nil, "pack-refs", "--all")

	// A wrong old value among many: nothing moves.
	us = nil
	for i := range 30 {
		us = append(us, RefUpdate{Name: name(i), Old: a, New: b})
	}
	us[20].Old = b
	if err := s.UpdateRefs(us); !errors.Is(err, ErrRefMoved) {
		t.Fatalf("error %v, want ErrRefMoved", err)
	}
	sameRefs(t, refState(t, dir, "refs/test/"), want)
	// A ref under a packed ref, and one over packed refs, among many.
	for _, bad := range []string{name(3) + "/sub", "refs/test/many"} {
		us = nil
		for i := range 15 {
			us = append(us, RefUpdate{Name: fmt.Sprintf("refs/test/other/r%d", i), New: b})
		}
		us = append(us, RefUpdate{Name: bad, New: b})
		if err := s.UpdateRefs(us); err == nil {
			t.Fatalf("created %s among packed refs", bad)
		}
		sameRefs(t, refState(t, dir, "refs/test/"), want)
	}
	// Update all, delete five, create ten.
	us = nil
	for i := range 30 {
		if i%6 == 0 {
			us = append(us, RefUpdate{Name: name(i), Old: a})
			delete(want, name(i))
		} else {
			us = append(us, RefUpdate{Name: name(i), Old: a, New: b})
			want[name(i)] = b
		}
	}
	for i := 30; i < 40; i++ {
		us = append(us, RefUpdate{Name: name(i), New: a})
		want[name(i)] = a
	}
	if err := s.UpdateRefs(us); err != nil {
		t.Fatal(err)
	}
	sameRefs(t, refState(t, dir, "refs/test/"), want)
	gitIn(t, dir, nil, "fsck", "--strict", "--no-dangling")
}
