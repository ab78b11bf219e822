package gitstore

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// goGitEncode is how go-git, which wrote grove's commits before, encodes c.
func goGitEncode(t testing.TB, c *Commit) []byte {
	t.Helper()
	g := &object.Commit{
		TreeHash:  plumbing.NewHash(c.Tree),
		Author:    object.Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: object.Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
	for _, p := range c.Parents {
		g.ParentHashes = append(g.ParentHashes, plumbing.NewHash(p))
	}
	obj := &plumbing.MemoryObject{}
	if err := g.Encode(obj); err != nil {
		t.Fatal(err)
	}
	rd, _ := obj.Reader()
	b, _ := io.ReadAll(rd)
	return b
}

// TestCommitEncodeAsGoGit: commits keep the bytes (and so the oids) they
// had when go-git wrote them.
func TestCommitEncodeAsGoGit(t *testing.T) {
	tree, p1, p2 := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	east := time.FixedZone("", 5*3600+30*60)
	tests := []struct {
		name string
		in   Commit
	}{
		{"root", Commit{Tree: tree, Author: Sig{"n", "n@grove", time.Unix(1700000000, 0).UTC()}, Committer: Sig{"n", "n@grove", time.Unix(1700000000, 0).UTC()}, Message: "grove sigrefs\n"}},
		{"one parent, a zone", Commit{Tree: tree, Parents: []string{p1}, Author: Sig{"a b", "a@b", time.Unix(1, 0).In(east)}, Committer: Sig{"c", "d", time.Unix(2, 0)}, Message: "Update x\n\nGrove-Signature: z\n"}},
		{"two parents, before 1970", Commit{Tree: tree, Parents: []string{p1, p2}, Author: Sig{"a", "a", time.Unix(-5, 0).UTC()}, Committer: Sig{"a", "a", time.Unix(0, 0).UTC()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.in.Encode(), goGitEncode(t, &tt.in)
			if string(got) != string(want) {
				t.Fatalf("encoded\n%q\ngo-git\n%q", got, want)
			}
			c, err := ParseCommit(got)
			if err != nil {
				t.Fatal(err)
			}
			if c.Tree != tt.in.Tree || !slices.Equal(c.Parents, tt.in.Parents) || c.Message != tt.in.Message {
				t.Fatalf("parsed %+v from %+v", c, tt.in)
			}
		})
	}
}

// FuzzParseCommit: parseCommit reads the tree, parents and message that
// go-git's decoder reads, and fails where it fails.
func FuzzParseCommit(f *testing.F) {
	tree, p := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, s := range []string{
		"tree " + tree + "\nauthor a <b> 1 +0000\ncommitter a <b> 1 +0000\n\nmsg\n",
		"tree " + tree + "\nparent " + p + "\nparent " + p + "\nauthor a <b> 1 +0000\ncommitter a <b> 1 +0000\ngpgsig -----BEGIN\n x\n -----END\n\nmsg\n\nmore\n",
		"tree " + tree + "\n",
		"tree " + tree,
		"tree " + tree + "\n\n",
		"parent " + p + "\ntree " + tree + "\n\nm",
		"tree " + strings.ToUpper(tree) + "\n\n",
		"tree xyz\n\n",
		"\ntree " + tree + "\n",
		"",
		"tree " + tree + "\nauthor a <b> 1 +0000\nparent " + p + "\n\nm",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseCommit(b)
		g := &object.Commit{}
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.CommitObject)
		obj.Write(b)
		gerr := g.Decode(obj)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("%q: parseCommit error %v, go-git error %v", b, err, gerr)
		}
		if err != nil {
			return
		}
		var parents []string
		for _, h := range g.ParentHashes {
			parents = append(parents, h.String())
		}
		if got.Tree != g.TreeHash.String() || !slices.Equal(got.Parents, parents) || got.Message != g.Message {
			t.Fatalf("%q: parsed tree %s parents %v message %q; go-git %s %v %q", b, got.Tree, got.Parents, got.Message, g.TreeHash, parents, g.Message)
		}
	})
}

// BenchmarkParseCommit parses a sigrefs-shaped commit with this package's
// codec and with go-git's decoder.
func BenchmarkParseCommit(b *testing.B) {
	who := Sig{Name: "12D3KooWAaCUEYf8qCCEjcr3U8zCzHDvcJWzmmSMxgjY9giyPBXp", Email: "12D3KooWAaCUEYf8qCCEjcr3U8zCzHDvcJWzmmSMxgjY9giyPBXp@grove", When: time.Unix(1700000000, 0).UTC()}
	raw := (&Commit{Tree: strings.Repeat("a", 40), Parents: []string{strings.Repeat("b", 40)}, Author: who, Committer: who, Message: "grove sigrefs\n"}).Encode()
	b.Run("gitstore", func(b *testing.B) {
		for b.Loop() {
			ParseCommit(raw)
		}
	})
	b.Run("go-git", func(b *testing.B) {
		for b.Loop() {
			obj := &plumbing.MemoryObject{}
			obj.SetType(plumbing.CommitObject)
			obj.Write(raw)
			(&object.Commit{}).Decode(obj)
		}
	})
}
