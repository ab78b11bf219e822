package gitstore

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Packed objects, read for ObjectReader: every pack of the storage is
// mapped read-only once and shared by the readers of one rebuild, and each
// reader keeps its own inflater and a small cache of delta bases (in a
// pack of change commits nearly every commit is a delta, in chains up to
// git's depth, whose first links serve thousands of objects). go-git, by
// contrast, reopens the pack file for every object and keeps a
// per-handle index of every object in the pack in a map.

// errPackFormat marks a pack or index this reader does not understand; the
// object is then read through go-git instead.
var errPackFormat = errors.New("pack format")

// errNotPacked means no pack holds the object.
var errNotPacked = errors.New("not in a pack")

// packs is the set of mapped packs of one storage, shared by readers.
type packs struct {
	dir    string // objects/pack
	mu     sync.RWMutex
	list   []*pack
	loaded map[string]bool // .idx names mapped so far
	refs   int             // readers using the set
	// unmapped is set when a pack could not be mapped (half written, or
	// a format this reader does not know): an object in none of the
	// mapped packs may be in it, for go-git to read.
	unmapped bool
}

// pack is one mapped .pack and its version 2 .idx.
type pack struct {
	idx, data []byte
	n         int
	fanout    []byte // 256 big-endian counts
	names     []byte // n × 20
	offsets   []byte // n × 4
	large     []byte // 8 each
}

func newPacks(objects string) *packs {
	return &packs{dir: filepath.Join(objects, "pack"), loaded: map[string]bool{}, refs: 1}
}

// scan maps the packs not mapped yet. A pack that another process removes
// stays readable through its mapping.
func (ps *packs) scan() error {
	ents, err := os.ReadDir(ps.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, e := range ents {
		name := e.Name()
		base, ok := strings.CutSuffix(name, ".idx")
		if !ok || ps.loaded[name] {
			continue
		}
		p, err := mapPack(filepath.Join(ps.dir, base))
		if err != nil {
			ps.unmapped = true
			continue // half written, or not ours to read: go-git may
		}
		ps.loaded[name] = true
		ps.list = append(ps.list, p)
	}
	return nil
}

// retain takes one more reference to the packs, for another reader.
func (ps *packs) retain() {
	ps.mu.Lock()
	ps.refs++
	ps.mu.Unlock()
}

// release unmaps the packs when the last reader is done.
func (ps *packs) release() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.refs--; ps.refs > 0 {
		return
	}
	for _, p := range ps.list {
		munmap(p.idx)
		munmap(p.data)
	}
	ps.list = nil
}

func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() == 0 || fi.Size() != int64(int(fi.Size())) {
		return nil, errPackFormat
	}
	return mmap(f, int(fi.Size()))
}

// mapPack maps base.idx and base.pack and checks that they belong
// together.
func mapPack(base string) (*pack, error) {
	idx, err := mapFile(base + ".idx")
	if err != nil {
		return nil, err
	}
	data, err := mapFile(base + ".pack")
	if err != nil {
		munmap(idx)
		return nil, err
	}
	p, err := parseIdx(idx, data)
	if err != nil {
		munmap(idx)
		munmap(data)
		return nil, err
	}
	return p, nil
}

func parseIdx(idx, data []byte) (*pack, error) {
	if len(idx) < 8+1024+40 || string(idx[:4]) != "\xfftOc" || binary.BigEndian.Uint32(idx[4:]) != 2 {
		return nil, errPackFormat
	}
	if len(data) < 12+20 || string(data[:4]) != "PACK" {
		return nil, errPackFormat
	}
	if v := binary.BigEndian.Uint32(data[4:]); v != 2 && v != 3 {
		return nil, errPackFormat
	}
	fanout := idx[8 : 8+1024]
	var prev uint32
	for i := 0; i < 256; i++ {
		c := binary.BigEndian.Uint32(fanout[4*i:])
		if c < prev {
			return nil, errPackFormat
		}
		prev = c
	}
	n := int(prev)
	body := 8 + 1024
	if n > (len(idx)-body-40)/28 {
		return nil, errPackFormat
	}
	p := &pack{idx: idx, data: data, n: n, fanout: fanout}
	p.names = idx[body : body+20*n]
	p.offsets = idx[body+24*n : body+28*n]
	p.large = idx[body+28*n : len(idx)-40]
	// The index names the pack it indexes by the pack's checksum.
	if !bytes.Equal(idx[len(idx)-40:len(idx)-20], data[len(data)-20:]) {
		return nil, errPackFormat
	}
	return p, nil
}

