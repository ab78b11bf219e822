package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"example.com/grove/protocol"
)

// Home is a Grove home directory ($GROVE_HOME): keys, storage, node state.
// Two homes on one machine are two independent peers.
type Home struct {
	Dir string
}

// KeysDir holds the user's key pair.
func (h Home) KeysDir() string { return filepath.Join(h.Dir, "keys") }

// StorageDir holds one bare repository per project.
func (h Home) StorageDir() string { return filepath.Join(h.Dir, "storage") }

// NodeDir holds the node's socket, log and addresses.
func (h Home) NodeDir() string { return filepath.Join(h.Dir, "node") }

// ProjectPath is where the project rid is stored.
func (h Home) ProjectPath(rid protocol.RID) string {
	return filepath.Join(h.StorageDir(), rid.String()+".git")
}

// Config is the user's settings in $GROVE_HOME/config.json.
type Config struct {
	Alias string `json:"alias,omitempty"`
}

func (h Home) configPath() string { return filepath.Join(h.Dir, "config.json") }

// Config reads the user's settings; a missing file is an empty Config.
func (h Home) Config() (Config, error) {
	var c Config
	b, err := os.ReadFile(h.configPath())
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config %s: %w", h.configPath(), err)
	}
	return c, nil
}

// SetConfig writes the user's settings atomically.
func (h Home) SetConfig(c Config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	return WriteFileAtomic(h.configPath(), append(b, '\n'), 0o600)
}

// WriteFileAtomic writes data to a temporary file in the same directory,
// syncs it and renames it over path, so readers see the old or the new
// file, never half of one.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
