package gitstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"example.com/grove/protocol"
)

// Commits as Grove writes and reads them, without go-git's object package
// (which links OpenPGP, diffing and tree walking into every program).

// errMalformedCommit is returned for a commit object without a tree header
// first, or with a bad tree or parent ID.
var errMalformedCommit = errors.New("malformed commit")

// Sig is a commit's author or committer.
type Sig struct {
	Name, Email string
	When        time.Time
}

// Commit is the part of a commit Grove uses.
type Commit struct {
	Tree      string
	Parents   []string
	Author    Sig
	Committer Sig
	Message   string
}

func appendSig(b []byte, s Sig) []byte {
	b = append(b, s.Name...)
	b = append(b, " <"...)
	b = append(b, s.Email...)
	b = append(b, "> "...)
	u := s.When.Unix()
	if u < 0 {
		u = 0
	}
	b = strconv.AppendInt(b, u, 10)
	b = append(b, ' ')
	return s.When.AppendFormat(b, "-0700")
}

// Encode returns the commit object's contents, byte for byte as git (and
// go-git, which wrote them before) lays them out.
func (c *Commit) Encode() []byte {
	b := make([]byte, 0, 256+len(c.Message))
	b = append(b, "tree "...)
	b = append(b, c.Tree...)
	b = append(b, '\n')
	for _, p := range c.Parents {
		b = append(b, "parent "...)
		b = append(b, p...)
		b = append(b, '\n')
	}
	b = append(b, "author "...)
	b = appendSig(b, c.Author)
	b = append(b, "\ncommitter "...)
	b = appendSig(b, c.Committer)
	b = append(b, "\n\n"...)
	return append(b, c.Message...)
}

// ParseCommit reads a commit's tree, parents and message as go-git's
// decoder did: the tree header must come first, the parents are the
// contiguous parent headers after it, other headers are skipped, and the
// message is everything after the first blank line.
func ParseCommit(data []byte) (*Commit, error) {
	hdr, msg := data, []byte(nil)
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		hdr, msg = data[:i+1], data[i+2:]
	}
	c := &Commit{Message: string(msg)}
	first := true
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		if first {
			first = false
			if len(line) == 0 {
				return nil, fmt.Errorf("%w: missing tree header", errMalformedCommit)
			}
			if string(key) != "tree" {
				return nil, fmt.Errorf("%w: tree header must be first", errMalformedCommit)
			}
			id, err := parseHexID(val, "tree")
			if err != nil {
				return nil, err
			}
			c.Tree = id
			continue
		}
		if string(key) != "parent" {
			break // the parents are contiguous; the rest is not read
		}
		id, err := parseHexID(val, "parent")
		if err != nil {
			return nil, err
		}
		c.Parents = append(c.Parents, id)
	}
	if first {
		return nil, fmt.Errorf("%w: missing tree header", errMalformedCommit)
	}
	return c, nil
}

func parseHexID(b []byte, header string) (string, error) {
	var raw [20]byte
	if len(b) != 40 {
		return "", fmt.Errorf("%w: bad %s hash", errMalformedCommit, header)
	}
	if _, err := hex.Decode(raw[:], b); err != nil {
		return "", fmt.Errorf("%w: bad %s hash", errMalformedCommit, header)
	}
	return hex.EncodeToString(raw[:]), nil
}

// ParseTreeLoose reads a tree's entries the way go-git's decoder did, with
// none of protocol.ParseTree's checks of order and modes: for reading the
// flat trees of identity commits, which were read so before.
func ParseTreeLoose(b []byte) ([]protocol.TreeEntry, error) {
	var es []protocol.TreeEntry
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		if sp <= 0 {
			return nil, fmt.Errorf("tree: bad mode")
		}
		mode, err := strconv.ParseUint(string(b[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("tree: bad mode %q", b[:sp])
		}
		b = b[sp+1:]
		nul := bytes.IndexByte(b, 0)
		if nul < 0 || len(b) < nul+21 {
			return nil, fmt.Errorf("tree: truncated entry")
		}
		es = append(es, protocol.TreeEntry{Mode: uint32(mode), Name: string(b[:nul]), OID: hex.EncodeToString(b[nul+1 : nul+21])})
		b = b[nul+21:]
	}
	return es, nil
}
