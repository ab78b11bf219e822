package gitstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// PackIndex is the list of objects in one version 2 pack index (.idx),
// read whole: enough to ask whether a pack holds an object without
// mapping the pack.
type PackIndex struct {
	fanout []byte // 256 big-endian counts
	names  []byte // n × 20, sorted
	n      int
}

// ReadPackIndex reads the pack index at path.
func ReadPackIndex(path string) (*PackIndex, error) {
	idx, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(idx) < 8+1024+40 || string(idx[:4]) != "\xfftOc" || binary.BigEndian.Uint32(idx[4:]) != 2 {
		return nil, fmt.Errorf("pack index %s: %w", path, errPackFormat)
	}
	fanout := idx[8 : 8+1024]
	var prev uint32
	for i := 0; i < 256; i++ {
		c := binary.BigEndian.Uint32(fanout[4*i:])
		if c < prev {
			return nil, fmt.Errorf("pack index %s: %w", path, errPackFormat)
		}
		prev = c
	}
	n := int(prev)
	if n > (len(idx)-8-1024-40)/28 {
		return nil, fmt.Errorf("pack index %s: %w", path, errPackFormat)
	}
	return &PackIndex{fanout: fanout, names: idx[8+1024 : 8+1024+20*n], n: n}, nil
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
