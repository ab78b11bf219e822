package repo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// forEachRef returns git's own listing of the refs under prefix.
func forEachRef(t *testing.T, r *repo.Repo, prefix string) map[string]string {
	t.Helper()
	out := gitIn(t, r.Path, nil, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
	m := make(map[string]string)
	for _, line := range strings.Split(out, "\n") {
		if name, oid, ok := strings.Cut(line, " "); ok {
			m[name] = oid
		}
	}
	return m
}

func sameRefs(t *testing.T, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("git sees %v, want %v", got, want)
	}
}

// TestUpdateRefsGitReads writes, moves and deletes loose and packed refs
// in process and checks what real git reads back.
func TestUpdateRefsGitReads(t *testing.T) {
	ctx := context.Background()
	_, r := newProject(t, "reftx", testKey(t, 1))
	a, b, c := commit(t, r, "a"), commit(t, r, "b"), commit(t, r, "c")
	up := func(us ...repo.RefUpdate) {
		t.Helper()
		if err := r.UpdateRefs(ctx, us); err != nil {
			t.Fatal(err)
		}
	}
	up(repo.RefUpdate{Name: "refs/test/x", New: a}, repo.RefUpdate{Name: "refs/test/deep/er/y", New: b})
	sameRefs(t, forEachRef(t, r, "refs/test/"), map[string]string{"refs/test/x": a, "refs/test/deep/er/y": b})
	up(repo.RefUpdate{Name: "refs/test/x", Old: a, New: c}, repo.RefUpdate{Name: "refs/test/deep/er/y", Old: b})
	sameRefs(t, forEachRef(t, r, "refs/test/"), map[string]string{"refs/test/x": c})

	// Packed refs, with a peeled tag line after one of them.
	up(repo.RefUpdate{Name: "refs/test/p1", New: a}, repo.RefUpdate{Name: "refs/test/p2", New: b})
	gitIn(t, r.Path, nil, "tag", "-a", "-m", "annotated", "t1", c)
	gitIn(t, r.Path, nil, "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(r.Path, "refs", "test", "p1")); err == nil {
		t.Fatal("pack-refs left refs/test/p1 loose")
	}
	tag := gitIn(t, r.Path, nil, "rev-parse", "refs/tags/t1")
	up(repo.RefUpdate{Name: "refs/test/p1", Old: a, New: b}, repo.RefUpdate{Name: "refs/test/p2", Old: b},
		repo.RefUpdate{Name: "refs/tags/t1", Old: tag})
	sameRefs(t, forEachRef(t, r, "refs/test/"), map[string]string{"refs/test/x": c, "refs/test/p1": b})
	sameRefs(t, forEachRef(t, r, "refs/tags/"), map[string]string{})
	packed, err := os.ReadFile(filepath.Join(r.Path, "packed-refs"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(packed), "refs/test/p2") || strings.Contains(string(packed), "t1") || strings.Contains(string(packed), "^") {
		t.Fatalf("packed-refs still lists deleted refs:\n%s", packed)
	}
	if !strings.Contains(string(packed), a+" refs/test/p1\n") || !strings.Contains(string(packed), "# pack-refs with:") {
		t.Fatalf("packed-refs lost what it should keep:\n%s", packed)
	}
	gitIn(t, r.Path, nil, "fsck", "--strict", "--no-dangling")
	if left, _ := filepath.Glob(filepath.Join(r.Path, "refs", "test", "*.lock")); len(left) > 0 || fileExists(filepath.Join(r.Path, "packed-refs.lock")) {
		t.Fatalf("lock files left: %v", left)
	}

	// And git's own transactions still work on what we wrote.
	gitIn(t, r.Path, nil, "update-ref", "refs/test/x", a, c)
	sameRefs(t, forEachRef(t, r, "refs/test/x"), map[string]string{"refs/test/x": a})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestUpdateRefsAllOrNothing: a transaction that cannot apply one update
// changes no ref and leaves no lock file of its own.
func TestUpdateRefsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	_, r := newProject(t, "reftx", testKey(t, 1))
	a, b := commit(t, r, "a"), commit(t, r, "b")
	if err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: "refs/test/x", New: a}, {Name: "refs/test/packed", New: a}}); err != nil {
		t.Fatal(err)
	}
	gitIn(t, r.Path, nil, "pack-refs", "--all")
	if err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: "refs/test/x", Old: a, New: a}}); err != nil {
		t.Fatal(err)
	}
	missing := strings.Repeat("e", 40)
	tests := []struct {
		name    string
		in      repo.RefUpdate
		wantErr error
	}{
		{"create over an existing ref", repo.RefUpdate{Name: "refs/test/x", New: b}, repo.ErrRefMoved},
		{"create over a packed ref", repo.RefUpdate{Name: "refs/test/packed", New: b}, repo.ErrRefMoved},
		{"update from a wrong old value", repo.RefUpdate{Name: "refs/test/x", Old: b, New: a}, repo.ErrRefMoved},
		{"update a ref that does not exist", repo.RefUpdate{Name: "refs/test/none", Old: a, New: b}, repo.ErrRefMoved},
		{"delete from a wrong old value", repo.RefUpdate{Name: "refs/test/packed", Old: b}, repo.ErrRefMoved},
		{"a missing object", repo.RefUpdate{Name: "refs/test/new", New: missing}, repo.ErrNotFound},
		{"a locked ref", repo.RefUpdate{Name: "refs/test/locked", New: b}, repo.ErrRefLocked},
		{"a ref under a packed ref", repo.RefUpdate{Name: "refs/test/packed/sub", New: b}, nil},
		{"a ref under a loose ref", repo.RefUpdate{Name: "refs/test/x/sub", New: b}, nil},
		{"a bad name", repo.RefUpdate{Name: "refs/test/a..b", New: b}, nil},
	}
	if err := os.WriteFile(filepath.Join(r.Path, "refs", "test", "locked.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want := forEachRef(t, r, "refs/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// With a good update before and after it in the same
			// transaction, which must not happen either.
			err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: "refs/test/aaa", New: b}, tt.in, {Name: "refs/test/zzz", New: b}})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			sameRefs(t, forEachRef(t, r, "refs/"), want)
			locks, _ := filepath.Glob(filepath.Join(r.Path, "refs", "test", "*.lock"))
			if len(locks) != 1 || filepath.Base(locks[0]) != "locked.lock" {
				t.Fatalf("lock files after a failed transaction: %v", locks)
			}
		})
	}
	gitIn(t, r.Path, nil, "fsck", "--no-dangling")
}

