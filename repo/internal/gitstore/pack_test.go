package gitstore

import (
	"errors"
	"testing"
)

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
