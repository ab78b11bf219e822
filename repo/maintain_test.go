package repo_test

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/grove/repo"
)

// countObjects returns git count-objects -v as a map.
func countObjects(t *testing.T, dir string) map[string]int {
	t.Helper()
	m := make(map[string]int)
	for _, line := range strings.Split(gitIn(t, dir, nil, "count-objects", "-v"), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.Atoi(v)
		m[k] = n
	}
	return m
}

// writeBlobs writes n distinct loose blobs of size bytes (random, so they
// do not compress) and returns their oids.
func writeBlobs(t *testing.T, r *repo.Repo, n, size int) []string {
	t.Helper()
	oids := make([]string, n)
	for i := range oids {
		b := make([]byte, size)
		rand.Read(b)
		oid, err := r.WriteObject("blob", b)
		if err != nil {
			t.Fatal(err)
		}
		oids[i] = oid
	}
	return oids
}

// addPack writes n blobs into a pack of their own (git fast-import), as a
// fetch from a peer adds one, and returns their oids.
func addPack(t *testing.T, r *repo.Repo, n int) []string {
	t.Helper()
	var in strings.Builder
	oids := make([]string, n)
	for i := range oids {
		data := fmt.Sprintf("pack %d of %d %d\n", i, n, time.Now().UnixNano())
		fmt.Fprintf(&in, "blob\ndata %d\n%s\n", len(data), data)
		oids[i] = fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(data), data))))
	}
	gitIn(t, r.Path, []byte(in.String()), "-c", "fastimport.unpackLimit=1", "fast-import", "--quiet")
	return oids
}

// checkSound fails unless the storage fscks clean and holds every oid.
func checkSound(t *testing.T, r *repo.Repo, oids []string) {
	t.Helper()
	if out, err := gitTry(r.Path, nil, "fsck", "--no-dangling", "--no-progress"); err != nil {
		t.Fatalf("fsck: %v %s", err, out)
	}
	in := strings.Join(oids, "\n") + "\n"
	out := gitIn(t, r.Path, []byte(in), "cat-file", "--batch-check=%(objectname)")
	if strings.Contains(out, "missing") {
		t.Fatalf("objects lost:\n%s", out)
	}
}

func TestMaintainPacksLooseObjectsAndPacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "maintain", k)
	if err := r.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	// A big pack that a geometric repack leaves as it is, and six small
	// ones it rolls up.
	oids := addPack(t, r, 2000)
	for i := 2; i <= 7; i++ {
		oids = append(oids, addPack(t, r, i)...)
	}
	// Unreachable loose objects: a storage that lends must keep them.
	oids = append(oids, writeBlobs(t, r, 300, 64)...)
	before := countObjects(t, r.Path)
	if before["count"] < 300 || before["packs"] < 7 {
		t.Fatalf("setup: %v", before)
	}
	res, err := r.Maintain(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Repacked || res.Removed < 6 {
		t.Errorf("Maintain = %+v, want a repack that removed the 6 small packs", res)
	}
	after := countObjects(t, r.Path)
	if after["count"] != 0 || after["packs"] > 2 || after["garbage"] != 0 {
		t.Errorf("after maintenance: %v", after)
	}
	checkSound(t, r, oids)
	// Nothing piled up since: the next check does nothing.
	if res, err := r.Maintain(ctx, false); err != nil || res.Repacked {
		t.Errorf("second Maintain = %+v, %v; want nothing to do", res, err)
	}
}

func TestChangesKeepStoragePacked(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	_, r := newProject(t, "auto", k)
	// Many changes, each with a few objects, as issue commands make them.
	for i := range 200 {
		writeBlobs(t, r, 3, 32)
		c := commit(t, r, fmt.Sprintf("change %d", i))
		update(t, r, k, repo.RefUpdate{Name: fmt.Sprintf("refs/cobs/test/%040d", i), New: c})
	}
	got := countObjects(t, r.Path)
	// 200 changes write over 1,000 loose objects; maintenance keeps them
	// near its threshold (estimated, so with slack).
	if got["count"] > 600 || got["packs"] > 6 {
		t.Errorf("after 200 changes: %v; want loose objects and packs bounded", got)
	}
	if loose, _ := filepath.Glob(filepath.Join(r.Path, "refs", "namespaces", "*", "refs", "cobs", "test", "*")); len(loose) > 150 {
		t.Errorf("%d loose refs after 200 changes; want them packed", len(loose))
	}
	verifyClean(t, r)
	if out, err := gitTry(r.Path, nil, "fsck", "--no-dangling", "--no-progress"); err != nil {
		t.Fatalf("fsck: %v %s", err, out)
	}
}

func TestMaintainRemovesLeftovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "leftovers", k)
	oids := addPack(t, r, 3)
	packDir := filepath.Join(r.Path, "objects", "pack")
	old := time.Now().Add(-2 * time.Hour)
	young := filepath.Join(packDir, "tmp_pack_young")
	for _, f := range []string{"tmp_pack_abc", ".tmp-123-pack-def.pack", "pack-0000000000000000000000000000000000000000.pack", "tmp_pack_young"} {
		p := filepath.Join(packDir, f)
		if err := os.WriteFile(p, []byte("half"), 0o444); err != nil {
			t.Fatal(err)
		}
		if p != young {
			os.Chtimes(p, old, old)
		}
	}
	if _, err := r.Maintain(ctx, true); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(packDir)
	for _, e := range ents {
		if n := e.Name(); n != "tmp_pack_young" && !strings.HasSuffix(n, ".idx") && !strings.HasSuffix(n, ".pack") ||
			n == "pack-0000000000000000000000000000000000000000.pack" {
			t.Errorf("left in objects/pack: %s", n)
		}
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a young temporary file was removed: %v", err)
	}
	checkSound(t, r, oids)
}

// maintainChildEnv names, in the environment of this test binary run
// again, a storage for it to maintain (TestMaintainKilled).
const maintainChildEnv = "GROVE_TEST_MAINTAIN_CHILD"

func TestMaintainChild(t *testing.T) {
	dir := os.Getenv(maintainChildEnv)
	if dir == "" {
		t.Skip("run by TestMaintainKilled")
	}
	h := repo.Home{Dir: filepath.Dir(filepath.Dir(dir))}
	var r *repo.Repo
	rids, err := repo.List(h)
	if err != nil || len(rids) != 1 {
		t.Fatalf("list %s: %v %v", h.Dir, rids, err)
	}
	if r, err = repo.Open(h, rids[0]); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(maintainChildEnv+"_SETTLE") != "" {
		if _, err := r.Settle(context.Background()); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := r.Maintain(context.Background(), true); err != nil {
		t.Fatal(err)
	}
}

// TestMaintainClearsDeadPackedRefsLock: a maintenance killed while git
// pack-refs rewrote packed-refs leaves packed-refs.lock. The next one,
// holding the writer lock as every writer of refs does, takes it for a
// dead writer's and completes (before, it failed at pack-refs on every
// run).
func TestMaintainClearsDeadPackedRefsLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "dead-packed-refs-lock", k)
	c1 := commit(t, r, "one")
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/x", New: c1})
	lock := filepath.Join(r.Path, "packed-refs.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Maintain(ctx, true); err != nil {
		t.Fatalf("maintenance over a dead writer's packed-refs.lock: %v", err)
	}
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("packed-refs.lock is still there: %v", err)
	}
	if got := gitIn(t, r.Path, nil, "for-each-ref", "--format=%(refname)", "refs/namespaces/"+k.NID().String()+"/refs/heads/x"); got == "" {
		t.Error("refs/heads/x is gone")
	}
	verifyClean(t, r)
}

// TestMaintainKilledAtRandom kills maintenance runs (a geometric repack,
// or the idle node's settling: one pack with a bitmap), each a process of
// its own, with SIGKILL at random points of their run (up to three times
// the length of a first whole one), 50 times: after each, the storage
// fscks clean and holds every object written so far; every tenth time,
// and at the end, the next maintenance completes, and the storage
// verifies.
func TestMaintainKilledAtRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("50 repacks")
	}
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "killed-at-random", k)
	if err := r.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	var oids []string
	more := func() {
		oids = append(oids, writeBlobs(t, r, 40, 16<<10)...)
		oids = append(oids, addPack(t, r, 3)...)
		oids = append(oids, addPack(t, r, 2)...)
	}
	child := func(settle bool) *exec.Cmd {
		c := exec.Command(os.Args[0], "-test.run=^TestMaintainChild$")
		c.Env = append(os.Environ(), maintainChildEnv+"="+r.Path)
		if settle {
			c.Env = append(c.Env, maintainChildEnv+"_SETTLE=1")
		}
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return c
	}
	// How long a whole run takes here, so that kills spread over it.
	more()
	start := time.Now()
	if out, err := child(false).CombinedOutput(); err != nil {
		t.Fatalf("maintenance: %v\n%s", err, out)
	}
	full := time.Since(start)
	const runs = 50
	killed := 0
	for i := range runs {
		more()
		c := child(i%3 == 2)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		delay := time.Duration(mrand.Int64N(int64(full) * 3))
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: maintenance failed: %v", i, err)
			}
		case <-time.After(delay):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			if err := <-done; err != nil {
				killed++
			}
		}
		checkSound(t, r, oids)
		if i%10 == 9 {
			if _, err := r.Maintain(ctx, true); err != nil {
				t.Fatalf("run %d: maintenance after a killed one: %v", i, err)
			}
			checkSound(t, r, oids)
		}
	}
	if killed == 0 {
		t.Fatalf("no maintenance of %d was killed before it finished (a whole one takes %v)", runs, full)
	}
	if _, err := r.Maintain(ctx, true); err != nil {
		t.Fatalf("maintenance after the kills: %v", err)
	}
	checkSound(t, r, oids)
	verifyClean(t, r)
	t.Logf("%d of %d maintenance runs killed before they finished (a whole one takes %v)", killed, runs, full)
}

