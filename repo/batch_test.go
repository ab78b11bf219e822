package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/protocol"
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
				if !r.HasObject(oid) {
					t.Fatalf("%s: HasObject false", oid)
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
				if _, _, err := r.ReadObject(tt.oid, tt.limit); !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadObject: err = %v, want %v", err, tt.wantErr)
				}
				if has := r.HasObject(tt.oid); has != (tt.wantErr == repo.ErrTooLarge) {
					t.Fatalf("HasObject = %v", has)
				}
			})
		}
	}
	t.Run("loose", check)
	gitIn(t, r.Path, nil, "repack", "-a", "-d", "-q")
	gitIn(t, r.Path, nil, "prune-packed")
	t.Run("packed", check)
	// An object packed after r mapped the packs, by a repack that removed
	// the packs r mapped: r finds the new pack.
	oid, err := r.WriteObject("blob", []byte("later\n"))
	if err != nil {
		t.Fatal(err)
	}
	objs[oid] = obj{"blob", []byte("later\n")}
	gitIn(t, r.Path, nil, "repack", "-a", "-d", "-q")
	gitIn(t, r.Path, nil, "prune-packed")
	t.Run("repacked", check)
}

// TestListRefs lists the refs git for-each-ref lists: loose ones over
// packed ones, nested names, and no locks, symbolic refs or garbage.
func TestListRefs(t *testing.T) {
	k := testKey(t, 1)
	_, r := newProject(t, "refs", k)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	ns := "refs/namespaces/" + k.NID().String() + "/"
	for name, oid := range map[string]string{
		"refs/cobs/grove.issue/" + strings.Repeat("a", 40): c1,
		"refs/cobs/grove.issue/" + strings.Repeat("b", 40): c1,
		"refs/cobs/grove.patch/" + strings.Repeat("c", 40): c2,
		"refs/heads/deep/er/branch":                        c2,
	} {
		gitIn(t, r.Path, nil, "update-ref", ns+name, oid)
	}
	gitIn(t, r.Path, nil, "pack-refs", "--all")
	// After packing: one ref moves loose, one is new, and noise appears.
	gitIn(t, r.Path, nil, "update-ref", ns+"refs/cobs/grove.issue/"+strings.Repeat("a", 40), c2)
	gitIn(t, r.Path, nil, "update-ref", ns+"refs/cobs/grove.issue/"+strings.Repeat("d", 40), c2)
	dir := filepath.Join(r.Path, filepath.FromSlash(ns), "refs", "cobs", "grove.issue")
	os.WriteFile(filepath.Join(dir, strings.Repeat("e", 40)+".lock"), []byte(c1+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "symbolic"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "garbage"), bytes.Repeat([]byte("x"), 4096), 0o644)
	for _, prefix := range []string{ns + "refs/cobs/grove.issue/", ns + "refs/cobs/", ns, "refs/namespaces/", "refs/nothing/",
		"refs/namespaces/*/refs/cobs/*/a*", "refs/namespaces/*/refs/heads/deep/er/branch"} {
		got, err := r.RefFiles().List(prefix)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, l := range strings.Split(gitIn(t, r.Path, nil, "for-each-ref", "--format=%(objectname) %(refname)", prefix), "\n") {
			if oid, name, ok := strings.Cut(l, " "); ok && !strings.HasSuffix(name, "/symbolic") {
				want[name] = oid
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("List(%s) = %v\nwant %v", prefix, got, want)
		}
	}
	if got, _ := r.RefFiles().List(ns + "refs/cobs/grove.issue/"); len(got) != 3 || got[ns+"refs/cobs/grove.issue/"+strings.Repeat("a", 40)] != c2 {
		t.Errorf("issue refs: %v", got)
	}
}

// TestIdentityOf finds the identity Identity finds, from the identity refs
// alone.
func TestIdentityOf(t *testing.T) {
	k := testKey(t, 1)
	_, r := newProject(t, "ident", k)
	want, wantTip, err := r.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.RefFiles().Get(repo.NamespacePrefix(k.NID()) + protocol.IdentityRef)
	if err != nil || tip == "" {
		t.Fatal(tip, err)
	}
	tests := []struct {
		name    string
		in      map[string]string
		wantTip string
	}{
		{"own namespace", map[string]string{k.NID().String(): tip}, wantTip},
		{"none, the root", map[string]string{}, r.RID.OID()},
		{"empty ref", map[string]string{k.NID().String(): ""}, r.RID.OID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, gotTip, err := r.IdentityOf(tt.in)
			if err != nil || gotTip != tt.wantTip || doc.Name != want.Name {
				t.Fatalf("IdentityOf = %v %s %v, want %s", doc, gotTip, err, tt.wantTip)
			}
		})
	}
}

