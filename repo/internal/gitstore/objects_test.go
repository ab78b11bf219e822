package gitstore

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// storedZlib returns hdr and data as a zlib stream of stored blocks, as
// writeLoose writes small objects.
func storedZlib(hdr string, data []byte) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.NoCompression)
	w.Write([]byte(hdr))
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// FuzzLooseObject inflates arbitrary bytes as a loose object file: an
// error, or contents of a known kind, within the limit, that are what
// zlib reads after the header the file declares.
func FuzzLooseObject(f *testing.F) {
	for _, o := range []struct{ kind, data string }{
		{"blob", "hello\n"},
		{"blob", ""},
		{"tree", "100644 a\x00" + strings.Repeat("\x01", 20)},
		{"commit", "tree " + emptyTree + "\n\nm\n"},
		{"tag", "object x\n"},
	} {
		hdr := o.kind + " " + strconv.Itoa(len(o.data)) + "\x00"
		f.Add(storedZlib(hdr, []byte(o.data)), uint16(100))
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
		w.Write([]byte(hdr + o.data))
		w.Close()
		f.Add(z.Bytes(), uint16(100))
		f.Add(z.Bytes()[:z.Len()/2], uint16(100))
		f.Add(z.Bytes(), uint16(0))
	}
	f.Add(storedZlib("blob 99999999999999999999\x00", nil), uint16(100))
	f.Add(storedZlib("blob -1\x00", nil), uint16(100))
	f.Add(storedZlib("tree 00\x00", nil), uint16(100)) // read as 0 bytes, as "+0" is; git refuses both
	f.Add(storedZlib("blob 3", nil), uint16(100))
	f.Add(storedZlib("blobby 3\x00abc", nil), uint16(100))
	f.Add(storedZlib(strings.Repeat("b", 40)+"\x00", nil), uint16(100))
	f.Add([]byte{}, uint16(100))
	d := newLooseDecoder()
	f.Fuzz(func(t *testing.T, file []byte, limit uint16) {
		kind, data, err := d.decode(bytes.NewReader(file), emptyTree, int64(limit))
		if err != nil {
			return
		}
		switch kind {
		case "blob", "tree", "commit", "tag":
		default:
			t.Fatalf("kind %q", kind)
		}
		if len(data) > int(limit) {
			t.Fatalf("%d bytes read over a limit of %d", len(data), limit)
		}
		zr, err := zlib.NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("decoded %q, which zlib does not read: %v", file, err)
		}
		// The header ("<kind> <size>", a NUL) as the stream has it: the
		// size may be written otherwise than strconv.Itoa would.
		got, _ := io.ReadAll(io.LimitReader(zr, int64(33+len(data))))
		hdr, rest, ok := bytes.Cut(got, []byte{0})
		if !ok || !bytes.HasPrefix(hdr, []byte(kind+" ")) {
			t.Fatalf("decoded %s %q from a stream with header %q", kind, data, hdr)
		}
		if n, err := strconv.ParseInt(string(hdr[len(kind)+1:]), 10, 64); err != nil || n != int64(len(data)) {
			t.Fatalf("decoded %d bytes; the header says %q", len(data), hdr)
		}
		if !bytes.HasPrefix(rest, data) {
			t.Fatalf("decoded %s %q; the stream holds %q", kind, data, rest)
		}
	})
}

// TestWriteLooseStoresSmall: objects up to storedMax, and trees up to one
// stored block, are written uncompressed; bigger ones deflated.
func TestWriteLooseStoresSmall(t *testing.T) {
	dir, s := newStore(t)
	gitlinks := func(n int) []byte {
		es := make([]protocol.TreeEntry, n)
		for i := range es {
			es[i] = protocol.TreeEntry{Mode: protocol.ModeGitlink, Name: fmt.Sprintf("e%05d", i), OID: fmt.Sprintf("%040x", i+1)}
		}
		protocol.SortTree(es)
		return protocol.EncodeTree(es)
	}
	text := []byte(strings.Repeat("all work and no play\n", 190))
	for _, c := range []struct {
		kind   string
		data   []byte
		stored bool
	}{
		{"blob", text, true},
		{"blob", append(text, text...), false},
		{"tree", gitlinks(1900), true},
		{"tree", gitlinks(2100), false},
	} {
		oid, err := s.WriteObject(c.kind, c.data)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "objects", oid[:2], oid[2:]))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Size() > int64(len(c.data)); got != c.stored {
			t.Errorf("%s of %d bytes: %d bytes on disk, stored %v, want %v", c.kind, len(c.data), fi.Size(), got, c.stored)
		}
	}
}
