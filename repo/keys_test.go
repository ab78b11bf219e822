package repo_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/repo"
)

func TestKeyRoundTrip(t *testing.T) {
	t.Parallel()
	h := repo.Home{Dir: filepath.Join(t.TempDir(), "home")}
	k, err := repo.CreateKey(h, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(h.KeysDir(), "ed25519")
	fi, err := os.Stat(priv)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode = %v, want 0600", fi.Mode().Perm())
	}
	if fi, err := os.Stat(h.KeysDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir: %v, %v; want mode 0700", fi.Mode().Perm(), err)
	}
	b, err := os.ReadFile(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
		t.Errorf("private key is not in OpenSSH format:\n%s", b)
	}
	pub, err := os.ReadFile(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pub), "ssh-ed25519 ") || !strings.HasSuffix(string(pub), " alice\n") {
		t.Errorf("public key = %q", pub)
	}

	loaded, err := repo.LoadKey(h, func() ([]byte, error) {
		t.Error("passphrase asked for an unencrypted key")
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.NID().Equal(k.NID()) {
		t.Errorf("LoadKey NID = %v, want %v", loaded.NID(), k.NID())
	}
	if !loaded.Private().Equal(k.Private()) {
		t.Error("LoadKey returned another private key")
	}
	if _, err := repo.LoadKey(h, nil); err != nil {
		t.Errorf("LoadKey(nil callback) on a plain key: %v", err)
	}
	nid, err := repo.PublicNID(h)
	if err != nil || !nid.Equal(k.NID()) {
		t.Errorf("PublicNID = %v, %v; want %v", nid, err, k.NID())
	}

	// A second key never replaces the first.
	if _, err := repo.CreateKey(h, "bob", nil); !errors.Is(err, repo.ErrKeyExists) {
		t.Errorf("second CreateKey = %v, want ErrKeyExists", err)
	}
	again, err := repo.LoadKey(h, nil)
	if err != nil || !again.NID().Equal(k.NID()) {
		t.Errorf("after second CreateKey: LoadKey = %v, %v; want %v", again, err, k.NID())
	}
}

func TestKeyEncrypted(t *testing.T) {
	t.Parallel()
	h := repo.Home{Dir: t.TempDir()}
	k, err := repo.CreateKey(h, "", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(h.KeysDir(), "ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(pub), " "+k.NID().String()+"\n") {
		t.Errorf("public key comment is not the NID: %q", pub)
	}
	nid, err := repo.PublicNID(h)
	if err != nil || !nid.Equal(k.NID()) {
		t.Errorf("PublicNID without passphrase = %v, %v; want %v", nid, err, k.NID())
	}
	pass := func(s string) func() ([]byte, error) {
		return func() ([]byte, error) { return []byte(s), nil }
	}
	got, err := repo.LoadKey(h, pass("correct horse"))
	if err != nil {
		t.Fatalf("right passphrase: %v", err)
	}
	if !got.NID().Equal(k.NID()) {
		t.Errorf("LoadKey NID = %v, want %v", got.NID(), k.NID())
	}
	errCancel := errors.New("cancelled")
	for _, tt := range []struct {
		name    string
		pass    func() ([]byte, error)
		wantErr error
	}{
		{"wrong passphrase", pass("battery staple"), repo.ErrPassphrase},
		{"nil callback", nil, repo.ErrPassphrase},
		{"empty passphrase", pass(""), repo.ErrPassphrase},
		{"callback fails", func() ([]byte, error) { return nil, errCancel }, errCancel},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := repo.LoadKey(h, tt.pass); !errors.Is(err, tt.wantErr) {
				t.Errorf("LoadKey = %v, %v; want %v", k, err, tt.wantErr)
			}
		})
	}
}

func TestKeyMissing(t *testing.T) {
	t.Parallel()
	h := repo.Home{Dir: t.TempDir()}
	if _, err := repo.LoadKey(h, nil); !errors.Is(err, repo.ErrNoKey) {
		t.Errorf("LoadKey on empty home = %v, want ErrNoKey", err)
	}
	if _, err := repo.PublicNID(h); !errors.Is(err, repo.ErrNoKey) {
		t.Errorf("PublicNID on empty home = %v, want ErrNoKey", err)
	}
	h = repo.Home{Dir: filepath.Join(t.TempDir(), "does", "not", "exist")}
	if _, err := repo.LoadKey(h, nil); !errors.Is(err, repo.ErrNoKey) {
		t.Errorf("LoadKey on missing home = %v, want ErrNoKey", err)
	}
}
