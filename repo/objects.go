package repo

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"

	"example.com/grove/protocol"
)

// Raw objects and refs, for the collaborative-object engine (package
// issues): it encodes and parses its own commits and trees, so it needs the
// bytes, not go-git's types, and it reads refs without starting git.

// Reopen returns a second handle on the same storage, for a goroutine of
// its own: go-git's object caches are not shared between handles.
func (r *Repo) Reopen() (*Repo, error) { return openPath(r.Path, r.RID) }

// WriteObject stores a git object of kind "blob", "tree" or "commit" and
// returns its oid.
func (r *Repo) WriteObject(kind string, data []byte) (string, error) {
	switch kind {
	case "blob", "tree", "commit":
	default:
		return "", fmt.Errorf("write object: bad kind %q", kind)
	}
	oid, err := r.writeLoose(kind, data)
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
func (r *Repo) writeLoose(kind string, data []byte) (string, error) {
	t, err := plumbing.ParseObjectType(kind)
	if err != nil {
		return "", err
	}
	h := plumbing.NewHasher(t, int64(len(data)))
	h.Write(data)
	oid := h.Sum().String()
	dir := filepath.Join(r.Path, "objects", oid[:2])
	final := filepath.Join(dir, oid[2:])
	if _, err := os.Lstat(final); err == nil {
		return oid, nil
	}
	hdr := kind + " " + strconv.Itoa(len(data)) + "\x00"
	r.zmu.Lock()
	defer r.zmu.Unlock()
	r.zbuf.Reset()
	if n := len(hdr) + len(data); n <= storedMax || kind == "tree" && n <= maxStoredBlock {
		r.zbuf.Write(appendStoredZlib(r.zbuf.AvailableBuffer(), hdr, data))
	} else {
		if r.zw == nil {
			r.zw, _ = zlib.NewWriterLevel(&r.zbuf, zlib.BestSpeed)
		}
		r.zw.Reset(&r.zbuf)
		r.zw.Write([]byte(hdr))
		r.zw.Write(data)
		if err := r.zw.Close(); err != nil {
			return "", fmt.Errorf("object %s: %w", oid, err)
		}
	}
	if err := writeTempRename(dir, final, r.zbuf.Bytes()); err != nil {
		return "", fmt.Errorf("object %s: %w", oid, err)
	}
	return oid, nil
}

// storedMax is the largest object (header included) written as a zlib
// stream of one stored, uncompressed block: a loose object takes a whole
// filesystem block however small it is, so deflating a small one saves no
// disk, while setting up deflate costs a fresh process some 600 KB of
// compressor state to allocate and clear. git reads either.
const storedMax = 4000

// maxStoredBlock is the most one stored deflate block holds. Trees up to
// that size are stored too: they are mostly 20-byte hashes, which deflate
// does not shrink, and the directory of a namespace's issue buckets (256
// entries, some 8 KB) is rewritten by every change.
const maxStoredBlock = 65535

// appendStoredZlib appends hdr and data as a zlib stream holding one
// stored deflate block; len(hdr)+len(data) must be at most 65535.
func appendStoredZlib(b []byte, hdr string, data []byte) []byte {
	n := len(hdr) + len(data)
	b = append(b, 0x78, 0x01) // deflate, 32 KiB window, fastest; a multiple of 31
	b = append(b, 0x01, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
	b = append(b, hdr...)
	b = append(b, data...)
	a := adler32.New()
	a.Write([]byte(hdr))
	a.Write(data)
	return binary.BigEndian.AppendUint32(b, a.Sum32())
}

// writeTempRename writes data to a new read-only file in dir (made if
// missing) and renames it to final.
func writeTempRename(dir, final string, data []byte) error {
	var tmp string
	var err error
	for tries := 0; ; tries++ {
		tmp = filepath.Join(dir, "tmp_obj_"+strconv.FormatUint(rand.Uint64(), 36))
		err = writeSmall(tmp, data, 0o444, true)
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
func (r *Repo) ReadObject(oid string, limit int64) (string, []byte, error) {
	if !protocol.ValidOID(oid) {
		return "", nil, fmt.Errorf("object %q: %w", oid, ErrNotFound)
	}
	if kind, data, ok, err := r.readLoose(oid, limit); ok || err != nil {
		return kind, data, err
	}
	kind, data, err := r.readPacked(oid, limit)
	switch {
	case err == nil || errors.Is(err, ErrTooLarge):
		return kind, data, err
	case errors.Is(err, errNotPacked) && !r.hasAlternates():
		return "", nil, fmt.Errorf("object %s: %w", oid, ErrNotFound)
	}
	// Alternates, or a pack this reader does not know: go-git.
	return readEncoded(r.objects, oid, limit)
}

// readPacked reads object oid from the storage's mapped packs (pack.go).
// The mapping lives as long as r; a pack that git removes meanwhile stays
// readable through it.
func (r *Repo) readPacked(oid string, limit int64) (string, []byte, error) {
	ps := r.sharedPacks()
	pr, _ := r.packReaders.Get().(*packReader)
	if pr == nil {
		pr = &packReader{ps: ps}
	}
	defer r.packReaders.Put(pr)
	return pr.read(oid, limit)
}

// sharedPacks returns r's mapped packs, shared by ReadObject and every
// ObjectReader of r, made on first use. r holds one reference, let go when
// r is collected.
func (r *Repo) sharedPacks() *packs {
	r.packedOnce.Do(func() {
		r.packed = newPacks(filepath.Join(r.Path, "objects"))
		runtime.AddCleanup(r, (*packs).release, r.packed)
	})
	return r.packed
}

// hasAlternates reports whether the storage borrows objects from another
// (a push quarantine does).
func (r *Repo) hasAlternates() bool {
	_, err := os.Stat(filepath.Join(r.Path, "objects", "info", "alternates"))
	return err == nil
}

// looseDecoder takes a decoder from r's pool (an inflater's window alone
// is 32 KiB, cleared when made); return it with r.loose.Put.
func (r *Repo) looseDecoder() *looseDecoder {
	if d, _ := r.loose.Get().(*looseDecoder); d != nil {
		return d
	}
	return newLooseDecoder()
}

// readLoose reads a loose object file directly: go-git resolves every path
// component on each open, which costs more than the read. ok is false when
// there is no loose object (it may be packed).
func (r *Repo) readLoose(oid string, limit int64) (kind string, data []byte, ok bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(r.Path+"/objects/"+oid[:2]+"/"+oid[2:], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return "", nil, false, nil
	}
	defer syscall.Close(fd)
	d := r.looseDecoder()
	defer r.loose.Put(d)
	kind, data, err = d.decode(fd, oid, limit)
	return kind, data, true, err
}

// HasObject reports whether the storage holds object oid.
func (r *Repo) HasObject(oid string) bool {
	if !protocol.ValidOID(oid) {
		return false
	}
	if _, err := os.Lstat(filepath.Join(r.Path, "objects", oid[:2], oid[2:])); err == nil {
		return true
	}
	switch _, _, err := r.readPacked(oid, 0); {
	case err == nil || errors.Is(err, ErrTooLarge):
		return true
	case errors.Is(err, errNotPacked) && !r.hasAlternates():
		return false
	}
	return r.objects.HasEncodedObject(plumbing.NewHash(oid)) == nil
}