// find returns the offset of object id in p, or -1.
func (p *pack) find(id []byte) int64 {
	lo := 0
	if id[0] > 0 {
		lo = int(binary.BigEndian.Uint32(p.fanout[4*(int(id[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(p.fanout[4*int(id[0]):]))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(p.names[20*m:20*m+20], id); {
		case c == 0:
			off := binary.BigEndian.Uint32(p.offsets[4*m:])
			if off&0x80000000 == 0 {
				return int64(off)
			}
			i := int(off &^ 0x80000000)
			if 8*i+8 > len(p.large) {
				return -1
			}
			return int64(binary.BigEndian.Uint64(p.large[8*i:]) & (1<<63 - 1))
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return -1
}

// Pack object types.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objTag      = 4
	objOfsDelta = 6
	objRefDelta = 7
)

var kindNames = [...]string{objCommit: "commit", objTree: "tree", objBlob: "blob", objTag: "tag"}

// maxDeltaDepth bounds a chain of deltas (git makes at most 4095).
const maxDeltaDepth = 10000

// maxBase bounds the size of a delta base read to resolve a delta.
const maxBase = 64 << 20

// baseCache remembers resolved objects by pack and offset: direct mapped,
// so a lookup is one slot and nothing needs evicting by hand. Its slots
// (192 KiB) are made on the first put: a reader of loose objects only
// would otherwise clear them for nothing, one fresh page at a time.
type baseCache struct {
	slots *[4096]baseSlot
}

type baseSlot struct {
	p    *pack
	off  int64
	kind int
	data []byte
}

func (c *baseCache) get(p *pack, off int64) (int, []byte, bool) {
	if c.slots == nil {
		return 0, nil, false
	}
	s := &c.slots[uint64(off)*0x9e3779b97f4a7c15>>52]
	if s.p == p && s.off == off && s.data != nil {
		return s.kind, s.data, true
	}
	return 0, nil, false
}

func (c *baseCache) put(p *pack, off int64, kind int, data []byte) {
	if len(data) > 64<<10 {
		return
	}
	if c.slots == nil {
		c.slots = new([4096]baseSlot)
	}
	s := &c.slots[uint64(off)*0x9e3779b97f4a7c15>>52]
	s.p, s.off, s.kind, s.data = p, off, kind, data
}

// packReader is one reader's state for reading packed objects.
type packReader struct {
	ps    *packs
	zr    io.ReadCloser
	br    bytes.Reader
	cache baseCache
	id    [20]byte
}

// read returns the kind and contents of object oid from the packs, which
// are scanned again once when oid is in none of them.
func (pr *packReader) read(oid string, limit int64) (string, []byte, error) {
	if _, err := hex.Decode(pr.id[:], []byte(oid)); err != nil {
		return "", nil, errNotPacked
	}
	p, off := pr.locate(pr.id[:])
	if p == nil {
		if err := pr.ps.scan(); err != nil {
			return "", nil, err
		}
		if p, off = pr.locate(pr.id[:]); p == nil {
			pr.ps.mu.RLock()
			defer pr.ps.mu.RUnlock()
			if pr.ps.unmapped {
				return "", nil, errPackFormat
			}
			return "", nil, errNotPacked
		}
	}
	kind, data, err := pr.object(p, off, limit, 0)
	if err != nil {
		return "", nil, err
	}
	if kind < objCommit || kind > objTag {
		return "", nil, errPackFormat
	}
	return kindNames[kind], data, nil
}

func (pr *packReader) locate(id []byte) (*pack, int64) {
	pr.ps.mu.RLock()
	defer pr.ps.mu.RUnlock()
	for _, p := range pr.ps.list {
		if off := p.find(id); off >= 0 {
			return p, off
		}
	}
	return nil, -1
}

// object returns the object at off in p, resolving deltas. Objects larger
// than limit are ErrTooLarge.
func (pr *packReader) object(p *pack, off int64, limit int64, depth int) (int, []byte, error) {
	if kind, data, ok := pr.cache.get(p, off); ok {
		if int64(len(data)) > limit {
			return 0, nil, ErrTooLarge
		}
		if depth == 0 {
			data = bytes.Clone(data) // the caller's to keep
		}
		return kind, data, nil
	}
	if depth > maxDeltaDepth || off < 12 || off >= int64(len(p.data))-20 {
		return 0, nil, errPackFormat
	}
	d := p.data[off : len(p.data)-20]
	c := d[0]
	kind := int(c>>4) & 7
	size := int64(c & 15)
	i := 1
	for shift := 4; c&0x80 != 0; shift += 7 {
		if i >= len(d) || shift > 56 {
			return 0, nil, errPackFormat
		}
		c = d[i]
		i++
		size |= int64(c&0x7f) << shift
	}
	switch kind {
	case objCommit, objTree, objBlob, objTag:
		if size > limit {
			return 0, nil, ErrTooLarge
		}
		data, err := pr.inflate(d[i:], size)
		if err != nil {
			return 0, nil, err
		}
		if depth > 0 {
			pr.cache.put(p, off, kind, data)
		}
		return kind, data, nil
	case objOfsDelta, objRefDelta:
		var bp *pack
		var boff int64
		if kind == objOfsDelta {
			if i >= len(d) {
				return 0, nil, errPackFormat
			}
			c = d[i]
			i++
			rel := int64(c & 0x7f)
			for c&0x80 != 0 {
				if i >= len(d) || rel > 1<<50 {
					return 0, nil, errPackFormat
				}
				c = d[i]
				i++
				rel = (rel+1)<<7 | int64(c&0x7f)
			}
			if rel <= 0 || rel > off-12 {
				return 0, nil, errPackFormat
			}
			bp, boff = p, off-rel
		} else {
			if i+20 > len(d) {
				return 0, nil, errPackFormat
			}
			bp, boff = pr.locate(d[i : i+20])
			i += 20
			if bp == nil {
				return 0, nil, errPackFormat // a thin pack: go-git looks further
			}
		}
		if size > maxBase {
			return 0, nil, errPackFormat
		}
		delta, err := pr.inflate(d[i:], size)
		if err != nil {
			return 0, nil, err
		}
		bkind, base, err := pr.object(bp, boff, maxBase, depth+1)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				err = errPackFormat
			}
			return 0, nil, err
		}
		data, err := applyDelta(base, delta, limit)
		if err != nil {
			return 0, nil, err
		}
		if depth > 0 {
			pr.cache.put(p, off, bkind, data)
		}
		return bkind, data, nil
	}
	return 0, nil, errPackFormat
}

// inflate returns the size bytes that the zlib stream at the start of b
// inflates to.
func (pr *packReader) inflate(b []byte, size int64) ([]byte, error) {
	pr.br.Reset(b)
	var err error
	if pr.zr == nil {
		pr.zr, err = zlib.NewReader(&pr.br)
	} else {
		err = pr.zr.(zlib.Resetter).Reset(&pr.br, nil)
	}
	if err != nil {
		pr.zr = nil
		return nil, errPackFormat
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(pr.zr, out); err != nil {
		return nil, errPackFormat
	}
	return out, nil
}

// deltaSize reads one of a delta's two leading sizes.
func deltaSize(d []byte) (int64, []byte, bool) {
	var n int64
	for shift := 0; ; shift += 7 {
		if len(d) == 0 || shift > 56 {
			return 0, nil, false
		}
		c := d[0]
		d = d[1:]
		n |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			return n, d, true
		}
	}
}

// applyDelta rebuilds an object from its base and a git delta.
func applyDelta(base, delta []byte, limit int64) ([]byte, error) {
	src, d, ok := deltaSize(delta)
	if !ok || src != int64(len(base)) {
		return nil, errPackFormat
	}
	dst, d, ok := deltaSize(d)
	if !ok {
		return nil, errPackFormat
	}
	if dst > limit {
		return nil, ErrTooLarge
	}
	out := make([]byte, 0, dst)
	for len(d) > 0 {
		op := d[0]
		d = d[1:]
		switch {
		case op&0x80 != 0:
			var off, n uint64
			for b := 0; b < 4; b++ {
				if op&(1<<b) != 0 {
					if len(d) == 0 {
						return nil, errPackFormat
					}
					off |= uint64(d[0]) << (8 * b)
					d = d[1:]
				}
			}
			for b := 0; b < 3; b++ {
				if op&(0x10<<b) != 0 {
					if len(d) == 0 {
						return nil, errPackFormat
					}
					n |= uint64(d[0]) << (8 * b)
					d = d[1:]
				}
			}
			if n == 0 {
				n = 0x10000
			}
			if off+n > uint64(len(base)) || int64(len(out))+int64(n) > dst {
				return nil, errPackFormat
			}
			out = append(out, base[off:off+n]...)
		case op != 0:
			if int(op) > len(d) || int64(len(out))+int64(op) > dst {
				return nil, errPackFormat
			}
			out = append(out, d[:op]...)
			d = d[op:]
		default:
			return nil, errPackFormat
		}
	}
	if int64(len(out)) != dst {
		return nil, errPackFormat
	}
	return out, nil
}
