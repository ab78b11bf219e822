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
	return r.repackLocked(ctx)
}

// maintainLocked is the check a change makes before it releases the lock.
// The change has landed already, so a failed repack only means the next
// change tries again.
func (r *Repo) maintainLocked(ctx context.Context) {
	if r.unpublished || !r.needsMaintenance() {
		return
	}
	r.repackLocked(ctx)
}

// needsMaintenance estimates, as git gc --auto does, whether loose
// objects or packs have piled up: loose objects are counted in 16 of the
// 256 fan-out directories, and packs by their indexes, whose sizes give
// the object counts.
func (r *Repo) needsMaintenance() bool {
	objects := filepath.Join(r.Path, "objects")
	loose := 0
	for i := range 16 {
		ents, _ := os.ReadDir(filepath.Join(objects, fmt.Sprintf("%02x", i)))
		loose += len(ents)
	}
	if loose*16 >= maintainLoose {
		return true
	}
	idx, _ := filepath.Glob(filepath.Join(objects, "pack", "pack-*.idx"))
	if len(idx) < maintainPacks {
		return false
	}
	// An index has 1072 bytes of header and trailer and 28 per object
	// (below 2 GiB of pack).
	counts := make([]int64, 0, len(idx))
	for _, p := range idx {
		if fi, err := os.Stat(p); err == nil {
			counts = append(counts, (fi.Size()-1072)/28)
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

// repackLocked packs the loose objects and rolls small packs up into
// bigger ones (git repack --geometric=2, without -d), removes the packs
// whose every object is now in a pack it wrote, the loose objects that
// are packed (git prune-packed), and packs the refs. The caller holds the
// lock.
func (r *Repo) repackLocked(ctx context.Context) (MaintainResult, error) {
	var res MaintainResult
	packDir := filepath.Join(r.Path, "objects", "pack")
	r.removeStalePackFiles(packDir)
	before, err := packNames(packDir)
	if err != nil {
		return res, err
	}
	if _, err := r.Git(ctx, nil, "repack", "-q", "--geometric=2", "--no-write-bitmap-index"); err != nil {
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
	x, err := gitstore.ReadPackIndex(base + ".idx")
	if err != nil {
		return false
	}
next:
	for i := range x.Len() {
		id := x.ID(i)
		for _, w := range written {
			if w.Has(id) {
				continue next
			}
		}
		return false
	}
	return true
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
