package gitstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"example.com/grove/protocol"
)

// RefUpdate is one change in a ref transaction. Old "" means the ref must
// not exist; New "" deletes it.
type RefUpdate struct {
	Name string
	Old  string
	New  string
}

const zeroOID = "0000000000000000000000000000000000000000"

// UpdateRefs applies updates in one ref transaction: all or nothing, and
// nothing if any ref is no longer at its Old value (ErrRefMoved) or another
// process holds its lock (ErrRefLocked), or a new value names an object
// the store does not have (ErrNotFound). It writes the ref files as git
// does (refTx), in this process, so that git and Grove can share a
// repository.
func (s *Store) UpdateRefs(updates []RefUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	var rd *ObjectReader // one for the whole transaction, made when needed
	defer func() {
		if rd != nil {
			rd.Close()
		}
	}()
	has := func(oid string) bool { return s.hasObject(&rd, oid) }
	t := &refTx{dir: s.dir, updates: updates, objects: has, step: s.step}
	return t.commit()
}

// hasObject reports whether the store holds object oid, reading packs
// through *rd, which it makes when first needed.
func (s *Store) hasObject(rd **ObjectReader, oid string) bool {
	if !protocol.ValidOID(oid) {
		return false
	}
	// Usually just written, loose.
	if _, err := os.Lstat(filepath.Join(s.dir, "objects", oid[:2], oid[2:])); err == nil {
		return true
	}
	// Else in a pack, maybe one that arrived after s was opened (a push or
	// fetch migrates them), which s's go-git store would not see; the
	// reader maps the packs once for every ref.
	if *rd == nil {
		*rd = s.NewObjectReader()
	}
	_, _, err := (*rd).ReadObject(oid, 0)
	return err == nil || errors.Is(err, ErrTooLarge)
}

// WritePackedRefs writes the refs of updates, which must all be creations,
// as the repository's packed-refs file, sorted as git writes it, replacing
// any: only for a repository no other process can see and that has no
// refs yet.
func (s *Store) WritePackedRefs(updates []RefUpdate) error {
	sorted := slices.Clone(updates)
	slices.SortFunc(sorted, func(a, b RefUpdate) int { return strings.Compare(a.Name, b.Name) })
	const hdr = "# pack-refs with: sorted \n"
	n := len(hdr)
	for _, u := range sorted {
		n += len(u.New) + len(u.Name) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, hdr...)
	for i, u := range sorted {
		if u.Old != "" || u.New == "" || (i > 0 && sorted[i-1].Name == u.Name) {
			return fmt.Errorf("write packed refs: %s is not a new ref", u.Name)
		}
		b = append(append(append(append(b, u.New...), ' '), u.Name...), '\n')
	}
	return writeTempRename(s.dir, filepath.Join(s.dir, "packed-refs"), b, 0o644)
}

// LockedError says a ref's lock file exists: another writer holds it, or
// one that died left it. It is ErrRefLocked.
type LockedError struct {
	Ref, Path string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("ref %s: %s exists: %v", e.Ref, filepath.Base(e.Path), ErrRefLocked)
}

func (e *LockedError) Unwrap() error { return ErrRefLocked }

// ErrRefLocked is returned when another process holds a ref's lock file
// for longer than a ref transaction waits.
var ErrRefLocked = errors.New("ref is locked by another process")

// Lock waits, as git's core.filesRefLockTimeout and
// core.packedRefsTimeout defaults do.
const (
	refLockWait    = 100 * time.Millisecond
	packedLockWait = time.Second
)

