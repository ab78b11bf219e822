package repo

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
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

// packedRefs is one reading of a packed-refs file. Its lines are
// "<oid> SP <name> LF", each optionally followed by peeled lines
// "^<oid> LF"; a line of another shape is skipped. When the header names
// the "sorted" trait, as git pack-refs writes it, lookups search the
// bytes by bisection, trusting the order as git does; otherwise they scan
// every line.
type packedRefs struct {
	b      []byte
	body   int // offset of the first line after the header
	sorted bool
}

func parsePackedRefs(b []byte) packedRefs {
	p := packedRefs{b: b}
	const hdr = "# pack-refs with:"
	if !bytes.HasPrefix(b, []byte(hdr)) {
		return p
	}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return packedRefs{b: b, body: len(b)}
	}
	p.body = eol + 1
	for _, t := range strings.Split(string(b[len(hdr):eol]), " ") {
		if t == "sorted" {
			p.sorted = true
		}
	}
	return p
}

// refLine splits a ref line ("<oid> <name>") into its oid and name.
func refLine(line []byte) (oid, name []byte, ok bool) {
	if len(line) <= 41 || line[40] != ' ' {
		return nil, nil, false
	}
	return line[:40], line[41:], true
}

// line returns the line that starts at off, without its LF, and the offset
// of the next one.
func (p packedRefs) line(off int) (line []byte, next int) {
	if i := bytes.IndexByte(p.b[off:], '\n'); i >= 0 {
		return p.b[off : off+i], off + i + 1
	}
	return p.b[off:], len(p.b)
}

// seek returns, in a sorted file, the start of a line from which the
// first ref line is the first whose name is not less than key, or len(b).
func (p packedRefs) seek(key string) int {
	// lo and hi are line starts; refs before lo are < key, refs from hi on
	// are >= key.
	lo, hi := p.body, len(p.b)
	for lo < hi {
		mid := lo + (hi-lo)/2
		s := lo + bytes.LastIndexByte(p.b[lo:mid], '\n') + 1
		// The first ref line from s on, before hi.
		r, found := s, false
		for r < hi {
			line, next := p.line(r)
			if _, name, ok := refLine(line); ok {
				if string(name) < key {
					lo = next
				} else {
					hi = r
				}
				found = true
				break
			}
			r = next
		}
		if !found {
			hi = s // no ref in [s, hi)
		}
	}
	return lo
}

// scan calls fn with the oid and name of each ref line whose name starts
// with prefix, in file order, until fn returns false. The slices point
// into the file's bytes.
func (p packedRefs) scan(prefix string, fn func(oid, name []byte) bool) {
	off := p.body
	if p.sorted {
		off = p.seek(prefix)
	}
	for off < len(p.b) {
		line, next := p.line(off)
		off = next
		oid, name, ok := refLine(line)
		if !ok {
			continue // peeled line or garbage
		}
		if len(name) >= len(prefix) && string(name[:len(prefix)]) == prefix {
			if !fn(oid, name) {
				return
			}
		} else if p.sorted {
			return // past the names with prefix
		}
	}
}

// dirs calls fn with each directory right below prefix (which ends in
// "/") that holds a ref: "a" for "<prefix>a/b". A sorted file is read a
// few lines per directory, skipping the refs within each.
func (p packedRefs) dirs(prefix string, fn func(dir []byte)) {
	if !p.sorted {
		p.scan(prefix, func(_, name []byte) bool {
			if j := bytes.IndexByte(name[len(prefix):], '/'); j > 0 {
				fn(name[len(prefix) : len(prefix)+j])
			}
			return true
		})
		return
	}
	for key := prefix; ; {
		var name []byte
		for off := p.seek(key); name == nil && off < len(p.b); {
			var line []byte
			line, off = p.line(off)
			_, name, _ = refLine(line)
		}
		if name == nil || len(name) < len(prefix) || string(name[:len(prefix)]) != prefix {
			return
		}
		if j := bytes.IndexByte(name[len(prefix):], '/'); j > 0 {
			fn(name[len(prefix) : len(prefix)+j])
			key = string(name[:len(prefix)+j]) + "0" // '0' follows '/': past the directory
		} else {
			key = string(name) + "\x00" // the next name
		}
	}
}

