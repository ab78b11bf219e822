package repo_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// workingCopy makes a non-bare repository with one commit on main.
func workingCopy(t *testing.T) string {
	t.Helper()
	wc := t.TempDir()
	gitIn(t, wc, nil, "init", "-q", "-b", "main")
	writeCommit(t, wc, "README", "hello\n", "first")
	return wc
}

// writeCommit writes file and commits it in the working copy wc.
func writeCommit(t *testing.T, wc, file, data, msg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(wc, file), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, wc, nil, "add", file)
	gitIn(t, wc, nil, "commit", "-q", "-m", msg)
	return gitIn(t, wc, nil, "rev-parse", "HEAD")
}

func TestPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, other := testKey(t, 1), testKey(t, 2)
	nid := k.NID()
	_, r := newProject(t, "p", k)
	wc := workingCopy(t)
	w1 := gitIn(t, wc, nil, "rev-parse", "HEAD")
	quarantines := filepath.Join(r.Path, "grove-tmp")

	// A first push: main, into a namespace with no branches yet.
	p, err := r.BeginPush(ctx, nid)
	if err != nil {
		t.Fatal(err)
	}
	dir := p.Dir()
	if filepath.Dir(dir) != quarantines || !strings.HasPrefix(filepath.Base(dir), "push-") {
		t.Errorf("quarantine %s is not in %s", dir, quarantines)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "packed-refs")); err != nil || len(b) != 0 {
		t.Errorf("packed-refs of an empty namespace = %q, %v", b, err)
	}
	gitIn(t, wc, nil, "push", "-q", dir, "main")
	if _, err := gitTry(r.Path, nil, "cat-file", "-e", w1); err == nil {
		t.Error("pushed commit reached the storage before Finish")
	}
	if got := nsRefs(t, r, nid)["refs/heads/main"]; got != "" {
		t.Errorf("main moved before Finish: %s", got)
	}
	ups, err := p.Finish(ctx, k, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []repo.RefUpdate{{Name: "refs/heads/main", New: w1}}; !reflect.DeepEqual(ups, want) {
		t.Errorf("Finish = %v, want %v", ups, want)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("quarantine still there after Close: %v", err)
	}
	gitIn(t, r.Path, nil, "cat-file", "-e", w1+":README")
	if got := nsRefs(t, r, nid)["refs/heads/main"]; got != w1 {
		t.Errorf("namespace main = %s, want %s", got, w1)
	}
	if got := canonRefs(t, r)["refs/heads/main"]; got != w1 {
		t.Errorf("canonical main = %s, want %s", got, w1)
	}
	verifyClean(t, r)

	// A second push: fast-forward main, a new branch and an annotated tag.
	gitIn(t, wc, nil, "branch", "feature")
	w2 := writeCommit(t, wc, "README", "hello again\n", "second")
	gitIn(t, wc, nil, "tag", "-a", "-m", "v1", "v1")
	tag := gitIn(t, wc, nil, "rev-parse", "refs/tags/v1")
	p, err = r.BeginPush(ctx, nid)
	if err != nil {
		t.Fatal(err)
	}
	dir = p.Dir()
	// The quarantine shows the namespace's branches and tags, nothing else.
	if b, err := os.ReadFile(filepath.Join(dir, "packed-refs")); err != nil || string(b) != "# pack-refs with: sorted \n"+w1+" refs/heads/main\n" {
		t.Errorf("packed-refs = %q, %v; want main at %s", b, err, w1)
	}
	// The project stays locked while the push is open.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if err := r.UpdateNamespace(short, k, nil, now); err == nil {
		t.Error("UpdateNamespace ran during a push")
	}
	cancel()
	gitIn(t, wc, nil, "push", "-q", dir, "main", "feature", "refs/tags/v1")
	ups, err = p.Finish(ctx, k, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []repo.RefUpdate{
		{Name: "refs/heads/feature", New: w1},
		{Name: "refs/heads/main", Old: w1, New: w2},
		{Name: "refs/tags/v1", New: tag},
	}
	if !reflect.DeepEqual(ups, want) {
		t.Errorf("Finish = %v, want %v", ups, want)
	}
	p.Close()
	if got, want := canonRefs(t, r), map[string]string{"refs/heads/main": w2, "refs/heads/feature": w1, "refs/tags/v1": tag}; !reflect.DeepEqual(got, want) {
		t.Errorf("canonical refs = %v, want %v", got, want)
	}
	verifyClean(t, r)

	// A third push deletes a branch; refs a push may not write are refused
	// by the quarantine before git reports success.
	p, err = r.BeginPush(ctx, nid)
	if err != nil {
		t.Fatal(err)
	}
	dir = p.Dir()
	for _, ref := range []string{"refs/heads/patches/abc", "refs/grove/sigrefs", "refs/cobs/issue/x", "refs/other/x"} {
		out, err := gitTry(wc, nil, "push", "-q", dir, "HEAD:"+ref)
		if err == nil {
			t.Errorf("push to %s accepted", ref)
		} else if !strings.Contains(err.Error(), "grove:") {
			t.Errorf("push to %s: %v %s; want grove's reason", ref, err, out)
		}
	}
	gitIn(t, wc, nil, "push", "-q", dir, ":feature")
	ups, err = p.Finish(ctx, k, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []repo.RefUpdate{{Name: "refs/heads/feature", Old: w1}}; !reflect.DeepEqual(ups, want) {
		t.Errorf("Finish = %v, want %v", ups, want)
	}
	p.Close()
	if _, ok := canonRefs(t, r)["refs/heads/feature"]; ok {
		t.Error("deleted branch is still canonical")
	}
	verifyClean(t, r)

	// Finish signs only as the namespace's owner; nothing lands otherwise.
	w3 := writeCommit(t, wc, "README", "third\n", "third")
	before := nsRefs(t, r, nid)
	p, err = r.BeginPush(ctx, nid)
	if err != nil {
		t.Fatal(err)
	}
	gitIn(t, wc, nil, "push", "-q", p.Dir(), "main")
	if _, err := p.Finish(ctx, other, now); err == nil {
		t.Error("Finish signed by another key succeeded")
	}
	p.Close()
	if got := nsRefs(t, r, nid); !reflect.DeepEqual(got, before) {
		t.Errorf("refs moved: %v, was %v", got, before)
	}
	if _, err := gitTry(r.Path, nil, "cat-file", "-e", w3); err == nil {
		t.Error("objects of a refused push reached the storage")
	}

	// A push that brings nothing changes nothing.
	p, err = r.BeginPush(ctx, nid)
	if err != nil {
		t.Fatal(err)
	}
	if ups, err := p.Finish(ctx, k, now); err != nil || ups != nil {
		t.Errorf("empty Finish = %v, %v", ups, err)
	}
	p.Close()
	if got := nsRefs(t, r, nid); !reflect.DeepEqual(got, before) {
		t.Errorf("refs moved: %v, was %v", got, before)
	}
	if ents, err := os.ReadDir(quarantines); err != nil || len(ents) != 0 {
		t.Errorf("quarantines left: %v, %v", ents, err)
	}

	// Close unlocks.
	short, cancel = context.WithTimeout(ctx, time.Second)
	defer cancel()
	unlock, err := r.Lock(short)
	if err != nil {
		t.Fatalf("lock after the pushes: %v", err)
	}
	unlock()
}

func TestPushRemovesStaleQuarantine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "p", k)
	// A push that died: its quarantine with a half-received pack.
	dead := filepath.Join(r.Path, "grove-tmp", "push-dead")
	if err := os.MkdirAll(filepath.Join(dead, "objects", "pack"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "objects", "pack", "tmp_pack_x"), []byte("PACK"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := r.BeginPush(ctx, k.NID())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("stale quarantine still there: %v", err)
	}
	ents, err := os.ReadDir(filepath.Join(r.Path, "grove-tmp"))
	if err != nil || len(ents) != 1 || filepath.Join(r.Path, "grove-tmp", ents[0].Name()) != p.Dir() {
		t.Errorf("grove-tmp holds %v, %v; want only %s", ents, err, p.Dir())
	}
	// The new quarantine is a working bare repository over the storage.
	if got := gitIn(t, p.Dir(), nil, "rev-parse", "--is-bare-repository"); got != "true" {
		t.Errorf("quarantine is not a bare repository: %s", got)
	}
	gitIn(t, p.Dir(), nil, "cat-file", "-e", r.RID.OID())
	if got := nsRefs(t, r, k.NID())[protocol.IdentityRef]; got != r.RID.OID() {
		t.Errorf("identity ref = %s", got)
	}
}
