package protocol

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Git tree entry modes used by signed ref trees.
const (
	ModeTree    = 0o40000  // a subtree
	ModeGitlink = 0o160000 // a commit (or any object) named by oid, not followed
)

// ErrInvalidTree is returned for a tree object that is not canonical git.
var ErrInvalidTree = errors.New("invalid tree")

// TreeEntry is one entry of a git tree object.
type TreeEntry struct {
	Mode uint32
	Name string
	OID  string // hex
}

// compareTree orders entries as git sorts a tree: by name, a subtree's as
// if "/" followed it. Equal names compare equal whatever their modes.
func compareTree(a, b TreeEntry) int {
	n := min(len(a.Name), len(b.Name))
	if c := strings.Compare(a.Name[:n], b.Name[:n]); c != 0 || len(a.Name) == len(b.Name) {
		return c
	}
	// One name is a prefix of the other: the shorter one goes on with
	// "/" if it is a subtree, else it ends first.
	next := func(e TreeEntry) int {
		switch {
		case len(e.Name) > n:
			return int(e.Name[n])
		case e.Mode == ModeTree:
			return '/'
		}
		return -1
	}
	return cmp.Compare(next(a), next(b))
}

// SortTree puts entries in git's canonical tree order.
func SortTree(es []TreeEntry) {
	slices.SortFunc(es, compareTree)
}

// EncodeTree returns the git encoding of entries, which must be sorted
// (SortTree) and have valid names and oids.
func EncodeTree(es []TreeEntry) []byte {
	var b bytes.Buffer
	b.Grow(len(es) * 60)
	var raw [20]byte
	for _, e := range es {
		b.WriteString(strconv.FormatUint(uint64(e.Mode), 8))
		b.WriteByte(' ')
		b.WriteString(e.Name)
		b.WriteByte(0)
		hex.Decode(raw[:], []byte(e.OID))
		b.Write(raw[:])
	}
	return b.Bytes()
}

// ParseTree parses a git tree object strictly: modes as git writes them,
// names non-empty without "/" or NUL, no duplicates, canonical order, and
// at most MaxTreeEntries entries. Anything else is ErrInvalidTree.
func ParseTree(b []byte) ([]TreeEntry, error) {
	// Names are cut from one copy of the tree and oids from one string of
	// hex: a tree of 256 entries is then four allocations, not 512.
	n := 0
	for rest := b; len(rest) > 0; n++ {
		nul := bytes.IndexByte(rest, 0)
		if nul < 0 || len(rest) < nul+21 {
			return nil, fmt.Errorf("%w: truncated entry", ErrInvalidTree)
		}
		if n >= MaxTreeEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrInvalidTree, MaxTreeEntries)
		}
		rest = rest[nul+21:]
	}
	es := make([]TreeEntry, 0, n)
	text := string(b)
	var hexes strings.Builder
	hexes.Grow(40 * n)
	var oid [40]byte
	for at := 0; at < len(text); {
		nul := strings.IndexByte(text[at:], 0)
		hex.Encode(oid[:], b[at+nul+1:at+nul+21])
		hexes.Write(oid[:])
		at += nul + 21
	}
	oids := hexes.String()
	for i := 0; len(b) > 0; i++ {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 || sp > 6 {
			return nil, fmt.Errorf("%w: bad mode", ErrInvalidTree)
		}
		mode, err := strconv.ParseUint(string(b[:sp]), 8, 32)
		if err != nil || b[0] == '0' {
			return nil, fmt.Errorf("%w: bad mode %q", ErrInvalidTree, b[:sp])
		}
		b = b[sp+1:]
		nul := bytes.IndexByte(b, 0)
		if nul <= 0 || len(b) < nul+21 {
			return nil, fmt.Errorf("%w: truncated entry", ErrInvalidTree)
		}
		at := len(text) - len(b)
		name := text[at : at+nul]
		if name == "." || name == ".." || strings.IndexByte(name, '/') >= 0 {
			return nil, fmt.Errorf("%w: bad name %q", ErrInvalidTree, name)
		}
		e := TreeEntry{Mode: uint32(mode), Name: name, OID: oids[40*i : 40*i+40]}
		if n := len(es); n > 0 && compareTree(es[n-1], e) >= 0 {
			return nil, fmt.Errorf("%w: %q not in order or duplicate", ErrInvalidTree, name)
		}
		es = append(es, e)
		b = b[nul+21:]
	}
	return es, nil
}

// Signed ref trees (sigrefs version 2) hold a namespace's refs as a git
// tree: each ref name's components are directories, and each ref is a
// gitlink entry (mode 160000) naming its oid. The gitlink of a ref whose
// last component is L sits one level lower, in a bucket directory named
// RefBucket(L), so a directory of 10,000 issues is 256 small trees and
// changing one ref rewrites a few kilobytes. Bucket names start with "."
// and so can never be ref components.

// RefBucket returns the bucket directory for a ref's last component:
// "." and the first two hex digits of the SHA-256 of the component.
func RefBucket(last string) string {
	h := sha256.Sum256([]byte(last))
	return "." + hex.EncodeToString(h[:1])
}

// IsRefBucket reports whether a tree entry name is a bucket directory.
func IsRefBucket(name string) bool {
	return len(name) == 3 && name[0] == '.' && isLowerHex(name[1]) && isLowerHex(name[2])
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// RefTreePath returns the tree path of ref name in a signed ref tree:
// its components, with the bucket inserted before the last.
func RefTreePath(name string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			parts = append(parts, name[start:i])
			start = i + 1
		}
	}
	last := name[start:]
	return append(parts, RefBucket(last), last)
}
