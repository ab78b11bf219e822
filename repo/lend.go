package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A working copy made from the storage borrows its objects, the way `git
// clone --reference` does: its objects/info/alternates names the storage's
// objects directory, so the clone transfers no objects and the disk holds
// one copy of them. For that to survive `git gc --prune=now` on either
// side the storage must never delete an object: it is marked with git's
// preciousObjects extension, under which git refuses to prune or to
// delete packs there, and `git gc` leaves the objects alone. A gc in the
// working copy never deletes the storage's objects (git repacks a
// borrower with --local and prunes only its own). Grove's maintenance
// keeps such a storage packed without deleting an object (Maintain).

// KeepObjects marks the storage so that no git deletes an object from it
// (core.repositoryformatversion 1 with extensions.preciousObjects), which
// lets working copies borrow its objects. Marking it again does nothing.
func (r *Repo) KeepObjects(ctx context.Context) error {
	if r.Precious(ctx) {
		return nil
	}
	unlock, err := r.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if ok, err := r.markPreciousFile(); ok || err != nil {
		return err
	}
	// The format version first: a version 0 repository ignores extensions.
	for _, kv := range [][2]string{{"core.repositoryformatversion", "1"}, {"extensions.preciousObjects", "true"}} {
		if _, err := r.Git(ctx, nil, "config", kv[0], kv[1]); err != nil {
			return fmt.Errorf("keep objects: %w", err)
		}
	}
	return nil
}

// Precious reports whether no git may delete the storage's objects
// (KeepObjects).
func (r *Repo) Precious(ctx context.Context) bool {
	// The config as Grove wrote it, or as KeepObjects marked it, is known
	// without a git process.
	switch b, _ := os.ReadFile(filepath.Join(r.Path, "config")); string(b) {
	case storageConfigFile(true):
		return true
	case storageConfigFile(false):
		return false
	}
	out, err := r.Git(ctx, nil, "config", "--bool", "extensions.preciousObjects")
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// ObjectsDir is the absolute path of the storage's objects directory, the
// line a borrower's objects/info/alternates holds.
func (r *Repo) ObjectsDir() (string, error) {
	return filepath.Abs(filepath.Join(r.Path, "objects"))
}

// LendTo makes the git repository at gitDir borrow the storage's objects
// if it has none of its own yet (a clone or a first fetch into an empty
// repository), and reports whether it does. A repository that already has
// objects, refs or alternates is left as it is: it keeps its own copy.
func (r *Repo) LendTo(ctx context.Context, gitDir string) (bool, error) {
	if !emptyRepository(gitDir) {
		return false, nil
	}
	if err := r.KeepObjects(ctx); err != nil {
		return false, err
	}
	objects, err := r.ObjectsDir()
	if err != nil {
		return false, err
	}
	info := filepath.Join(gitDir, "objects", "info")
	if err := os.MkdirAll(info, 0o755); err != nil {
		return false, fmt.Errorf("lend objects: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(info, "alternates"), []byte(objects+"\n"), 0o644); err != nil {
		return false, fmt.Errorf("lend objects: %w", err)
	}
	return true, nil
}

// emptyRepository reports whether the git directory gitDir exists and has
// no objects, no alternates and no refs.
func emptyRepository(gitDir string) bool {
	if fi, err := os.Stat(filepath.Join(gitDir, "objects")); err != nil || !fi.IsDir() {
		return false
	}
	if _, err := os.Stat(filepath.Join(gitDir, "objects", "info", "alternates")); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if fi, err := os.Stat(filepath.Join(gitDir, "packed-refs")); err == nil && fi.Size() > 0 {
		return false
	}
	empty := true
	for _, d := range []string{"objects", "refs"} {
		filepath.WalkDir(filepath.Join(gitDir, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			empty = false
			return filepath.SkipAll
		})
	}
	return empty
}

// markPreciousFile marks the storage precious by writing its config file
// itself when the file is exactly as initStorage wrote it (a storage just
// made for a clone), which spares KeepObjects three git processes; it
// takes git's lock on the file (config.lock, created exclusively and
// renamed over it), as `git config` does. It reports false, with no
// error, when the file is any other, for `git config` to edit.
func (r *Repo) markPreciousFile() (bool, error) {
	path := filepath.Join(r.Path, "config")
	if b, err := os.ReadFile(path); err != nil || string(b) != storageConfigFile(false) {
		return false, nil
	}
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, nil // git holds it: let git config wait its turn
	}
	_, err = f.WriteString(storageConfigFile(true))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Read again under the lock: a writer that finished between the
		// first read and the lock changed it, and git config must merge.
		if b, rerr := os.ReadFile(path); rerr != nil || string(b) != storageConfigFile(false) {
			os.Remove(lock)
			return false, nil
		}
		err = os.Rename(lock, path)
	}
	if err != nil {
		os.Remove(lock)
		return false, fmt.Errorf("keep objects: %w", err)
	}
	return true, nil
}
