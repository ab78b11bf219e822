package protocol_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multibase"

	"example.com/grove/protocol"
)

func peerIDOf(t testing.TB, k crypto.PubKey) string {
	t.Helper()
	id, err := peer.IDFromPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func didKey(t testing.TB, codec []byte, key []byte) string {
	t.Helper()
	s, err := multibase.Encode(multibase.Base58BTC, append(append([]byte(nil), codec...), key...))
	if err != nil {
		t.Fatal(err)
	}
	return "did:key:" + s
}

func TestParseNID(t *testing.T) {
	k := testKey(t, 1)
	pub := k.NID().PublicKey()
	lpub, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	peerForm := peerIDOf(t, lpub)
	didForm := didKey(t, []byte{0xed, 0x01}, pub)

	_, secp, err := crypto.GenerateSecp256k1Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secpRaw, _ := secp.Raw()
	_, rsaPub, err := crypto.GenerateRSAKeyPair(2048, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hexDID, _ := multibase.Encode(multibase.Base16, append([]byte{0xed, 0x01}, pub...))

	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "peer ID", in: peerForm},
		{name: "did:key", in: didForm},
		{name: "secp256k1 peer ID", in: peerIDOf(t, secp), wantErr: protocol.ErrInvalidNID},
		{name: "RSA peer ID", in: peerIDOf(t, rsaPub), wantErr: protocol.ErrInvalidNID},
		{name: "secp256k1 did:key", in: didKey(t, []byte{0xe7, 0x01}, secpRaw), wantErr: protocol.ErrInvalidNID},
		{name: "did:key not base58", in: "did:key:" + hexDID, wantErr: protocol.ErrInvalidNID},
		{name: "did:key short key", in: didKey(t, []byte{0xed, 0x01}, pub[:31]), wantErr: protocol.ErrInvalidNID},
		{name: "did:key long key", in: didKey(t, []byte{0xed, 0x01}, append(append([]byte(nil), pub...), 0)), wantErr: protocol.ErrInvalidNID},
		{name: "did:key empty", in: "did:key:", wantErr: protocol.ErrInvalidNID},
		{name: "did:web", in: "did:web:example.com", wantErr: protocol.ErrInvalidNID},
		{name: "truncated peer ID", in: peerForm[:len(peerForm)-3], wantErr: protocol.ErrInvalidNID},
		{name: "garbage", in: "12D3KooW!!!", wantErr: protocol.ErrInvalidNID},
		{name: "empty", in: "", wantErr: protocol.ErrInvalidNID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := protocol.ParseNID(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseNID(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				if !n.IsZero() {
					t.Errorf("ParseNID(%q) = %v on error, want zero", tt.in, n)
				}
				return
			}
			if !n.Equal(k.NID()) {
				t.Errorf("ParseNID(%q) = %v, want %v", tt.in, n, k.NID())
			}
			if got := n.String(); got != peerForm {
				t.Errorf("String() = %q, want %q", got, peerForm)
			}
			if got := n.DID(); got != didForm {
				t.Errorf("DID() = %q, want %q", got, didForm)
			}
			if !ed25519.PublicKey(pub).Equal(n.PublicKey()) {
				t.Errorf("PublicKey() = %x, want %x", n.PublicKey(), pub)
			}
			if peer.ID(n.Multihash()).String() != peerForm {
				t.Errorf("Multihash() = %x", n.Multihash())
			}
		})
	}
}

func TestNIDForms(t *testing.T) {
	for i := byte(0); i < 8; i++ {
		n := testKey(t, i).NID()
		if !strings.HasPrefix(n.String(), "12D3KooW") {
			t.Errorf("String() = %q, want prefix 12D3KooW", n.String())
		}
		if !strings.HasPrefix(n.DID(), "did:key:z6Mk") {
			t.Errorf("DID() = %q, want prefix did:key:z6Mk", n.DID())
		}
		for _, s := range []string{n.String(), n.DID()} {
			back, err := protocol.ParseNID(s)
			if err != nil {
				t.Fatalf("ParseNID(%q): %v", s, err)
			}
			if !back.Equal(n) || back.String() != n.String() || back.DID() != n.DID() {
				t.Errorf("ParseNID(%q) = %v, want %v", s, back, n)
			}
		}
		if s := n.Short(); len(s) >= len(n.String()) || !strings.HasPrefix(n.String(), s[:6]) {
			t.Errorf("Short() = %q", s)
		}
	}
	var zero protocol.NID
	if !zero.IsZero() || zero.String() != "" || zero.DID() != "" {
		t.Errorf("zero NID: IsZero %v String %q DID %q", zero.IsZero(), zero.String(), zero.DID())
	}
	if zero.Verify([]byte("x"), make([]byte, ed25519.SignatureSize)) {
		t.Error("zero NID verified a signature")
	}
	if _, err := protocol.NIDFromPublicKey(make([]byte, 31)); !errors.Is(err, protocol.ErrInvalidNID) {
		t.Errorf("NIDFromPublicKey(31 bytes) = %v, want ErrInvalidNID", err)
	}
	if _, err := protocol.NewKey(make([]byte, 10)); err == nil {
		t.Error("NewKey(10 bytes) succeeded")
	}
}

