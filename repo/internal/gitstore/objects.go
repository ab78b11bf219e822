package gitstore

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"example.com/grove/protocol"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("not found")

// Store is one bare git repository's objects, read and written in
// process: loose objects, packs mapped once (pack.go), and go-git's object
// store for what those readers do not read (objects borrowed through
// alternates, a pack format they do not know).
type Store struct {
	dir string
	// fallback is go-git's object store of the repository (go-git's
	// lower layers only: its root package links every transport).
	fallback storer.EncodedObjectStorer
	// zmu guards the compressors that writeLoose reuses: one that
	// stores, one that deflates.
	zmu      sync.Mutex
	zstore   *zlib.Writer
	zdeflate *zlib.Writer
	zbuf     bytes.Buffer
	// step, if set, is called after each step of a ref transaction that
	// changes a file (refTx.step): tests stop the process there.
	step func(what string)
	// loose holds *looseDecoder for readLoose: a fresh buffer and
	// inflater per object cost more than a small object.
	loose sync.Pool
	// packed are the repository's packs, mapped for ReadObject on its
	// first object that is not loose, and packReaders the readers over
	// them (*packReader): go-git loads and decodes a pack's whole index
	// for the first object it reads from it, which was 40% of `grove
	// issue show` on a storage git had packed.
	packedOnce  sync.Once
	packed      *packs
	packReaders sync.Pool
	// packedFirst makes ReadObject look in the packs before the loose
	// objects, as an Overlay does: looking for a loose object first cost
	// a failed open per object read from a fetch's pack.
	packedFirst bool
}

// Open returns the object store of the bare repository at dir.
func Open(dir string) *Store {
	// Quarantines borrow objects through absolute alternates paths, which
	// go-git follows only with a filesystem rooted at "/".
	return &Store{dir: dir, fallback: filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRUDefault(),
		filesystem.Options{AlternatesFS: osfs.New("/")})}
}

// Overlay returns the store of the repository at dir, which borrows s's
// objects through alternates (a quarantine): objects that are in neither
// dir's packs nor its loose objects (looked for in that order: what a
// fetch brings arrives as packs) are looked up in s first, through s's
// own go-git store (pack indexes loaded once), then in dir. Left to
// go-git's alternates, every object the quarantine lacks made it open the
// storage anew and re-read every pack index: reading one signed ref tree
// through a quarantine took over a second on a storage with a few dozen
// packs.
func (s *Store) Overlay(dir string) *Store {
	st := filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRUDefault(), filesystem.Options{})
	return &Store{dir: dir, fallback: &chainStorage{Storage: st, base: s.fallback}, packedFirst: true}
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

// Dir is the repository's directory.
func (s *Store) Dir() string { return s.dir }

// WriteObject stores a git object of kind "blob", "tree" or "commit" and
// returns its oid.
func (s *Store) WriteObject(kind string, data []byte) (string, error) {
	switch kind {
	case "blob", "tree", "commit":
	default:
		return "", fmt.Errorf("write object: bad kind %q", kind)
	}
	oid, err := s.writeLoose(kind, data)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", kind, err)
	}
	return oid, nil
}

// writeLoose stores an object as a loose file, as git does, written to a
// temporary file in its directory and renamed into place, so a reader sees
// all of it or nothing. An object that is already loose is not rewritten.
// Small objects are stored uncompressed (see storedMax), larger ones at
// git's core.looseCompression default (zlib level 1).
func (s *Store) writeLoose(kind string, data []byte) (string, error) {
	t, err := plumbing.ParseObjectType(kind)
	if err != nil {
		return "", err
	}
	h := plumbing.NewHasher(t, int64(len(data)))
	h.Write(data)
	oid := h.Sum().String()
	dir := filepath.Join(s.dir, "objects", oid[:2])
	final := filepath.Join(dir, oid[2:])
	if _, err := os.Lstat(final); err == nil {
		return oid, nil
	}
	hdr := kind + " " + strconv.Itoa(len(data)) + "\x00"
	s.zmu.Lock()
	defer s.zmu.Unlock()
	s.zbuf.Reset()
	zw := &s.zdeflate
	if n := len(hdr) + len(data); n <= storedMax || kind == "tree" && n <= maxStoredBlock {
		zw = &s.zstore
	}
	if *zw == nil {
		level := zlib.BestSpeed
		if zw == &s.zstore {
			level = zlib.NoCompression
		}
		*zw, _ = zlib.NewWriterLevel(&s.zbuf, level)
	}
	(*zw).Reset(&s.zbuf)
	(*zw).Write([]byte(hdr))
	(*zw).Write(data)
	if err := (*zw).Close(); err != nil {
		return "", fmt.Errorf("object %s: %w", oid, err)
	}
	if err := writeTempRename(dir, final, s.zbuf.Bytes(), 0o444); err != nil {
		return "", fmt.Errorf("object %s: %w", oid, err)
	}
	return oid, nil
}

// storedMax is the largest object (header included) written as a zlib
// stream of stored, uncompressed blocks (zlib.NoCompression): a loose
// object takes a whole filesystem block however small it is, so
// deflating a small one saves no disk, while setting up deflate costs a
// fresh process some 600 KB of compressor state to allocate and clear
// (deflating every object: 1.06x the CPU of `grove issue new` and 13%
// more page faults, docs/STORAGE.md). git reads either.
const storedMax = 4000

