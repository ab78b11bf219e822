package issues

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"example.com/grove/protocol"
)

// Files in a change's tree.
const (
	// ActionsFile holds the change's actions: a canonical JSON array.
	ActionsFile = "actions.json"
	// NonceFile, in a root change only, makes two objects created with the
	// same actions in the same second distinct.
	NonceFile = "nonce"
)

// Limits on what a change may hold; anything larger is not a change.
const (
	MaxActionsSize = protocol.MaxActionsSize
	MaxActions     = protocol.MaxChangeActions
	MaxAttachment  = protocol.MaxAttachment
	MaxTreeEntries = protocol.MaxChangeEntries
	maxCommitSize  = protocol.MaxChangeCommit
)

// ErrInvalidChange is returned for a commit that is not a well-formed,
// correctly signed change.
var ErrInvalidChange = errors.New("invalid change")

// SignatureTrailer is the commit trailer that carries the author's
// signature, as on identity commits.
const SignatureTrailer = protocol.SignatureTrailer

// Payload returns the bytes a change's author signs. Everything that
// makes up the commit is bound, so a signed change cannot be re-wrapped
// into another commit, object type or project.
func Payload(rid protocol.RID, typ, tree string, parents []string, author protocol.NID, unix int64) []byte {
	return appendPayload(nil, rid.String(), typ, tree, parents, author.String(), unix)
}

func appendPayload(b []byte, rid, typ, tree string, parents []string, author string, unix int64) []byte {
	b = append(b, "grove cob v1\nrid "...)
	b = append(b, rid...)
	b = append(b, "\ntype "...)
	b = append(b, typ...)
	b = append(b, "\ntree "...)
	b = append(b, tree...)
	b = append(b, '\n')
	for _, p := range parents {
		b = append(b, "parent "...)
		b = append(b, p...)
		b = append(b, '\n')
	}
	b = append(b, "author "...)
	b = append(b, author...)
	b = append(b, "\ntime "...)
	b = strconv.AppendInt(b, unix, 10)
	return append(b, '\n')
}

// encodeCommit returns the canonical bytes of a change commit: the only
// form a valid change may have.
func encodeCommit(typ, tree string, parents []string, author protocol.NID, unix int64, sig []byte) []byte {
	return appendCommit(make([]byte, 0, 256+48*len(parents)), typ, tree, parents, author.String(), unix, sig)
}

func appendCommit(b []byte, typ, tree string, parents []string, author string, unix int64, sig []byte) []byte {
	b = append(b, "tree "...)
	b = append(b, tree...)
	b = append(b, '\n')
	for _, p := range parents {
		b = append(b, "parent "...)
		b = append(b, p...)
		b = append(b, '\n')
	}
	for _, role := range [2]string{"author ", "committer "} {
		b = append(b, role...)
		b = append(b, author...)
		b = append(b, " <"...)
		b = append(b, author...)
		b = append(b, "@grove> "...)
		b = strconv.AppendInt(b, unix, 10)
		b = append(b, " +0000\n"...)
	}
	b = append(b, '\n')
	b = append(b, typ...)
	b = append(b, "\n\n"...)
	b = append(b, SignatureTrailer...)
	b = append(b, ": "...)
	b = append(b, author...)
	b = append(b, ' ')
	b = base64.RawStdEncoding.AppendEncode(b, sig)
	return append(b, '\n')
}

// rawChange is a change commit's fields, parsed but not yet verified.
type rawChange struct {
	oid     string
	typ     string
	tree    string
	parents []string
	author  string
	unix    int64
	sig     []byte
}

// parseCommit reads the fields of a change commit. It checks the shape
// only; verify checks the rest.
func parseCommit(oid string, data []byte) (*rawChange, error) {
	bad := func(why string) error { return fmt.Errorf("%w %.7s: %s", ErrInvalidChange, oid, why) }
	head, msg, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		return nil, bad("no message")
	}
	c := &rawChange{oid: oid}
	for head != "" {
		var line string
		line, head, _ = strings.Cut(head, "\n")
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "tree":
			c.tree = v
		case "parent":
			if !protocol.ValidOID(v) {
				return nil, bad("bad parent")
			}
			c.parents = append(c.parents, v)
		case "author":
			// <name> <<email>> <unix> <zone>: four fields.
			f := strings.Fields(v)
			if len(f) != 4 {
				return nil, bad("bad author")
			}
			c.author = f[0]
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return nil, bad("bad time")
			}
			c.unix = n
		}
	}
	if !protocol.ValidOID(c.tree) {
		return nil, bad("bad tree")
	}
	typ, trailer, ok := strings.Cut(msg, "\n\n")
	if !ok {
		return nil, bad("no signature")
	}
	c.typ = typ
	rest, ok := strings.CutPrefix(strings.TrimSuffix(trailer, "\n"), SignatureTrailer+": ")
	if !ok {
		return nil, bad("no signature")
	}
	n, s, ok := strings.Cut(rest, " ")
	if !ok || n != c.author {
		return nil, bad("signer is not the author")
	}
	sig, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, bad("bad signature encoding")
	}
	c.sig = sig
	return c, nil
}

