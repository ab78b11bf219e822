package protocol_test

import (
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
			if n.PeerID().String() != peerForm {
				t.Errorf("PeerID() = %v", n.PeerID())
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