// maxStoredBlock is the most one stored deflate block holds. Trees up to
// that size are stored too: they are mostly 20-byte hashes, which deflate
// does not shrink, and the directory of a namespace's issue buckets (256
// entries, some 8 KB) is rewritten by every change.
const maxStoredBlock = 65535

// writeTempRename writes data to a new file of mode perm in dir (made if
// missing) and renames it to final.
func writeTempRename(dir, final string, data []byte, perm os.FileMode) error {
	var tmp string
	var err error
	for tries := 0; ; tries++ {
		tmp = filepath.Join(dir, "tmp_obj_"+strconv.FormatUint(rand.Uint64(), 36))
		err = writeSmall(tmp, data, perm, true)
		if errors.Is(err, fs.ErrNotExist) && tries == 0 {
			if err = os.MkdirAll(dir, 0o755); err == nil {
				continue
			}
		}
		if errors.Is(err, fs.ErrExist) && tries < 10 {
			continue
		}
		break
	}
	if err != nil {
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmp) // made, then the write failed
		}
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ErrTooLarge is returned when an object is bigger than the caller allows.
var ErrTooLarge = errors.New("object too large")

// ReadObject returns the kind and contents of object oid. Objects over
// limit bytes are not read: ErrTooLarge.
func (s *Store) ReadObject(oid string, limit int64) (string, []byte, error) {
	if !protocol.ValidOID(oid) {
		return "", nil, fmt.Errorf("object %q: %w", oid, ErrNotFound)
	}
	if !s.packedFirst {
		if kind, data, ok, err := s.readLoose(oid, limit); ok || err != nil {
			return kind, data, err
		}
	}
	kind, data, err := s.readPacked(oid, limit)
	if s.packedFirst && errors.Is(err, errNotPacked) {
		if kind, data, ok, err := s.readLoose(oid, limit); ok || err != nil {
			return kind, data, err
		}
	}
	switch {
	case err == nil || errors.Is(err, ErrTooLarge):
		return kind, data, err
	case errors.Is(err, errNotPacked) && !s.hasAlternates():
		return "", nil, fmt.Errorf("object %s: %w", oid, ErrNotFound)
	}
	// Alternates, or a pack this reader does not know: go-git.
	return readEncoded(s.fallback, oid, limit)
}

// readPacked reads object oid from the storage's mapped packs (pack.go).
// The mapping lives as long as s; a pack that git removes meanwhile stays
// readable through it.
func (s *Store) readPacked(oid string, limit int64) (string, []byte, error) {
	ps := s.sharedPacks()
	pr, _ := s.packReaders.Get().(*packReader)
	if pr == nil {
		pr = &packReader{ps: ps}
	}
	defer s.packReaders.Put(pr)
	return pr.read(oid, limit)
}

// sharedPacks returns s's mapped packs, shared by ReadObject and every
// ObjectReader of s, made on first use. s holds one reference, let go when
// s is collected.
func (s *Store) sharedPacks() *packs {
	s.packedOnce.Do(func() {
		s.packed = newPacks(filepath.Join(s.dir, "objects"))
		runtime.AddCleanup(s, (*packs).release, s.packed)
	})
	return s.packed
}

// hasAlternates reports whether the storage borrows objects from another
// (a push quarantine does).
func (s *Store) hasAlternates() bool {
	_, err := os.Stat(filepath.Join(s.dir, "objects", "info", "alternates"))
	return err == nil
}

// looseDecoder takes a decoder from s's pool (an inflater's window alone
// is 32 KiB, cleared when made); return it with s.loose.Put.
func (s *Store) looseDecoder() *looseDecoder {
	if d, _ := s.loose.Get().(*looseDecoder); d != nil {
		return d
	}
	return newLooseDecoder()
}

// readLoose reads a loose object file. ok is false when there is no loose
// object (it may be packed).
func (s *Store) readLoose(oid string, limit int64) (kind string, data []byte, ok bool, err error) {
	f, err := os.Open(s.dir + "/objects/" + oid[:2] + "/" + oid[2:])
	if err != nil {
		return "", nil, false, nil
	}
	defer f.Close()
	d := s.looseDecoder()
	defer s.loose.Put(d)
	kind, data, err = d.decode(f, oid, limit)
	return kind, data, true, err
}

// HasObject reports whether the storage holds object oid.
func (s *Store) HasObject(oid string) bool {
	if !protocol.ValidOID(oid) {
		return false
	}
	if _, err := os.Lstat(filepath.Join(s.dir, "objects", oid[:2], oid[2:])); err == nil {
		return true
	}
	switch _, _, err := s.readPacked(oid, 0); {
	case err == nil || errors.Is(err, ErrTooLarge):
		return true
	case errors.Is(err, errNotPacked) && !s.hasAlternates():
		return false
	}
	// go-git's HasEncodedObject does not look in alternates' packs.
	_, err := s.fallback.EncodedObject(plumbing.AnyObject, plumbing.NewHash(oid))
	return err == nil
}