func TestNIDJSON(t *testing.T) {
	n := testKey(t, 3).NID()
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"`+n.String()+`"` {
		t.Errorf("json = %s", b)
	}
	var back protocol.NID
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(n) {
		t.Errorf("Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"did:key:zzz"`), &back); !errors.Is(err, protocol.ErrInvalidNID) {
		t.Errorf("Unmarshal(bad) = %v, want ErrInvalidNID", err)
	}
}

func TestKeySign(t *testing.T) {
	k, other := testKey(t, 1), testKey(t, 2)
	msg := []byte("hello")
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !k.NID().Verify(msg, sig) {
		t.Error("own signature does not verify")
	}
	if other.NID().Verify(msg, sig) {
		t.Error("signature verifies with another key")
	}
	if k.NID().Verify([]byte("hellO"), sig) {
		t.Error("signature verifies another message")
	}
	if k.NID().Equal(other.NID()) {
		t.Error("different keys have equal NIDs")
	}
	if !k.Private().Public().(ed25519.PublicKey).Equal(k.NID().PublicKey()) {
		t.Error("Private() does not match NID")
	}
}

// TestNIDMatchesLibp2p checks the peer ID and did:key protocol encodes
// itself against libp2p's and multibase's own encodings, for many keys,
// and that the CID form of a peer ID still parses.
func TestNIDMatchesLibp2p(t *testing.T) {
	for i := range 200 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			pub = make(ed25519.PublicKey, ed25519.PublicKeySize) // all zero
		}
		n, err := protocol.NIDFromPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		lpub, err := crypto.UnmarshalEd25519PublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		id, err := peer.IDFromPublicKey(lpub)
		if err != nil {
			t.Fatal(err)
		}
		if n.String() != id.String() || peer.ID(n.Multihash()) != id {
			t.Fatalf("NID %s, libp2p %s", n, id)
		}
		if want := didKey(t, []byte{0xed, 0x01}, pub); n.DID() != want {
			t.Fatalf("DID %s, multibase %s", n.DID(), want)
		}
		for _, s := range []string{id.String(), n.DID(), peer.ToCid(id).String()} {
			m, err := protocol.ParseNID(s)
			if err != nil || !m.Equal(n) || m.String() != n.String() || !bytes.Equal(m.PublicKey(), pub) {
				t.Fatalf("ParseNID(%s) = %s, %v; want %s", s, m, err, n)
			}
		}
	}
}

// libp2pParseNID is ParseNID as libp2p and multibase alone compute it.
func libp2pParseNID(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "did:key:"); ok {
		enc, b, err := multibase.Decode(rest)
		if err != nil || enc != multibase.Base58BTC || len(b) != 34 || b[0] != 0xed || b[1] != 0x01 {
			return "", false
		}
		k, err := crypto.UnmarshalEd25519PublicKey(b[2:])
		if err != nil {
			return "", false
		}
		id, err := peer.IDFromPublicKey(k)
		return id.String(), err == nil
	}
	id, err := peer.Decode(s)
	if err != nil {
		return "", false
	}
	k, err := id.ExtractPublicKey()
	if err != nil || k.Type() != crypto.Ed25519 {
		return "", false
	}
	return id.String(), true
}

// FuzzParseNID: ParseNID accepts exactly what libp2p's decoding accepts,
// and names the same peer.
func FuzzParseNID(f *testing.F) {
	k := testKey(f, 1)
	for _, s := range []string{k.NID().String(), k.NID().DID(), peer.ToCid(peer.ID(k.NID().Multihash())).String(),
		"1" + k.NID().String(), k.NID().String()[1:], "did:key:z", "did:key:f00", "", "12D3KooW"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := protocol.ParseNID(s)
		want, ok := libp2pParseNID(s)
		if (err == nil) != ok {
			t.Fatalf("ParseNID(%q) error %v; libp2p accepts: %v", s, err, ok)
		}
		if ok && n.String() != want {
			t.Fatalf("ParseNID(%q) = %s; libp2p %s", s, n, want)
		}
	})
}

// BenchmarkNID encodes and parses both forms of a NID: the base58 that
// every listing and every verified change pays.
func BenchmarkNID(b *testing.B) {
	k := testKey(b, 1)
	pub := k.NID().PublicKey()
	s, did := k.NID().String(), k.NID().DID()
	b.Run("FromPublicKey", func(b *testing.B) {
		for b.Loop() {
			protocol.NIDFromPublicKey(pub)
		}
	})
	b.Run("Parse", func(b *testing.B) {
		for b.Loop() {
			protocol.ParseNID(s)
		}
	})
	b.Run("ParseDID", func(b *testing.B) {
		for b.Loop() {
			protocol.ParseNID(did)
		}
	})
}