// get returns the oid of the first line for name, "" if there is none.
// With valid, lines whose oid is not a valid one are skipped.
func (p packedRefs) get(name string, valid bool) string {
	var oid string
	p.scan(name, func(o, n []byte) bool {
		if string(n) != name {
			return !p.sorted // sorted: name itself comes first
		}
		if valid && !protocol.ValidOID(string(o)) {
			return true
		}
		oid = string(o)
		return false
	})
	return oid
}

// RefFiles reads refs straight from the files git keeps them in (loose ref
// files first, then packed-refs), with no git process: for hot read paths
// that look up a few refs among many. It maps packed-refs rather than
// reading it (see packedMap), once for Get and Namespaces, and again for
// List and Names only if the file was replaced.
//
// The RefFiles owns the mapping and a cleanup unmaps it once the RefFiles
// is unreachable: callers are many and hold it briefly, so an explicit
// Close would be one more thing to forget. That is safe because nothing it
// returns aliases the mapping (every name and oid handed out is a string
// copy), and each method that reads the mapped bytes keeps f alive until
// it is done with them (runtime.KeepAlive). Within the package, refTx
// unmaps its own at once with release. A RefFiles is for one goroutine at
// a time: List and Names may unmap what a concurrent Get reads.
type RefFiles struct {
	dir     string
	packed  packedRefs
	loaded  bool
	m       *packedMap // owns packed.b when it is mapped; nil until first read
	cleanup runtime.Cleanup
}

// RefFiles returns a reader of the storage's refs.
func (r *Repo) RefFiles() *RefFiles { return &RefFiles{dir: r.Path} }

// packedRefs returns the packed refs, mapping the file on first use and
// again after loaded is reset, unless the file is still the one mapped.
// The previous mapping is unmapped: callers hold none of its bytes by then.
func (f *RefFiles) packedRefs() (packedRefs, error) {
	if f.loaded {
		return f.packed, nil
	}
	path := filepath.Join(f.dir, "packed-refs")
	if f.m == nil {
		f.m = new(packedMap)
		f.cleanup = runtime.AddCleanup(f, (*packedMap).unmap, f.m)
	} else if f.m.same(path) {
		f.loaded = true
		return f.packed, nil
	}
	f.m.unmap()
	f.packed = packedRefs{}
	b, err := mapPacked(path, f.m)
	if err != nil {
		return packedRefs{}, err
	}
	f.packed, f.loaded = parsePackedRefs(b), true
	return f.packed, nil
}

// release unmaps packed-refs now; f must not be used after.
func (f *RefFiles) release() {
	if f.m != nil {
		f.cleanup.Stop()
		f.m.unmap()
	}
	f.packed, f.loaded = packedRefs{}, false
}

