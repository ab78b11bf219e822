package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"example.com/grove/repo/internal/gitstore"
)

// Maintenance keeps the storage packed without the user asking: every
// change to refs (a push, an issue or patch change, a fetch from a peer)
// checks, under the storage lock and in a few directory reads, whether
// loose objects or packs have piled up, and if so repacks. A repack never
// deletes an object that is not in a pack it wrote, so it is safe in a
// storage that lends its objects to working copies (lend.go), and safe if
// killed at any point: what it leaves is removed by the next one.
const (
	// maintainLoose is the estimated number of loose objects (each takes
	// a file system block) that starts a repack.
	maintainLoose = 256
	// maintainPacks is the number of packs from which packs whose sizes
	// are not a geometric progression start a repack.
	maintainPacks = 4
	// staleAge is how old a temporary pack file or an orphaned pack must
	// be before maintenance removes it: younger ones may belong to a git
	// that someone runs on the storage by hand.
	staleAge = time.Hour
)

// MaintainResult says what a maintenance run did.
type MaintainResult struct {
	Repacked bool // whether it repacked
	Removed  int  // redundant packs removed
}

// Maintain repacks the storage if loose objects or packs have piled up
// (or always, with force), holding the storage lock. Changes run it by
// themselves; tests and benchmarks call it.
func (r *Repo) Maintain(ctx context.Context, force bool) (MaintainResult, error) {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return MaintainResult{}, err
	}
	defer unlock()
	if !force && !r.needsMaintenance() {
		return MaintainResult{}, nil
	}
	return r.repackLocked(ctx, "--geometric=2", "--no-write-bitmap-index")
}

// Settle packs the storage for serving, as the node does when it has
// been idle a while: everything reachable in one pack with a
// reachability bitmap (git repack -a --write-bitmap-index, without -d,
// so no object is deleted that is not in the new pack), with which git
// counts a clone's objects at once instead of walking the history. It
// does so when the storage has no bitmap yet, or when what arrived since
// its bitmap (loose objects and newer packs) comes to a tenth of it;
// otherwise it repacks as a change would, if anything piled up
// (Maintain). It holds the storage lock and is safe if killed, as
// Maintain is.
func (r *Repo) Settle(ctx context.Context) (MaintainResult, error) {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return MaintainResult{}, err
	}
	defer unlock()
	if r.unsettled() {
		// git repack -a leaves unreachable loose objects loose (only -d
		// would pack them): a geometric repack packs them first.
		if r.looseObjects() > 0 {
			if _, err := r.repackLocked(ctx, "--geometric=2", "--no-write-bitmap-index"); err != nil {
				return MaintainResult{}, err
			}
		}
		return r.repackLocked(ctx, "-a", "--write-bitmap-index")
	}
	if !r.needsMaintenance() {
		return MaintainResult{}, nil
	}
	return r.repackLocked(ctx, "--geometric=2", "--no-write-bitmap-index")
}

// NeedsSettling reports, from a few directory reads and without the
// lock, whether Settle would repack.
func (r *Repo) NeedsSettling() bool {
	return r.unsettled() || r.needsMaintenance()
}

// unsettled reports whether the storage has objects and either no pack
// with a bitmap or, since the newest such pack, loose objects and packs
// that hold a tenth as many objects as it does (estimated, as
// needsMaintenance does).
func (r *Repo) unsettled() bool {
	objects := filepath.Join(r.Path, "objects")
	loose := r.looseObjects()
	idx, _ := filepath.Glob(filepath.Join(objects, "pack", "pack-*.idx"))
	var bitmapped int64
	var since time.Time
	for _, p := range idx {
		base := strings.TrimSuffix(p, ".idx")
		fi, err := os.Stat(base + ".bitmap")
		if err != nil || !fi.ModTime().After(since) {
			continue
		}
		if x, err := os.Stat(p); err == nil {
			bitmapped, since = idxObjects(x), fi.ModTime()
		}
	}
	if bitmapped == 0 {
		return loose > 0 || len(idx) > 0
	}
	added := int64(loose)
	for _, p := range idx {
		if fi, err := os.Stat(p); err == nil && fi.ModTime().After(since) {
			added += idxObjects(fi)
		}
	}
	return added*10 >= bitmapped
}

// looseObjects estimates the loose objects, as git gc --auto does, from
// 16 of the 256 fan-out directories.
func (r *Repo) looseObjects() int {
	loose := 0
	for i := range 16 {
		ents, _ := os.ReadDir(filepath.Join(r.Path, "objects", fmt.Sprintf("%02x", i)))
		loose += len(ents)
	}
	return loose * 16
}

// idxObjects estimates the objects of a pack from its index's size: 1072
// bytes of header and trailer and 28 per object (below 2 GiB of pack).
func idxObjects(fi os.FileInfo) int64 {
	return (fi.Size() - 1072) / 28
}

// maintainLocked is the check a change makes before it releases the lock.
// The change has landed already, so a failed repack only means the next
// change tries again.
func (r *Repo) maintainLocked(ctx context.Context) {
	if r.unpublished || !r.needsMaintenance() {
		return
	}
	r.repackLocked(ctx, "--geometric=2", "--no-write-bitmap-index")
}

