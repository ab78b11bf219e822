package repo_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestDiffSigrefs: among many refs, the diff of two signed states is
// exactly the refs that changed, were added or were removed, whichever
// version signed the older state; a state that does not verify or is not
// here is an error.
func TestDiffSigrefs(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "diff", k)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two")
	name := func(i int) string { return fmt.Sprintf("refs/cobs/issue/%040x", i) }
	var ups []repo.RefUpdate
	for i := range 600 {
		ups = append(ups, repo.RefUpdate{Name: name(i), New: c1})
	}
	ups = append(ups, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	update(t, r, k, ups...)
	s1 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	update(t, r, k,
		repo.RefUpdate{Name: name(7), Old: c1, New: c2},
		repo.RefUpdate{Name: name(1000), New: c2},
		repo.RefUpdate{Name: name(300), Old: c1},
		repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})
	s2 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	// Sorted by name (7, 300 and 1000 are 007, 12c and 3e8 in hex).
	want := []repo.RefChange{
		{Name: name(7), Old: c1, New: c2},
		{Name: name(300), Old: c1},
		{Name: name(1000), New: c2},
		{Name: "refs/heads/main", Old: c1, New: c2},
	}
	got, err := r.DiffSigrefs(nid, s1, s2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff\n%+v\nwant\n%+v", got, want)
	}
	if got, err := r.DiffSigrefs(nid, s2, s2); err != nil || len(got) != 0 {
		t.Fatalf("diff of a state with itself: %+v, %v", got, err)
	}
	back, err := r.DiffSigrefs(nid, s2, s1)
	if err != nil || len(back) != len(want) || back[2].Old != c2 || back[2].New != "" {
		t.Fatalf("diff backwards: %+v, %v", back, err)
	}

	t.Run("version 1", func(t *testing.T) {
		// The same refs as s1, signed as a list.
		sr1, err := r.ReadSigrefs(nid, s1)
		if err != nil {
			t.Fatal(err)
		}
		v1 := writeSigrefsV1(t, r, k, r.RID, "", sr1.Refs)
		got, err := r.DiffSigrefs(nid, v1, s2)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("diff from version 1\n%+v (%v)\nwant\n%+v", got, err, want)
		}
	})

	unknown := strings.Repeat("ab", 20)
	sr2, err := r.ReadSigrefs(nid, s2)
	if err != nil {
		t.Fatal(err)
	}
	forged := writeSigrefs(t, r, testKey(t, 9), r.RID, s2, sr2.Refs)
	rid, err := protocol.RIDFromOID(strings.Repeat("cd", 20))
	if err != nil {
		t.Fatal(err)
	}
	otherRID := writeSigrefs(t, r, k, rid, s2, sr2.Refs)
	// Signed by the right key, but its ref tree names a subtree that is
	// not here.
	hole := gitIn(t, r.Path, []byte("040000 tree "+unknown+"\trefs\n"), "mktree", "--missing")
	holed := writeSigrefsTree(t, r, k, r.RID, s2, hole)
	for _, tt := range []struct{ name, older, newer string }{
		{"unknown older", unknown, s2},
		{"unknown newer", s1, unknown},
		{"not an oid", "main", s2},
		{"signed by another key", s2, forged},
		{"signed for another project", s2, otherRID},
		{"ref tree missing a subtree", s2, holed},
		{"a commit that is not sigrefs", s1, c1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := r.DiffSigrefs(nid, tt.older, tt.newer); err == nil {
				t.Fatalf("no error, diff %+v", got)
			}
		})
	}
	if _, err := r.DiffSigrefs(testKey(t, 2).NID(), s1, s2); err == nil {
		t.Fatal("diff verified with another namespace's key")
	}
}