// Get returns the oid the full ref name points at, or "" if there is none.
// Symbolic refs are not followed; they read as absent.
func (f *RefFiles) Get(name string) (string, error) {
	b, err := readSmall(filepath.Join(f.dir, filepath.FromSlash(name)), maxRefFile)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if protocol.ValidOID(s) {
			return s, nil
		}
		return "", nil
	case errors.Is(err, fs.ErrNotExist), isNotDir(err):
	default:
		return "", fmt.Errorf("read ref %s: %w", name, err)
	}
	p, err := f.packedRefs()
	if err != nil {
		return "", err
	}
	// Bisection when git wrote it sorted, else a scan.
	oid := p.get(name, false)
	runtime.KeepAlive(f) // p.b is f's mapping
	return oid, nil
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// Namespaces returns the NIDs (as strings) that have at least one ref,
// loose or packed, sorted. Names that are not NIDs are skipped.
func (f *RefFiles) Namespaces() ([]string, error) {
	seen := make(map[string]bool)
	ents, err := os.ReadDir(filepath.Join(f.dir, "refs", "namespaces"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			seen[e.Name()] = true
		}
	}
	p, err := f.packedRefs()
	if err != nil {
		return nil, err
	}
	p.dirs("refs/namespaces/", func(ns []byte) { seen[string(ns)] = true })
	runtime.KeepAlive(f) // p.b is f's mapping
	out := make([]string, 0, len(seen))
	for ns := range seen {
		if _, err := protocol.ParseNID(ns); err == nil {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out, nil
}

// List returns every ref whose full name starts with prefix (which ends in
// "/", e.g. "refs/namespaces/"), loose or packed, by full name, as
// `git for-each-ref` would, without starting git. Symbolic refs and files
// that are not refs (locks, garbage) are skipped. Each loose ref file is
// read with plain system calls relative to its directory: listing the
// 10,000 object refs of a namespace then costs a third of the calls
// os.ReadFile makes.
func (f *RefFiles) List(prefix string) (map[string]string, error) {
	out := make(map[string]string)
	var buf [128]byte
	var scan func(dir, name string) error
	scan = func(dir, name string) error {
		d, err := os.Open(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
				return nil
			}
			return err
		}
		defer d.Close()
		ents, err := d.ReadDir(-1)
		if err != nil {
			return err
		}
		dfd := int(d.Fd())
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() {
				if err := scan(dir+"/"+n, name+n+"/"); err != nil {
					return err
				}
				continue
			}
			if strings.HasSuffix(n, ".lock") {
				continue
			}
			fd, err := syscall.Openat(dfd, n, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			for err == syscall.EINTR {
				fd, err = syscall.Openat(dfd, n, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			}
			if err == syscall.ENOENT {
				continue // deleted meanwhile; packed-refs may still have it
			}
			if err != nil {
				return fmt.Errorf("read ref %s%s: %w", name, n, err)
			}
			k, err := io.ReadFull(&fdReader{fd}, buf[:])
			syscall.Close(fd)
			if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
				return fmt.Errorf("read ref %s%s: %w", name, n, err)
			}
			if s := strings.TrimSpace(string(buf[:k])); protocol.ValidOID(s) {
				out[name+n] = s
			}
		}
		return nil
	}
	if err := scan(filepath.Join(f.dir, filepath.FromSlash(strings.TrimSuffix(prefix, "/"))), prefix); err != nil {
		return nil, fmt.Errorf("list refs %s: %w", prefix, err)
	}
	// packed-refs after the loose refs, the order in which a concurrent
	// git pack-refs cannot hide a ref.
	f.loaded = false // read packed-refs now, after the loose refs
	p, err := f.packedRefs()
	if err != nil {
		return nil, err
	}
	p.scan(prefix, func(oid, name []byte) bool {
		if _, loose := out[string(name)]; !loose && protocol.ValidOID(string(oid)) {
			out[string(name)] = string(oid)
		}
		return true
	})
	runtime.KeepAlive(f) // p.b is f's mapping
	return out, nil
}

// Names returns the last components of the refs directly below dir (a
// full ref directory ending in "/", e.g. a namespace's
// "refs/cobs/grove.issue/") that start with prefix, loose or packed,
// sorted and without duplicates. It reads directory entries only, never
// the ref files: finding which object an ID prefix names among 10,000
// costs one directory read. Entries are not checked: a caller looking for
// object IDs skips names that are not.
func (f *RefFiles) Names(dir, prefix string) ([]string, error) {
	seen := make(map[string]bool)
	d, err := os.Open(filepath.Join(f.dir, filepath.FromSlash(strings.TrimSuffix(dir, "/"))))
	switch {
	case err == nil:
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("list refs %s: %w", dir, err)
		}
		for _, n := range names {
			if strings.HasPrefix(n, prefix) && !strings.HasSuffix(n, ".lock") {
				seen[n] = true
			}
		}
	case errors.Is(err, fs.ErrNotExist), isNotDir(err):
	default:
		return nil, fmt.Errorf("list refs %s: %w", dir, err)
	}
	// packed-refs after the directory, as List reads them.
	f.loaded = false
	p, err := f.packedRefs()
	if err != nil {
		return nil, err
	}
	p.scan(dir+prefix, func(_, name []byte) bool {
		if n := name[len(dir):]; bytes.IndexByte(n, '/') < 0 {
			seen[string(n)] = true
		}
		return true
	})
	runtime.KeepAlive(f) // p.b is f's mapping
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
