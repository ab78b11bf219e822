package gitstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// PackIndex is the list of objects in one version 2 pack index (.idx):
// its fanout table and sorted object names, enough to ask whether a pack
// holds an object without mapping the pack. The CRCs and offsets that
// follow them in the file (8 of each object's 28 bytes) are not read.
type PackIndex struct {
	fanout []byte // 256 big-endian counts
	names  []byte // n × 20, sorted
	n      int
}

// ReadPackIndex reads the pack index at path.
func ReadPackIndex(path string) (*PackIndex, error) {
	f, fanout, n, err := openPackIndex(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := make([]byte, 20*n)
	if _, err := f.ReadAt(names, 8+1024); err != nil {
		return nil, fmt.Errorf("pack index %s: %w", path, err)
	}
	return &PackIndex{fanout: fanout, names: names, n: n}, nil
}

// EachPackIndexID calls fn with the binary ID of each object of the pack
// index at path, in sorted order, until fn returns false. It reads the
// names a block at a time, so a large index costs one block of memory;
// id is only valid during the call.
func EachPackIndexID(path string, fn func(id []byte) bool) error {
	f, _, n, err := openPackIndex(path)
	if err != nil {
		return err
	}
	defer f.Close()
	const perBlock = 1 << 12
	buf := make([]byte, 20*min(n, perBlock))
	for i := 0; i < n; i += perBlock {
		b := buf[:20*min(n-i, perBlock)]
		if _, err := f.ReadAt(b, int64(8+1024+20*i)); err != nil {
			return fmt.Errorf("pack index %s: %w", path, err)
		}
		for j := 0; j < len(b); j += 20 {
			if !fn(b[j : j+20]) {
				return nil
			}
		}
	}
	return nil
}

// openPackIndex opens the pack index at path and reads and checks its
// header and fanout table: n is its number of objects.
func openPackIndex(path string) (f *os.File, fanout []byte, n int, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	size := fi.Size()
	head := make([]byte, 8+1024)
	if size < 8+1024+40 {
		f.Close()
		return nil, nil, 0, fmt.Errorf("pack index %s: %w", path, errPackFormat)
	}
	if _, err := f.ReadAt(head, 0); err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("pack index %s: %w", path, err)
	}
	if string(head[:4]) != "\xfftOc" || binary.BigEndian.Uint32(head[4:]) != 2 {
		f.Close()
		return nil, nil, 0, fmt.Errorf("pack index %s: %w", path, errPackFormat)
	}
	fanout = head[8:]
	var prev uint32
	for i := 0; i < 256; i++ {
		c := binary.BigEndian.Uint32(fanout[4*i:])
		if c < prev {
			f.Close()
			return nil, nil, 0, fmt.Errorf("pack index %s: %w", path, errPackFormat)
		}
		prev = c
	}
	if int64(prev) > (size-8-1024-40)/28 {
		f.Close()
		return nil, nil, 0, fmt.Errorf("pack index %s: %w", path, errPackFormat)
	}
	return f, fanout, int(prev), nil
}

// Len is the number of objects in the pack.
func (x *PackIndex) Len() int { return x.n }

// ID returns the binary object ID of the i-th object, in sorted order.
func (x *PackIndex) ID(i int) []byte { return x.names[20*i : 20*i+20] }

// Has reports whether the pack holds the object with binary ID id.
func (x *PackIndex) Has(id []byte) bool {
	lo := 0
	if id[0] > 0 {
		lo = int(binary.BigEndian.Uint32(x.fanout[4*(int(id[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(x.fanout[4*int(id[0]):]))
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(x.names[20*m:20*m+20], id); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}
