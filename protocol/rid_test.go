package protocol_test

import (
	"crypto/ed25519"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"example.com/grove/protocol"
)

// testKey returns a deterministic ed25519 key; different i, different key.
func testKey(t testing.TB, i byte) *protocol.Key {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for j := range seed {
		seed[j] = i
	}
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The empty blob, as git names it.
const emptyBlob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

// ridString builds the expected RID string by hand: multibase "b" (base32,
// lower case, no padding) of <version 1><codec git-raw 0x78><sha1 0x11><len 20><digest>.
func ridString(t testing.TB, oid string) string {
	t.Helper()
	d, err := hex.DecodeString(oid)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte{0x01, 0x78, 0x11, 0x14}, d...)
	return "b" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// cidString builds a CID string with go-cid and go-multihash.
func cidString(t testing.TB, codec uint64, digest []byte, hash uint64) string {
	t.Helper()
	h, err := mh.Encode(digest, hash)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(codec, h).String()
}

func TestRIDFromOID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // OID()
		wantErr error
	}{
		{name: "empty blob", in: emptyBlob, want: emptyBlob},
		{name: "zeros", in: strings.Repeat("0", 40), want: strings.Repeat("0", 40)},
		{name: "upper case is normalized", in: strings.ToUpper(emptyBlob), want: emptyBlob},
		{name: "empty", in: "", wantErr: protocol.ErrInvalidRID},
		{name: "short", in: emptyBlob[:39], wantErr: protocol.ErrInvalidRID},
		{name: "short even", in: emptyBlob[:38], wantErr: protocol.ErrInvalidRID},
		{name: "long", in: emptyBlob + "00", wantErr: protocol.ErrInvalidRID},
		{name: "sha256 length", in: strings.Repeat("ab", 32), wantErr: protocol.ErrInvalidRID},
		{name: "not hex", in: "g" + emptyBlob[1:], wantErr: protocol.ErrInvalidRID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := protocol.RIDFromOID(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("RIDFromOID(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !r.IsZero() {
					t.Errorf("RIDFromOID(%q) = %v on error, want zero", tt.in, r)
				}
				return
			}
			if r.IsZero() {
				t.Fatalf("RIDFromOID(%q) is zero", tt.in)
			}
			if got := r.OID(); got != tt.want {
				t.Errorf("OID() = %q, want %q", got, tt.want)
			}
			if got, want := r.String(), ridString(t, tt.want); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		})
	}
}

func TestRIDString(t *testing.T) {
	r, err := protocol.RIDFromOID(emptyBlob)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := hex.DecodeString(emptyBlob)
	want := cidString(t, cid.GitRaw, d, mh.SHA1)
	if want != ridString(t, emptyBlob) {
		t.Fatalf("test helpers disagree: go-cid %q, by hand %q", want, ridString(t, emptyBlob))
	}
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(r.String(), "baf4bcf") {
		t.Errorf("String() = %q, want prefix baf4bcf (base32 git-raw sha1 CIDv1)", r.String())
	}
	if c, err := cid.Cast(r.CIDBytes()); err != nil || c.String() != want || c.Prefix().Codec != cid.GitRaw {
		t.Errorf("CIDBytes() cast by go-cid = %v, %v, want %q", c, err, want)
	}
	if got := r.URL(); got != "grove://"+want {
		t.Errorf("URL() = %q", got)
	}
	if s := r.Short(); !strings.HasSuffix(want, s[len(s)-8:]) || !strings.HasPrefix(want, s[:4]) || len(s) >= len(want) {
		t.Errorf("Short() = %q, not an abbreviation of %q", s, want)
	}
	var zero protocol.RID
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero RID: IsZero %v, String %q", zero.IsZero(), zero.String())
	}

	// Text marshaling round trips.
	b, err := r.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back protocol.RID
	if err := back.UnmarshalText(b); err != nil {
		t.Fatal(err)
	}
	if back != r {
		t.Errorf("UnmarshalText(MarshalText()) = %v, want %v", back, r)
	}
	if err := back.UnmarshalText([]byte("nope")); !errors.Is(err, protocol.ErrInvalidRID) {
		t.Errorf("UnmarshalText(nope) = %v, want ErrInvalidRID", err)
	}
}

