package repo_test

import (
	"strings"
	"testing"
)

// TestPackHolds asks a quarantine's pack for what it holds, what only the
// storage holds, and by names that are no pack of its.
func TestPackHolds(t *testing.T) {
	_, r := newProject(t, "holds", testKey(t, 1))
	in := commit(t, r, "in the pack")
	out := commit(t, r, "only in the storage")
	q, err := r.NewQuarantine("fetch", nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	name := "pack-" + gitIn(t, q.Dir(), []byte(in+"\n"), "pack-objects", "-q", "objects/pack/pack")
	for _, tc := range []struct {
		name string
		pack string
		in   []string
		want bool
	}{
		{"its object", name, []string{in}, true},
		{"nothing asked", name, nil, true},
		{"the storage's object", name, []string{in, out}, false},
		{"not an oid", name, []string{in[:39]}, false},
		{"not hex", name, []string{strings.Repeat("x", 40)}, false},
		{"no such pack", "pack-" + strings.Repeat("0", 40), []string{in}, false},
		{"outside its pack directory", "../pack/" + name, []string{in}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := q.PackHolds(tc.pack, tc.in); got != tc.want {
				t.Fatalf("PackHolds(%q, %v) = %v, want %v", tc.pack, tc.in, got, tc.want)
			}
		})
	}
}
