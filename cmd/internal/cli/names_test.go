package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

func testKey(t *testing.T, i byte) *protocol.Key {
	t.Helper()
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestNames: in a real storage, a person document names its NID; the
// alias you follow a peer under comes before it; your own home's alias
// names you; one alias of two NIDs is shown with each short NID; a NID
// with no name is its short form, and text that is no NID is made safe.
func TestNames(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	me, bob, carol, dave := testKey(t, 1), testKey(t, 2), testKey(t, 3), testKey(t, 4)
	h := repo.Home{Dir: t.TempDir()}
	if _, err := repo.CreateKey(h, "", nil); err != nil {
		t.Fatal(err)
	}
	self, err := repo.PublicNID(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetConfig(repo.Config{Alias: "bob"}); err != nil {
		t.Fatal(err)
	}
	doc := &protocol.Identity{Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{me.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	r, err := repo.Create(ctx, h, me, doc, t0)
	if err != nil {
		t.Fatal(err)
	}
	for k, alias := range map[*protocol.Key]string{bob: "bob", carol: "carol", dave: "dave"} {
		ph, err := repo.SetPerson(ctx, repo.Home{Dir: t.TempDir()}, k, repo.Person{Alias: alias}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.WritePerson(ctx, k, ph, t0); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := control.LoadPolicy(h)
	if err != nil {
		t.Fatal(err)
	}
	pol.Follows[carol.NID().String()] = "caz"
	if err := pol.Save(h); err != nil {
		t.Fatal(err)
	}

	nm := LoadNames(ctx, h, r)
	for _, tc := range []struct {
		name, nid, want, alias string
	}{
		{"a person document, shared with you", bob.NID().String(), "bob (" + bob.NID().Short() + ")", "bob"},
		{"you, by your config's alias", self.String(), "bob (" + self.Short() + ")", "bob"},
		{"followed under another alias", carol.NID().String(), "caz", "caz"},
		{"a person document", dave.NID().String(), "dave", "dave"},
		{"no name", me.NID().String(), me.NID().Short(), ""},
		{"not a NID", "x\x1b[2Jy", "x^[[2Jy", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nm.Of(tc.nid); got != tc.want {
				t.Errorf("Of = %q, want %q", got, tc.want)
			}
			if got := nm.Alias(tc.nid); got != tc.alias {
				t.Errorf("Alias = %q, want %q", got, tc.alias)
			}
		})
	}
	if m := nm.Map(me.NID().String(), dave.NID().String(), ""); len(m) != 1 || m[dave.NID().String()] != "dave" {
		t.Errorf("Map = %v", m)
	}
	var none *Names
	if none.Of(dave.NID().String()) != dave.NID().Short() || none.Alias("x") != "" {
		t.Error("a nil Names does not fall back to short NIDs")
	}
}