// ridCases are ParseRID's table; the fuzz test is seeded from it.
func ridCases(t testing.TB) []struct {
	name    string
	in      string
	want    string
	wantErr error
} {
	d, _ := hex.DecodeString(emptyBlob)
	cidV0, err := cid.Decode("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{name: "git-raw sha1", in: ridString(t, emptyBlob), want: emptyBlob},
		{name: "zeros", in: ridString(t, strings.Repeat("0", 40)), want: strings.Repeat("0", 40)},
		{name: "dag-pb", in: cidString(t, cid.DagProtobuf, d, mh.SHA1), wantErr: protocol.ErrInvalidRID},
		{name: "raw codec", in: cidString(t, cid.Raw, d, mh.SHA1), wantErr: protocol.ErrInvalidRID},
		{name: "sha2-256", in: cidString(t, cid.GitRaw, make([]byte, 32), mh.SHA2_256), wantErr: protocol.ErrInvalidRID},
		{name: "truncated sha1", in: cidString(t, cid.GitRaw, d[:10], mh.SHA1), wantErr: protocol.ErrInvalidRID},
		{name: "CIDv0", in: cidV0.String(), wantErr: protocol.ErrInvalidRID},
		{name: "garbage", in: "hello, world", wantErr: protocol.ErrInvalidRID},
		{name: "truncated", in: ridString(t, emptyBlob)[:20], wantErr: protocol.ErrInvalidRID},
		{name: "trailing junk", in: ridString(t, emptyBlob) + "x", wantErr: protocol.ErrInvalidRID},
		{name: "hex oid", in: emptyBlob, wantErr: protocol.ErrInvalidRID},
		{name: "empty", in: "", wantErr: protocol.ErrInvalidRID},
	}
}

func TestParseRID(t *testing.T) {
	for _, tt := range ridCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			r, err := protocol.ParseRID(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseRID(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !r.IsZero() {
					t.Errorf("ParseRID(%q) = %v on error, want zero", tt.in, r)
				}
				return
			}
			if got := r.OID(); got != tt.want {
				t.Errorf("OID() = %q, want %q", got, tt.want)
			}
			if got := r.String(); got != tt.in {
				t.Errorf("String() = %q, want the input %q", got, tt.in)
			}
			back, err := protocol.RIDFromOID(r.OID())
			if err != nil || back != r {
				t.Errorf("RIDFromOID(OID()) = %v, %v; want %v", back, err, r)
			}
		})
	}
}

// goCIDRID reads s as go-cid does, for a RID: a CIDv1 of codec git-raw
// whose multihash is a sha1 of 20 bytes; it returns the digest in hex.
func goCIDRID(s string) (string, bool) {
	c, err := cid.Decode(s)
	if err != nil {
		return "", false
	}
	p := c.Prefix()
	if p.Version != 1 || p.Codec != cid.GitRaw || p.MhType != mh.SHA1 {
		return "", false
	}
	d, err := mh.Decode(c.Hash())
	if err != nil || len(d.Digest) != 20 {
		return "", false
	}
	return hex.EncodeToString(d.Digest), true
}

func FuzzParseRID(f *testing.F) {
	for _, tt := range ridCases(f) {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := protocol.ParseRID(s)
		if want, ok := goCIDRID(s); ok != (err == nil) || ok && r.OID() != want {
			t.Fatalf("ParseRID(%q) = %v, %v; go-cid reads %q, %v", s, r.OID(), err, want, ok)
		}
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidRID) {
				t.Fatalf("ParseRID(%q) error %v is not ErrInvalidRID", s, err)
			}
			return
		}
		if r.IsZero() {
			t.Fatalf("ParseRID(%q) returned a zero RID", s)
		}
		str := r.String()
		if !strings.HasPrefix(str, "baf4bcf") {
			t.Fatalf("ParseRID(%q).String() = %q", s, str)
		}
		back, err := protocol.ParseRID(str)
		if err != nil {
			t.Fatalf("round trip %q → %q: %v", s, str, err)
		}
		if back != r || back.String() != str {
			t.Fatalf("round trip %q → %q → %q", s, str, back)
		}
		if o, err := protocol.RIDFromOID(r.OID()); err != nil || o != r {
			t.Fatalf("RIDFromOID(%q) = %v, %v; want %v", r.OID(), o, err, r)
		}
	})
}
