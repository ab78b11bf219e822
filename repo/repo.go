package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// ErrNotFound is returned when a project, ref or object does not exist.
var ErrNotFound = gitstore.ErrNotFound

// ErrTooLarge is returned when an object is bigger than the caller allows.
var ErrTooLarge = gitstore.ErrTooLarge

// ErrRefMoved is returned when a ref is not at the value a transaction
// expects.
var ErrRefMoved = gitstore.ErrRefMoved

// ErrRefLocked is returned when another process holds a ref's lock file
// for longer than a ref transaction waits.
var ErrRefLocked = gitstore.ErrRefLocked

// Repo is one project's storage: a bare git repository.
type Repo struct {
	Path string
	RID  protocol.RID
	// store reads and writes the storage's objects and refs
	// (repo/internal/gitstore).
	store *gitstore.Store
	// unpublished is a storage made by CreateEmpty that Publish has not
	// moved into place: no other process knows its path.
	unpublished bool
	// home is the home the storage was opened from: its owner's person
	// document goes into the namespace with every write (person.go).
	home Home
	// locked says this Repo holds the storage's writer lock (Lock).
	locked atomic.Bool
}

// Open opens the storage of project rid in h.
func Open(h Home, rid protocol.RID) (*Repo, error) {
	path := h.ProjectPath(rid)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("project %s: %w in %s", rid, ErrNotFound, h.StorageDir())
	}
	r, err := openPath(path, rid)
	if err == nil {
		r.home = h
		r.finishInterrupted()
	}
	return r, err
}

func openPath(path string, rid protocol.RID) (*Repo, error) {
	return &Repo{Path: path, RID: rid, store: gitstore.Open(path)}, nil
}

// Reopen returns a second handle on the same storage, for a goroutine of
// its own: go-git's object caches are not shared between handles.
func (r *Repo) Reopen() (*Repo, error) {
	o, err := openPath(r.Path, r.RID)
	if err == nil {
		o.home = r.home
	}
	return o, err
}

// ObjectReader reads many raw objects, for one goroutine at a time
// (gitstore.ObjectReader).
type ObjectReader = gitstore.ObjectReader

// WriteObject stores a git object of kind "blob", "tree" or "commit" and
// returns its oid.
func (r *Repo) WriteObject(kind string, data []byte) (string, error) {
	return r.store.WriteObject(kind, data)
}

// ReadObject returns the kind and contents of object oid. Objects over
// limit bytes are not read: ErrTooLarge.
func (r *Repo) ReadObject(oid string, limit int64) (string, []byte, error) {
	return r.store.ReadObject(oid, limit)
}

// HasObject reports whether the storage holds object oid.
func (r *Repo) HasObject(oid string) bool { return r.store.HasObject(oid) }

// NewObjectReader returns a reader of r's objects, sharing r's mapped
// packs. Close it when done.
func (r *Repo) NewObjectReader() *ObjectReader { return r.store.NewObjectReader() }

// RefFiles reads refs straight from the files git keeps them in, with no
// git process (gitstore.Refs: Get, and List and Names, Grove's one way to
// list refs), plus the shapes of their results that Grove asks for.
type RefFiles struct{ *gitstore.Refs }

// RefFiles returns a reader of the storage's refs.
func (r *Repo) RefFiles() *RefFiles { return &RefFiles{gitstore.NewRefs(r.Path)} }

