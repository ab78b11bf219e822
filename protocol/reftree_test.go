package protocol_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

const treeOID = "f4a1792b38c5516a7dedcd6569f86e8d371032b0"

func TestRefTreePath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"refs/heads/main", []string{"refs", "heads", ".0d", "main"}},
		{"refs/grove/id", []string{"refs", "grove", ".a5", "id"}},
		{"refs/cobs/grove.issue/" + treeOID, []string{"refs", "cobs", "grove.issue", ".9a", treeOID}},
	}
	for _, tt := range tests {
		if got := protocol.RefTreePath(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RefTreePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if b := protocol.RefTreePath(tt.in)[len(tt.want)-2]; !protocol.IsRefBucket(b) {
			t.Errorf("%q is not a bucket name", b)
		}
	}
	for _, s := range []string{"main", ".0", ".0g", ".A0", "..", ".000"} {
		if protocol.IsRefBucket(s) {
			t.Errorf("IsRefBucket(%q) = true", s)
		}
	}
}

func treeSeeds() [][]byte {
	es := []protocol.TreeEntry{
		{Mode: protocol.ModeGitlink, Name: "a", OID: treeOID},
		{Mode: protocol.ModeTree, Name: "a.b", OID: treeOID},
		{Mode: protocol.ModeTree, Name: "a-", OID: treeOID},
		{Mode: 0o100644, Name: "signature", OID: treeOID},
	}
	protocol.SortTree(es)
	return [][]byte{protocol.EncodeTree(es), protocol.EncodeTree(es[:1]), nil}
}

func TestParseTree(t *testing.T) {
	good := treeSeeds()[0]
	es, err := protocol.ParseTree(good)
	if err != nil {
		t.Fatal(err)
	}
	// git sorts a subtree as if its name ended in "/".
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "a a- a.b signature" {
		t.Errorf("order %q", got)
	}
	entry := func(mode, name string) string { return mode + " " + name + "\x00" + strings.Repeat("\x01", 20) }
	bad := []struct {
		name string
		in   string
	}{
		{"zero-padded mode", entry("040000", "a")},
		{"not octal", entry("1x0000", "a")},
		{"empty name", entry("100644", "")},
		{"slash", entry("100644", "a/b")},
		{"dot", entry("40000", ".")},
		{"truncated oid", "100644 a\x00abc"},
		{"no space", "100644"},
		{"duplicate", entry("100644", "a") + entry("100644", "a")},
		{"duplicate of another mode", entry("100644", "a") + entry("40000", "a")},
		{"unsorted", entry("100644", "b") + entry("100644", "a")},
		{"tree after same-named blob order", entry("40000", "a") + entry("100644", "a-")},
	}
	for _, tt := range bad {
		if _, err := protocol.ParseTree([]byte(tt.in)); !errors.Is(err, protocol.ErrInvalidTree) {
			t.Errorf("%s: ParseTree = %v, want ErrInvalidTree", tt.name, err)
		}
	}
}

// TestSortTree checks SortTree against git's rule spelled out: compare
// names with "/" appended to subtrees'.
func TestSortTree(t *testing.T) {
	key := func(e protocol.TreeEntry) string {
		if e.Mode == protocol.ModeTree {
			return e.Name + "/"
		}
		return e.Name
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		seen := map[string]bool{}
		var es []protocol.TreeEntry
		for range 1 + rng.IntN(8) {
			name := ""
			for range 1 + rng.IntN(3) {
				name += string("a-./0z"[rng.IntN(6)])
			}
			if seen[name] || name == "." || name == ".." || strings.Contains(name, "/") {
				continue
			}
			seen[name] = true
			mode := uint32(protocol.ModeGitlink)
			if rng.IntN(2) == 0 {
				mode = protocol.ModeTree
			}
			es = append(es, protocol.TreeEntry{Mode: mode, Name: name, OID: treeOID})
		}
		protocol.SortTree(es)
		for i := 1; i < len(es); i++ {
			if key(es[i-1]) >= key(es[i]) {
				t.Fatalf("%q before %q", key(es[i-1]), key(es[i]))
			}
		}
		if _, err := protocol.ParseTree(protocol.EncodeTree(es)); err != nil {
			t.Fatalf("sorted tree does not parse: %v", err)
		}
	}
}

func FuzzParseTree(f *testing.F) {
	for _, s := range treeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := protocol.ParseTree(b)
		if err != nil {
			return
		}
		if out := protocol.EncodeTree(es); !bytes.Equal(out, b) {
			t.Fatalf("round trip %x → %x", b, out)
		}
	})
}
