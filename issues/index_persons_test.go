package issues

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestIndexPersons: the index gives the person documents repo.Persons
// gives, a changed document as soon as its ref moves, none for a
// namespace whose document no longer verifies or is gone, and a document
// it verified at a tip without reading its history again.
func TestIndexPersons(t *testing.T) {
	ctx := context.Background()
	alice, bob, carol := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	s, h := newProject(t, alice)
	r := s.Repo
	homes := map[*protocol.Key]repo.Home{}
	setAlias := func(k *protocol.Key, alias string) {
		t.Helper()
		kh, ok := homes[k]
		if !ok {
			kh = repo.Home{Dir: t.TempDir()}
			homes[k] = kh
		}
		ph, err := repo.SetPerson(ctx, kh, k, repo.Person{Alias: alias}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.WritePerson(ctx, k, ph, t0); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step string, want map[string]string) {
		t.Helper()
		ix := mustOpenIndex(t, s, h)
		got, err := ix.Persons(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d persons, want %d", step, len(got), len(want))
		}
		for nid, alias := range want {
			if p := got[nid]; p == nil || p.Alias != alias {
				t.Fatalf("%s: %s is %+v, want alias %q", step, nid, p, alias)
			}
		}
	}
	setAlias(alice, "alice")
	setAlias(bob, "bob")
	check("first", map[string]string{alice.NID().String(): "alice", bob.NID().String(): "bob"})
	setAlias(bob, "robert")
	setAlias(carol, "carol")
	check("changed", map[string]string{alice.NID().String(): "alice", bob.NID().String(): "robert", carol.NID().String(): "carol"})

	// Carol's document made unreadable: repo.Persons leaves it out, and
	// so does the index once her ref moves to it; until then the index
	// has it verified at its tip already, and reads nothing.
	tips, err := r.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		t.Fatal(err)
	}
	tip := tips[carol.NID().String()]
	loose := filepath.Join(r.Path, "objects", tip[:2], tip[2:])
	if err := os.Rename(loose, loose+".away"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := r.Persons(ctx); ps[carol.NID().String()] != nil {
		t.Fatal("repo.Persons read carol's document without its commit")
	}
	check("cached", map[string]string{alice.NID().String(): "alice", bob.NID().String(): "robert", carol.NID().String(): "carol"})
	os.Rename(loose+".away", loose)
	setAlias(carol, "caro")
	check("moved again", map[string]string{alice.NID().String(): "alice", bob.NID().String(): "robert", carol.NID().String(): "caro"})

	// A person ref that points at something else is left out.
	ns := "refs/namespaces/" + carol.NID().String() + "/" + protocol.PersonRef
	if err := os.WriteFile(filepath.Join(r.Path, ns), []byte(tips[alice.NID().String()]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("forged", map[string]string{alice.NID().String(): "alice", bob.NID().String(): "robert"})
}

// BenchmarkIndexPersons reads the person documents of a project with 100
// namespaces, each one revision, from a warm index: what a list or show
// pays for the names it prints (repo's BenchmarkPersons verifies them all
// instead).
func BenchmarkIndexPersons(b *testing.B) {
	ctx := context.Background()
	owner := testKey(b, 1)
	s, h := newProject(b, owner)
	const n = 100
	for i := range n {
		k := testKey(b, byte(10+i))
		ph, err := repo.SetPerson(ctx, repo.Home{Dir: b.TempDir()}, k, repo.Person{Alias: "peer"}, t0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Repo.WritePerson(ctx, k, ph, t0); err != nil {
			b.Fatal(err)
		}
	}
	ix := mustOpenIndex(b, s, h)
	for b.Loop() {
		ps, err := ix.Persons(ctx)
		if err != nil || len(ps) != n {
			b.Fatalf("%d persons, %v", len(ps), err)
		}
	}
}
