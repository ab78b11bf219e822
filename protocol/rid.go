package protocol

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// ErrInvalidRID is returned when a string is not a Grove repository ID.
var ErrInvalidRID = errors.New("invalid repository ID")

// RID identifies a project: the CID (git-raw, sha1) of its root identity
// commit. The zero RID is invalid.
type RID struct {
	oid [20]byte
	ok  bool
}

// RIDFromOID returns the RID of the root identity commit with the given
// hex object ID.
func RIDFromOID(oid string) (RID, error) {
	var r RID
	b, err := hex.DecodeString(oid)
	if err != nil || len(b) != 20 {
		return RID{}, fmt.Errorf("%w: %q is not a sha1 object ID", ErrInvalidRID, oid)
	}
	copy(r.oid[:], b)
	r.ok = true
	return r, nil
}

// ParseRID parses the multibase CID form printed by RID.String.
func ParseRID(s string) (RID, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return RID{}, fmt.Errorf("%w %q: %v", ErrInvalidRID, s, err)
	}
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.GitRaw || p.MhType != mh.SHA1 {
		return RID{}, fmt.Errorf("%w %q: not a git-raw sha1 CIDv1", ErrInvalidRID, s)
	}
	d, err := mh.Decode(c.Hash())
	if err != nil || len(d.Digest) != 20 {
		return RID{}, fmt.Errorf("%w %q: bad sha1 digest", ErrInvalidRID, s)
	}
	var r RID
	copy(r.oid[:], d.Digest)
	r.ok = true
	return r, nil
}

// IsZero reports whether r is the zero (invalid) RID.
func (r RID) IsZero() bool { return !r.ok }

// OID returns the hex object ID of the root identity commit.
func (r RID) OID() string { return hex.EncodeToString(r.oid[:]) }

// CID returns r as a CID.
func (r RID) CID() cid.Cid {
	h, _ := mh.Encode(r.oid[:], mh.SHA1) // cannot fail: fixed length, known code
	return cid.NewCidV1(cid.GitRaw, h)
}

// String returns the base32 multibase form, e.g. "baf4bcf…".
func (r RID) String() string {
	if !r.ok {
		return ""
	}
	return r.CID().String()
}

// Short returns a prefix of the RID long enough for people to tell projects
// apart in listings.
func (r RID) Short() string {
	s := r.String()
	if len(s) > 16 {
		// The first 7 characters encode the CID prefix and are equal for
		// every RID; show the digest part.
		return s[:4] + "…" + s[len(s)-8:]
	}
	return s
}

// URL returns the remote URL of the project's canonical refs.
func (r RID) URL() string { return "grove://" + r.String() }

// MarshalText implements encoding.TextMarshaler.
func (r RID) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *RID) UnmarshalText(b []byte) error {
	v, err := ParseRID(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