// refTx is one ref transaction written the way git's files backend writes
// one, so that git and grove can share a storage: every ref's
// "<ref>.lock" is created exclusively, the old values are checked under
// the locks, deletions leave packed-refs first (under packed-refs.lock),
// and each lock is renamed over its ref. The storage keeps no reflogs
// (core.logAllRefUpdates = false). A process that dies before the renames
// leaves every ref as it was (and lock files, as git does). A
// transaction of more than one ref also writes a journal before its
// renames, so that one killed between them is finished later
// (journal.go).
type refTx struct {
	dir     string
	updates []RefUpdate
	locks   []string // lock files held, removed by unlock
	dirs    []string // directories made for locks, parents first
	// emptyDirs are refs to create where a directory holding no ref is
	// in the way, as one a deleted ref left; git removes it, and so do
	// we.
	emptyDirs map[string]bool
	removed   []string // loose refs deleted, whose empty parents unlock removes
	objects   func(oid string) bool
	// noJournal is set for FinishInterrupted's own transaction, which
	// the journal it finishes covers.
	noJournal bool
	// step, if set, is called after each step that changes a file: tests
	// stop the process there, as a crash would.
	step func(what string)
}

// commit runs the transaction: all of it, or none of it when a ref is
// locked or no longer at its Old value.
func (t *refTx) commit() (err error) {
	defer t.unlock()
	seen := make(map[string]bool, len(t.updates))
	for _, u := range t.updates {
		if err := checkFullRefName(u.Name); err != nil {
			return err
		}
		if seen[u.Name] {
			return fmt.Errorf("ref %s: updated twice in one transaction", u.Name)
		}
		seen[u.Name] = true
		if u.New == "" && u.Old == "" {
			return fmt.Errorf("delete %s: no old value to check", u.Name)
		}
		if u.New != "" && (!protocol.ValidOID(u.New) || u.New == zeroOID) {
			return fmt.Errorf("ref %s: bad new value %q", u.Name, u.New)
		}
		if u.New != "" && t.objects != nil && !t.objects(u.New) {
			return fmt.Errorf("ref %s: object %s: %w", u.Name, u.New, ErrNotFound)
		}
	}
	for _, u := range t.updates {
		if err := t.lock(u.Name, refLockWait); err != nil {
			return err
		}
		t.did("lock " + u.Name)
	}
	// packed-refs is read once, under the locks: a git pack-refs running
	// meanwhile can only copy loose refs into it, and ours stay loose
	// because it cannot take their locks to prune them.
	f := &Refs{dir: t.dir}
	defer f.release() // packed aliases f's mapping until then
	raw, err := f.packedRefs()
	if err != nil {
		return err
	}
	packed := raw
	var deleted []string
	for _, u := range t.updates {
		cur, err := t.current(packed, u.Name)
		if err != nil {
			return err
		}
		if cur != u.Old {
			if u.Old == "" {
				return fmt.Errorf("ref %s: exists (at %s): %w", u.Name, cur, ErrRefMoved)
			}
			return fmt.Errorf("ref %s: at %q, not %s: %w", u.Name, cur, u.Old, ErrRefMoved)
		}
		if u.New == "" {
			deleted = append(deleted, u.Name)
			continue
		}
		if u.Old == "" {
			if err := conflict(packed, u.Name); err != nil {
				return err
			}
		}
		if err := writeSmall(t.lockPath(u.Name), []byte(u.New+"\n"), 0o644, false); err != nil {
			return fmt.Errorf("write ref %s: %w", u.Name, err)
		}
		t.did("write " + u.Name + ".lock")
	}
	if len(t.updates) > 1 && !t.noJournal {
		// The commit point: from here on a crash is finished forward.
		var j string
		if j, err = writeJournal(t.dir, t.updates); err != nil {
			return err
		}
		t.did("write the journal")
		updates := t.updates
		defer func() {
			// After the lock files of deletions are gone too.
			t.unlock()
			if err != nil {
				// A rename failed, the refs are part moved: back to
				// where they were, or, if that fails too, j stays and
				// the next writer finishes them.
				if settle(t.dir, updates, func(u RefUpdate) string { return u.Old }) != nil {
					return
				}
			}
			if rerr := removeIfExists(j); err == nil {
				err = rerr
			}
			t.did("remove the journal")
		}()
	}
	if len(deleted) > 0 {
		if err := t.unpack(packed, deleted); err != nil {
			return err
		}
		t.did("rewrite packed-refs")
	}
	for i, u := range t.updates {
		p := filepath.Join(t.dir, filepath.FromSlash(u.Name))
		if u.New == "" {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete ref %s: %w", u.Name, err)
			}
			t.removed = append(t.removed, u.Name)
			t.did("delete " + u.Name)
			continue
		}
		if t.emptyDirs[u.Name] {
			removeEmptyTree(p) // what is left, the rename reports
		}
		if err := os.Rename(t.lockPath(u.Name), p); err != nil {
			return fmt.Errorf("write ref %s: %w", u.Name, err)
		}
		t.forget(i)
		t.did("rename " + u.Name + ".lock")
	}
	return nil
}

