package repo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"

	"example.com/grove/protocol"
)

// ObjectReader reads many raw objects, for one goroutine at a time: a
// walk over thousands of small objects (an index rebuild) is bound by the
// cost of each open, so loose objects are read with plain system calls,
// relative to a kept descriptor of their fan-out directory, through one
// reused inflater. Packed objects are read through go-git, with a handle
// of the reader's own.
type ObjectReader struct {
	r    *Repo
	dirs [256]int // descriptors of objects/xx; 0 when not open
	file fdReader
	br   *bufio.Reader
	zr   io.ReadCloser
	hdr  []byte
	pack *Repo // go-git handle for packed objects, opened when first needed
}

// NewObjectReader returns a reader of r's objects. Close it when done.
func (r *Repo) NewObjectReader() *ObjectReader {
	return &ObjectReader{r: r, br: bufio.NewReaderSize(nil, 16<<10), hdr: make([]byte, 0, 32)}
}

// Close releases the reader's descriptors.
func (o *ObjectReader) Close() error {
	for i, fd := range o.dirs {
		if fd > 0 {
			syscall.Close(fd)
			o.dirs[i] = 0
		}
	}
	return nil
}

// fdReader reads a file descriptor with no os.File around it.
type fdReader struct{ fd int }

func (f *fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// ReadObject returns the kind and contents of object oid, as
// Repo.ReadObject does.
func (o *ObjectReader) ReadObject(oid string, limit int64) (string, []byte, error) {
	if !protocol.ValidOID(oid) {
		return "", nil, fmt.Errorf("object %q: %w", oid, ErrNotFound)
	}
	if kind, data, ok, err := o.readLoose(oid, limit); ok || err != nil {
		return kind, data, err
	}
	if o.pack == nil {
		p, err := openPath(o.r.Path, o.r.RID)
		if err != nil {
			return "", nil, err
		}
		o.pack = p
	}
	return o.pack.readPacked(oid, limit)
}

// dir returns a descriptor of the fan-out directory objects/xx, or -1.
// A directory that does not exist is not remembered: it may appear.
func (o *ObjectReader) dir(oid string) int {
	hi, _ := unhex(oid[0])
	lo, _ := unhex(oid[1])
	i := int(hi)<<4 | int(lo)
	if fd := o.dirs[i]; fd > 0 {
		return fd
	}
	for {
		fd, err := syscall.Open(o.r.Path+"/objects/"+oid[:2], syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1
		}
		o.dirs[i] = fd
		return fd
	}
}

func (o *ObjectReader) readLoose(oid string, limit int64) (kind string, data []byte, ok bool, err error) {
	d := o.dir(oid)
	if d < 0 {
		return "", nil, false, nil
	}
	var fd int
	for {
		fd, err = syscall.Openat(d, oid[2:], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return "", nil, false, nil // not loose; it may be packed
	}
	defer syscall.Close(fd)
	o.file.fd = fd
	o.br.Reset(&o.file)
	if o.zr == nil {
		o.zr, err = zlib.NewReader(o.br)
	} else {
		err = o.zr.(zlib.Resetter).Reset(o.br, nil)
	}
	if err != nil {
		o.zr = nil
		return "", nil, true, fmt.Errorf("object %s: %w", oid, err)
	}
	// The header is "<kind> <size>\x00", at most a few dozen bytes.
	hdr := o.hdr[:0]
	var b [1]byte
	for {
		if _, err := io.ReadFull(o.zr, b[:]); err != nil {
			return "", nil, true, fmt.Errorf("object %s: bad header: %w", oid, err)
		}
		if b[0] == 0 {
			break
		}
		if len(hdr) >= 32 {
			return "", nil, true, fmt.Errorf("object %s: bad header", oid)
		}
		hdr = append(hdr, b[0])
	}
	o.hdr = hdr
	sp := bytes.IndexByte(hdr, ' ')
	if sp < 0 {
		return "", nil, true, fmt.Errorf("object %s: bad header", oid)
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
		return "", nil, true, fmt.Errorf("object %s: bad header", oid)
	}
	size, perr := strconv.ParseInt(string(hdr[sp+1:]), 10, 64)
	if perr != nil || size < 0 {
		return "", nil, true, fmt.Errorf("object %s: bad header", oid)
	}
	if size > limit {
		return "", nil, true, fmt.Errorf("object %s: %w: %d bytes, limit %d", oid, ErrTooLarge, size, limit)
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(o.zr, data); err != nil {
		return "", nil, true, fmt.Errorf("object %s: %w", oid, err)
	}
	return kind, data, true, nil
}

// readPacked reads object oid through go-git (packs, alternates).
func (r *Repo) readPacked(oid string, limit int64) (string, []byte, error) {
	obj, err := r.git.Storer.EncodedObject(plumbing.AnyObject, plumbing.NewHash(oid))
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
