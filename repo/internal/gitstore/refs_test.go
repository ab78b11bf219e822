package gitstore

import (
	"bytes"
	"crypto/ed25519"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
)

const sortedHeader = "# pack-refs with: peeled fully-peeled sorted \n"

type packedLine struct{ oid, name string }

// linearRefs is the reference reading of packed-refs b: every line of ref
// shape after the header, in file order.
func linearRefs(b []byte) []packedLine {
	if bytes.HasPrefix(b, []byte("# pack-refs with:")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	var out []packedLine
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) > 41 && line[40] == ' ' {
			out = append(out, packedLine{string(line[:40]), string(line[41:])})
		}
	}
	return out
}

func linearGet(refs []packedLine, name string, valid bool) string {
	for _, r := range refs {
		if r.name == name && (!valid || protocol.ValidOID(r.oid)) {
			return r.oid
		}
	}
	return ""
}

func linearScan(refs []packedLine, prefix string) []packedLine {
	var out []packedLine
	for _, r := range refs {
		if strings.HasPrefix(r.name, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func linearDirs(refs []packedLine, prefix string) []string {
	var out []string
	for _, r := range linearScan(refs, prefix) {
		if j := strings.IndexByte(r.name[len(prefix):], '/'); j > 0 {
			out = append(out, r.name[len(prefix):len(prefix)+j])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// claimsSorted reports whether b's header names the sorted trait.
func claimsSorted(b []byte) bool {
	// As git reads it: the traits are what follows "with:", split at
	// spaces, so "with:sorted" is sorted too.
	hdr, _, ok := bytes.Cut(b, []byte("\n"))
	traits, found := bytes.CutPrefix(hdr, []byte("# pack-refs with:"))
	return ok && found && slices.Contains(strings.Split(string(traits), " "), "sorted")
}

// sortedOK reports whether b says it is sorted and its ref lines are.
func sortedOK(b []byte) bool {
	refs := linearRefs(b)
	return claimsSorted(b) && slices.IsSortedFunc(refs, func(a, b packedLine) int { return strings.Compare(a.name, b.name) })
}

// readable reports whether the answers for b must agree with its linear
// reading: a file that claims to be sorted and is not is read as git reads
// it, by bisection, which then may miss refs.
func readable(b []byte) bool { return !claimsSorted(b) || sortedOK(b) }

// readingOf is the linear reading of b in the order a reader sees it: the
// file's own, or name order for a file that does not claim to be sorted.
func readingOf(b []byte) []packedLine {
	refs := linearRefs(b)
	if !claimsSorted(b) {
		slices.SortStableFunc(refs, func(a, b packedLine) int { return strings.Compare(a.name, b.name) })
	}
	return refs
}

func scanAll(p packedRefs, prefix string) []packedLine {
	var out []packedLine
	p.scan(prefix, func(oid, name []byte) bool {
		out = append(out, packedLine{string(oid), string(name)})
		return true
	})
	return out
}

// globMatch is path.Match with only "*" special, as in ref patterns.
func globMatch(pattern, name string) bool {
	ok, _ := path.Match(globQuoter.Replace(pattern), name)
	return ok
}

// globQuoter makes path.Match's ? and [ literal, as Grove's patterns have
// only *. Built once: building it per call was most of this file's run time.
var globQuoter = strings.NewReplacer(`\`, `\\`, "?", `\?`, "[", `\[`)

// linearList is the reference reading of List(pattern) over refs: the
// first valid oid of each name that path.Match matches (or, for a pattern
// ending in "/", each name below it).
func linearList(refs []packedLine, pattern string) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		ok := globMatch(pattern, r.name)
		if dir, below := strings.CutSuffix(pattern, "/"); below {
			// Some directory of the name matches.
			for i := range len(r.name) {
				if r.name[i] == '/' {
					if globMatch(dir, r.name[:i]) {
						ok = true
					}
				}
			}
		}
		if _, dup := out[r.name]; ok && !dup && protocol.ValidOID(r.oid) {
			out[r.name] = r.oid
		}
	}
	return out
}

// linearNames is the reference reading of Names(pattern) over refs: each
// name, and each directory of a name, that path.Match matches.
func linearNames(refs []packedLine, pattern string) []string {
	if strings.HasSuffix(pattern, "/") {
		pattern += "*"
	}
	var out []string
	for _, r := range refs {
		for i := 0; i <= len(r.name); i++ {
			if i < len(r.name) && r.name[i] != '/' {
				continue
			}
			if globMatch(pattern, r.name[:i]) {
				out = append(out, r.name[:i])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// patternsOf returns patterns to ask of a file holding name.
func patternsOf(rng *rand.Rand, name string) []string {
	comps := strings.Split(name, "/")
	with := func(i int, c string) string {
		cs := slices.Clone(comps)
		cs[i] = c
		return strings.Join(cs, "/")
	}
	i := rng.IntN(len(comps))
	out := []string{
		name,
		strings.Join(comps[:i], "/") + "/",
		with(i, "*"),
		with(i, comps[i][:rng.IntN(len(comps[i])+1)]+"*"),
		with(len(comps)-1, "*"),
		strings.Join(comps[:i+1], "/"),
	}
	if i > 0 {
		out = append(out, with(i, "*")+"/"+"*")
	}
	return out
}

// checkPattern compares a sorted file's answers for pattern with the
// linear reading of b.
func checkPattern(t *testing.T, b []byte, pattern string) {
	t.Helper()
	q, err := parseRefPattern(pattern)
	if err != nil {
		return
	}
	p := parsePackedRefs(b)
	refs := linearRefs(b)
	for _, r := range refs {
		if slices.Contains(strings.Split(r.name, "/"), "") {
			return // not a ref name git makes: no answer is wrong
		}
	}
	got := map[string]string{}
	p.list("", q.comps, func(oid, name []byte) {
		if _, dup := got[string(name)]; !dup && protocol.ValidOID(string(oid)) {
			got[string(name)] = string(oid)
		}
	})
	if want := linearList(refs, pattern); !mapsEqual(got, want) {
		t.Fatalf("list(%q) = %v, want %v\n%s", pattern, got, want, b)
	}
	if strings.HasSuffix(pattern, "/") {
		q, _ = parseRefPattern(pattern + "*")
	}
	var names []string
	p.names("", q.comps, func(n string) { names = append(names, n) })
	slices.Sort(names)
	names = slices.Compact(names)
	if want := linearNames(refs, pattern); !slices.Equal(names, want) {
		t.Fatalf("names(%q) = %q, want %q\n%s", pattern, names, want, b)
	}
}

// checkPacked compares p's answers for q with the linear reading of b (in
// name order, as an unsorted file is read).
func checkPacked(t *testing.T, b []byte, q string) {
	t.Helper()
	p := parsePackedRefs(b)
	refs := readingOf(b)
	for _, valid := range []bool{false, true} {
		if got, want := p.get(q, valid), linearGet(refs, q, valid); got != want {
			t.Fatalf("get(%q, %v) = %q, want %q\n%s", q, valid, got, want, b)
		}
	}
	if got, want := scanAll(p, q), linearScan(refs, q); !slices.Equal(got, want) {
		t.Fatalf("scan(%q) = %q, want %q\n%s", q, got, want, b)
	}
}

func randOID(rng *rand.Rand) string {
	const hex = "0123456789abcdef"
	var b [40]byte
	for i := range b {
		b[i] = hex[rng.IntN(16)]
	}
	return string(b[:])
}

// testNIDs returns n distinct NIDs.
func testNIDs(t testing.TB, n int) []string {
	var out []string
	for i := range n {
		k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.NID().String())
	}
	sort.Strings(out)
	return out
}

type packedShape int

const (
	shapeSorted   packedShape = iota // git's header with "sorted"
	shapeNoHeader                    // sorted lines, no header: unsorted
	shapeNoTrait                     // header without "sorted"
	shapeShuffled                    // header without "sorted", lines shuffled
)

// genPacked returns a packed-refs file of random names, and the names and
// queries to ask of it.
func genPacked(rng *rand.Rand, nids []string, shape packedShape) (b []byte, queries []string) {
	comps := []string{"a", "b", "ab", "a-b", "a.b", "a0", "0", "z", "zz"}
	set := map[string]bool{}
	for range 1 + rng.IntN(60) {
		var name string
		if rng.IntN(3) == 0 {
			name = "refs/namespaces/" + nids[rng.IntN(len(nids))] + "/refs/"
		} else {
			name = "refs/"
		}
		for i := range 1 + rng.IntN(3) {
			if i > 0 {
				name += "/"
			}
			name += comps[rng.IntN(len(comps))]
		}
		set[name] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	var lines []string
	for _, n := range names {
		if rng.IntN(10) == 0 { // a duplicate, first with a bad oid
			lines = append(lines, strings.Repeat("X", 40)+" "+n+"\n")
		}
		l := randOID(rng) + " " + n + "\n"
		if rng.IntN(4) == 0 {
			l += "^" + randOID(rng) + "\n"
		}
		if rng.IntN(15) == 0 {
			l += "garbage\n\n"
		}
		lines = append(lines, l)
	}
	switch shape {
	case shapeSorted:
		b = append(b, sortedHeader...)
	case shapeNoTrait, shapeShuffled:
		b = append(b, "# pack-refs with: peeled fully-peeled \n"...)
	}
	if shape == shapeShuffled {
		rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	}
	for _, l := range lines {
		b = append(b, l...)
	}
	if rng.IntN(5) == 0 {
		b = bytes.TrimSuffix(b, []byte("\n")) // last line unterminated
	}
	queries = []string{"", "\x00", "refs", "refs/", "refs/namespaces/", "\xff", "refs/zzz", "refs/a/"}
	for _, n := range names {
		queries = append(queries, n, n+"/", n+"\x00", n[:len(n)-1], n[:rng.IntN(len(n)+1)],
			n[:len(n)-1]+string(n[len(n)-1]+1), n[:len(n)-1]+string(n[len(n)-1]-1))
	}
	return b, queries
}

// TestPackedRefsSearch compares bisection of sorted packed-refs (and the
// scan of unsorted ones) with a linear reading, on many random files.
func TestPackedRefsSearch(t *testing.T) {
	nids := testNIDs(t, 3)
	dir := t.TempDir()
	for seed := range uint64(240) {
		rng := rand.New(rand.NewPCG(seed, 1))
		shape := packedShape(seed % 4)
		b, queries := genPacked(rng, nids, shape)
		if got := claimsSorted(b); got != (shape == shapeSorted) {
			t.Fatalf("seed %d: sorted = %v\n%s", seed, got, b)
		}
		for _, q := range queries {
			checkPacked(t, b, q)
		}
		var patterns []string
		for _, r := range linearRefs(b) {
			patterns = append(patterns, patternsOf(rng, r.name)...)
		}
		patterns = append(patterns, "refs/namespaces/*", "refs/namespaces/*/refs/a", "refs/*", "refs/", "*", "refs/namespaces/*/")
		for _, q := range patterns {
			checkPattern(t, b, q)
		}
		// Through Refs, with no loose refs.
		if err := os.WriteFile(filepath.Join(dir, "packed-refs"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		refs := linearRefs(b)
		f := &Refs{dir: dir}
		for i, q := range queries {
			if i%3 != 0 || !strings.HasPrefix(q, "refs/") || strings.Contains(q, "\x00") {
				continue
			}
			if got, err := f.Get(q); err != nil || got != linearGet(refs, q, false) {
				t.Fatalf("seed %d: Get(%q) = %q, %v; want %q", seed, q, got, err, linearGet(refs, q, false))
			}
		}
		// Sorted by bisection, the others by a scan.
		for i, q := range patterns {
			if i%2 != 0 || !strings.HasPrefix(q, "refs/") {
				continue
			}
			if got, err := f.List(q); err != nil || !mapsEqual(got, linearList(refs, q)) {
				t.Fatalf("seed %d: List(%q) = %v, %v; want %v", seed, q, got, err, linearList(refs, q))
			}
			if got, err := f.Names(q); err != nil || !slices.Equal(got, linearNames(refs, q)) {
				t.Fatalf("seed %d: Names(%q) = %q, %v; want %q", seed, q, got, err, linearNames(refs, q))
			}
		}
		var wantNS []string
		for _, d := range linearDirs(refs, "refs/namespaces/") {
			wantNS = append(wantNS, "refs/namespaces/"+d)
		}
		if got, err := f.Names("refs/namespaces/*"); err != nil || !slices.Equal(got, wantNS) {
			t.Fatalf("seed %d: Names(refs/namespaces/*) = %q, %v; want %q", seed, got, err, wantNS)
		}
		// conflict, against a linear reading.
		p := parsePackedRefs(b)
		for _, q := range queries {
			if !strings.HasPrefix(q, "refs/") || strings.HasSuffix(q, "/") {
				continue // commit checks names first
			}
			want := len(linearScan(refs, q+"/")) > 0
			for d := q; ; {
				i := strings.LastIndexByte(d, '/')
				if i <= len("refs") {
					break
				}
				if d = d[:i]; linearGet(refs, d, true) != "" {
					want = true
				}
			}
			if got := conflict(p, q); (got != nil) != want {
				t.Fatalf("seed %d: conflict(%q) = %v, want an error %v", seed, q, got, want)
			}
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPackedRefsUnsorted reads a file without the sorted trait whose lines
// are out of order.
func TestPackedRefsUnsorted(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	file := "# pack-refs with: peeled fully-peeled \n" +
		c + " refs/z\n" +
		a + " refs/namespaces/y/refs/heads/main\n" +
		"^" + b + "\n" +
		b + " refs/a\n" +
		c + " refs/namespaces/x/refs/heads/main\n" +
		a + " refs/m\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "packed-refs"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &Refs{dir: dir}
	tests := []struct {
		name string
		want string
	}{
		{"refs/z", c},
		{"refs/a", b},
		{"refs/m", a},
		{"refs/namespaces/x/refs/heads/main", c},
		{"refs/namespaces/y/refs/heads/main", a},
		{"refs/b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := f.Get(tt.name); err != nil || got != tt.want {
				t.Fatalf("Get = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if got, err := f.Names("refs/namespaces/*"); err != nil || !slices.Equal(got, []string{"refs/namespaces/x", "refs/namespaces/y"}) {
		t.Errorf("Names(refs/namespaces/*) = %q, %v", got, err)
	}
	got, err := f.List("refs/namespaces/*/refs/heads/main")
	if want := map[string]string{"refs/namespaces/x/refs/heads/main": c, "refs/namespaces/y/refs/heads/main": a}; err != nil || !mapsEqual(got, want) {
		t.Errorf("List = %v, %v; want %v", got, err, want)
	}
	got, err = f.List("refs/")
	if want := map[string]string{"refs/z": c, "refs/a": b, "refs/m": a,
		"refs/namespaces/x/refs/heads/main": c, "refs/namespaces/y/refs/heads/main": a}; err != nil || !mapsEqual(got, want) {
		t.Errorf("List = %v, %v; want %v", got, err, want)
	}
	if got, err := f.Names("refs/"); err != nil || !slices.Equal(got, []string{"refs/a", "refs/m", "refs/namespaces", "refs/z"}) {
		t.Errorf("Names = %q, %v", got, err)
	}
}

// FuzzPackedRefs reads arbitrary packed-refs files: no panic, and the
// answers of a file that is sorted as it says agree with a linear reading.
func FuzzPackedRefs(f *testing.F) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, s := range []struct{ file, name string }{
		{"", "refs/a"},
		{sortedHeader, "refs/a"},
		{sortedHeader + a + " refs/a\n^" + b + "\n" + b + " refs/b\n", "refs/b"},
		{sortedHeader + a + " refs/a\n" + b + " refs/a/b\n" + b + " refs/ab", "refs/a"},
		{sortedHeader + "garbage\n" + a + " refs/namespaces/x/refs/y\n\n" + b + " refs/namespaces/z/w\n", "refs/namespaces/"},
		{"# pack-refs with: sorted", "refs/a"},
		{"# pack-refs with: peeled\n" + b + " refs/b\n" + a + " refs/a\n", "refs/a"},
		{a + " refs/a\n" + b + " refs/a\n", "refs/a"},
	} {
		f.Add([]byte(s.file), s.name)
	}
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		p := parsePackedRefs(b)
		p.get(name, false)
		scanAll(p, name)
		if q, err := parseRefPattern(name); err == nil {
			p.list("", q.comps, func(_, _ []byte) {})
			if !strings.HasSuffix(name, "/") {
				p.names("", q.comps, func(string) {})
			}
		}
		if !readable(b) {
			return
		}
		checkPacked(t, b, name)
		checkPattern(t, b, name)
		rng := rand.New(rand.NewPCG(uint64(len(b)), 1))
		for i, r := range linearRefs(b) {
			if i == 32 {
				break
			}
			checkPacked(t, b, r.name)
			checkPacked(t, b, r.name[:len(r.name)/2])
			for _, q := range patternsOf(rng, r.name) {
				checkPattern(t, b, q)
			}
		}
	})
}

// BenchmarkPackedRefs looks refs up in a sorted packed-refs of 10,000.
func BenchmarkPackedRefs(b *testing.B) {
	nids := testNIDs(b, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	var names []string
	for i := range 10000 {
		names = append(names, "refs/namespaces/"+nids[i%3]+"/refs/cobs/grove.issue/"+randOID(rng))
	}
	sort.Strings(names)
	file := []byte(sortedHeader)
	for _, n := range names {
		file = append(file, randOID(rng)+" "+n+"\n"...)
	}
	p := parsePackedRefs(file)
	b.Run("get", func(b *testing.B) {
		i := 0
		for b.Loop() {
			p.get(names[i%len(names)], false)
			i += 7919
		}
	})
	q, _ := parseRefPattern("refs/namespaces/*")
	b.Run("names", func(b *testing.B) {
		for b.Loop() {
			p.names("", q.comps, func(string) {})
		}
	})
}

// mappings counts this process's mappings of the file at path, replaced
// or removed ones included.
func mappings(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, " "+path) || strings.HasSuffix(line, " "+path+" (deleted)") {
			n++
		}
	}
	return n
}

// writeRename replaces the file at path as git does: a new file renamed
// over it.
func writeRename(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path+".lock", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".lock", path); err != nil {
		t.Fatal(err)
	}
}

func TestPackedRefsMapped(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	long := sortedHeader + a + " refs/heads/a\n" + b + " refs/heads/b\n" + strings.Repeat(a+" refs/tags/pad\n", 2000)
	// Each case has a storage of its own, for counting mappings.
	var dir, path string
	setup := func(t *testing.T) {
		dir = t.TempDir()
		path = filepath.Join(dir, "packed-refs")
		writeRename(t, path, []byte(long))
	}

	t.Run("replaced", func(t *testing.T) {
		setup(t)
		f := &Refs{dir: dir}
		if got, err := f.Get("refs/heads/b"); err != nil || got != b {
			t.Fatalf("Get = %q, %v; want %q", got, err, b)
		}
		// A much shorter file replaces it: the old mapping still reads
		// the old bytes, beyond the new file's end too.
		writeRename(t, path, []byte(sortedHeader+c+" refs/heads/a\n"))
		if got, err := f.Get("refs/heads/b"); err != nil || got != b {
			t.Fatalf("Get after replace = %q, %v; want the old %q", got, err, b)
		}
		if got, err := f.Get("refs/tags/pad"); err != nil || got != a {
			t.Fatalf("Get after replace = %q, %v; want the old %q", got, err, a)
		}
		// List reads packed-refs again, and unmaps the old file.
		got, err := f.List("refs/")
		if err != nil || !mapsEqual(got, map[string]string{"refs/heads/a": c}) {
			t.Fatalf("List = %v, %v; want the new file's", got, err)
		}
		if got, err := f.Get("refs/heads/b"); err != nil || got != "" {
			t.Fatalf("Get after List = %q, %v; want none", got, err)
		}
		if n := mappings(t, path); n != 1 {
			t.Errorf("%d mappings of packed-refs, want 1", n)
		}
		// An unchanged file is not mapped again.
		old := &f.m.b[0]
		if _, err := f.Names("refs/heads/"); err != nil {
			t.Fatal(err)
		}
		if &f.m.b[0] != old {
			t.Error("Names mapped an unchanged packed-refs again")
		}
		runtime.KeepAlive(f)
	})

	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "packed-refs"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "refs", "heads"), 0o755); err != nil {
			t.Fatal(err)
		}
		f := &Refs{dir: dir}
		if got, err := f.Get("refs/heads/x"); err != nil || got != "" {
			t.Fatalf("Get = %q, %v; want none", got, err)
		}
		if got, err := f.Names("refs/namespaces/*"); err != nil || len(got) != 0 {
			t.Fatalf("Names(refs/namespaces/*) = %v, %v; want none", got, err)
		}
		if got, err := f.Names("refs/heads/"); err != nil || len(got) != 0 {
			t.Fatalf("Names = %v, %v; want none", got, err)
		}
		tx := &refTx{dir: dir, updates: []RefUpdate{{Name: "refs/heads/x", New: a}}}
		if err := tx.commit(); err != nil {
			t.Fatal(err)
		}
		tx = &refTx{dir: dir, updates: []RefUpdate{{Name: "refs/heads/x", Old: a}, {Name: "refs/heads/y", New: b}}}
		if err := tx.commit(); err != nil {
			t.Fatal(err)
		}
		if got, err := f.List("refs/"); err != nil || !mapsEqual(got, map[string]string{"refs/heads/y": b}) {
			t.Fatalf("List = %v, %v", got, err)
		}
	})

	t.Run("removed", func(t *testing.T) {
		setup(t)
		f := &Refs{dir: dir}
		if got, err := f.Get("refs/heads/a"); err != nil || got != a {
			t.Fatalf("Get = %q, %v; want %q", got, err, a)
		}
		// Removed after the mapping: it still answers, and the next read
		// after a loose scan finds no packed refs, without an error.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if got, err := f.Get("refs/heads/a"); err != nil || got != a {
			t.Fatalf("Get after remove = %q, %v; want the old %q", got, err, a)
		}
		for _, list := range []func() (int, error){
			func() (int, error) { m, err := f.List("refs/"); return len(m), err },
			func() (int, error) { n, err := f.Names("refs/heads/"); return len(n), err },
		} {
			if n, err := list(); err != nil || n != 0 {
				t.Fatalf("listed %d refs, %v; want none", n, err)
			}
		}
		if got, err := (&Refs{dir: dir}).Get("refs/heads/a"); err != nil || got != "" {
			t.Fatalf("Get from a new reader = %q, %v; want none", got, err)
		}
		if n := mappings(t, path); n != 0 {
			t.Errorf("%d mappings of a removed packed-refs, want 0", n)
		}
	})

	t.Run("unmapped", func(t *testing.T) {
		setup(t)
		// A transaction unmaps its reading at once.
		before := mappings(t, path)
		tx := &refTx{dir: dir, updates: []RefUpdate{{Name: "refs/heads/z", New: c}}}
		if err := tx.commit(); err != nil {
			t.Fatal(err)
		}
		if n := mappings(t, path); n != before {
			t.Errorf("%d mappings after a transaction, want %d", n, before)
		}
		// Readers dropped without a word are unmapped by their cleanup.
		for range 20 {
			if got, err := (&Refs{dir: dir}).Get("refs/heads/a"); err != nil || got != a {
				t.Fatalf("Get = %q, %v; want %q", got, err, a)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for mappings(t, path) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d mappings left after GC", mappings(t, path))
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	})
}
