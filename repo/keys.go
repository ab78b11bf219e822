package repo

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"

	"example.com/grove/protocol"
)

// Key errors.
var (
	// ErrNoKey is returned when the home has no key pair yet.
	ErrNoKey = errors.New("no key yet")
	// ErrKeyExists is returned when creating a key in a home that has one.
	ErrKeyExists = errors.New("a key already exists")
	// ErrPassphrase is returned for a missing or wrong passphrase.
	ErrPassphrase = errors.New("wrong or missing passphrase")
)

const keyFile = "ed25519"

// CreateKey makes a new ed25519 key pair in h, stored in OpenSSH format
// (encrypted when passphrase is not empty) with mode 0600.
func CreateKey(h Home, alias string, passphrase []byte) (*protocol.Key, error) {
	dir := h.KeysDir()
	if _, err := os.Stat(filepath.Join(dir, keyFile)); err == nil {
		return nil, ErrKeyExists
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	k, err := protocol.NewKey(priv)
	if err != nil {
		return nil, err
	}
	comment := alias
	if comment == "" {
		comment = k.NID().String()
	}
	var block *pem.Block
	if len(passphrase) > 0 {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, comment, passphrase)
	} else {
		block, err = ssh.MarshalPrivateKey(priv, comment)
	}
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keys directory: %w", err)
	}
	// The public half first: a home with a private key always has both.
	pubLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " " + comment + "\n"
	if err := WriteFileAtomic(filepath.Join(dir, keyFile+".pub"), []byte(pubLine), 0o644); err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(dir, keyFile), pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return k, nil
}

// PublicNID returns the NID of h's key without unlocking it.
func PublicNID(h Home) (protocol.NID, error) {
	b, err := os.ReadFile(filepath.Join(h.KeysDir(), keyFile+".pub"))
	if errors.Is(err, fs.ErrNotExist) {
		return protocol.NID{}, ErrNoKey
	}
	if err != nil {
		return protocol.NID{}, fmt.Errorf("read public key: %w", err)
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return protocol.NID{}, fmt.Errorf("public key %s: %w", filepath.Join(h.KeysDir(), keyFile+".pub"), err)
	}
	cpk, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return protocol.NID{}, fmt.Errorf("public key is not ed25519")
	}
	pub, ok := cpk.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return protocol.NID{}, fmt.Errorf("public key is not ed25519")
	}
	return protocol.NIDFromPublicKey(pub)
}

// LoadKey reads h's private key. passphrase is called only when the key is
// encrypted; it may be nil, which then yields ErrPassphrase.
func LoadKey(h Home, passphrase func() ([]byte, error)) (*protocol.Key, error) {
	path := filepath.Join(h.KeysDir(), keyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoKey
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	raw, err := ssh.ParseRawPrivateKey(b)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, ErrPassphrase
		}
		p, perr := passphrase()
		if perr != nil {
			return nil, perr
		}
		if len(p) == 0 {
			return nil, ErrPassphrase
		}
		raw, err = ssh.ParseRawPrivateKeyWithPassphrase(b, p)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, ErrPassphrase
		}
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	var priv ed25519.PrivateKey
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		priv = k
	case *ed25519.PrivateKey:
		priv = *k
	default:
		return nil, fmt.Errorf("key %s is not ed25519", path)
	}
	return protocol.NewKey(priv)
}
