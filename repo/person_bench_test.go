package repo_test

import (
	"context"
	"fmt"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// BenchmarkPersons reads and verifies the person documents of a project
// with 100 namespaces, each one revision: what every issue or patch list
// and show adds to find the names it prints (cli.LoadNames).
func BenchmarkPersons(b *testing.B) {
	ctx := context.Background()
	h := repo.Home{Dir: b.TempDir()}
	owner := testKey(b, 1)
	doc := &protocol.Identity{Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{owner.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, owner, doc, now)
	if err != nil {
		b.Fatal(err)
	}
	const n = 100
	for i := range n {
		k := testKey(b, byte(10+i))
		ph, err := repo.SetPerson(ctx, repo.Home{Dir: b.TempDir()}, k, repo.Person{Alias: fmt.Sprintf("peer%d", i)}, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.WritePerson(ctx, k, ph, now); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		ps, err := r.Persons(ctx)
		if err != nil || len(ps) != n {
			b.Fatalf("%d persons, %v", len(ps), err)
		}
	}
}