// did reports a step done to t.step, if set.
func (t *refTx) did(what string) {
	if t.step != nil {
		t.step(what)
	}
}

// ErrRefMoved is returned when a ref is not at the value a transaction
// expects.
var ErrRefMoved = errors.New("ref moved")

func (t *refTx) lockPath(name string) string {
	return filepath.Join(t.dir, filepath.FromSlash(name)) + ".lock"
}

// lock creates name's lock file, waiting up to wait for another holder.
// Directories it makes for the lock are removed again by unlock if they
// are still empty then.
func (t *refTx) lock(name string, wait time.Duration) error {
	p := t.lockPath(name)
	deadline := time.Now().Add(wait)
	for pause, tries := time.Millisecond, 0; ; tries++ {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			f.Close()
			t.locks = append(t.locks, p)
			return nil
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) && tries < 5:
			// A directory is missing, or another transaction's unlock
			// removed an empty one just now.
			if err := t.mkdirs(filepath.Dir(p)); err != nil {
				return fmt.Errorf("lock ref %s: %w", name, err)
			}
			continue
		case !errors.Is(err, fs.ErrExist):
			return fmt.Errorf("lock ref %s: %w", name, err)
		case time.Now().After(deadline):
			return &LockedError{Ref: name, Path: p}
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// mkdirs makes dir and its missing parents inside the storage, noting
// each one it made.
func (t *refTx) mkdirs(dir string) error {
	if dir == t.dir || len(dir) < len(t.dir) {
		return nil
	}
	if fi, err := os.Lstat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is a ref, not a directory", dir)
		}
		return nil
	}
	if err := t.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	t.dirs = append(t.dirs, dir)
	return nil
}

// forget drops the i-th lock taken, which a rename consumed.
func (t *refTx) forget(i int) { t.locks[i] = "" }

// unlock removes the lock files still held, then the directories left
// empty by them and by deleted refs.
func (t *refTx) unlock() {
	for _, p := range t.locks {
		if p != "" {
			os.Remove(p)
		}
	}
	for i := len(t.dirs) - 1; i >= 0; i-- {
		os.Remove(t.dirs[i]) // only if empty: a ref or lock keeps it
	}
	for _, name := range t.removed {
		t.removeEmptyParents(name)
	}
	t.locks, t.dirs, t.removed = nil, nil, nil
}

// current reads name's value under its lock: the loose file, else
// packed-refs, "" if neither has it. A symbolic or unreadable loose ref is
// an error, not a ref to overwrite.
func (t *refTx) current(packed packedRefs, name string) (string, error) {
	b, err := readSmall(filepath.Join(t.dir, filepath.FromSlash(name)), maxRefFile)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if !protocol.ValidOID(s) {
			return "", fmt.Errorf("ref %s: not a plain ref (%.40q)", name, s)
		}
		return s, nil
	case errors.Is(err, fs.ErrNotExist), isNotDir(err):
	case errors.Is(err, syscall.EISDIR):
		if refsUnder(filepath.Join(t.dir, filepath.FromSlash(name))) {
			return "", fmt.Errorf("ref %s: refs exist under it", name)
		}
		if t.emptyDirs == nil {
			t.emptyDirs = make(map[string]bool)
		}
		t.emptyDirs[name] = true
	default:
		return "", fmt.Errorf("read ref %s: %w", name, err)
	}
	return packed.get(name, true), nil
}

