package gitstore

// The conformance suite: every reader and writer of this package against
// real git. Objects we write are read by git (cat-file, fsck) and objects
// git writes, loose and in every kind of pack git makes, are read by each
// of our readers; refs we write are seen by git (for-each-ref, fsck, its
// own transactions after ours) and refs git writes, loose and packed, are
// read by each of ours. git is the oracle throughout: every expected value
// comes from a git command, none from this package.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"example.com/grove/protocol"
)

// gitObject is an object as git reads it.
type gitObject struct {
	kind string
	data []byte
}

// gitObjects returns every object of the repository at dir (and of its
// alternates), as git cat-file reads them.
func gitObjects(t *testing.T, dir string) map[string]gitObject {
	t.Helper()
	out := gitIn(t, dir, nil, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
	objs := map[string]gitObject{}
	b, err := runGit(t.Context(), dir, []byte(out+"\n"), "cat-file", "--batch")
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(bytes.NewReader(b))
	for {
		hdr, err := rd.ReadString('\n')
		if err == io.EOF {
			break
		}
		f := strings.Fields(hdr)
		if err != nil || len(f) != 3 {
			t.Fatalf("cat-file --batch: %q, %v", hdr, err)
		}
		n, _ := strconv.Atoi(f[2])
		data := make([]byte, n+1) // and the LF after it
		if _, err := io.ReadFull(rd, data); err != nil {
			t.Fatal(err)
		}
		objs[f[0]] = gitObject{f[1], data[:n]}
	}
	if len(objs) == 0 {
		t.Fatal("git lists no objects")
	}
	return objs
}

// history is a fast-import stream of every kind of object: blobs that are
// versions of one another (deltas), an empty one and one over 64 KiB,
// nested trees, commits with one and two parents, and an annotated tag.
func history() []byte {
	var b bytes.Buffer
	text := bytes.Repeat([]byte("a line of text that the versions share\n"), 120)
	big := make([]byte, 70<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte('a' + rng.IntN(4))
	}
	data := func(d []byte) { fmt.Fprintf(&b, "data %d\n%s\n", len(d), d) }
	fmt.Fprintf(&b, "blob\nmark :1\n")
	data(nil)
	fmt.Fprintf(&b, "blob\nmark :2\n")
	data(big)
	for i := range 40 {
		text[(i*97)%len(text)] = byte('A' + i%26)
		fmt.Fprintf(&b, "blob\nmark :%d\n", 10+i)
		data(append([]byte(fmt.Sprintf("version %d\n", i)), text...))
		fmt.Fprintf(&b, "commit refs/heads/main\nmark :%d\ncommitter Grove Test <test@grove.invalid> %d +0100\n", 100+i, 1700000000+i)
		data([]byte(fmt.Sprintf("change %d\n\nwith a body", i)))
		if i == 0 {
			fmt.Fprintf(&b, "M 100644 :1 empty\nM 100755 :2 big\n")
		}
		if i == 30 {
			fmt.Fprintf(&b, "merge :%d\n", 100+i-2)
		}
		fmt.Fprintf(&b, "M 100644 :%d text\nM 100644 :%d dir/sub/text%d\n", 10+i, 10+i, i%3)
	}
	fmt.Fprintf(&b, "tag v1\nfrom :120\ntagger Grove Test <test@grove.invalid> 1700000000 +0000\n")
	data([]byte("a tag\n"))
	return b.Bytes()
}

// objectSources are the ways git stores the objects of history(): each
// makes a bare repository at dir holding them.
var objectSources = []struct {
	name string
	make func(t *testing.T, dir string)
}{
	{"fast-import pack", func(t *testing.T, dir string) {}},
	{"loose", func(t *testing.T, dir string) {
		packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
		for _, p := range packs {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(p, ".pack")
			for _, ext := range []string{".pack", ".idx", ".rev"} {
				os.Remove(base + ext)
			}
			gitIn(t, dir, b, "unpack-objects", "-q")
		}
	}},
	{"repack -a -d -f (offset deltas)", func(t *testing.T, dir string) {
		gitIn(t, dir, nil, "repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
	}},
	{"repack without offset deltas (ref deltas)", func(t *testing.T, dir string) {
		gitIn(t, dir, nil, "-c", "repack.useDeltaBaseOffset=false", "repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
	}},
	{"gc --aggressive", func(t *testing.T, dir string) {
		gitIn(t, dir, nil, "gc", "-q", "--aggressive", "--prune=now")
	}},
	{"64-bit pack offsets", func(t *testing.T, dir string) {
		gitIn(t, dir, nil, "repack", "-a", "-d", "-f", "-q")
		packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
		for _, p := range packs {
			base := strings.TrimSuffix(p, ".pack")
			os.Remove(base + ".idx")
			os.Remove(base + ".rev")
			// Every offset past 64 in the index's table of large offsets.
			gitIn(t, dir, nil, "index-pack", "--index-version=2,64", p)
			idx, err := os.ReadFile(base + ".idx")
			if err != nil {
				t.Fatal(err)
			}
			n := int(binary.BigEndian.Uint32(idx[8+255*4:]))
			if len(idx) <= 8+1024+28*n+40 {
				t.Fatalf("no large offsets in the index of %d objects", n)
			}
		}
	}},
	{"loose and two packs", func(t *testing.T, dir string) {
		// The first objects loose, a few in a pack of their own, the rest
		// in the fast-import pack.
		list := strings.Fields(gitIn(t, dir, nil, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)"))
		gitIn(t, dir, []byte(strings.Join(list[:10], "\n")+"\n"), "pack-objects", "-q", filepath.Join(dir, "objects", "pack", "pack"))
		out := gitIn(t, dir, []byte(strings.Join(list[10:20], "\n")+"\n"), "pack-objects", "-q", "--stdout")
		other := t.TempDir()
		gitIn(t, other, nil, "init", "-q", "--bare")
		gitIn(t, other, []byte(out), "unpack-objects", "-q")
		loose, _ := filepath.Glob(filepath.Join(other, "objects", "??", "*"))
		for _, l := range loose {
			to := filepath.Join(dir, "objects", filepath.Base(filepath.Dir(l)), filepath.Base(l))
			os.MkdirAll(filepath.Dir(to), 0o755)
			if err := os.Rename(l, to); err != nil {
				t.Fatal(err)
			}
		}
	}},
	{"through alternates", func(t *testing.T, dir string) {
		// dir's objects move to another repository, which dir borrows.
		// (go-git follows an alternate only to a directory named objects,
		// as a quarantine's is.)
		other := filepath.Join(t.TempDir(), "objects")
		if err := os.Rename(filepath.Join(dir, "objects"), other); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "objects", "info"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "objects", "info", "alternates"), []byte(other+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}},
}

// objectReaders are every way this package reads an object.
var objectReaders = []struct {
	name string
	open func(t *testing.T, dir string) (read func(oid string, limit int64) (string, []byte, error), done func())
}{
	{"Store.ReadObject", func(t *testing.T, dir string) (func(string, int64) (string, []byte, error), func()) {
		return Open(dir).ReadObject, func() {}
	}},
	{"ObjectReader", func(t *testing.T, dir string) (func(string, int64) (string, []byte, error), func()) {
		rd := Open(dir).NewObjectReader()
		return rd.ReadObject, func() { rd.Close() }
	}},
	{"ObjectReader.Fork", func(t *testing.T, dir string) (func(string, int64) (string, []byte, error), func()) {
		rd := Open(dir).NewObjectReader()
		f := rd.Fork()
		rd.Close() // the fork keeps the mapped packs
		return f.ReadObject, func() { f.Close() }
	}},
	{"Store.Overlay (a quarantine of the repository)", func(t *testing.T, dir string) (func(string, int64) (string, []byte, error), func()) {
		q := t.TempDir()
		gitIn(t, q, nil, "init", "-q", "--bare")
		abs, _ := filepath.Abs(filepath.Join(dir, "objects"))
		if err := os.WriteFile(filepath.Join(q, "objects", "info", "alternates"), []byte(abs+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return Open(dir).Overlay(q).ReadObject, func() {}
	}},
	{"Store.Overlay (the repository as a quarantine)", func(t *testing.T, dir string) (func(string, int64) (string, []byte, error), func()) {
		// What arrived is in the overlay itself, which looks in its
		// packs before its loose objects.
		if _, err := os.Stat(filepath.Join(dir, "objects", "info", "alternates")); err == nil {
			t.Skip("a quarantine borrows objects only from the storage it overlays")
		}
		base := t.TempDir()
		gitIn(t, base, nil, "init", "-q", "--bare")
		return Open(base).Overlay(dir).ReadObject, func() {}
	}},
}

// TestConformanceReadObjects reads every object git stored, by each
// reader from each kind of storage, and compares it with git cat-file.
func TestConformanceReadObjects(t *testing.T) {
	stream := history()
	for _, src := range objectSources {
		t.Run(src.name, func(t *testing.T) {
			dir := t.TempDir()
			gitIn(t, dir, nil, "init", "-q", "--bare")
			gitIn(t, dir, stream, "fast-import", "--quiet")
			want := gitObjects(t, dir)
			src.make(t, dir)
			if got := gitObjects(t, dir); len(got) != len(want) {
				t.Fatalf("git lost objects: %d, had %d", len(got), len(want))
			}
			if strings.Contains(src.name, "deltas") {
				idx, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
				if out := gitIn(t, dir, nil, "verify-pack", "-s", idx[0]); !strings.Contains(out, "chain length = 5") {
					t.Fatalf("no delta chains to read:\n%s", out)
				}
			}
			kinds := map[string]bool{}
			var big string
			for oid, o := range want {
				kinds[o.kind] = true
				if len(o.data) > 64<<10 {
					big = oid
				}
			}
			if len(kinds) != 4 || big == "" {
				t.Fatalf("history has kinds %v, big %q", kinds, big)
			}
			for _, r := range objectReaders {
				t.Run(r.name, func(t *testing.T) {
					read, done := r.open(t, dir)
					defer done()
					for range 2 { // the second time through caches and reused inflaters
						for oid, o := range want {
							kind, data, err := read(oid, 1<<20)
							if err != nil || kind != o.kind || !bytes.Equal(data, o.data) {
								t.Fatalf("%s: %s of %d bytes, %v; git reads a %s of %d bytes", oid, kind, len(data), err, o.kind, len(o.data))
							}
						}
					}
					if _, _, err := read(big, 64<<10); !errors.Is(err, ErrTooLarge) {
						t.Errorf("%s over the limit: %v, want ErrTooLarge", big, err)
					}
					for _, oid := range []string{strings.Repeat("0", 40), "ff" + strings.Repeat("e", 38), "HEAD", strings.ToUpper(big)} {
						if _, _, err := read(oid, 1<<20); !errors.Is(err, ErrNotFound) {
							t.Errorf("%s: %v, want ErrNotFound", oid, err)
						}
					}
				})
			}
			t.Run("Store.HasObject", func(t *testing.T) {
				s := Open(dir)
				for oid := range want {
					if !s.HasObject(oid) {
						t.Fatalf("HasObject(%s) = false", oid)
					}
				}
				if s.HasObject(strings.Repeat("0", 40)) {
					t.Fatal("HasObject of a missing object")
				}
			})
			t.Run("readers on goroutines", func(t *testing.T) {
				rd := Open(dir).NewObjectReader()
				defer rd.Close()
				var wg sync.WaitGroup
				errs := make(chan error, 3)
				for range 3 {
					f := rd.Fork()
					wg.Go(func() {
						defer f.Close()
						for oid, o := range want {
							if kind, data, err := f.ReadObject(oid, 1<<20); err != nil || kind != o.kind || !bytes.Equal(data, o.data) {
								errs <- fmt.Errorf("%s: %s of %d bytes, %v", oid, kind, len(data), err)
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
			})
		})
	}
}

// TestConformanceWriteObjects writes objects of every kind and size with
// Store.WriteObject and checks that git computes the same oids, reads the
// same contents and finds the repository sound; and that our readers read
// them back.
func TestConformanceWriteObjects(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, nil, "init", "-q", "--bare")
	s := Open(dir)
	gitlinks := func(n int) []byte {
		es := make([]protocol.TreeEntry, n)
		for i := range es {
			es[i] = protocol.TreeEntry{Mode: protocol.ModeGitlink, Name: fmt.Sprintf("e%05d", i), OID: fmt.Sprintf("%040x", i+1)}
		}
		protocol.SortTree(es)
		return protocol.EncodeTree(es)
	}
	blob := func(data string) string {
		oid, err := s.WriteObject("blob", []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return oid
	}
	small, empty := blob("hello\n"), blob("")
	files := protocol.EncodeTree([]protocol.TreeEntry{{Mode: 0o100644, Name: "a", OID: small}, {Mode: 0o100755, Name: "b", OID: empty}})
	tree, err := s.WriteObject("tree", files)
	if err != nil {
		t.Fatal(err)
	}
	who := Sig{Name: "Grove Test", Email: "test@grove.invalid", When: testTime}
	root := (&Commit{Tree: tree, Author: who, Committer: who, Message: "root\n"}).Encode()
	rootOID, err := s.WriteObject("commit", root)
	if err != nil {
		t.Fatal(err)
	}
	child := (&Commit{Tree: tree, Parents: []string{rootOID}, Author: who, Committer: who, Message: "child\n\nbody\n"}).Encode()
	objects := []gitObject{
		{"blob", []byte("hello\n")},
		{"blob", nil},
		{"blob", []byte(strings.Repeat("all work and no play\n", 190))},  // just under a stored block
		{"blob", []byte(strings.Repeat("all work and no play\n", 5000))}, // deflated
		{"tree", nil},
		{"tree", files},
		{"tree", gitlinks(1900)}, // under 64 KiB
		{"tree", gitlinks(2100)}, // over
		{"commit", root},
		{"commit", child},
	}
	for _, o := range objects {
		for range 2 { // writing again is harmless
			oid, err := s.WriteObject(o.kind, o.data)
			if err != nil {
				t.Fatal(err)
			}
			if want := gitIn(t, dir, o.data, "hash-object", "-t", o.kind, "--stdin", "--literally"); oid != want {
				t.Fatalf("%s of %d bytes: oid %s, git says %s", o.kind, len(o.data), oid, want)
			}
			got := gitObjects(t, dir)[oid]
			if got.kind != o.kind || !bytes.Equal(got.data, o.data) {
				t.Fatalf("%s: git reads a %s of %d bytes, wrote a %s of %d", oid, got.kind, len(got.data), o.kind, len(o.data))
			}
			for _, r := range objectReaders {
				read, done := r.open(t, dir)
				kind, data, err := read(oid, 1<<20)
				done()
				if err != nil || kind != o.kind || !bytes.Equal(data, o.data) {
					t.Fatalf("%s reads %s back as a %s of %d bytes, %v", r.name, oid, kind, len(data), err)
				}
			}
		}
	}
	if _, err := s.WriteObject("tag", []byte("x")); err == nil {
		t.Error("wrote a tag")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "objects", "*", "tmp_obj_*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// The commits are sound to git, the strictest way, with refs on them.
	gitIn(t, dir, nil, "update-ref", "refs/heads/main", gitIn(t, dir, child, "hash-object", "-t", "commit", "--stdin"))
	gitIn(t, dir, nil, "fsck", "--strict", "--no-dangling")
	if got := gitIn(t, dir, nil, "log", "--format=%T %P %an <%ae> %at%n%B", "-1", "main"); got != tree+" "+rootOID+" Grove Test <test@grove.invalid> "+strconv.FormatInt(testTime.Unix(), 10)+"\nchild\n\nbody" {
		t.Errorf("git log reads:\n%s", got)
	}
}

// TestConformanceParseCommits parses commits git wrote (one and two
// parents, extra headers, a message with blank lines) as git reads them.
func TestConformanceParseCommits(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, nil, "init", "-q", "--bare")
	gitIn(t, dir, history(), "fast-import", "--quiet")
	tree := gitIn(t, dir, nil, "rev-parse", "main^{tree}")
	// A commit with an encoding header and a multi-line extra header,
	// as git commit-tree and signing tools write them.
	raw := "tree " + tree + "\nparent " + gitIn(t, dir, nil, "rev-parse", "main") + "\nauthor A <a@b> 1 +0000\ncommitter C <c@d> 2 -0130\nencoding ISO-8859-1\nmergetag object x\n type commit\n\n\nmessage\n\n\nafter blank lines\n"
	gitIn(t, dir, []byte(raw), "hash-object", "-t", "commit", "-w", "--stdin")
	commits := 0
	for oid, o := range gitObjects(t, dir) {
		if o.kind != "commit" {
			continue
		}
		commits++
		c, err := ParseCommit(o.data)
		if err != nil {
			t.Fatalf("%s: %v", oid, err)
		}
		want := strings.SplitN(gitIn(t, dir, nil, "log", "-1", "--format=%T%n%P%n%B", oid), "\n", 3)
		if c.Tree != want[0] || strings.Join(c.Parents, " ") != want[1] {
			t.Fatalf("%s: tree %s parents %v; git reads %q", oid, c.Tree, c.Parents, want[:2])
		}
		// git log prints the message with its trailing newlines trimmed.
		if strings.TrimRight(c.Message, "\n") != strings.TrimRight(want[2], "\n") {
			t.Fatalf("%s: message %q; git reads %q", oid, c.Message, want[2])
		}
	}
	if commits < 40 {
		t.Fatalf("%d commits", commits)
	}
}

// refState is git's own listing of the refs that match pattern.
func refState(t *testing.T, dir string, patterns ...string) map[string]string {
	t.Helper()
	out := gitIn(t, dir, nil, append([]string{"for-each-ref", "--format=%(objectname) %(refname)"}, patterns...)...)
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if oid, name, ok := strings.Cut(l, " "); ok {
			m[name] = oid
		}
	}
	return m
}

// TestConformanceReadRefs reads refs git wrote (loose, packed by git
// pack-refs, loose over packed, deleted from packed-refs, with peeled
// lines, symbolic refs and stray lock files about) with Get, List and
// Names, and compares them with git for-each-ref.
func TestConformanceReadRefs(t *testing.T) {
	dir := t.TempDir()
	git := func(stdin []byte, args ...string) string { t.Helper(); return gitIn(t, dir, stdin, args...) }
	git(nil, "init", "-q", "--bare")
	blob := git([]byte("x\n"), "hash-object", "-w", "--stdin")
	tree := git([]byte("100644 blob "+blob+"\tx\n"), "mktree")
	c1 := git(nil, "commit-tree", "-m", "one", tree)
	c2 := git(nil, "commit-tree", "-m", "two", "-p", c1, tree)
	git(nil, "tag", "-a", "-m", "t", "v1", c1) // a peeled line once packed
	nids := testNIDs(t, 3)
	rng := rand.New(rand.NewPCG(7, 7))
	var stdin bytes.Buffer
	for i, ns := range nids {
		pre := "refs/namespaces/" + ns + "/refs/"
		fmt.Fprintf(&stdin, "create %sheads/main %s\n", pre, c1)
		fmt.Fprintf(&stdin, "create %sgrove/sigrefs %s\n", pre, c2)
		for range 600 + 200*i {
			fmt.Fprintf(&stdin, "create %scobs/grove.issue/%s %s\n", pre, randOID(rng), []string{c1, c2}[rng.IntN(2)])
		}
	}
	git(stdin.Bytes(), "update-ref", "--stdin")
	looseOnly := refState(t, dir)
	git(nil, "pack-refs", "--all")
	packed, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
	if err != nil {
		t.Fatal(err)
	}
	if !sortedOK(packed) || !bytes.Contains(packed, []byte("\n^")) {
		t.Fatalf("git wrote no sorted packed-refs with a peeled line:\n%.300s", packed)
	}
	var issue []string
	for _, r := range linearRefs(packed) {
		if strings.Contains(r.name, "/cobs/grove.issue/") {
			issue = append(issue, r.name)
		}
	}
	packedOnly := refState(t, dir)
	git(nil, "update-ref", issue[0], c2)                                                   // loose over packed
	git(nil, "update-ref", issue[len(issue)-1], c1)                                        // the last one
	git(nil, "update-ref", "refs/namespaces/"+nids[1]+"/refs/heads/new", c2)               // loose only
	git(nil, "update-ref", "-d", issue[500])                                               // deleted from packed-refs
	git(nil, "symbolic-ref", "refs/namespaces/"+nids[0]+"/refs/heads/sym", "refs/tags/v1") // symbolic: absent
	if err := os.WriteFile(filepath.Join(dir, "refs", "tags", "v1.lock"), []byte(c2+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cobs := filepath.Join(dir, "refs", "namespaces", nids[0], "refs", "cobs", "grove.issue")
	os.MkdirAll(cobs, 0o755)
	if err := os.WriteFile(filepath.Join(cobs, "garbage"), bytes.Repeat([]byte("x"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	patterns := []string{"refs/", "refs/tags/", "refs/namespaces/" + nids[1] + "/",
		"refs/namespaces/*/refs/heads/main", "refs/namespaces/*/refs/grove/sigrefs", "refs/namespaces/*/refs/heads/*",
		"refs/namespaces/" + nids[2] + "/refs/cobs/grove.issue/a*", "refs/namespaces/*/refs/cobs/grove.issue/0*",
		issue[3], issue[500], "refs/nothing/"}
	check := func(t *testing.T, sym string) {
		all := refState(t, dir)
		delete(all, sym)
		f := NewRefs(dir)
		for name, oid := range all {
			if got, err := f.Get(name); err != nil || got != oid {
				t.Fatalf("Get(%s) = %q, %v; git reads %s", name, got, err, oid)
			}
		}
		for _, name := range []string{issue[500], sym, "refs/a", "refs/zzz", "refs/namespaces/" + nids[2] + "/refs/cobs/grove.issue/" + strings.Repeat("f", 40)} {
			if _, ok := all[name]; ok {
				continue
			}
			if got, err := f.Get(name); err != nil || got != "" {
				t.Errorf("Get(%s) = %q, %v; git reads none", name, got, err)
			}
		}
		for _, p := range patterns {
			want := refState(t, dir, p)
			delete(want, sym)
			if got, err := f.List(p); err != nil || !mapsEqual(got, want) {
				t.Errorf("List(%s): %d refs, %v; git lists %d", p, len(got), err, len(want))
			}
		}
		for _, p := range []string{"", "0", "ab", issue[3][len(issue[3])-40:][:7]} {
			pat := "refs/namespaces/*/refs/cobs/grove.issue/" + p + "*"
			want := slices.Sorted(func(yield func(string) bool) {
				for n := range refState(t, dir, pat) {
					if !yield(n) {
						return
					}
				}
			})
			got, err := f.Names(pat)
			got = slices.DeleteFunc(got, func(n string) bool { return !protocol.ValidOID(n[strings.LastIndexByte(n, '/')+1:]) })
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("Names(%s) = %d names, %v; git lists %d", pat, len(got), err, len(want))
			}
		}
		var wantNS []string
		for _, ns := range nids {
			wantNS = append(wantNS, "refs/namespaces/"+ns)
		}
		if got, err := f.Names("refs/namespaces/*"); err != nil || !slices.Equal(got, wantNS) {
			t.Errorf("Names(refs/namespaces/*) = %q, %v; want %q", got, err, wantNS)
		}
	}
	t.Run("packed and loose", func(t *testing.T) { check(t, "refs/namespaces/"+nids[0]+"/refs/heads/sym") })
	if len(looseOnly) != len(packedOnly) {
		t.Fatalf("pack-refs changed the refs: %d, %d", len(looseOnly), len(packedOnly))
	}
	// And once more after git repacks them all, the loose ones included.
	git(nil, "pack-refs", "--all")
	t.Run("repacked", func(t *testing.T) { check(t, "refs/namespaces/"+nids[0]+"/refs/heads/sym") })
}

// TestConformanceWriteRefs writes, moves and deletes loose and packed refs
// with UpdateRefs, and a new repository's refs with WritePackedRefs, and
// checks what git reads back, that the repository stays sound, and that
// git's own transactions still work on what we wrote.
func TestConformanceWriteRefs(t *testing.T) {
	dir := t.TempDir()
	git := func(stdin []byte, args ...string) string { t.Helper(); return gitIn(t, dir, stdin, args...) }
	git(nil, "init", "-q", "--bare")
	git(history(), "fast-import", "--quiet")
	a, b, c := git(nil, "rev-parse", "main~3"), git(nil, "rev-parse", "main~2"), git(nil, "rev-parse", "main~1")
	git(nil, "update-ref", "-d", "refs/heads/main")
	git(nil, "tag", "-d", "v1")
	s := Open(dir)
	up := func(us ...RefUpdate) {
		t.Helper()
		if err := s.UpdateRefs(us); err != nil {
			t.Fatal(err)
		}
	}
	same := func(prefix string, want map[string]string) {
		t.Helper()
		if got := refState(t, dir, prefix); !mapsEqual(got, want) {
			t.Fatalf("git reads %v, want %v", got, want)
		}
		if got, err := NewRefs(dir).List(prefix); err != nil || !mapsEqual(got, want) {
			t.Fatalf("List reads %v, %v, want %v", got, err, want)
		}
	}
	up(RefUpdate{Name: "refs/test/x", New: a}, RefUpdate{Name: "refs/test/deep/er/y", New: b})
	same("refs/test/", map[string]string{"refs/test/x": a, "refs/test/deep/er/y": b})
	up(RefUpdate{Name: "refs/test/x", Old: a, New: c}, RefUpdate{Name: "refs/test/deep/er/y", Old: b})
	same("refs/test/", map[string]string{"refs/test/x": c})
	if _, err := os.Stat(filepath.Join(dir, "refs", "test", "deep")); err == nil {
		t.Error("the deleted ref's directories are left")
	}
	// A ref where an empty directory is in the way (left by a crash, or
	// by an older writer) is created, as git creates it; one where refs
	// are below is not.
	if err := os.MkdirAll(filepath.Join(dir, "refs", "test", "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	up(RefUpdate{Name: "refs/test/empty", New: a}, RefUpdate{Name: "refs/test/full/below", New: b})
	if err := s.UpdateRefs([]RefUpdate{{Name: "refs/test/full", New: a}}); err == nil {
		t.Fatal("created a ref over refs below it")
	}
	if _, err := runGit(t.Context(), dir, nil, "update-ref", "refs/test/full", a); err == nil {
		t.Fatal("git created a ref over refs below it")
	}
	up(RefUpdate{Name: "refs/test/empty", Old: a}, RefUpdate{Name: "refs/test/full/below", Old: b})
	same("refs/test/", map[string]string{"refs/test/x": c})

	// Packed refs, with a peeled tag line after one of them.
	up(RefUpdate{Name: "refs/test/p1", New: a}, RefUpdate{Name: "refs/test/p2", New: b})
	git(nil, "tag", "-a", "-m", "annotated", "t1", c)
	git(nil, "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(dir, "refs", "test", "p1")); err == nil {
		t.Fatal("pack-refs left refs/test/p1 loose")
	}
	tag := git(nil, "rev-parse", "refs/tags/t1")
	up(RefUpdate{Name: "refs/test/p1", Old: a, New: b}, RefUpdate{Name: "refs/test/p2", Old: b}, RefUpdate{Name: "refs/tags/t1", Old: tag})
	same("refs/test/", map[string]string{"refs/test/x": c, "refs/test/p1": b})
	same("refs/tags/", map[string]string{})
	packed, err := os.ReadFile(filepath.Join(dir, "packed-refs"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(packed), "refs/test/p2") || strings.Contains(string(packed), "t1") || strings.Contains(string(packed), "^") {
		t.Fatalf("packed-refs still lists deleted refs:\n%s", packed)
	}
	if !strings.Contains(string(packed), a+" refs/test/p1\n") || !strings.Contains(string(packed), "# pack-refs with:") {
		t.Fatalf("packed-refs lost what it should keep:\n%s", packed)
	}
	git(nil, "fsck", "--strict", "--no-dangling")
	if left, _ := filepath.Glob(filepath.Join(dir, "refs", "test", "*.lock")); len(left) > 0 || fileExists(filepath.Join(dir, "packed-refs.lock")) {
		t.Fatalf("lock files left: %v", left)
	}
	// git's own transactions work on what we wrote.
	git(nil, "update-ref", "refs/test/x", a, c)
	same("refs/test/x", map[string]string{"refs/test/x": a})
	git(nil, "pack-refs", "--all")
	same("refs/test/", map[string]string{"refs/test/x": a, "refs/test/p1": b})

	t.Run("WritePackedRefs", func(t *testing.T) {
		dir2 := t.TempDir()
		gitIn(t, dir2, nil, "init", "-q", "--bare")
		abs, _ := filepath.Abs(filepath.Join(dir, "objects"))
		os.WriteFile(filepath.Join(dir2, "objects", "info", "alternates"), []byte(abs+"\n"), 0o644)
		refs := map[string]string{"refs/heads/main": a, "refs/namespaces/x/refs/heads/main": b, "refs/tags/v": c, "refs/heads/a-b": c}
		var us []RefUpdate
		for n, o := range refs {
			us = append(us, RefUpdate{Name: n, New: o})
		}
		if err := Open(dir2).WritePackedRefs(us); err != nil {
			t.Fatal(err)
		}
		if got := refState(t, dir2); !mapsEqual(got, refs) {
			t.Fatalf("git reads %v, want %v", got, refs)
		}
		b, _ := os.ReadFile(filepath.Join(dir2, "packed-refs"))
		if !sortedOK(b) {
			t.Fatalf("not sorted as it says:\n%s", b)
		}
		gitIn(t, dir2, nil, "update-ref", "-d", "refs/heads/a-b")
		gitIn(t, dir2, nil, "pack-refs", "--all")
		delete(refs, "refs/heads/a-b")
		if got, err := NewRefs(dir2).List("refs/"); err != nil || !mapsEqual(got, refs) {
			t.Fatalf("after git's edits List reads %v, %v, want %v", got, err, refs)
		}
		gitIn(t, dir2, nil, "fsck", "--no-dangling")
	})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
