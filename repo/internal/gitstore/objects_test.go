package gitstore

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
	"strings"
	"testing"
)

const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

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
		f.Add(appendStoredZlib(nil, hdr, []byte(o.data)), uint16(100))
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
		w.Write([]byte(hdr + o.data))
		w.Close()
		f.Add(z.Bytes(), uint16(100))
		f.Add(z.Bytes()[:z.Len()/2], uint16(100))
		f.Add(z.Bytes(), uint16(0))
	}
	f.Add(appendStoredZlib(nil, "blob 99999999999999999999\x00", nil), uint16(100))
	f.Add(appendStoredZlib(nil, "blob -1\x00", nil), uint16(100))
	f.Add(appendStoredZlib(nil, "tree 00\x00", nil), uint16(100)) // read as 0 bytes, as "+0" is; git refuses both
	f.Add(appendStoredZlib(nil, "blob 3", nil), uint16(100))
	f.Add(appendStoredZlib(nil, "blobby 3\x00abc", nil), uint16(100))
	f.Add(appendStoredZlib(nil, strings.Repeat("b", 40)+"\x00", nil), uint16(100))
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