// TestUpdateRefsConcurrent races in-process writers and git update-ref on
// one ref, each moving it one commit along a chain with compare-and-swap:
// every move that reports success must be the only one from its value, so
// the ref ends as far along the chain as there were successes.
func TestUpdateRefsConcurrent(t *testing.T) {
	ctx := context.Background()
	_, r := newProject(t, "reftx", testKey(t, 1))
	const steps = 60
	chain := []string{commit(t, r, "0")}
	index := map[string]int{chain[0]: 0}
	for i := 1; i <= steps; i++ {
		chain = append(chain, commit(t, r, fmt.Sprint(i), chain[i-1]))
		index[chain[i]] = i
	}
	const name = "refs/test/counter"
	if err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: name, New: chain[0]}}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	writer := func(useGit bool) {
		defer wg.Done()
		for {
			cur, err := r.RefFiles().Get(name)
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
				_, err = gitTry(r.Path, nil, "update-ref", name, chain[i+1], cur)
			} else {
				err = r.UpdateRefs(ctx, []repo.RefUpdate{{Name: name, Old: cur, New: chain[i+1]}})
				if err != nil && !errors.Is(err, repo.ErrRefMoved) && !errors.Is(err, repo.ErrRefLocked) {
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
	if got := gitIn(t, r.Path, nil, "rev-parse", name); got != chain[steps] {
		t.Fatalf("ref at step %d, want %d", index[got], steps)
	}
	if wins != steps {
		t.Fatalf("%d writers reported a move, for %d moves", wins, steps)
	}
	gitIn(t, r.Path, nil, "fsck", "--no-dangling")
}

// TestWriteObjectGitReads: objects written in process have git's oids,
// read back in git, pass fsck, and writing one twice is harmless.
func TestWriteObjectGitReads(t *testing.T) {
	_, r := newProject(t, "objects", testKey(t, 1))
	big := []byte(strings.Repeat("all work and no play\n", 5000))
	// Trees of gitlinks just under and over one stored deflate block.
	gitlinks := func(n int) []byte {
		es := make([]protocol.TreeEntry, n)
		for i := range es {
			es[i] = protocol.TreeEntry{Mode: protocol.ModeGitlink, Name: fmt.Sprintf("e%05d", i), OID: fmt.Sprintf("%040x", i+1)}
		}
		protocol.SortTree(es)
		return protocol.EncodeTree(es)
	}
	stored, deflated := gitlinks(1900), gitlinks(2100)
	for _, o := range []struct {
		kind string
		data []byte
	}{
		{"blob", []byte("hello\n")},
		{"blob", nil},
		{"blob", big},
		{"tree", nil},
		{"tree", stored},
		{"tree", deflated},
		{"commit", []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n\nm\n")},
	} {
		for range 2 {
			oid, err := r.WriteObject(o.kind, o.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := gitIn(t, r.Path, o.data, "hash-object", "-t", o.kind, "--stdin", "--literally"); oid != want {
				t.Fatalf("%s of %d bytes: oid %s, git says %s", o.kind, len(o.data), oid, want)
			}
			if got := gitIn(t, r.Path, nil, "cat-file", "-t", oid); got != o.kind {
				t.Fatalf("%s: git reads a %s", oid, got)
			}
			if o.kind == "blob" {
				if got, _ := gitTry(r.Path, nil, "cat-file", "blob", oid); got != strings.TrimSpace(string(o.data)) {
					t.Fatalf("%s: git reads other contents", oid)
				}
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(r.Path, "objects", "*", "tmp_obj_*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// The tree that fits one stored block is written as it is; the
	// bigger one is deflated (gitlinks to distinct oids barely shrink, but
	// their modes and names do).
	for _, c := range []struct {
		data   []byte
		stored bool
	}{{stored, true}, {deflated, false}} {
		oid := gitIn(t, r.Path, c.data, "hash-object", "-t", "tree", "--stdin", "--literally")
		fi, err := os.Stat(filepath.Join(r.Path, "objects", oid[:2], oid[2:]))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Size() > int64(len(c.data)); got != c.stored {
			t.Errorf("tree of %d bytes: %d bytes on disk, stored %v, want %v", len(c.data), fi.Size(), got, c.stored)
		}
	}
	gitIn(t, r.Path, nil, "fsck", "--strict", "--no-dangling")
}

// TestUpdateRefsManyPacked: transactions of many refs over a packed-refs
// of many (answered from an index of it, not by scanning it per ref) read
// and check the same as small ones.
func TestUpdateRefsManyPacked(t *testing.T) {
	ctx := context.Background()
	_, r := newProject(t, "reftx", testKey(t, 1))
	a, b := commit(t, r, "a"), commit(t, r, "b")
	name := func(i int) string { return fmt.Sprintf("refs/test/many/r%03d", i) }
	var us []repo.RefUpdate
	want := map[string]string{}
	for i := range 30 {
		us = append(us, repo.RefUpdate{Name: name(i), New: a})
		want[name(i)] = a
	}
	if err := r.UpdateRefs(ctx, us); err != nil {
		t.Fatal(err)
	}
	gitIn(t, r.Path, nil, "pack-refs", "--all")

	// A wrong old value among many: nothing moves.
	us = nil
	for i := range 30 {
		us = append(us, repo.RefUpdate{Name: name(i), Old: a, New: b})
	}
	us[20].Old = b
	if err := r.UpdateRefs(ctx, us); !errors.Is(err, repo.ErrRefMoved) {
		t.Fatalf("error %v, want ErrRefMoved", err)
	}
	sameRefs(t, forEachRef(t, r, "refs/test/"), want)
	// A ref under a packed ref, and one over packed refs, among many.
	for _, bad := range []string{name(3) + "/sub", "refs/test/many"} {
		us = nil
		for i := range 15 {
			us = append(us, repo.RefUpdate{Name: fmt.Sprintf("refs/test/other/r%d", i), New: b})
		}
		us = append(us, repo.RefUpdate{Name: bad, New: b})
		if err := r.UpdateRefs(ctx, us); err == nil {
			t.Fatalf("created %s among packed refs", bad)
		}
		sameRefs(t, forEachRef(t, r, "refs/test/"), want)
	}
	// Update all, delete five, create ten.
	us = nil
	for i := range 30 {
		if i%6 == 0 {
			us = append(us, repo.RefUpdate{Name: name(i), Old: a})
			delete(want, name(i))
		} else {
			us = append(us, repo.RefUpdate{Name: name(i), Old: a, New: b})
			want[name(i)] = b
		}
	}
	for i := 30; i < 40; i++ {
		us = append(us, repo.RefUpdate{Name: name(i), New: a})
		want[name(i)] = a
	}
	if err := r.UpdateRefs(ctx, us); err != nil {
		t.Fatal(err)
	}
	sameRefs(t, forEachRef(t, r, "refs/test/"), want)
	gitIn(t, r.Path, nil, "fsck", "--strict", "--no-dangling")
}
