package repo

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"example.com/grove/repo/internal/gitstore"
)

// Quarantine is a scratch bare repository that borrows the storage's
// objects (git alternates): git writes what arrives there, and nothing
// reaches the storage until Migrate. Removing it discards everything.
type Quarantine struct {
	r   *Repo
	dir string
	// set are the refs SetRefs wrote, which Refs returns without reading
	// packed-refs again; nil until then.
	set map[string]string
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
		{"packed-refs", string(packedRefs(refs)), 0o644},
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

// Refs returns the quarantine's refs by full name: those SetRefs set,
// or else as git left them.
func (q *Quarantine) Refs(ctx context.Context) (map[string]string, error) {
	if q.set != nil {
		return maps.Clone(q.set), nil
	}
	return gitstore.NewRefs(q.dir).List("refs/")
}

// View returns the quarantine as a Repo for reading: it sees the storage's
// objects and what arrived (gitstore.Store.Overlay). Never lock or write
// through it.
func (q *Quarantine) View() (*Repo, error) {
	return &Repo{Path: q.dir, RID: q.r.RID, store: q.r.store.Overlay(q.dir)}, nil
}

// Migrate moves what arrived into the storage; refs are the caller's.
func (q *Quarantine) Migrate() error {
	return migrateObjects(filepath.Join(q.dir, "objects"), filepath.Join(q.r.Path, "objects"))
}

// MigrateReachable moves into the storage only the objects that tips
// reach and the storage lacks, walking no further than have (commits the
// storage holds): what arrived for namespaces that were refused stays in
// the quarantine, and goes with it.
func (q *Quarantine) MigrateReachable(ctx context.Context, tips, have []string) error {
	if len(tips) == 0 {
		return nil
	}
	var in strings.Builder
	for _, t := range tips {
		in.WriteString(t + "\n")
	}
	for _, h := range have {
		in.WriteString("^" + h + "\n")
	}
	out := filepath.Join(q.dir, "migrate")
	if err := os.MkdirAll(filepath.Join(out, "pack"), 0o700); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	// --local leaves out what the storage has (the quarantine borrows it).
	name, err := runGit(ctx, q.dir, []byte(in.String()), "pack-objects", "--revs", "--local", "-q", filepath.Join(out, "pack", "pack"))
	if err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	pack := filepath.Join(out, "pack", "pack-"+strings.TrimSpace(string(name))+".pack")
	if b, err := os.ReadFile(pack); err == nil && len(b) >= 12 && b[8]|b[9]|b[10]|b[11] == 0 {
		return nil // nothing new
	}
	return migrateObjects(out, filepath.Join(q.r.Path, "objects"))
}

// Usage counts the objects that tips reach and base does not, and their
// bytes on disk: what one namespace holds beyond the canonical branches.
// It stops counting past max objects (then objects is max+1 and bytes is
// not counted).
func (q *Quarantine) Usage(ctx context.Context, tips, base []string, max int) (objects int, bytes int64, err error) {
	var in strings.Builder
	for _, t := range tips {
		in.WriteString(t + "\n")
	}
	for _, b := range base {
		in.WriteString("^" + b + "\n")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := GitCommand(ctx, q.dir, "rev-list", "--objects", "--no-object-names", "--stdin")
	c.Stdin = strings.NewReader(in.String())
	out, err := c.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	var oids strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() && objects <= max {
		objects++
		oids.WriteString(sc.Text() + "\n")
	}
	if objects > max {
		cancel()
		c.Wait()
		return objects, 0, nil
	}
	if err := c.Wait(); err != nil {
		return 0, 0, fmt.Errorf("rev-list: %w", err)
	}
	sizes, err := runGit(ctx, q.dir, []byte(oids.String()), "cat-file", "--batch-check=%(objectsize:disk)")
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Fields(string(sizes)) {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("cat-file: %q", l)
		}
		bytes += n
	}
	return objects, bytes, nil
}

// Close removes the quarantine.
func (q *Quarantine) Close() error { return os.RemoveAll(q.dir) }

// RemoveOldQuarantines deletes the quarantines of kind last changed over
// age ago: left by a process that died (a node killed mid-fetch), as no
// live one lasts that long. Fetches take no lock that a dead one's
// quarantine could be told by, so their age tells.
func (r *Repo) RemoveOldQuarantines(kind string, age time.Duration) {
	old, _ := filepath.Glob(filepath.Join(r.Path, tmpDir, kind+"-*"))
	for _, d := range old {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > age {
			os.RemoveAll(d)
		}
	}
}

// removeStaleQuarantines deletes quarantines of kind left by processes that
// died. Only call it holding the lock that every user of that kind takes.
func (r *Repo) removeStaleQuarantines(kind string) {
	old, _ := filepath.Glob(filepath.Join(r.Path, tmpDir, kind+"-*"))
	for _, d := range old {
		os.RemoveAll(d)
	}
}

// PackHolds reports whether the quarantine's pack name ("pack-<hash>",
// as git named it in objects/pack) holds every object in oids (hex).
func (q *Quarantine) PackHolds(name string, oids []string) bool {
	if filepath.Base(name) != name || !strings.HasPrefix(name, "pack-") {
		return false
	}
	x, err := gitstore.ReadPackIndex(filepath.Join(q.dir, "objects", "pack", name+".idx"))
	if err != nil {
		return false
	}
	var id [20]byte
	for _, o := range oids {
		if len(o) != 2*len(id) {
			return false
		}
		if _, err := hex.Decode(id[:], []byte(o)); err != nil || !x.Has(id[:]) {
			return false
		}
	}
	return true
}

// SetRefs makes refs (full names) the quarantine's refs, in place of
// those it had: for a fetch that wrote no refs of its own (git
// fetch-pack). The names must be valid and the oids full ones; refs only
// moves with the quarantine's objects once Accept has verified them.
// Nothing writes the quarantine's refs after it, so Refs returns what it
// set rather than reading the file back.
func (q *Quarantine) SetRefs(refs map[string]string) error {
	tmp := filepath.Join(q.dir, "packed-refs.new")
	if err := os.WriteFile(tmp, packedRefs(refs), 0o644); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(q.dir, "packed-refs")); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	q.set = maps.Clone(refs)
	return nil
}

// packedRefs returns refs (full name → oid) as a packed-refs file, sorted
// and saying so in its header, so that no reader sorts it again; no refs
// are an empty file.
func packedRefs(refs map[string]string) []byte {
	if len(refs) == 0 {
		return nil
	}
	const hdr = "# pack-refs with: sorted \n"
	names := slices.Sorted(maps.Keys(refs))
	n := len(hdr)
	for _, name := range names {
		n += len(refs[name]) + len(name) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, hdr...)
	for _, name := range names {
		b = append(append(append(append(b, refs[name]...), ' '), name...), '\n')
	}
	return b
}
