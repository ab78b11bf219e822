package cmd

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestDelegatesByPerson: id update's --add-delegate/--remove-delegate take
// a NID as it is, or an alias that one person goes by (standing for a
// current device of it, whichever of its devices carry the alias); an alias
// two persons share, or nobody has, is a usage error.
func TestDelegatesByPerson(t *testing.T) {
	nid := func(i byte) string {
		seed := make([]byte, 32)
		seed[0] = i
		k, err := protocol.NewKey(ed25519.NewKeyFromSeed(seed))
		if err != nil {
			t.Fatal(err)
		}
		return k.NID().String()
	}
	a1, a2, b1, c1 := nid(1), nid(2), nid(3), nid(4)
	alice := []string{a1, a2}
	if alice[0] > alice[1] {
		alice[0], alice[1] = alice[1], alice[0]
	}
	chains := map[string]*repo.PersonChain{
		a1: {Doc: &repo.Person{Alias: "alice"}, Revs: []string{"alice's root"}, Devices: alice},
		a2: {Doc: &repo.Person{Alias: "alice"}, Revs: []string{"alice's root"}, Devices: alice},
		b1: {Doc: &repo.Person{Alias: "bob"}, Revs: []string{"bob's root"}, Devices: []string{b1}},
		c1: {Doc: &repo.Person{Alias: "bob"}, Revs: []string{"carol's root"}, Devices: []string{c1}},
	}
	people := repo.ResolvePeople(chains)
	nm := cli.NamesWith(repo.Home{Dir: t.TempDir()}, people)
	if nm.Of(a1) != "alice" || nm.Of(a2) != "alice" {
		t.Errorf("alice's devices show as %q and %q, want one author", nm.Of(a1), nm.Of(a2))
	}
	if !strings.HasPrefix(nm.Of(b1), "bob (") || nm.Of(b1) == nm.Of(c1) {
		t.Errorf("two persons called bob show as %q and %q", nm.Of(b1), nm.Of(c1))
	}
	got, err := delegatesByPerson([]string{"alice", b1}, "add-delegate", nm, people)
	if err != nil || len(got) != 2 || got[0].String() != alice[0] || got[1].String() != b1 {
		t.Errorf("alice and a NID: %v, %v", got, err)
	}
	for _, bad := range []string{"bob", "nobody"} {
		var ue *cli.UsageError
		if _, err := delegatesByPerson([]string{bad}, "add-delegate", nm, people); !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a usage error", bad, err)
		}
	}
}