// List returns the projects stored in h, sorted.
func List(h Home) ([]protocol.RID, error) {
	ents, err := os.ReadDir(h.StorageDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list storage: %w", err)
	}
	var out []protocol.RID
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".git")
		if !ok || !e.IsDir() {
			continue
		}
		rid, err := protocol.ParseRID(name)
		if err != nil {
			continue // temporary directories and strangers
		}
		out = append(out, rid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Git runs git in the storage and returns its stdout.
func (r *Repo) Git(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	return runGit(ctx, r.Path, stdin, args...)
}

// NamespacePrefix is the prefix of nid's refs in storage.
func NamespacePrefix(nid protocol.NID) string {
	return "refs/namespaces/" + nid.String() + "/"
}

// Namespaces returns every namespace's refs (names inside the namespace,
// e.g. refs/heads/main) keyed by NID string. Namespaces whose name is not a
// valid NID are skipped: nothing verifiable can live there.
func (r *Repo) Namespaces(ctx context.Context) (map[string]map[string]string, error) {
	refs, err := r.RefFiles().List("refs/namespaces/")
	if err != nil {
		return nil, err
	}
	all := make(map[string]map[string]string)
	for full, oid := range refs {
		rest := strings.TrimPrefix(full, "refs/namespaces/")
		ns, name, ok := strings.Cut(rest, "/")
		if !ok || !strings.HasPrefix(name, "refs/") {
			continue // the namespace's HEAD
		}
		if all[ns] == nil {
			if _, err := protocol.ParseNID(ns); err != nil {
				continue
			}
			all[ns] = make(map[string]string)
		}
		all[ns][name] = oid
	}
	return all, nil
}

// Namespaces returns the NIDs (as strings) that have a directory of refs,
// loose or packed, sorted: RefFiles.Names("refs/namespaces/*"). Names that
// are not NIDs are skipped.
func (f *RefFiles) Namespaces() ([]string, error) {
	names, err := f.Names("refs/namespaces/*")
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		ns := strings.TrimPrefix(n, "refs/namespaces/")
		if _, err := protocol.ParseNID(ns); err == nil {
			out = append(out, ns)
		}
	}
	return out, nil
}

// Namespaced returns the ref name (a name inside a namespace, e.g.
// refs/grove/sigrefs) of every namespace that has it, keyed by NID
// string: RefFiles.List("refs/namespaces/*/" + name). Namespaces whose
// name is not a NID are skipped.
func (f *RefFiles) Namespaced(name string) (map[string]string, error) {
	refs, err := f.List("refs/namespaces/*/" + name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(refs))
	for full, oid := range refs {
		ns, _, _ := strings.Cut(strings.TrimPrefix(full, "refs/namespaces/"), "/")
		if _, err := protocol.ParseNID(ns); err == nil {
			out[ns] = oid
		}
	}
	return out, nil
}

// NamespaceRefs returns nid's refs by their names inside the namespace.
func (r *Repo) NamespaceRefs(ctx context.Context, nid protocol.NID) (map[string]string, error) {
	p := NamespacePrefix(nid)
	refs, err := r.RefFiles().List(p)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(refs))
	for full, oid := range refs {
		if name := strings.TrimPrefix(full, p); strings.HasPrefix(name, "refs/") {
			m[name] = oid
		}
	}
	return m, nil
}

// CanonicalRefs returns the project's top-level branches, tags and notes.
func (r *Repo) CanonicalRefs(ctx context.Context) (map[string]string, error) {
	f := r.RefFiles()
	out := make(map[string]string)
	for _, p := range ProjectRefPrefixes {
		refs, err := f.List(p)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, refs)
	}
	return out, nil
}

// RefUpdate is one change in a ref transaction. Old "" means the ref must
// not exist; New "" deletes it.
type RefUpdate = gitstore.RefUpdate

// UpdateRefs applies updates in one ref transaction: all or nothing, and
// nothing if any ref is no longer at its Old value (ErrRefMoved) or another
// process holds its lock (ErrRefLocked). It writes the ref files as git
// does, in this process (gitstore.Store.UpdateRefs): starting git
// update-ref for it was most of an issue command's time after start-up.
func (r *Repo) UpdateRefs(ctx context.Context, updates []RefUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for cleared := 0; ; cleared++ {
		err := r.store.UpdateRefs(updates)
		var locked *gitstore.LockedError
		if err == nil || !errors.As(err, &locked) || !r.locked.Load() || cleared >= maxStaleLocks {
			if err != nil {
				return fmt.Errorf("update refs: %w", err)
			}
			return nil
		}
		// Every writer of the storage's refs holds the writer lock, and
		// this Repo holds it now: a ref's lock file is a dead writer's
		// (killed between locking and renaming). git would stop here and
		// ask for it to be removed; nobody else can be using it.
		if err := os.Remove(locked.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("update refs: remove a dead writer's %s: %w", locked.Path, err)
		}
	}
}