// nidCache parses each NID once: parsing costs more than verifying.
type nidCache map[string]protocol.NID

func (m nidCache) get(s string) (protocol.NID, error) {
	if n, ok := m[s]; ok {
		return n, nil
	}
	n, err := protocol.ParseNID(s)
	if err != nil {
		return protocol.NID{}, err
	}
	m[s] = n
	return n, nil
}

// verify checks that c is a canonical change of type typ in project rid
// (rid is the RID's string), signed by its author, and returns the author.
// buf is scratch space; the grown buffer is returned for the next call.
func (c *rawChange) verify(rid, typ string, raw []byte, nids nidCache, buf []byte) (protocol.NID, []byte, error) {
	bad := func(why string) error { return fmt.Errorf("%w %.7s: %s", ErrInvalidChange, c.oid, why) }
	if c.typ != typ {
		return protocol.NID{}, buf, bad("type " + strconv.Quote(c.typ) + " is not " + typ)
	}
	nid, err := nids.get(c.author)
	if err != nil {
		return protocol.NID{}, buf, bad("author is not a node ID")
	}
	buf = appendCommit(buf[:0], typ, c.tree, c.parents, nid.String(), c.unix, c.sig)
	if !bytes.Equal(buf, raw) {
		return protocol.NID{}, buf, bad("not in canonical form")
	}
	buf = appendPayload(buf[:0], rid, typ, c.tree, c.parents, nid.String(), c.unix)
	if !nid.Verify(buf, c.sig) {
		return protocol.NID{}, buf, bad("bad signature")
	}
	return nid, buf, nil
}

// TreeEntry is one file of a change's tree.
type treeEntry struct {
	name string
	oid  string
}

// encodeTree returns a flat git tree of regular files, entries sorted.
func encodeTree(files map[string]string) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		raw, _ := hex.DecodeString(files[n])
		b.WriteString("100644 ")
		b.WriteString(n)
		b.WriteByte(0)
		b.Write(raw)
	}
	return b.Bytes()
}

// parseTree reads a flat tree of regular files.
func parseTree(oid string, data []byte) ([]treeEntry, error) {
	var out []treeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+21 {
			return nil, fmt.Errorf("%w: tree %.7s is malformed", ErrInvalidChange, oid)
		}
		if mode := string(data[:sp]); mode != "100644" {
			return nil, fmt.Errorf("%w: tree %.7s has a %s entry", ErrInvalidChange, oid, mode)
		}
		out = append(out, treeEntry{name: string(data[sp+1 : nul]), oid: hex.EncodeToString(data[nul+1 : nul+21])})
		if len(out) > MaxTreeEntries {
			return nil, fmt.Errorf("%w: tree %.7s has over %d entries", ErrInvalidChange, oid, MaxTreeEntries)
		}
		data = data[nul+21:]
	}
	return out, nil
}

// validFileName reports whether a change may hold a file of this name.
func validFileName(n string) bool {
	return n != "" && n != "." && n != ".." && len(n) <= 255 && !strings.ContainsAny(n, "/\x00")
}

// gitOID returns the oid git gives an object.
func gitOID(kind string, data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", kind, len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// maxUnix is the last second of year 9999: the latest time RFC 3339 (and
// so --json) can write.
const maxUnix = 253402300799

// unixTime is a time in Unix seconds as the UTC time.Time it shows as.
func unixTime(n int64) time.Time { return time.Unix(n, 0).UTC() }

// changeTime is a change's time as its author signed it, kept within
// 1970..9999 so that every view of it can be written: an author's clock
// is theirs to set, and a change dated year 36812 once made every JSON
// listing of its project fail.
func changeTime(n int64) time.Time { return unixTime(min(max(n, 0), maxUnix)) }
