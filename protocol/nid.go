package protocol

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
	"github.com/multiformats/go-multibase"
)

// ErrInvalidNID is returned when a string is not a Grove node ID.
var ErrInvalidNID = errors.New("invalid node ID")

// NID identifies a person or node: the libp2p peer ID of an ed25519 key.
type NID struct {
	pub ed25519.PublicKey
	id  string // the peer ID's bytes
	s   string // and its base58 form
}

// peerIDPrefix starts the peer ID of every ed25519 key: an identity
// multihash (0x00) of 36 bytes (0x24), holding libp2p's protobuf PublicKey
// message: field 1, KeyType Ed25519 (0x08 0x01), then field 2, the 32-byte
// key (0x12 0x20). libp2p inlines keys this small instead of hashing them,
// and its deterministic protobuf encoding makes these bytes fixed;
// TestNIDMatchesLibp2p checks them against peer.IDFromPublicKey.
// protocol does not link libp2p itself: every grove command would pay its
// package init.
const peerIDPrefix = "\x00\x24\x08\x01\x12\x20"

// didKeyPrefix starts the multicodec form of an ed25519 public key in a
// did:key (0xed 0x01, the varint of 0xed).
const didKeyPrefix = "\xed\x01"

// NIDFromPublicKey returns the NID of an ed25519 public key.
func NIDFromPublicKey(pub ed25519.PublicKey) (NID, error) {
	if len(pub) != ed25519.PublicKeySize {
		return NID{}, fmt.Errorf("%w: public key has %d bytes", ErrInvalidNID, len(pub))
	}
	id := peerIDPrefix + string(pub)
	return NID{pub: ed25519.PublicKey(id[len(peerIDPrefix):]), id: id, s: base58.Encode([]byte(id))}, nil
}

// ParseNID parses a peer ID ("12D3KooW…") or a did:key ("did:key:z6Mk…").
func ParseNID(s string) (NID, error) {
	if rest, ok := strings.CutPrefix(s, "did:key:"); ok {
		b, err := base58.Decode(strings.TrimPrefix(rest, "z"))
		if err != nil || !strings.HasPrefix(rest, "z") || len(b) != len(didKeyPrefix)+ed25519.PublicKeySize || string(b[:len(didKeyPrefix)]) != didKeyPrefix {
			return NID{}, fmt.Errorf("%w %q: not an ed25519 did:key", ErrInvalidNID, s)
		}
		return NIDFromPublicKey(b[len(didKeyPrefix):])
	}
	// The base58 form of an ed25519 key's peer ID, or its CID form
	// (CIDv1, codec libp2p-key, whose multihash is those same bytes).
	isKey := func(b []byte) bool {
		return len(b) == len(peerIDPrefix)+ed25519.PublicKeySize && string(b[:len(peerIDPrefix)]) == peerIDPrefix
	}
	if b, err := base58.Decode(s); err == nil && isKey(b) {
		return NIDFromPublicKey(b[len(peerIDPrefix):])
	}
	// A CIDv1 (0x01) of codec libp2p-key (0x72), each a one-byte varint.
	if _, b, err := multibase.Decode(s); err == nil && len(b) > 2 && b[0] == 0x01 && b[1] == 0x72 && isKey(b[2:]) {
		return NIDFromPublicKey(b[2+len(peerIDPrefix):])
	}
	return NID{}, fmt.Errorf("%w %q: not the peer ID of an ed25519 key", ErrInvalidNID, s)
}

// IsZero reports whether n is the zero (invalid) NID.
func (n NID) IsZero() bool { return n.id == "" }

// String returns the peer ID form, e.g. "12D3KooW…".
func (n NID) String() string { return n.s }

// Short returns an abbreviation for listings.
func (n NID) Short() string {
	s := n.String()
	if len(s) > 14 {
		return s[:6] + "…" + s[len(s)-6:]
	}
	return s
}

// Multihash returns n's bytes: the identity multihash that a libp2p
// peer.ID holds.
func (n NID) Multihash() []byte { return []byte(n.id) }

// PublicKey returns the ed25519 public key of n.
func (n NID) PublicKey() ed25519.PublicKey { return n.pub }

// DID returns n as a did:key.
func (n NID) DID() string {
	if n.id == "" {
		return ""
	}
	return "did:key:z" + base58.Encode(append([]byte(didKeyPrefix), n.pub...))
}

// Verify reports whether sig is n's signature of msg.
func (n NID) Verify(msg, sig []byte) bool {
	return len(n.pub) == ed25519.PublicKeySize && ed25519.Verify(n.pub, msg, sig)
}

// Equal reports whether n and o are the same node.
func (n NID) Equal(o NID) bool { return n.id == o.id }

// MarshalText implements encoding.TextMarshaler.
func (n NID) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (n *NID) UnmarshalText(b []byte) error {
	v, err := ParseNID(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// Signer signs messages with a node's key.
type Signer interface {
	NID() NID
	Sign(msg []byte) ([]byte, error)
}

// Key is an ed25519 private key that signs as its NID.
type Key struct {
	priv ed25519.PrivateKey
	nid  NID
}

// NewKey wraps an ed25519 private key.
func NewKey(priv ed25519.PrivateKey) (*Key, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("ed25519 private key has %d bytes", len(priv))
	}
	nid, err := NIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, nid: nid}, nil
}

// NID returns the key's node ID.
func (k *Key) NID() NID { return k.nid }

// Sign signs msg.
func (k *Key) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.priv, msg), nil }

// Private returns the ed25519 private key, for the libp2p host and key files.
func (k *Key) Private() ed25519.PrivateKey { return k.priv }