// maxStaleLocks bounds the dead writers' lock files one transaction clears.
const maxStaleLocks = 64

// writePackedRefs writes the refs of updates, which must all be creations,
// as the storage's packed-refs file, replacing any: only for a storage no
// other process can see and that has no refs yet.
func (r *Repo) writePackedRefs(updates []RefUpdate) error {
	return r.store.WritePackedRefs(updates)
}

// writeBlob stores data as a blob and returns its oid.
func (r *Repo) writeBlob(data []byte) (string, error) {
	return r.store.WriteObject("blob", data)
}

// writeTree stores a flat tree of regular files.
func (r *Repo) writeTree(files map[string][]byte) (string, error) {
	es := make([]protocol.TreeEntry, 0, len(files))
	for n, data := range files {
		oid, err := r.writeBlob(data)
		if err != nil {
			return "", fmt.Errorf("write blob %s: %w", n, err)
		}
		es = append(es, protocol.TreeEntry{Mode: 0o100644, Name: n, OID: oid})
	}
	// Plain files only: git's order is the names' byte order.
	slices.SortFunc(es, func(a, b protocol.TreeEntry) int { return strings.Compare(a.Name, b.Name) })
	return r.store.WriteObject("tree", protocol.EncodeTree(es))
}

// writeCommit stores a commit.
func (r *Repo) writeCommit(c *gitstore.Commit) (string, error) {
	return r.store.WriteObject("commit", c.Encode())
}

// maxCommitObject and maxFlatTree bound the commit and tree objects
// readCommitRaw reads.
const (
	maxCommitObject = 4 << 20
	maxFlatTree     = 1 << 20
)

// readCommitRaw reads the commit oid, its bytes and the files of its
// (flat) tree, all together bounded by limit bytes.
func (r *Repo) readCommitRaw(oid string, limit int64) (*gitstore.Commit, []byte, map[string][]byte, error) {
	if !protocol.ValidOID(oid) {
		return nil, nil, nil, fmt.Errorf("object %q: %w", oid, ErrNotFound)
	}
	kind, raw, err := r.ReadObject(oid, maxCommitObject)
	if err == nil && kind != "commit" {
		err = fmt.Errorf("%.7s is a %s, not a commit", oid, kind)
	}
	var c *gitstore.Commit
	if err == nil {
		c, err = gitstore.ParseCommit(raw)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("commit %s: %w", oid, err)
	}
	kind, data, err := r.ReadObject(c.Tree, maxFlatTree)
	if err == nil && kind != "tree" {
		err = fmt.Errorf("%.7s is a %s, not a tree", c.Tree, kind)
	}
	var es []protocol.TreeEntry
	if err == nil {
		es, err = gitstore.ParseTreeLoose(data)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tree of %s: %w", oid, err)
	}
	files := make(map[string][]byte, len(es))
	left := limit // for the files together: a tree may name one blob many times
	for _, e := range es {
		if e.Mode != 0o100644 {
			continue
		}
		_, data, err := r.readBlob(e.OID, left)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("blob %s of %s: %w", e.Name, oid, err)
		}
		left -= int64(len(data))
		files[e.Name] = data
	}
	return c, raw, files, nil
}

// readCommitObject reads and parses commit oid.
func (r *Repo) readCommitObject(oid string) (*gitstore.Commit, error) {
	kind, data, err := r.ReadObject(oid, maxCommitObject)
	if err != nil {
		return nil, err
	}
	if kind != "commit" {
		return nil, fmt.Errorf("%.7s is a %s, not a commit", oid, kind)
	}
	return gitstore.ParseCommit(data)
}

// IsAncestor reports whether commit a is an ancestor of (or equal to) b.
func (r *Repo) IsAncestor(ctx context.Context, a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	_, err := r.Git(ctx, nil, "merge-base", "--is-ancestor", a, b)
	if err == nil {
		return true, nil
	}
	var ge *GitError
	if errors.As(err, &ge) {
		var ee interface{ ExitCode() int }
		if errors.As(ge.Err, &ee) && ee.ExitCode() == 1 {
			return false, nil
		}
	}
	return false, err
}
