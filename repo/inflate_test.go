package repo_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"maps"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// inflatingPack is a pack of two objects and under a kilobyte: a 64 KiB
// blob, and a delta on it that copies it size/64Ki times (one byte per
// copy), so the second blob inflates to size bytes.
func inflatingPack(t *testing.T, size int) []byte {
	t.Helper()
	deflate := func(b []byte) []byte {
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		w.Write(b)
		w.Close()
		return z.Bytes()
	}
	// An entry's header: type and size, 4 bits then 7 a byte.
	header := func(typ byte, n int) []byte {
		b := []byte{typ<<4 | byte(n&15)}
		for n >>= 4; n > 0; n >>= 7 {
			b[len(b)-1] |= 0x80
			b = append(b, byte(n&127))
		}
		return b
	}
	base := bytes.Repeat([]byte("x"), 64<<10)
	delta := binary.AppendUvarint(nil, uint64(len(base)))
	delta = binary.AppendUvarint(delta, uint64(size))
	// 0x80 alone: copy 0x10000 bytes from offset 0.
	delta = append(delta, bytes.Repeat([]byte{0x80}, size/len(base))...)
	entry1 := append(header(3, len(base)), deflate(base)...) // a blob
	entry2 := header(6, len(delta))                          // a delta, by offset
	entry2 = append(entry2, byte(len(entry1)))               // back to entry1
	if len(entry1) >= 128 {
		t.Fatalf("base entry of %d bytes needs a longer offset", len(entry1))
	}
	entry2 = append(entry2, deflate(delta)...)
	pack := []byte("PACK\x00\x00\x00\x02\x00\x00\x00\x02")
	pack = append(append(pack, entry1...), entry2...)
	sum := sha1.Sum(pack)
	return append(pack, sum[:]...)
}

// TestAcceptPackRefusesInflatingObject: an update pack of a few hundred
// bytes whose delta inflates past protocol.MaxObject is refused before git
// builds the object, and nothing moves.
func TestAcceptPackRefusesInflatingObject(t *testing.T) {
	ctx := context.Background()
	f := newUpdateFixture(t)
	nid := f.key.NID()
	before := nsRefs(t, f.peer, nid)
	pack := inflatingPack(t, protocol.MaxObject+64<<10)
	if len(pack) > 1<<10 {
		t.Fatalf("the pack is %d bytes", len(pack))
	}
	if _, err := f.peer.AcceptPack(ctx, nid, f.want, pack, nil); !errors.Is(err, repo.ErrObjectTooLarge) {
		t.Fatalf("accept of a pack inflating to %d bytes: %v", protocol.MaxObject+64<<10, err)
	}
	if got := nsRefs(t, f.peer, nid); !maps.Equal(got, before) {
		t.Errorf("refs moved: %v, want %v", got, before)
	}
	verifyClean(t, f.peer)
}
