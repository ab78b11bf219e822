package gitstore

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"example.com/grove/protocol"
)

// packedRefs is one reading of a packed-refs file. Its lines are
// "<oid> SP <name> LF", each optionally followed by peeled lines
// "^<oid> LF"; a line of another shape is skipped. Lookups search the
// bytes by bisection: a file whose header names the "sorted" trait, as
// every git Grove supports (2.31 and later) writes it, is trusted to be
// sorted, as git trusts it; another is sorted once when read
// (sortPacked).
type packedRefs struct {
	b    []byte
	body int // offset of the first line after the header
}

func parsePackedRefs(b []byte) packedRefs {
	const hdr = "# pack-refs with:"
	if !bytes.HasPrefix(b, []byte(hdr)) {
		return sortPacked(b)
	}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return packedRefs{b: b, body: len(b)}
	}
	if !slices.Contains(strings.Split(string(b[len(hdr):eol]), " "), "sorted") {
		return sortPacked(b[eol+1:])
	}
	return packedRefs{b: b, body: eol + 1}
}

// sortPacked returns the ref lines of the body of an unsorted packed-refs
// file as a sorted one. Peeled lines, which no reader here needs, and
// lines of another shape are left out; of two lines for one name, the
// first stays first.
func sortPacked(body []byte) packedRefs {
	var lines [][]byte
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		if _, _, ok := refLine(line); ok {
			lines = append(lines, line)
		}
	}
	slices.SortStableFunc(lines, func(a, b []byte) int { return bytes.Compare(a[41:], b[41:]) })
	const hdr = "# pack-refs with: sorted \n"
	b := []byte(hdr)
	for _, l := range lines {
		b = append(append(b, l...), '\n')
	}
	return packedRefs{b: b, body: len(hdr)}
}

// refLine splits a ref line ("<oid> <name>") into its oid and name.
func refLine(line []byte) (oid, name []byte, ok bool) {
	if len(line) <= 41 || line[40] != ' ' {
		return nil, nil, false
	}
	return line[:40], line[41:], true
}

// line returns the line that starts at off, without its LF, and the offset
// of the next one.
func (p packedRefs) line(off int) (line []byte, next int) {
	if i := bytes.IndexByte(p.b[off:], '\n'); i >= 0 {
		return p.b[off : off+i], off + i + 1
	}
	return p.b[off:], len(p.b)
}

// seek returns the start of a line from which the
// first ref line is the first whose name is not less than key, or len(b).
func (p packedRefs) seek(key string) int {
	// lo and hi are line starts; refs before lo are < key, refs from hi on
	// are >= key.
	lo, hi := p.body, len(p.b)
	for lo < hi {
		mid := lo + (hi-lo)/2
		s := lo + bytes.LastIndexByte(p.b[lo:mid], '\n') + 1
		// The first ref line from s on, before hi.
		r, found := s, false
		for r < hi {
			line, next := p.line(r)
			if _, name, ok := refLine(line); ok {
				if string(name) < key {
					lo = next
				} else {
					hi = r
				}
				found = true
				break
			}
			r = next
		}
		if !found {
			hi = s // no ref in [s, hi)
		}
	}
	return lo
}

// scan calls fn with the oid and name of each ref line whose name starts
// with prefix, in file order, until fn returns false. The slices point
// into the file's bytes.
func (p packedRefs) scan(prefix string, fn func(oid, name []byte) bool) {
	for off := p.seek(prefix); off < len(p.b); {
		line, next := p.line(off)
		off = next
		oid, name, ok := refLine(line)
		if !ok {
			continue // peeled line or garbage
		}
		if len(name) >= len(prefix) && string(name[:len(prefix)]) == prefix {
			if !fn(oid, name) {
				return
			}
		} else {
			return // past the names with prefix
		}
	}
}

// get returns the oid of the first line for name, "" if there is none.
// With valid, lines whose oid is not a valid one are skipped.
func (p packedRefs) get(name string, valid bool) string {
	var oid string
	p.scan(name, func(o, n []byte) bool {
		if string(n) != name {
			return false // name itself comes first
		}
		if valid && !protocol.ValidOID(string(o)) {
			return true
		}
		oid = string(o)
		return false
	})
	return oid
}

