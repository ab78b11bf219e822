package gitstore

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"example.com/grove/protocol"
)

// ObjectReader reads many raw objects, for one goroutine at a time: a
// walk over thousands of small objects (an index rebuild) is bound by the
// cost of each open, so loose objects are read with plain system calls,
// relative to a kept descriptor of their fan-out directory (looseFiles),
// through one reused inflater, and packed ones from packs mapped once
// (pack.go).
// Anything else (alternates, a pack format it does not know) is read
// through go-git.
type ObjectReader struct {
	s     *Store
	files looseFiles
	dec   *looseDecoder
	packs packReader
	alt   int8                // 1 if the storage has alternates, -1 if not, 0 unknown
	git   *filesystem.Storage // made when first needed
}

// NewObjectReader returns a reader of s's objects, sharing s's mapped
// packs. Close it when done.
func (s *Store) NewObjectReader() *ObjectReader {
	ps := s.sharedPacks()
	ps.retain()
	return newObjectReader(s, ps)
}

func newObjectReader(s *Store, ps *packs) *ObjectReader {
	o := &ObjectReader{s: s, dec: s.looseDecoder()}
	o.packs.ps = ps
	return o
}

// Fork returns another reader of the same objects, for another goroutine,
// that shares o's mapped packs. Close it too.
func (o *ObjectReader) Fork() *ObjectReader {
	ps := o.packs.ps
	ps.retain()
	return newObjectReader(o.s, ps)
}

// Close releases the reader's descriptors, and the mapped packs when no
// reader shares them any more.
func (o *ObjectReader) Close() error {
	if o.dec != nil {
		o.s.loose.Put(o.dec)
		o.dec = nil
	}
	if o.packs.ps != nil {
		o.packs.ps.release()
		o.packs.ps = nil
	}
	if o.git != nil {
		o.git.Close()
		o.git = nil
	}
	o.files.close()
	return nil
}

// ReadObject returns the kind and contents of object oid, as
// Store.ReadObject does.
func (o *ObjectReader) ReadObject(oid string, limit int64) (string, []byte, error) {
	if !protocol.ValidOID(oid) {
		return "", nil, fmt.Errorf("object %q: %w", oid, ErrNotFound)
	}
	if kind, data, ok, err := o.readLoose(oid, limit); ok || err != nil {
		return kind, data, err
	}
	kind, data, err := o.packs.read(oid, limit)
	switch {
	case err == nil || errors.Is(err, ErrTooLarge):
		return kind, data, err
	case errors.Is(err, errNotPacked) && o.alternates() < 0:
		return "", nil, fmt.Errorf("object %s: %w", oid, ErrNotFound)
	}
	if o.git == nil {
		o.git = filesystem.NewStorageWithOptions(osfs.New(o.s.dir), cache.NewObjectLRU(4*cache.MiByte),
			filesystem.Options{KeepDescriptors: true, AlternatesFS: osfs.New("/")})
	}
	return readEncoded(o.git, oid, limit)
}

// alternates reports whether the storage borrows objects from another.
func (o *ObjectReader) alternates() int8 {
	if o.alt == 0 {
		o.alt = -1
		if o.s.hasAlternates() {
			o.alt = 1
		}
	}
	return o.alt
}

func (o *ObjectReader) readLoose(oid string, limit int64) (kind string, data []byte, ok bool, err error) {
	f, err := o.files.open(o.s.dir+"/objects", oid)
	if err != nil {
		return "", nil, false, nil // not loose; it may be packed
	}
	defer o.files.done()
	if o.dec == nil { // read after Close
		o.dec = o.s.looseDecoder()
	}
	kind, data, err = o.dec.decode(f, oid, limit)
	return kind, data, true, err
}

// looseDecoder inflates loose object files, reusing its buffer and
// inflater: allocating them costs more than a small object, since each
// fresh page is a page fault, which is dear on virtual machines.
type looseDecoder struct {
	br  *bufio.Reader
	zr  io.ReadCloser
	hdr []byte
}

func newLooseDecoder() *looseDecoder {
	return &looseDecoder{br: bufio.NewReaderSize(nil, 16<<10), hdr: make([]byte, 0, 32)}
}

// decode reads loose object oid from file: "<kind> <size>\x00" and the
// contents, deflated, refusing contents over limit bytes.
func (d *looseDecoder) decode(file io.Reader, oid string, limit int64) (kind string, data []byte, err error) {
	d.br.Reset(file)
	defer d.br.Reset(nil)
	if d.zr == nil {
		d.zr, err = zlib.NewReader(d.br)
	} else {
		err = d.zr.(zlib.Resetter).Reset(d.br, nil)
	}
	if err != nil {
		d.zr = nil
		return "", nil, fmt.Errorf("object %s: %w", oid, err)
	}
	// The header is at most a few dozen bytes.
	hdr := d.hdr[:0]
	var b [1]byte
	for {
		if _, err := io.ReadFull(d.zr, b[:]); err != nil {
			return "", nil, fmt.Errorf("object %s: bad header: %w", oid, err)
		}
		if b[0] == 0 {
			break
		}
		if len(hdr) >= 32 {
			return "", nil, fmt.Errorf("object %s: bad header", oid)
		}
		hdr = append(hdr, b[0])
	}
	d.hdr = hdr
	sp := bytes.IndexByte(hdr, ' ')
	if sp < 0 {
		return "", nil, fmt.Errorf("object %s: bad header", oid)
	}
	switch string(hdr[:sp]) {
	case "blob":
		kind = "blob"
	case "tree":
		kind = "tree"
	case "commit":
		kind = "commit"
	case "tag":
		kind = "tag"
	default:
		return "", nil, fmt.Errorf("object %s: bad header", oid)
	}
	size, perr := strconv.ParseInt(string(hdr[sp+1:]), 10, 64)
	if perr != nil || size < 0 {
		return "", nil, fmt.Errorf("object %s: bad header", oid)
	}
	if size > limit {
		return "", nil, fmt.Errorf("object %s: %w: %d bytes, limit %d", oid, ErrTooLarge, size, limit)
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(d.zr, data); err != nil {
		return "", nil, fmt.Errorf("object %s: %w", oid, err)
	}
	return kind, data, nil
}

// readEncoded reads object oid through go-git (packs, alternates).
func readEncoded(st storer.EncodedObjectStorer, oid string, limit int64) (string, []byte, error) {
	obj, err := st.EncodedObject(plumbing.AnyObject, plumbing.NewHash(oid))
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return "", nil, fmt.Errorf("object %s: %w", oid, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("object %s: %w", oid, err)
	}
	if obj.Size() > limit {
		return "", nil, fmt.Errorf("object %s: %w: %d bytes, limit %d", oid, ErrTooLarge, obj.Size(), limit)
	}
	rd, err := obj.Reader()
	if err != nil {
		return "", nil, fmt.Errorf("object %s: %w", oid, err)
	}
	defer rd.Close()
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(rd, data); err != nil {
		return "", nil, fmt.Errorf("object %s: %w", oid, err)
	}
	return obj.Type().String(), data, nil
}
