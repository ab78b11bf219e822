package gitstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackReader reads delta chains (offset and ref deltas) with the pack
// reader alone, with no go-git behind it to hide a mistake.
func TestPackReader(t *testing.T) {
	ctx := context.Background()
	for _, ofs := range []bool{true, false} {
		t.Run(fmt.Sprintf("offset deltas %v", ofs), func(t *testing.T) {
			dir := t.TempDir()
			if _, err := runGit(ctx, dir, nil, "init", "-q", "--bare"); err != nil {
				t.Fatal(err)
			}
			files := t.TempDir()
			var paths []string
			var blobs [][]byte
			text := bytes.Repeat([]byte("a line of text that repeats\n"), 100)
			for i := range 120 {
				text[(i*53)%len(text)] = byte('a' + i%26)
				b := append([]byte(fmt.Sprintf("%d\n", i)), text...)
				p := filepath.Join(files, fmt.Sprint(i))
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				paths, blobs = append(paths, p), append(blobs, b)
			}
			out, err := runGit(ctx, dir, []byte(strings.Join(paths, "\n")+"\n"), "hash-object", "-w", "--stdin-paths")
			if err != nil {
				t.Fatal(err)
			}
			oids := strings.Fields(string(out))
			args := []string{"pack-objects", "-q", "--depth=30", "--window=30"}
			if ofs {
				args = append(args, "--delta-base-offset")
			}
			if _, err := runGit(ctx, dir, out, append(args, filepath.Join(dir, "objects", "pack", "pack"))...); err != nil {
				t.Fatal(err)
			}
			pr := packReader{ps: newPacks(filepath.Join(dir, "objects"))}
			defer pr.ps.release()
			for range 2 { // the second pass hits the cache of bases
				for i, oid := range oids {
					kind, data, err := pr.read(oid, 1<<20)
					if err != nil || kind != "blob" || !bytes.Equal(data, blobs[i]) {
						t.Fatalf("%s: %s %d bytes, %v", oid, kind, len(data), err)
					}
				}
			}
			if _, _, err := pr.read(strings.Repeat("0", 40), 1<<20); !errors.Is(err, errNotPacked) {
				t.Fatalf("missing object: %v", err)
			}
		})
	}
}

func TestApplyDelta(t *testing.T) {
	base := []byte("0123456789")
	tests := []struct {
		name    string
		delta   []byte
		want    string
		wantErr error
	}{
		{"copy and insert", []byte{10, 7, 0x91, 2, 4, 3, 'a', 'b', 'c'}, "2345abc", nil},
		{"whole base", []byte{10, 10, 0x90, 10}, "0123456789", nil},
		{"wrong base size", []byte{9, 1, 1, 'x'}, "", errPackFormat},
		{"copy past the base", []byte{10, 5, 0x91, 8, 5}, "", errPackFormat},
		{"longer than it says", []byte{10, 1, 2, 'a', 'b'}, "", errPackFormat},
		{"shorter than it says", []byte{10, 3, 1, 'a'}, "", errPackFormat},
		{"reserved op", []byte{10, 1, 0}, "", errPackFormat},
		{"truncated insert", []byte{10, 3, 3, 'a'}, "", errPackFormat},
		{"over the limit", []byte{10, 0x80, 0x80, 0x41}, "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyDelta(base, tt.delta, 1<<20)
			if !errors.Is(err, tt.wantErr) || err == nil && string(got) != tt.want {
				t.Fatalf("applyDelta = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("0123456789"), []byte{10, 7, 0x91, 2, 4, 3, 'a', 'b', 'c'})
	f.Add([]byte{}, []byte{0, 0x10, 0x90, 0})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := applyDelta(base, delta, 1<<16)
		if err == nil {
			if _, d, _ := deltaSize(delta); d != nil {
				if n, _, _ := deltaSize(d); int64(len(out)) != n {
					t.Fatalf("%d bytes out, delta says %d", len(out), n)
				}
			}
		}
	})
}

// FuzzPackObject reads objects out of damaged packs: an error, never a
// panic or a read outside the pack.
func FuzzPackObject(f *testing.F) {
	f.Add([]byte{0x35, 0x78, 0x9c, 0x4b, 0x4c, 0x4a, 0x06, 0x00, 0x02, 0x4d, 0x01, 0x27}, int64(12))
	f.Add([]byte{0x65, 0x05, 0x78, 0x9c}, int64(12))
	f.Add([]byte{0xf5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}, int64(12))
	f.Fuzz(func(t *testing.T, body []byte, off int64) {
		data := append([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01"), body...)
		data = append(data, make([]byte, 20)...)
		p := &pack{data: data}
		pr := packReader{ps: &packs{}}
		pr.object(p, off, 1<<20, 0)
	})
}
