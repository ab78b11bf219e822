package repo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Quarantine is a scratch bare repository that borrows the storage's
// objects (git alternates): git writes what arrives there, and nothing
// reaches the storage until Migrate. Removing it discards everything.
type Quarantine struct {
	r   *Repo
	dir string
}

// NewQuarantine makes a quarantine under the storage whose own refs are
// refs (full names), so git negotiates from what the storage already has.
// kind names the directory ("push", "fetch"); config is extra git config
// for the quarantine as section.key → value.
func (r *Repo) NewQuarantine(kind string, refs map[string]string, head string, config map[string]string) (*Quarantine, error) {
	base := filepath.Join(r.Path, tmpDir)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	dir, err := os.MkdirTemp(base, kind+"-*")
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	q := &Quarantine{r: r, dir: dir}
	if err := q.init(refs, head, config); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return q, nil
}

func (q *Quarantine) init(refs map[string]string, head string, config map[string]string) error {
	objects, err := filepath.Abs(filepath.Join(q.r.Path, "objects"))
	if err != nil {
		return err
	}
	var packed strings.Builder
	for _, name := range sortedKeys(refs) {
		fmt.Fprintf(&packed, "%s %s\n", refs[name], name)
	}
	var cfg strings.Builder
	cfg.WriteString("[core]\n\trepositoryformatversion = 0\n\tbare = true\n[gc]\n\tauto = 0\n")
	for _, k := range sortedKeys(config) {
		section, key, _ := strings.Cut(k, ".")
		fmt.Fprintf(&cfg, "[%s]\n\t%s = %s\n", section, key, config[k])
	}
	if head == "" {
		head = "main"
	}
	files := []struct {
		path string
		data string
		mode fs.FileMode
	}{
		{"HEAD", "ref: refs/heads/" + head + "\n", 0o644},
		{"config", cfg.String(), 0o644},
		{"objects/info/alternates", objects + "\n", 0o644},
		{"packed-refs", packed.String(), 0o644},
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags", "hooks"} {
		if err := os.MkdirAll(filepath.Join(q.dir, d), 0o700); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(q.dir, f.path), []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
	}
	return nil
}

// Dir is the quarantine repository's path.
func (q *Quarantine) Dir() string { return q.dir }

// Refs returns the quarantine's refs by full name.
func (q *Quarantine) Refs(ctx context.Context) (map[string]string, error) {
	return (&RefFiles{dir: q.dir}).List("refs/")
}

// View returns the quarantine as a Repo for reading: it sees the storage's
// objects and what arrived. Never lock or write through it.
//
// Objects are looked up in the storage first, through its own go-git store
// (pack indexes loaded once), then in the quarantine. Left to go-git's
// alternates, every object the quarantine lacks made it open the storage
// anew and re-read every pack index: reading one signed ref tree through
// the view took over a second on a storage with a few dozen packs.
func (q *Quarantine) View() (*Repo, error) {
	st := filesystem.NewStorageWithOptions(osfs.New(q.dir), cache.NewObjectLRUDefault(), filesystem.Options{})
	return &Repo{Path: q.dir, RID: q.r.RID, objects: &chainStorage{Storage: st, base: q.r.objects}}, nil
}

// chainStorage reads objects from base, then from its own Storage.
type chainStorage struct {
	*filesystem.Storage
	base storer.EncodedObjectStorer
}

func (c *chainStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, err := c.base.EncodedObject(t, h); err == nil {
		return o, nil
	}
	return c.Storage.EncodedObject(t, h)
}

func (c *chainStorage) HasEncodedObject(h plumbing.Hash) error {
	if c.base.HasEncodedObject(h) == nil {
		return nil
	}
	return c.Storage.HasEncodedObject(h)
}

func (c *chainStorage) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if n, err := c.base.EncodedObjectSize(h); err == nil {
		return n, nil
	}
	return c.Storage.EncodedObjectSize(h)
}

// Migrate moves what arrived into the storage; refs are the caller's.
func (q *Quarantine) Migrate() error {
	return migrateObjects(filepath.Join(q.dir, "objects"), filepath.Join(q.r.Path, "objects"))
}

// Close removes the quarantine.
func (q *Quarantine) Close() error { return os.RemoveAll(q.dir) }

// removeStaleQuarantines deletes quarantines of kind left by processes that
// died. Only call it holding the lock that every user of that kind takes.
func (r *Repo) removeStaleQuarantines(kind string) {
	old, _ := filepath.Glob(filepath.Join(r.Path, tmpDir, kind+"-*"))
	for _, d := range old {
		os.RemoveAll(d)
	}
}