// needsMaintenance estimates, as git gc --auto does, whether loose
// objects or packs have piled up: loose objects are counted in 16 of the
// 256 fan-out directories, and packs by their indexes, whose sizes give
// the object counts.
func (r *Repo) needsMaintenance() bool {
	objects := filepath.Join(r.Path, "objects")
	if r.looseObjects() >= maintainLoose {
		return true
	}
	idx, _ := filepath.Glob(filepath.Join(objects, "pack", "pack-*.idx"))
	if len(idx) < maintainPacks {
		return false
	}
	counts := make([]int64, 0, len(idx))
	for _, p := range idx {
		if fi, err := os.Stat(p); err == nil {
			counts = append(counts, idxObjects(fi))
		}
	}
	slices.Sort(counts)
	for i := 1; i < len(counts); i++ {
		if counts[i] < 2*counts[i-1] {
			return true // git repack --geometric=2 would roll these up
		}
	}
	return false
}

// repackLocked runs git repack with how (--geometric=2: pack the loose
// objects and roll small packs up into bigger ones; -a: everything in
// one pack), never with -d, then removes the packs whose every object is
// now in a pack it wrote, the loose objects that are packed (git
// prune-packed), and packs the refs. The caller holds the lock.
func (r *Repo) repackLocked(ctx context.Context, how ...string) (MaintainResult, error) {
	var res MaintainResult
	packDir := filepath.Join(r.Path, "objects", "pack")
	r.removeStalePackFiles(packDir)
	before, err := packNames(packDir)
	if err != nil {
		return res, err
	}
	if _, err := r.Git(ctx, nil, append([]string{"repack", "-q"}, how...)...); err != nil {
		return res, fmt.Errorf("maintain: %w", err)
	}
	res.Repacked = true
	after, err := packNames(packDir)
	if err != nil {
		return res, err
	}
	var written []*gitstore.PackIndex
	for _, name := range after {
		if slices.Contains(before, name) {
			continue
		}
		x, err := gitstore.ReadPackIndex(filepath.Join(packDir, name+".idx"))
		if err != nil {
			return res, fmt.Errorf("maintain: %w", err)
		}
		written = append(written, x)
	}
	for _, name := range before {
		if !slices.Contains(after, name) || !redundantPack(filepath.Join(packDir, name), written) {
			continue
		}
		if err := removePack(filepath.Join(packDir, name)); err != nil {
			return res, fmt.Errorf("maintain: %w", err)
		}
		res.Removed++
	}
	if _, err := r.Git(ctx, nil, "prune-packed", "-q"); err != nil {
		return res, fmt.Errorf("maintain: %w", err)
	}
	// Every writer of the storage's refs holds the writer lock, as the
	// caller does now: a packed-refs.lock is a dead writer's (a
	// maintenance or a deletion killed while rewriting packed-refs), which
	// git pack-refs would stop at on every run until removed by hand.
	if err := os.Remove(filepath.Join(r.Path, "packed-refs.lock")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("maintain: remove a dead writer's packed-refs.lock: %w", err)
	}
	if _, err := r.Git(ctx, nil, "pack-refs", "--all"); err != nil {
		return res, fmt.Errorf("maintain: %w", err)
	}
	return res, nil
}

// packNames returns the names (pack-<hash>) of the packs git sees in dir:
// those with an index.
func packNames(dir string) ([]string, error) {
	idx, err := filepath.Glob(filepath.Join(dir, "pack-*.idx"))
	if err != nil {
		return nil, fmt.Errorf("maintain: %w", err)
	}
	names := make([]string, len(idx))
	for i, p := range idx {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".idx")
	}
	sort.Strings(names)
	return names, nil
}

// redundantPack reports whether every object of the pack at base is in
// one of the packs of written. A pack that is kept (.keep) or cannot be
// read is never redundant.
func redundantPack(base string, written []*gitstore.PackIndex) bool {
	if len(written) == 0 {
		return false
	}
	if _, err := os.Stat(base + ".keep"); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	// The old index is read a block at a time: only the written ones are
	// held (a 62,000-object index is 1.7 MB).
	all := true
	err := gitstore.EachPackIndexID(base+".idx", func(id []byte) bool {
		all = slices.ContainsFunc(written, func(w *gitstore.PackIndex) bool { return w.Has(id) })
		return all
	})
	return err == nil && all
}

// removePack removes a pack's files, its index first, so git stops seeing
// the pack before any of it goes; a removal cut short leaves files
// without an index, which removeStalePackFiles takes later.
func removePack(base string) error {
	for _, ext := range []string{".idx", ".pack", ".rev", ".bitmap", ".mtimes", ".promisor"} {
		if err := os.Remove(base + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeStalePackFiles removes what a repack, a migration or a removal
// killed half-way left in dir: temporary files and pack files without an
// index, older than staleAge. Git never reads them. The caller holds the
// lock, under which every pack Grove adds is moved in.
func (r *Repo) removeStalePackFiles(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	have := make(map[string]bool, len(ents))
	for _, e := range ents {
		have[e.Name()] = true
	}
	for _, e := range ents {
		name := e.Name()
		stale := strings.HasPrefix(name, "tmp_") || strings.HasPrefix(name, ".tmp-")
		if base, ext, ok := strings.Cut(name, "."); ok && strings.HasPrefix(base, "pack-") && ext != "idx" {
			stale = !have[base+".idx"]
		}
		if !stale {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleAge {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
