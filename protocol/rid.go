package protocol

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/multiformats/go-multibase"
)

// ErrInvalidRID is returned when a string is not a Grove repository ID.
var ErrInvalidRID = errors.New("invalid repository ID")

// RID identifies a project: the CID (git-raw, sha1) of its root identity
// commit. The zero RID is invalid.
//
// protocol encodes the CID itself rather than through go-cid, whose
// go-multihash registers a dozen hash functions in its package init
// (register/all) that every grove call would pay.
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

// ridPrefix starts the binary CID of every RID: CIDv1 (0x01), codec
// git-raw (0x78), then the multihash: sha1 (0x11) of 20 bytes (0x14).
// Each is a varint under 0x80, one byte.
const ridPrefix = "\x01\x78\x11\x14"

// cidBase32 is multibase's base32 ("b"): RFC 4648's alphabet in lower
// case, unpadded.
var cidBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ParseRID parses the CID form printed by RID.String, in any multibase
// encoding.
func ParseRID(s string) (RID, error) {
	_, b, err := multibase.Decode(s)
	if err != nil {
		return RID{}, fmt.Errorf("%w %q: %v", ErrInvalidRID, s, err)
	}
	if len(b) != len(ridPrefix)+20 || string(b[:len(ridPrefix)]) != ridPrefix {
		return RID{}, fmt.Errorf("%w %q: not a git-raw sha1 CIDv1", ErrInvalidRID, s)
	}
	var r RID
	copy(r.oid[:], b[len(ridPrefix):])
	r.ok = true
	return r, nil
}

// IsZero reports whether r is the zero (invalid) RID.
func (r RID) IsZero() bool { return !r.ok }

// OID returns the hex object ID of the root identity commit.
func (r RID) OID() string { return hex.EncodeToString(r.oid[:]) }

// CIDBytes returns r's CID in binary form (go-cid's Cast reads it).
func (r RID) CIDBytes() []byte {
	return append([]byte(ridPrefix), r.oid[:]...)
}

// String returns the base32 multibase form, e.g. "baf4bcf…".
func (r RID) String() string {
	if !r.ok {
		return ""
	}
	return "b" + cidBase32.EncodeToString(r.CIDBytes())
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