// values calls fn with each distinct component that
// follows base (a name prefix ending in "/", or "") and starts with pre:
// leaf when the ref base+v exists, else base+v is a directory of refs. A
// few lines are read per value, skipping the refs within each directory.
func (p packedRefs) values(base, pre string, fn func(v string, leaf bool)) {
	for key := base + pre; ; {
		var name []byte
		for off := p.seek(key); name == nil && off < len(p.b); {
			var line []byte
			line, off = p.line(off)
			_, name, _ = refLine(line)
		}
		if name == nil || !bytes.HasPrefix(name, []byte(base+pre)) {
			return
		}
		rest := string(name[len(base):])
		if j := strings.IndexByte(rest, '/'); j > 0 {
			fn(rest[:j], false)
			key = base + rest[:j] + "0" // '0' follows '/': past the directory
		} else {
			if j < 0 {
				fn(rest, true)
			}
			key = string(name) + "\x00" // the next name
		}
	}
}

// refPattern is a pattern of Refs.List and Names: a ref name whose
// components may be "*" (any one component) or end in "*" (a component
// that starts with the rest), or a prefix of names ending in "/".
type refPattern struct {
	comps []string // the last is "" for a pattern ending in "/"
}

func parseRefPattern(s string) (refPattern, error) {
	comps := strings.Split(s, "/")
	for i, c := range comps {
		if c == "" && (i == 0 || i < len(comps)-1) || c == "." || c == ".." ||
			strings.Contains(strings.TrimSuffix(c, "*"), "*") {
			return refPattern{}, fmt.Errorf("bad ref pattern %q", s)
		}
	}
	return refPattern{comps}, nil
}

// matchComp reports whether component n matches pattern component c.
func matchComp(c, n string) bool {
	if pre, glob := strings.CutSuffix(c, "*"); glob {
		return strings.HasPrefix(n, pre)
	}
	return c == n
}

// Refs reads refs straight from the files git keeps them in (loose ref
// files first, then packed-refs), with no git process: for hot read paths
// that look up a few refs among many. It maps packed-refs rather than
// reading it (see packedMap), once for Get, and again for List and Names
// only if the file was replaced.
//
// The Refs owns the mapping and a cleanup unmaps it once the Refs
// is unreachable: callers are many and hold it briefly, so an explicit
// Close would be one more thing to forget. That is safe because nothing it
// returns aliases the mapping (every name and oid handed out is a string
// copy), and each method that reads the mapped bytes keeps f alive until
// it is done with them (runtime.KeepAlive). Within the package, refTx
// unmaps its own at once with release. A Refs is for one goroutine at
// a time: List and Names may unmap what a concurrent Get reads.
type Refs struct {
	dir     string
	packed  packedRefs
	loaded  bool
	m       *packedMap // owns packed.b when it is mapped; nil until first read
	cleanup runtime.Cleanup
}

// NewRefs returns a reader of the refs of the repository at dir.
func NewRefs(dir string) *Refs { return &Refs{dir: dir} }

// packedRefs returns the packed refs, mapping the file on first use and
// again after loaded is reset, unless the file is still the one mapped.
// The previous mapping is unmapped: callers hold none of its bytes by then.
func (f *Refs) packedRefs() (packedRefs, error) {
	if f.loaded {
		return f.packed, nil
	}
	path := filepath.Join(f.dir, "packed-refs")
	if f.m == nil {
		f.m = new(packedMap)
		f.cleanup = runtime.AddCleanup(f, (*packedMap).unmap, f.m)
	} else if f.m.same(path) {
		f.loaded = true
		return f.packed, nil
	}
	f.m.unmap()
	f.packed = packedRefs{}
	b, err := mapPacked(path, f.m)
	if err != nil {
		return packedRefs{}, err
	}
	f.packed, f.loaded = parsePackedRefs(b), true
	return f.packed, nil
}

