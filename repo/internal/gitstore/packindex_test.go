package gitstore

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A pack index read whole and read a block at a time lists the objects
// git's show-index lists, in order, across more than one block; a
// truncated index is refused.
func TestPackIndex(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, nil, "init", "-q", "--bare")
	var blobs strings.Builder
	const count = 5000 // more than one block of EachPackIndexID
	for i := range count {
		fmt.Fprintf(&blobs, "blob\ndata %d\n%d\n", len(fmt.Sprint(i))+1, i)
		fmt.Fprintf(&blobs, "\n")
	}
	gitIn(t, dir, []byte(blobs.String()), "fast-import", "--quiet")
	idx, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
	if err != nil || len(idx) != 1 {
		t.Fatalf("packs: %v %v", idx, err)
	}
	raw, err := os.ReadFile(idx[0])
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for line := range strings.Lines(gitIn(t, dir, raw, "show-index")) {
		want = append(want, strings.Fields(line)[1])
	}
	slices.Sort(want)
	if len(want) != count {
		t.Fatalf("git lists %d objects, want %d", len(want), count)
	}

	x, err := ReadPackIndex(idx[0])
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != count {
		t.Errorf("Len %d, want %d", x.Len(), count)
	}
	var got []string
	if err := EachPackIndexID(idx[0], func(id []byte) bool {
		got = append(got, hex.EncodeToString(id))
		if !x.Has(id) {
			t.Errorf("Has(%x) is false", id)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("EachPackIndexID listed %d objects, not git's %d (or not in order)", len(got), len(want))
	}
	for i := range x.Len() {
		if hex.EncodeToString(x.ID(i)) != want[i] {
			t.Fatalf("ID(%d) = %x, want %s", i, x.ID(i), want[i])
		}
	}
	absent, _ := hex.DecodeString(strings.Repeat("ff", 20))
	if x.Has(absent) {
		t.Error("Has an object the pack lacks")
	}
	n := 0
	EachPackIndexID(idx[0], func([]byte) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("EachPackIndexID went on %d times after false", n-3)
	}

	short := filepath.Join(t.TempDir(), "short.idx")
	if err := os.WriteFile(short, raw[:8+1024+20*count/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPackIndex(short); err == nil {
		t.Error("a truncated index was read")
	}
	if err := EachPackIndexID(short, func([]byte) bool { return true }); err == nil {
		t.Error("a truncated index was listed")
	}
}
