package repo_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/bench/gitgen"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// BenchmarkAcceptClone times what a clone does besides git's own fetch:
// making the empty storage, the quarantine, and Accept (verification and
// the ref transaction), for a project of 1,000 generated commits, 30
// branches and 24 tags. The fetch itself (a local `git fetch` here, over
// libp2p in a real clone) runs with the timer stopped.
//
//	go test -run '^$' -bench AcceptClone -cpuprofile /tmp/accept.prof ./repo
func BenchmarkAcceptClone(b *testing.B) {
	ctx := context.Background()
	k := testKey(b, 1)
	src := filepath.Join(b.TempDir(), "src")
	gitIn(b, "", nil, "init", "-q", "-b", "main", src)
	if err := gitgen.Generate(ctx, src, gitgen.Options{Commits: 1000, Branches: 30, Merges: 12, Tags: 20, Files: 200, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	h := repo.Home{Dir: b.TempDir()}
	doc := &protocol.Identity{Name: "bench", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1,
		Visibility: protocol.Visibility{Type: protocol.Public}}
	origin, err := repo.Create(ctx, h, k, doc, now)
	if err != nil {
		b.Fatal(err)
	}
	gitIn(b, origin.Path, nil, "fetch", "-q", src, "+refs/heads/*:refs/import/heads/*", "+refs/tags/*:refs/import/tags/*")
	var ups []repo.RefUpdate
	for _, l := range strings.Split(gitIn(b, origin.Path, nil, "for-each-ref", "--format=%(objectname) %(refname)", "refs/import/"), "\n") {
		oid, name, _ := strings.Cut(l, " ")
		ups = append(ups, repo.RefUpdate{Name: "refs/" + strings.TrimPrefix(name, "refs/import/"), New: oid})
		gitIn(b, origin.Path, nil, "update-ref", "-d", name)
	}
	update(b, origin, k, ups...)
	gitIn(b, origin.Path, nil, "repack", "-adq")

	dst := repo.Home{Dir: b.TempDir()}
	for b.Loop() {
		r, err := repo.CreateEmpty(ctx, dst, origin.RID)
		if err != nil {
			b.Fatal(err)
		}
		q, err := r.NewQuarantine("fetch", nil, "", map[string]string{"fetch.fsckObjects": "true", "fetch.unpackLimit": "1"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		gitIn(b, q.Dir(), nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", origin.Path, "+refs/namespaces/*:refs/namespaces/*")
		b.StartTimer()
		res, err := r.Accept(ctx, q, nil)
		if err != nil || len(res.Updated) != 1 {
			b.Fatalf("accept: %+v, %v", res, err)
		}
		q.Close()
		if err := r.Publish(dst); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dst.ProjectPath(origin.RID)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
