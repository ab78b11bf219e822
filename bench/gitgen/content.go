package gitgen

import (
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
)

// kind is the flavour of text a file holds.
type kind int

const (
	kindGo kind = iota
	kindMarkdown
	kindShell
	kindText
)

// file is one immutable version of a file; trees share unchanged versions,
// so pointer equality means "same version".
type file struct {
	path  string
	kind  kind
	exec  bool // mode 100755 instead of 100644
	heat  int  // relative chance of being edited
	lines []string
}

// mode returns the fast-import file mode of f.
func (f *file) mode() string {
	if f.exec {
		return "100755"
	}
	return "100644"
}

// size returns the length in bytes of f's content.
func (f *file) size() int {
	n := 0
	for _, l := range f.lines {
		n += len(l) + 1
	}
	return n
}

// tree is an immutable list of files sorted by path.
type tree []*file

func comparePath(f *file, p string) int { return strings.Compare(f.path, p) }

// get returns the file at p, or nil.
func (t tree) get(p string) *file {
	if i, ok := slices.BinarySearchFunc(t, p, comparePath); ok {
		return t[i]
	}
	return nil
}

// with returns a copy of t in which f replaces or adds the file at f.path.
func (t tree) with(f *file) tree {
	i, ok := slices.BinarySearchFunc(t, f.path, comparePath)
	n := make(tree, 0, len(t)+1)
	if ok {
		n = append(n, t...)
		n[i] = f
		return n
	}
	n = append(n, t[:i]...)
	n = append(n, f)
	return append(n, t[i:]...)
}

// without returns a copy of t without the file at p.
func (t tree) without(p string) tree {
	i, ok := slices.BinarySearchFunc(t, p, comparePath)
	if !ok {
		return t
	}
	n := make(tree, 0, len(t))
	n = append(n, t[:i]...)
	return append(n, t[i+1:]...)
}

// change is one file operation of a commit; a nil f deletes path.
type change struct {
	path string
	f    *file
}

// apply returns t with the changes applied.
func (t tree) apply(cs []change) tree {
	for _, c := range cs {
		if c.f == nil {
			t = t.without(c.path)
		} else {
			t = t.with(c.f)
		}
	}
	return t
}