// TestObjectReaderDeltas reads back every object of a pack made of delta
// chains, with offset and with ref deltas, from readers that share the
// mapped packs on several goroutines.
func TestObjectReaderDeltas(t *testing.T) {
	for _, ofs := range []bool{true, false} {
		t.Run(fmt.Sprintf("offset deltas %v", ofs), func(t *testing.T) {
			_, r := newProject(t, "deltas", testKey(t, 1))
			want := map[string][]byte{}
			text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 200)
			for i := range 300 {
				b := append([]byte(fmt.Sprintf("version %d\n", i)), text...)
				b = append(b, fmt.Sprintf("tail %d\n", i*i)...)
				text[(i*37)%len(text)] = byte('a' + i%26) // drift, so chains form
				oid, err := r.WriteObject("blob", b)
				if err != nil {
					t.Fatal(err)
				}
				want[oid] = b
			}
			var list strings.Builder
			for oid := range want {
				list.WriteString(oid + "\n")
			}
			args := []string{"pack-objects", "-q", "--depth=50", "--window=50"}
			if ofs {
				args = append(args, "--delta-base-offset")
			}
			gitIn(t, r.Path, []byte(list.String()), append(args, filepath.Join(r.Path, "objects", "pack", "pack"))...)
			gitIn(t, r.Path, nil, "prune-packed")
			for oid := range want {
				if _, err := os.Stat(filepath.Join(r.Path, "objects", oid[:2], oid[2:])); err == nil {
					t.Fatalf("%s is still loose", oid)
				}
			}
			idx, _ := filepath.Glob(filepath.Join(r.Path, "objects", "pack", "*.idx"))
			if out := gitIn(t, r.Path, nil, "verify-pack", "-s", idx[0]); !strings.Contains(out, "chain length = 3") {
				t.Fatalf("no delta chains to test:\n%s", out)
			}
			rd := r.NewObjectReader()
			defer rd.Close()
			errs := make(chan error, 3)
			for g := range 3 {
				f := rd.Fork()
				go func() {
					defer f.Close()
					for oid, b := range want {
						kind, data, err := f.ReadObject(oid, 1<<20)
						if err != nil || kind != "blob" || !bytes.Equal(data, b) {
							errs <- fmt.Errorf("reader %d: %s: %s %d bytes, %v", g, oid, kind, len(data), err)
							return
						}
						if _, _, err := f.ReadObject(oid, 100); !errors.Is(err, repo.ErrTooLarge) {
							errs <- fmt.Errorf("reader %d: %s over the limit: %v", g, oid, err)
							return
						}
					}
					errs <- nil
				}()
			}
			for range 3 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestRefNames finds by prefix the names List finds, loose and packed,
// without reading a ref file.
func TestRefNames(t *testing.T) {
	k := testKey(t, 1)
	_, r := newProject(t, "names", k)
	c1 := commit(t, r, "one")
	ns := "refs/namespaces/" + k.NID().String() + "/"
	dir := ns + "refs/cobs/grove.issue/"
	ids := []string{strings.Repeat("a", 40), "ab" + strings.Repeat("0", 38), strings.Repeat("b", 40)}
	gitIn(t, r.Path, nil, "update-ref", dir+ids[0], c1)
	gitIn(t, r.Path, nil, "update-ref", ns+"refs/cobs/grove.patch/"+"ac"+strings.Repeat("1", 38), c1)
	gitIn(t, r.Path, nil, "pack-refs", "--all")
	gitIn(t, r.Path, nil, "update-ref", dir+ids[0], commit(t, r, "two", c1)) // loose and packed
	gitIn(t, r.Path, nil, "update-ref", dir+ids[1], c1)
	gitIn(t, r.Path, nil, "update-ref", dir+ids[2], c1)
	os.WriteFile(filepath.Join(r.Path, filepath.FromSlash(dir), "ad"+strings.Repeat("2", 38)+".lock"), []byte(c1+"\n"), 0o644)
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"a", ids[:2]},
		{"ab", ids[1:2]},
		{"", ids},
		{"ac", nil},
		{"c", nil},
	} {
		got, err := r.RefFiles().Names(dir + tt.prefix + "*")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range tt.want {
			want = append(want, dir+id)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Names(%q) = %v, want %v", tt.prefix, got, want)
		}
	}
	if got, err := r.RefFiles().Names("refs/namespaces/*/refs/cobs/*"); err != nil || fmt.Sprint(got) != fmt.Sprint([]string{ns + "refs/cobs/grove.issue", ns + "refs/cobs/grove.patch"}) {
		t.Errorf("Names(refs/namespaces/*/refs/cobs/*) = %v, %v", got, err)
	}
	if got, err := r.RefFiles().Names(ns + "refs/cobs/none/"); err != nil || len(got) != 0 {
		t.Errorf("missing directory: %v, %v", got, err)
	}
}