// refsUnder reports whether the directory dir holds a file that is not a
// lock (a loose ref, or something git would take for one), or cannot be
// read.
func refsUnder(dir string) bool {
	found := false
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() && !strings.HasSuffix(d.Name(), ".lock") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found || err != nil
}

// removeEmptyTree removes dir and the directories in it, if they hold
// nothing else.
func removeEmptyTree(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeEmptyTree(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir)
}

// removeEmptyParents removes the directories of the deleted ref name that
// are left empty, below its first two components (refs/heads), as git
// does: a directory in the way of a later ref of that name would
// otherwise have to be removed then.
func (t *refTx) removeEmptyParents(name string) {
	comps := strings.Split(name, "/")
	for i := len(comps) - 1; i > 2; i-- {
		if os.Remove(filepath.Join(t.dir, filepath.FromSlash(strings.Join(comps[:i], "/")))) != nil {
			return // not empty, or gone
		}
	}
}

// unpack removes names from packed-refs, under packed-refs.lock, before
// their loose files go: otherwise a deleted ref would show its packed
// value again.
func (t *refTx) unpack(packed packedRefs, names []string) error {
	drop := make(map[string]bool, len(names))
	any := false
	for _, n := range names {
		if packed.get(n, true) != "" {
			drop[n], any = true, true
		}
	}
	if !any {
		return nil
	}
	if err := t.lock("packed-refs", packedLockWait); err != nil {
		return err
	}
	// Again, now under packed-refs.lock, and whole: it is rewritten.
	p, err := readPacked(filepath.Join(t.dir, "packed-refs"))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	skipPeeled := false
	for len(p) > 0 {
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i+1], p[i+1:]
		} else {
			p = nil
		}
		if len(line) > 0 && line[0] == '^' {
			if !skipPeeled {
				out.Write(line)
			}
			continue
		}
		skipPeeled = false
		if len(line) > 41 && line[40] == ' ' && drop[string(bytes.TrimRight(line[41:], "\n"))] {
			skipPeeled = true
			continue
		}
		out.Write(line)
	}
	lp := t.lockPath("packed-refs")
	if err := os.WriteFile(lp, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write packed-refs: %w", err)
	}
	if err := os.Rename(lp, filepath.Join(t.dir, "packed-refs")); err != nil {
		return fmt.Errorf("write packed-refs: %w", err)
	}
	t.forget(len(t.locks) - 1) // taken last, after every ref's
	return nil
}

// conflict refuses to create name where packed-refs has a ref that is one
// of its directories, or that lives under it (a loose one would have
// failed to lock already).
func conflict(p packedRefs, name string) error {
	for d := name; ; {
		i := strings.LastIndexByte(d, '/')
		if i <= len("refs") {
			break
		}
		d = d[:i]
		if p.get(d, true) != "" {
			return fmt.Errorf("ref %s: %s exists", name, d)
		}
	}
	under := false
	p.scan(name+"/", func(_, _ []byte) bool {
		under = true
		return false
	})
	if under {
		return fmt.Errorf("ref %s: refs exist under it", name)
	}
	return nil
}

// checkFullRefName checks a full ref name as git's check-ref-format would
// for the names grove writes.
func checkFullRefName(name string) error {
	if !strings.HasPrefix(name, "refs/") || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".lock") ||
		strings.Contains(name, "//") || strings.Contains(name, "..") || strings.Contains(name, "/.") ||
		strings.Contains(name, "@{") || strings.ContainsAny(name, " ~^:?*[\\\x7f") {
		return fmt.Errorf("bad ref name %q", name)
	}
	for _, c := range []byte(name) {
		if c < 0x20 {
			return fmt.Errorf("bad ref name %q", name)
		}
	}
	return nil
}
