package cmd_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// smallDisk puts p's home on a tmpfs of size bytes, with what it held,
// and returns functions that fill it, up to room bytes (0: to the last
// byte), and free it again.
// It skips the test where mounting needs root that the test lacks.
func (p *peer) smallDisk(t *testing.T, size string) (fill func(room int64), free func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs as root)")
	}
	home := p.home()
	saved := filepath.Join(p.work, "home-before-tmpfs")
	if err := os.Rename(home, saved); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", home).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", home).Run() })
	p.run(p.work, "cp", "-a", saved+"/.", home)
	filler := filepath.Join(home, "filler")
	fill = func(room int64) {
		f, err := os.OpenFile(filler, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fillFile(t, f)
		if room > 0 {
			fi, err := f.Stat()
			if err != nil || fi.Size() < room {
				t.Fatalf("filler %v: %v", fi, err)
			}
			if err := f.Truncate(fi.Size() - room); err != nil {
				t.Fatal(err)
			}
		}
	}
	free = func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}
	return fill, free
}

// randomFile writes n random bytes (they do not compress) to path.
func randomFile(t *testing.T, path string, n int) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// stderrLines is the error a failed p.try returned, without its first
// line (the exit status): what the program printed on stderr.
func stderrOf(err error) string {
	msg := err.Error()
	_, rest, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(rest)
}

// TestFullDiskPush pushes a branch and a patch into a storage on a full
// disk (a small tmpfs): each push fails, saying the disk is full in
// grove's one line, and leaves the storage as it was (refs, fsck, verify,
// nothing locked); once there is room the same pushes complete.
func TestFullDiskPush(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	fill, free := p.smallDisk(t, "16m")
	storage := p.storage(rid)
	randomFile(t, filepath.Join(dir, "big"), 2<<20)
	p.run(dir, "git", "add", "big")
	p.run(dir, "git", "commit", "-q", "-m", "a big file")
	p.run(dir, "git", "checkout", "-q", "-b", "topic")
	randomFile(t, filepath.Join(dir, "big2"), 2<<20)
	p.run(dir, "git", "add", "big2")
	p.run(dir, "git", "commit", "-q", "-m", "another big file")
	refsBefore := p.run(storage, "git", "for-each-ref")
	// Full, and with room for the push to start but not for its pack.
	for _, room := range []int64{0, 512 << 10} {
		fill(room)
		for _, dst := range []string{"main:refs/heads/main", "topic:refs/patches"} {
			where := fmt.Sprintf("push %s with %d bytes free", dst, room)
			_, err := p.try(dir, "git", "push", "-q", "grove", dst)
			if err == nil {
				t.Fatalf("%s succeeded", where)
			}
			// Full, grove cannot start the push and says so in its one
			// line; with room to start, git's receive-pack says the disk
			// is full (its "remote:" line), and grove says nothing more.
			stderr := stderrOf(err)
			var groveLines, full []string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "grove: ") {
					groveLines = append(groveLines, l)
				}
				if strings.Contains(strings.ToLower(l), "no space left on device") {
					full = append(full, l)
				}
			}
			if len(full) != 1 || len(groveLines) > 1 || len(groveLines) == 1 && groveLines[0] != full[0] {
				t.Errorf("%s: want one line saying the disk is full (grove's, if grove says anything), stderr:\n%s", where, stderr)
			}
			t.Logf("%s:\n%s", where, stderr)
			if after := p.run(storage, "git", "for-each-ref"); after != refsBefore {
				t.Fatalf("%s: refs moved:\nbefore\n%s\nafter\n%s", where, refsBefore, after)
			}
			p.run(storage, "git", "fsck", "--no-progress", "--no-dangling")
			p.run(dir, "grove", "verify", rid)
		}
		free()
	}
	p.run(dir, "git", "push", "-q", "grove", "main:refs/heads/main")
	p.run(dir, "git", "push", "-q", "grove", "topic:refs/patches")
	if head := p.run(dir, "git", "rev-parse", "main"); p.storageRef(storage, "refs/heads/main") != head {
		t.Fatalf("after the disk had room, main is not %s in the storage", head)
	}
	if list := p.run(dir, "grove", "patch", "list"); !strings.Contains(list, "another big file") {
		t.Fatalf("the patch pushed once the disk had room is not listed:\n%s", list)
	}
	p.run(dir, "grove", "verify", rid)
}

// TestFullDiskFetch: a node whose disk is full (a small tmpfs under its
// home) syncs a change with a big file from a peer: the sync fails,
// saying the disk is full, the storage is as it was (refs, fsck, verify),
// and once there is room the next sync brings the change.
func TestFullDiskFetch(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	dir, rid := a.project()
	srv := a.startForeground("--listen", "/ip4/127.0.0.1/tcp/0")
	fill, free := b.smallDisk(t, "24m")
	b.startForeground()
	b.run(b.work, "grove", "clone", rid, filepath.Join(b.work, "clone"), "--from", srv.addr)
	storage := b.storage(rid)
	refsBefore := b.run(storage, "git", "for-each-ref")
	b.run(b.work, "grove", "connect", srv.addr)
	// b's disk is full before a pushes: b's node hears of the push by
	// gossip and may fetch it at any moment, which must fail too, and
	// must not leave the explicit sync below with nothing to do.
	fill(512 << 10)
	randomFile(t, filepath.Join(dir, "big"), 2<<20)
	a.run(dir, "git", "add", "big")
	a.run(dir, "git", "commit", "-q", "-m", "a big file")
	a.run(dir, "git", "push", "-q", "grove", "HEAD:main")
	want := a.run(dir, "git", "rev-parse", "HEAD")
	_, err := b.try(b.work, "grove", "sync", rid, "--fetch")
	if err == nil {
		t.Fatal("a sync succeeded on a full disk")
	}
	stderr := stderrOf(err)
	if !strings.Contains(strings.ToLower(stderr), "no space left on device") || strings.Count(stderr, "\n") > 0 {
		t.Errorf("sync on a full disk: want one line saying the disk is full, stderr:\n%s", stderr)
	}
	t.Logf("sync on a full disk: %s", stderr)
	if after := b.run(storage, "git", "for-each-ref"); after != refsBefore {
		t.Fatalf("refs moved on a full disk:\nbefore\n%s\nafter\n%s", refsBefore, after)
	}
	b.run(storage, "git", "fsck", "--no-progress", "--no-dangling")
	b.run(b.work, "grove", "verify", rid)
	free()
	b.run(b.work, "grove", "sync", rid, "--fetch")
	if got, _ := b.try(storage, "git", "rev-parse", "--verify", "-q", "refs/namespaces/"+a.nid+"/refs/heads/main"); got != want {
		t.Fatalf("after the disk had room, a's main here is %q, want %s", got, want)
	}
	b.run(b.work, "grove", "verify", rid)
}