// release unmaps packed-refs now; f must not be used after.
func (f *Refs) release() {
	if f.m != nil {
		f.cleanup.Stop()
		f.m.unmap()
	}
	f.packed, f.loaded = packedRefs{}, false
}

// Get returns the oid the full ref name points at, or "" if there is none.
// Symbolic refs are not followed; they read as absent.
func (f *Refs) Get(name string) (string, error) {
	b, err := readSmall(filepath.Join(f.dir, filepath.FromSlash(name)), maxRefFile)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if protocol.ValidOID(s) {
			return s, nil
		}
		return "", nil
	case errors.Is(err, fs.ErrNotExist), isNotDir(err):
	default:
		return "", fmt.Errorf("read ref %s: %w", name, err)
	}
	p, err := f.packedRefs()
	if err != nil {
		return "", err
	}
	oid := p.get(name, false)
	runtime.KeepAlive(f) // p.b is f's mapping
	return oid, nil
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// List returns the refs whose full names match pattern, name → oid, loose
// or packed (a loose ref over its packed value), as git would resolve
// them, without starting git. It is Grove's one way to list refs:
//
//	refs/namespaces/                       every ref below
//	refs/namespaces/*/refs/grove/sigrefs   that ref in every namespace
//	refs/namespaces/NID/refs/cobs/t/3f2a*  the refs of t starting 3f2a
//
// A pattern ending in "/" matches every ref below it; otherwise a ref
// matches when each of its components matches the pattern's ("*" any,
// "abc*" one starting "abc") and it has no more. Only directories the
// pattern reaches are read, and within packed-refs only the
// lines it can match. Symbolic refs and files that are not refs (locks,
// garbage) are skipped.
func (f *Refs) List(pattern string) (map[string]string, error) {
	q, err := parseRefPattern(pattern)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string)
	read := func(_ *os.File, path, name string) error {
		b, err := readSmall(path, maxRefFile)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrNotExist), isNotDir(err), errors.Is(err, syscall.EISDIR):
			return nil // gone meanwhile, or a directory: packed-refs may have it
		default:
			return fmt.Errorf("read ref %s: %w", name, err)
		}
		if s := strings.TrimSpace(string(b)); protocol.ValidOID(s) {
			out[name] = s
		}
		return nil
	}
	if err := f.loose(filepath.Join(f.dir, "refs"), "refs/", q.comps, false, read); err != nil {
		return nil, fmt.Errorf("list refs %s: %w", pattern, err)
	}
	// packed-refs after the loose refs, the order in which a concurrent
	// git pack-refs cannot hide a ref.
	f.loaded = false // read packed-refs now, after the loose refs
	p, err := f.packedRefs()
	if err != nil {
		return nil, err
	}
	add := func(oid, name []byte) {
		if _, ok := out[string(name)]; !ok && protocol.ValidOID(string(oid)) {
			out[string(name)] = string(oid)
		}
	}
	p.list("", q.comps, add)
	runtime.KeepAlive(f) // p.b is f's mapping
	return out, nil
}

// list calls fn with each ref line whose name matches
// comps below base, the first line for each name first.
func (p packedRefs) list(base string, comps []string, fn func(oid, name []byte)) {
	c := comps[0]
	pre, glob := strings.CutSuffix(c, "*")
	switch {
	case c == "":
		p.scan(base, func(oid, name []byte) bool { fn(oid, name); return true })
	case !glob && len(comps) == 1:
		p.exact(base+c, fn)
	case !glob:
		p.list(base+c+"/", comps[1:], fn)
	default:
		p.values(base, pre, func(v string, leaf bool) {
			switch {
			case len(comps) == 1 && leaf:
				p.exact(base+v, fn)
			case len(comps) > 1 && !leaf:
				p.list(base+v+"/", comps[1:], fn)
			}
		})
	}
}

// exact calls fn with each line for name.
func (p packedRefs) exact(name string, fn func(oid, name []byte)) {
	p.scan(name, func(oid, n []byte) bool {
		if string(n) != name {
			return false
		}
		fn(oid, n)
		return true
	})
}