// merge3 returns the changes that turn ours into the three-way merge of ours
// and theirs against base. A path changed on both sides takes theirs, except
// that a modification wins over a deletion.
func merge3(base, ours, theirs tree) []change {
	var paths []string
	for _, t := range []tree{base, ours, theirs} {
		for _, f := range t {
			paths = append(paths, f.path)
		}
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	var cs []change
	for _, p := range paths {
		b, o, t := base.get(p), ours.get(p), theirs.get(p)
		r := o
		switch {
		case o == t, b == t:
		case b == o:
			r = t
		case t != nil:
			r = t
		}
		if r != o {
			cs = append(cs, change{p, r})
		}
	}
	return cs
}

// dirSpec is a directory files are created in.
type dirSpec struct {
	dir    string
	kind   kind
	weight int
}

// dirs lists where files live; weights favour source directories.
var dirs = []dirSpec{
	{"", kindMarkdown, 1},
	{"cmd/grove", kindGo, 2},
	{"internal/core", kindGo, 5},
	{"internal/store", kindGo, 4},
	{"internal/proto", kindGo, 4},
	{"internal/proto/wire", kindGo, 2},
	{"pkg/util", kindGo, 3},
	{"docs", kindMarkdown, 2},
	{"docs/design", kindMarkdown, 1},
	{"scripts", kindShell, 1},
	{"testdata/fixtures", kindText, 1},
}

var words = []string{
	"account", "batch", "buffer", "cache", "channel", "chunk", "client",
	"config", "cursor", "delta", "digest", "entry", "event", "filter",
	"frame", "graph", "handle", "header", "index", "item", "journal",
	"key", "layer", "lease", "ledger", "limit", "list", "lock", "log",
	"manifest", "mark", "node", "object", "offset", "pack", "page", "path",
	"peer", "pool", "queue", "record", "ref", "region", "replica", "request",
	"route", "schema", "scope", "segment", "session", "shard", "signal",
	"snapshot", "state", "stream", "table", "task", "token", "tree", "txn",
	"update", "value", "version", "window", "worker",
}

var verbs = []string{
	"fix", "add", "refactor", "simplify", "document", "improve", "handle",
	"rename", "remove", "tighten", "speed up", "clean up", "validate", "test",
}

var goTypes = []string{
	"int", "string", "error", "bool", "[]byte", "uint64", "*Node",
	"context.Context", "time.Duration", "map[string]int", "io.Reader",
}

var people = []person{
	{"Alice Moreau", "alice@example.com"},
	{"Bilal Haddad", "bilal@example.com"},
	{"Chen Wei", "chen.wei@example.com"},
	{"Dana Kowalski", "dana@example.com"},
	{"Emeka Obi", "emeka@example.com"},
	{"Freya Lund", "freya@example.com"},
	{"Gustavo Reis", "gustavo@example.com"},
	{"Hana Sato", "hana.sato@example.com"},
}

var maintainer = person{"Grove Maintainers", "maintainers@example.com"}

var branchKinds = []string{"feature", "feature", "fix", "fix", "refactor", "docs", "perf", "exp"}

// person is a commit author, committer or tagger.
type person struct{ name, email string }

// text draws random text-like content.
type text struct{ r *rand.Rand }

func (x text) word() string { return words[x.r.IntN(len(words))] }

func (x text) ident() string {
	w := x.word()
	if x.r.IntN(2) == 0 {
		return w
	}
	n := x.word()
	return w + strings.ToUpper(n[:1]) + n[1:]
}

func (x text) exported() string {
	i := x.ident()
	return strings.ToUpper(i[:1]) + i[1:]
}

func (x text) sentence(lo, hi int) string {
	n := lo + x.r.IntN(hi-lo+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = x.word()
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// line returns one line of content of kind k.
func (x text) line(k kind) string {
	r := x.r
	switch k {
	case kindGo:
		switch r.IntN(12) {
		case 0:
			return ""
		case 1:
			return "\t// " + x.sentence(4, 10)
		case 2:
			return fmt.Sprintf("\tif err := %s.%s(%s); err != nil {", x.ident(), x.exported(), x.ident())
		case 3:
			return fmt.Sprintf("\t\treturn fmt.Errorf(\"%s %s: %%w\", err)", x.word(), x.word())
		case 4:
			return "\t}"
		case 5:
			return fmt.Sprintf("func %s(%s %s) %s {", x.exported(), x.ident(), goTypes[r.IntN(len(goTypes))], goTypes[r.IntN(len(goTypes))])
		case 6:
			return fmt.Sprintf("\t%s := %s.%s(%d)", x.ident(), x.ident(), x.exported(), r.IntN(4096))
		case 7:
			return fmt.Sprintf("\t%s = append(%s, %s)", x.ident(), x.ident(), x.ident())
		case 8:
			return "\treturn " + x.ident()
		case 9:
			return "}"
		case 10:
			return fmt.Sprintf("\tfor _, %s := range %s.%s {", x.word(), x.ident(), x.exported())
		default:
			return fmt.Sprintf("\t\t%s.%s(%s, %q)", x.ident(), x.exported(), x.ident(), x.word())
		}
	case kindMarkdown:
		switch r.IntN(8) {
		case 0:
			return ""
		case 1:
			return "## " + strings.TrimSuffix(x.sentence(2, 4), ".")
		case 2:
			return "- " + x.sentence(3, 9)
		default:
			return x.sentence(6, 14)
		}
	case kindShell:
		switch r.IntN(6) {
		case 0:
			return ""
		case 1:
			return "# " + x.sentence(3, 8)
		case 2:
			return fmt.Sprintf("%s=\"${%s:-%s}\"", strings.ToUpper(x.word()), strings.ToUpper(x.word()), x.word())
		case 3:
			return fmt.Sprintf("if [ -n \"$%s\" ]; then %s \"$%s\"; fi", strings.ToUpper(x.word()), x.word(), strings.ToUpper(x.word()))
		default:
			return fmt.Sprintf("go run ./cmd/%s -%s %d", x.word(), x.word(), r.IntN(100))
		}
	default:
		return fmt.Sprintf("%s,%s,%d,%d,%s", x.word(), x.ident(), r.IntN(100000), r.IntN(10), x.word())
	}
}

// header returns the first lines of a new file of kind k in dir.
func (x text) header(k kind, dir string) []string {
	switch k {
	case kindGo:
		pkg := path.Base(dir)
		if strings.HasPrefix(dir, "cmd/") {
			pkg = "main"
		}
		return []string{"package " + pkg, "", "import (", "\t\"context\"", "\t\"fmt\"", ")", ""}
	case kindMarkdown:
		return []string{"# " + strings.TrimSuffix(x.sentence(2, 5), "."), ""}
	case kindShell:
		return []string{"#!/bin/sh", "set -eu", ""}
	default:
		return []string{"name,key,size,level,owner"}
	}
}

// edit returns a new version of f with a few nearby lines changed,
// inserted or deleted.
func (x text) edit(f *file) *file {
	r := x.r
	lines := slices.Clone(f.lines)
	at := r.IntN(len(lines))
	for range 1 + r.IntN(4) {
		i := min(at+r.IntN(8), len(lines)-1)
		switch op := r.IntN(20); {
		case op < 12:
			lines[i] = x.line(f.kind)
		case op < 15:
			lines = slices.Insert(lines, i, x.line(f.kind))
		case op < 18:
			if len(lines) > 20 {
				lines = slices.Delete(lines, i, i+1)
			}
		case op < 19:
			block := make([]string, 3+r.IntN(8))
			for j := range block {
				block[j] = x.line(f.kind)
			}
			lines = slices.Insert(lines, i, block...)
		default:
			if n := 3 + r.IntN(8); len(lines) > 40+n {
				i = min(i, len(lines)-n)
				lines = slices.Delete(lines, i, i+n)
			}
		}
	}
	nf := *f
	nf.lines = lines
	return &nf
}

// subject returns a commit subject about a change to p.
func (x text) subject(p string) string {
	area := path.Base(path.Dir(p))
	if area == "." {
		area = "all"
	}
	return fmt.Sprintf("%s: %s %s %s", area, verbs[x.r.IntN(len(verbs))], x.word(), x.word())
}

// body returns an optional commit message body, starting with a blank line.
func (x text) body() string {
	if x.r.IntN(10) < 6 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n")
	col := 0
	for range 2 + x.r.IntN(3) {
		for _, w := range strings.Fields(x.sentence(5, 14)) {
			if col > 0 && col+1+len(w) > 72 {
				b.WriteString("\n")
				col = 0
			} else if col > 0 {
				b.WriteString(" ")
				col++
			}
			b.WriteString(w)
			col += len(w)
		}
	}
	b.WriteString("\n")
	return b.String()
}