// TestMaintainKilled kills a maintenance run with SIGKILL while git is
// writing the new pack, then checks that the storage is sound and the
// next run completes.
func TestMaintainKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("writes tens of MB")
	}
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "killed", k)
	if err := r.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	// Incompressible loose objects, so that packing them takes a while.
	oids := writeBlobs(t, r, 40, 1<<20)
	for i := 1; i <= 4; i++ {
		oids = append(oids, addPack(t, r, i)...)
	}
	packDir := filepath.Join(r.Path, "objects", "pack")
	killed := false
	for try := 0; try < 5 && !killed; try++ {
		c := exec.Command(os.Args[0], "-test.run=^TestMaintainChild$")
		c.Env = append(os.Environ(), maintainChildEnv+"="+r.Path)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		deadline := time.After(time.Minute)
	wait:
		for {
			select {
			case <-done:
				break wait // finished before it could be caught: try again
			case <-deadline:
				syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
				<-done
				t.Fatal("maintenance neither wrote a pack nor finished in a minute")
			default:
			}
			tmp, _ := filepath.Glob(filepath.Join(packDir, "tmp_pack_*"))
			if len(tmp) > 0 {
				syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
				<-done
				killed = true
				break
			}
			time.Sleep(time.Millisecond)
		}
		if !killed {
			// Put loose objects back for the next try.
			oids = append(oids, writeBlobs(t, r, 40, 1<<20)...)
		}
	}
	if !killed {
		t.Skip("maintenance always finished before it could be killed")
	}
	checkSound(t, r, oids)
	if _, err := r.Maintain(ctx, true); err != nil {
		t.Fatalf("maintenance after a killed one: %v", err)
	}
	checkSound(t, r, oids)
	if got := countObjects(t, r.Path); got["count"] != 0 {
		t.Errorf("after the next maintenance: %v", got)
	}
	verifyClean(t, r)
}

// bitmaps returns the storage's pack bitmaps.
func bitmaps(t *testing.T, r *repo.Repo) []string {
	t.Helper()
	b, err := filepath.Glob(filepath.Join(r.Path, "objects", "pack", "pack-*.bitmap"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSettlePacksForServing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "settle", k)
	if err := r.KeepObjects(ctx); err != nil {
		t.Fatal(err)
	}
	// History in a few packs and loose objects, and unreachable objects
	// a lending storage must keep.
	for i := range 3 {
		writeBlobs(t, r, 20, 64)
		c := commit(t, r, fmt.Sprintf("change %d", i))
		update(t, r, k, repo.RefUpdate{Name: fmt.Sprintf("refs/heads/b%d", i), New: c})
	}
	oids := addPack(t, r, 50)
	oids = append(oids, writeBlobs(t, r, 30, 64)...)
	if len(bitmaps(t, r)) != 0 {
		t.Fatal("setup: a bitmap already")
	}
	res, err := r.Settle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Repacked || len(bitmaps(t, r)) != 1 {
		t.Fatalf("Settle = %+v with bitmaps %v; want one pack with a bitmap", res, bitmaps(t, r))
	}
	got := countObjects(t, r.Path)
	if got["count"] != 0 || got["garbage"] != 0 {
		t.Errorf("after Settle: %v; want no loose objects", got)
	}
	checkSound(t, r, oids)
	verifyClean(t, r)
	// Settled: the next call has nothing to do.
	if res, err := r.Settle(ctx); err != nil || res.Repacked {
		t.Errorf("second Settle = %+v, %v; want nothing to do", res, err)
	}
	// A change that adds a tenth as many objects as the bitmap covers
	// unsettles it again.
	writeBlobs(t, r, 200, 64)
	c := commit(t, r, "more")
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/more", New: c})
	if res, err := r.Settle(ctx); err != nil || !res.Repacked || len(bitmaps(t, r)) != 1 {
		t.Errorf("Settle after a change = %+v, %v, bitmaps %v; want a new pack with a bitmap", res, err, bitmaps(t, r))
	}
	checkSound(t, r, oids)
}
