package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

// A URL with a bad scheme is ErrInvalidURL; one with a bad RID or NID is
// that identifier's error, so the message names what is wrong.
type urlCase struct {
	name    string
	in      string
	wantRID string // OID of the RID
	wantNID string // "" for none
	wantStr string // String() of the parsed URL
	wantErr error
}

func urlCases(t testing.TB) []urlCase {
	rid := ridString(t, emptyBlob)
	n := testKey(t, 1).NID()
	nid := n.String()
	return []urlCase{
		{name: "canonical", in: "grove://" + rid, wantRID: emptyBlob, wantStr: "grove://" + rid},
		{name: "namespace", in: "grove://" + rid + "/" + nid, wantRID: emptyBlob, wantNID: nid, wantStr: "grove://" + rid + "/" + nid},
		{name: "did:key namespace", in: "grove://" + rid + "/" + n.DID(), wantRID: emptyBlob, wantNID: nid, wantStr: "grove://" + rid + "/" + nid},
		{name: "trailing slash", in: "grove://" + rid + "/", wantRID: emptyBlob, wantStr: "grove://" + rid},
		{name: "namespace trailing slash", in: "grove://" + rid + "/" + nid + "/", wantRID: emptyBlob, wantNID: nid, wantStr: "grove://" + rid + "/" + nid},
		{name: "two trailing slashes", in: "grove://" + rid + "//", wantErr: protocol.ErrInvalidNID},
		{name: "extra path", in: "grove://" + rid + "/" + nid + "/x", wantErr: protocol.ErrInvalidNID},
		{name: "https", in: "https://" + rid, wantErr: protocol.ErrInvalidURL},
		{name: "upper-case scheme", in: "GROVE://" + rid, wantErr: protocol.ErrInvalidURL},
		{name: "one slash", in: "grove:/" + rid, wantErr: protocol.ErrInvalidURL},
		{name: "no scheme", in: rid, wantErr: protocol.ErrInvalidURL},
		{name: "bad rid", in: "grove://" + rid[:len(rid)-2], wantErr: protocol.ErrInvalidRID},
		{name: "dag-pb rid", in: "grove://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", wantErr: protocol.ErrInvalidRID},
		{name: "bad nid", in: "grove://" + rid + "/12D3KooWnope", wantErr: protocol.ErrInvalidNID},
		{name: "rid as nid", in: "grove://" + rid + "/" + rid, wantErr: protocol.ErrInvalidNID},
		{name: "scheme only", in: "grove://", wantErr: protocol.ErrInvalidRID},
		{name: "empty", in: "", wantErr: protocol.ErrInvalidURL},
	}
}

func TestParseURL(t *testing.T) {
	for _, tt := range urlCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			u, err := protocol.ParseURL(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseURL(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := u.RID.OID(); got != tt.wantRID {
				t.Errorf("RID = %s, want %s", got, tt.wantRID)
			}
			if got := u.NID.String(); got != tt.wantNID {
				t.Errorf("NID = %q, want %q", got, tt.wantNID)
			}
			if got := u.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
			if tt.wantNID == "" && u.String() != u.RID.URL() {
				t.Errorf("String() = %q, RID.URL() = %q", u.String(), u.RID.URL())
			}
		})
	}
}

func FuzzParseURL(f *testing.F) {
	for _, tt := range urlCases(f) {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := protocol.ParseURL(s)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidURL) && !errors.Is(err, protocol.ErrInvalidRID) && !errors.Is(err, protocol.ErrInvalidNID) {
				t.Fatalf("ParseURL(%q) error %v is none of ErrInvalidURL, ErrInvalidRID, ErrInvalidNID", s, err)
			}
			return
		}
		if u.RID.IsZero() {
			t.Fatalf("ParseURL(%q) has a zero RID", s)
		}
		str := u.String()
		if !strings.HasPrefix(str, protocol.URLScheme) {
			t.Fatalf("String() = %q", str)
		}
		back, err := protocol.ParseURL(str)
		if err != nil {
			t.Fatalf("round trip %q → %q: %v", s, str, err)
		}
		if back.RID != u.RID || !back.NID.Equal(u.NID) || back.String() != str {
			t.Fatalf("round trip %q → %q → %q", s, str, back)
		}
	})
}
