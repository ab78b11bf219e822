package repo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// sigrefsTree returns the ref tree oid nid's current sigrefs signs.
func sigrefsTree(t testing.TB, r *repo.Repo, nid protocol.NID) string {
	t.Helper()
	return gitIn(t, r.Path, nil, "rev-parse", nsRefs(t, r, nid)[protocol.SigrefsRef]+":refs")
}

// TestRefTreeEdits moves refs at random (new, moved, deleted, nested names
// that empty their directories) and checks after every change that the
// signed tree lists exactly the namespace's refs and is byte for byte the
// tree git itself builds from the documented layout.
func TestRefTreeEdits(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "edits", k)
	var commits []string
	for i := range 4 {
		commits = append(commits, commit(t, r, fmt.Sprint("c", i)))
	}
	names := []string{"refs/heads/main", "refs/heads/a/b", "refs/heads/a/c/d", "refs/tags/v1",
		"refs/cobs/issue/0123", "refs/cobs/issue/4567", "refs/cobs/patch/89ab", "refs/heads/patches/x"}
	rng := rand.New(rand.NewPCG(7, 8))
	for step := range 40 {
		cur := nsRefs(t, r, nid)
		var ups []repo.RefUpdate
		for _, name := range names {
			if rng.IntN(3) != 0 {
				continue
			}
			u := repo.RefUpdate{Name: name, Old: cur[name]}
			if cur[name] == "" || rng.IntN(3) != 0 {
				u.New = commits[rng.IntN(len(commits))]
			}
			if u.New != u.Old {
				ups = append(ups, u)
			}
		}
		if len(ups) == 0 {
			continue
		}
		update(t, r, k, ups...)
		sr, err := r.ReadSigrefs(nid, nsRefs(t, r, nid)[protocol.SigrefsRef])
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		want := signedList(t, r, nid)
		if !reflect.DeepEqual(sr.Refs, want) {
			t.Fatalf("step %d: signed %v, refs are %v", step, sr.Refs, want)
		}
		if got, byGit := sigrefsTree(t, r, nid), gitRefTree(t, r.Path, want); got != byGit {
			t.Fatalf("step %d: grove wrote tree %s, git builds %s from the same refs", step, got, byGit)
		}
	}
	verifyClean(t, r)
	gitIn(t, r.Path, nil, "fsck", "--strict", "--no-progress")
}

// TestRefTreeChangeIsSmall: with many refs, one change writes a few small
// trees, not a list of every ref.
func TestRefTreeChangeIsSmall(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "many", k)
	c := commit(t, r, "target")
	var ups []repo.RefUpdate
	for i := range 5000 {
		ups = append(ups, repo.RefUpdate{Name: fmt.Sprintf("refs/cobs/issue/%040x", i), New: c})
	}
	update(t, r, k, ups...)
	before := gitIn(t, r.Path, nil, "count-objects")
	update(t, r, k, repo.RefUpdate{Name: "refs/cobs/issue/new", New: c})
	after := gitIn(t, r.Path, nil, "count-objects")
	// count-objects: "N objects, M kilobytes".
	var n0, kb0, n1, kb1 int
	fmt.Sscanf(before, "%d objects, %d kilobytes", &n0, &kb0)
	fmt.Sscanf(after, "%d objects, %d kilobytes", &n1, &kb1)
	// sigrefs commit, signature blob, its tree, and the ref tree's root,
	// refs/, cobs/, issue/ and one bucket. (Each loose object takes at
	// least a 4 KiB disk block; a 5,000-ref list would be 300 KiB.)
	if n1-n0 > 8 || kb1-kb0 > 64 {
		t.Errorf("one change wrote %d objects, %d KiB", n1-n0, kb1-kb0)
	}
	sr, err := r.ReadSigrefs(nid, nsRefs(t, r, nid)[protocol.SigrefsRef])
	if err != nil || len(sr.Refs) != 5002 { // 5,000 + new + identity
		t.Fatalf("signed %d refs, %v", len(sr.Refs), err)
	}
}

// TestRefTreeRejects: a tree signed by the right key but not in canonical
// form is refused, so that the signed tree means one set of refs.
func TestRefTreeRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "rejects", k)
	c := commit(t, r, "one")
	s0 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	mk := func(lines ...string) string {
		return gitIn(t, r.Path, []byte(strings.Join(lines, "\n")+"\n"), "mktree", "--missing")
	}
	blob := gitIn(t, r.Path, []byte("x"), "hash-object", "-w", "--stdin")
	bucket := func(name string) string { return protocol.RefBucket(name) }
	inBucket := func(b, line string) string { return "040000 tree " + mk(line) + "\t" + b }
	heads := func(lines ...string) string {
		return mk("040000 tree " + mk("040000 tree "+mk(lines...)+"\theads") + "\trefs")
	}
	tests := []struct {
		name string
		tree string
	}{
		{"wrong bucket", heads(inBucket(bucket("other"), "160000 commit "+c+"\tmain"))},
		{"gitlink outside a bucket", heads("160000 commit " + c + "\tmain")},
		{"blob in a bucket", heads(inBucket(bucket("main"), "100644 blob "+blob+"\tmain"))},
		{"empty bucket", heads("040000 tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\t" + bucket("main"))},
		{"empty directory", mk("040000 tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\trefs")},
		{"bad ref name", heads(inBucket(bucket("a~b"), "160000 commit "+c+"\ta~b"))},
		{"outside refs/", mk(inBucket(bucket("HEAD"), "160000 commit "+c+"\tHEAD"))},
		{"file and directory", heads(
			inBucket(bucket("a"), "160000 commit "+c+"\ta"),
			"040000 tree "+mk(inBucket(bucket("b"), "160000 commit "+c+"\tb"))+"\ta")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := writeSigrefsTree(t, r, k, r.RID, s0, tt.tree)
			if _, err := r.ReadSigrefs(nid, s); err == nil {
				t.Error("ReadSigrefs accepted it")
			}
			if _, err := r.VerifySigrefsUpdate(ctx, nid, s0, s); err == nil {
				t.Error("VerifySigrefsUpdate accepted it")
			}
		})
	}
}

// TestSigrefsVersion1Upgrade: a namespace signed in version 1 (a list
// blob) verifies, and its next change re-signs every ref as a tree.
func TestSigrefsVersion1Upgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "v1", k)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1}, repo.RefUpdate{Name: "refs/cobs/issue/abc", New: c1})
	cur := nsRefs(t, r, nid)
	v1 := writeSigrefsV1(t, r, k, r.RID, cur[protocol.SigrefsRef], signedList(t, r, nid))
	gitIn(t, r.Path, nil, "update-ref", repo.NamespacePrefix(nid)+protocol.SigrefsRef, v1, cur[protocol.SigrefsRef])
	if sr, err := r.VerifySigrefsUpdate(ctx, nid, cur[protocol.SigrefsRef], v1); err != nil || sr.Tree != "" || len(sr.Refs) != 3 {
		t.Fatalf("version 1 sigrefs: %+v, %v", sr, err)
	}
	verifyClean(t, r)

	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	s := nsRefs(t, r, nid)[protocol.SigrefsRef]
	sr, err := r.VerifySigrefsUpdate(ctx, nid, v1, s)
	if err != nil || sr.Tree == "" {
		t.Fatalf("after the upgrade: %+v, %v", sr, err)
	}
	if want := signedList(t, r, nid); !reflect.DeepEqual(sr.Refs, want) || len(want) != 3 {
		t.Errorf("signed %v, refs are %v", sr.Refs, want)
	}
	verifyClean(t, r)
}
