package repo_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"example.com/grove/repo"
)

// TestObjectReader reads the same objects as Repo.ReadObject, loose and
// then packed, and fails the same way.
func TestObjectReader(t *testing.T) {
	_, r := newProject(t, "objects", testKey(t, 1))
	big := bytes.Repeat([]byte("abcdefgh"), 8192) // 64 KiB, over one read
	type obj struct {
		kind string
		data []byte
	}
	objs := map[string]obj{}
	var bigOID string
	for _, o := range []obj{
		{"blob", []byte("hello\n")},
		{"blob", nil},
		{"blob", big},
		{"tree", nil},
		{"commit", []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a> 1 +0000\ncommitter a <a> 1 +0000\n\nm\n")},
	} {
		oid, err := r.WriteObject(o.kind, o.data)
		if err != nil {
			t.Fatal(err)
		}
		objs[oid] = o
		if len(o.data) == len(big) {
			bigOID = oid
		}
	}
	check := func(t *testing.T) {
		rd := r.NewObjectReader()
		defer rd.Close()
		for range 2 { // a second pass reuses descriptors and inflater
			for oid, o := range objs {
				kind, data, err := rd.ReadObject(oid, 1<<20)
				if err != nil || kind != o.kind || !bytes.Equal(data, o.data) {
					t.Fatalf("%s: %s %d bytes, %v; want %s %d bytes", oid, kind, len(data), err, o.kind, len(o.data))
				}
				wk, wd, werr := r.ReadObject(oid, 1<<20)
				if werr != nil || wk != kind || !bytes.Equal(wd, data) {
					t.Fatalf("%s: ReadObject gives %s %d bytes, %v", oid, wk, len(wd), werr)
				}
			}
		}
		tests := []struct {
			name    string
			oid     string
			limit   int64
			wantErr error
		}{
			{"missing", strings.Repeat("0", 40), 1 << 20, repo.ErrNotFound},
			{"missing fan-out directory", "ff" + strings.Repeat("e", 38), 1 << 20, repo.ErrNotFound},
			{"not an oid", "HEAD", 1 << 20, repo.ErrNotFound},
			{"upper case", strings.Repeat("A", 40), 1 << 20, repo.ErrNotFound},
			{"over the limit", bigOID, 1000, repo.ErrTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, _, err := rd.ReadObject(tt.oid, tt.limit); !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			})
		}
	}
	t.Run("loose", check)
	gitIn(t, r.Path, nil, "repack", "-a", "-d", "-q")
	gitIn(t, r.Path, nil, "prune-packed")
	t.Run("packed", check)
}