// Names returns the full names of the entries that match pattern, sorted:
// refs, and directories that hold refs, at the depth of the pattern's
// last component (a pattern ending in "/" matches the entries right
// below it), loose or packed. It reads directories and packed-refs, never
// a loose ref's file: finding which of 10,000 objects an ID prefix names
// costs one directory read, and Names("refs/namespaces/*") lists the
// namespaces. Entries are not checked: a caller looking for object IDs
// skips names that are not.
func (f *Refs) Names(pattern string) ([]string, error) {
	if strings.HasSuffix(pattern, "/") {
		pattern += "*"
	}
	q, err := parseRefPattern(pattern)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	err = f.loose(filepath.Join(f.dir, "refs"), "refs/", q.comps, true, func(_ *os.File, path, name string) error {
		if path != "" {
			if _, err := os.Lstat(path); err != nil {
				return nil
			}
		}
		seen[name] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list refs %s: %w", pattern, err)
	}
	// packed-refs after the directories, as List reads them.
	f.loaded = false
	p, err := f.packedRefs()
	if err != nil {
		return nil, err
	}
	p.names("", q.comps, func(name string) { seen[name] = true })
	runtime.KeepAlive(f) // p.b is f's mapping
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// names calls fn with each entry that matches comps
// below base, at the depth of the last component.
func (p packedRefs) names(base string, comps []string, fn func(name string)) {
	c := comps[0]
	pre, glob := strings.CutSuffix(c, "*")
	switch {
	case !glob && len(comps) == 1:
		if p.get(base+c, false) != "" {
			fn(base + c)
			return
		}
		p.scan(base+c+"/", func(_, _ []byte) bool {
			fn(base + c)
			return false
		})
	case !glob:
		p.names(base+c+"/", comps[1:], fn)
	default:
		p.values(base, pre, func(v string, leaf bool) {
			switch {
			case len(comps) == 1:
				fn(base + v)
			case !leaf:
				p.names(base+v+"/", comps[1:], fn)
			}
		})
	}
}

// loose calls fn for each loose entry under directory dir (whose ref
// names start with name, ending in "/") that matches comps: each ref file
// for List, or, with entries, each file or directory at the depth of the
// last component for Names. fn gets the directory it was read from (nil
// when no directory was read: it may not exist, and may be a directory)
// and its path.
func (f *Refs) loose(dir, name string, comps []string, entries bool, fn func(d *os.File, path, name string) error) error {
	if name == "refs/" {
		// The pattern's first component is matched against "refs".
		if !matchComp(comps[0], "refs") {
			return nil
		}
		if len(comps) == 1 {
			if entries {
				return fn(nil, dir, "refs")
			}
			return nil // the directory, not a ref
		}
		comps = comps[1:]
	}
	c := comps[0]
	last := len(comps) == 1
	if c == "" {
		return f.looseAll(dir, name, fn)
	}
	if pre, glob := strings.CutSuffix(c, "*"); !glob {
		if last {
			return fn(nil, dir+"/"+c, name+c)
		}
		return f.loose(dir+"/"+c, name+c+"/", comps[1:], entries, fn)
	} else {
		c = pre
	}
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, c) || strings.HasSuffix(n, ".lock") {
			continue
		}
		var err error
		switch {
		case last && entries:
			err = fn(d, "", name+n) // known to exist
		case last && !e.IsDir():
			err = fn(d, dir+"/"+n, name+n)
		case !last && e.IsDir():
			err = f.loose(dir+"/"+n, name+n+"/", comps[1:], entries, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// looseAll calls fn for every ref file below dir.
func (f *Refs) looseAll(dir, name string, fn func(d *os.File, path, name string) error) error {
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil
		}
		return err
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			if err := f.looseAll(dir+"/"+n, name+n+"/", fn); err != nil {
				return err
			}
			continue
		}
		if strings.HasSuffix(n, ".lock") {
			continue
		}
		if err := fn(d, dir+"/"+n, name+n); err != nil {
			return err
		}
	}
	return nil
}
