// Package gitgen generates deterministic, realistic git histories for
// end-to-end tests and benchmarks.
//
// Generate feeds a single git fast-import process a stream drawn from a PCG
// random source seeded with Options.Seed. Identities and timestamps are
// fixed and git runs without system or global configuration, so the same
// options always produce the same objects and refs.
package gitgen

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Options says what history to generate.
//
// The generated history satisfies:
//
//   - git rev-list --all --count is exactly Commits: the root commit, every
//     commit on main and on branches, and the Merges merge commits.
//   - git rev-list --all --merges --count is exactly Merges; every merge
//     has two parents and lies on main's first-parent line.
//   - refs/heads holds main plus exactly Branches branches. Of those,
//     min(Merges, Branches/2) are merged into main and the rest are not;
//     the remaining merges fold in topic branches whose refs were deleted,
//     as after a merged pull request.
//   - refs/tags holds Tags annotated tags plus (Tags+4)/5 lightweight tags
//     named ci/build-N, all pointing at commits on main.
//   - The root commit holds exactly Files files; later commits edit a few
//     lines in 1–3 files and occasionally add, delete or rename a file.
//
// Commits must be at least 1 + 2*Merges + Branches - min(Merges, Branches/2):
// a root, a merge commit plus at least one branch commit per merge, and at
// least one commit on each unmerged branch.
type Options struct {
	Commits  int   // total commits on all branches, merge commits included (e.g. 3000)
	Branches int   // branches besides main left in refs/heads (e.g. 30)
	Merges   int   // merge commits (two parents) folded into main
	Tags     int   // annotated tags, plus (Tags+4)/5 lightweight ones
	Files    int   // files in the root commit, spread over a few directories
	Seed     int64 // same seed, same options => byte-identical history (same oids)
}

// maxCount bounds every count in Options to keep arithmetic and memory sane.
const maxCount = 1 << 24

// mergedBranches returns how many of the kept branches are merged into main.
func (o Options) mergedBranches() int { return min(o.Merges, o.Branches/2) }

// minCommits returns the smallest Commits that o can be generated with.
func (o Options) minCommits() int {
	return 1 + 2*o.Merges + o.Branches - o.mergedBranches()
}

// validate reports every problem with o.
func (o Options) validate() error {
	var errs []string
	atLeast := func(name string, v, lo int) {
		switch {
		case v < lo && lo == 0:
			errs = append(errs, fmt.Sprintf("%s must not be negative (got %d)", name, v))
		case v < lo:
			errs = append(errs, fmt.Sprintf("%s must be at least %d (got %d)", name, lo, v))
		case v > maxCount:
			errs = append(errs, fmt.Sprintf("%s must be at most %d (got %d)", name, maxCount, v))
		}
	}
	atLeast("Commits", o.Commits, 1)
	atLeast("Branches", o.Branches, 0)
	atLeast("Merges", o.Merges, 0)
	atLeast("Tags", o.Tags, 0)
	atLeast("Files", o.Files, 1)
	if len(errs) == 0 && o.Commits < o.minCommits() {
		errs = append(errs, fmt.Sprintf("Commits must be at least %d for %d merges and %d branches (got %d)",
			o.minCommits(), o.Merges, o.Branches, o.Commits))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid options: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Generate writes the history described by o into the git repository at dir
// and points HEAD at refs/heads/main.
//
// dir may hold a bare or non-bare repository that has no refs yet; if it
// holds no repository, a bare one is created with git init. The work tree and
// index of a non-bare repository are left alone.
func Generate(ctx context.Context, dir string, o Options) error {
	if err := o.validate(); err != nil {
		return err
	}
	gitDir, format, err := openRepo(ctx, dir)
	if err != nil {
		return err
	}
	// fast-import would update the refs it can and skip the others, so
	// existing refs would leave a mix of two histories behind.
	env := gitEnv("GIT_DIR=" + gitDir)
	out, err := runGit(ctx, "", env, "for-each-ref", "--count=1", "--format=%(refname)")
	if err != nil {
		return err
	}
	if ref := strings.TrimSpace(out); ref != "" {
		return fmt.Errorf("repository %s already has refs (%s); want one without refs", gitDir, ref)
	}
	null := strings.Repeat("0", 40)
	if format == "sha256" {
		null = strings.Repeat("0", 64)
	}
	err = fastImport(ctx, gitDir, func(w *bufio.Writer) error {
		g := &gen{
			o:     o,
			r:     rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)),
			s:     &stream{w: w},
			null:  null,
			paths: make(map[string]bool),
			tips:  make(map[string]int),
		}
		g.x = text{g.r}
		return g.run(ctx)
	})
	if err != nil {
		return err
	}
	if _, err := runGit(ctx, "", env, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return fmt.Errorf("set HEAD: %w", err)
	}
	return nil
}

// gitEnv returns the environment for git: the process environment without
// GIT_* variables, with system and global configuration disabled, plus extra.
func gitEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "LC_ALL=C")
	return append(env, extra...)
}

// runGit runs git with args in directory cwd and returns its standard output.
func runGit(ctx context.Context, cwd string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = cwd
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", args[0], err, msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return stdout.String(), nil
}

// openRepo returns the absolute git directory and object format of the
// repository at dir, creating a bare one if dir holds no repository.
func openRepo(ctx context.Context, dir string) (gitDir, format string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", fmt.Errorf("repository path: %w", err)
	}
	probe := func() (string, string, error) {
		// The ceiling stops git from finding a repository above dir.
		env := gitEnv("GIT_CEILING_DIRECTORIES=" + filepath.Dir(abs))
		out, err := runGit(ctx, abs, env, "rev-parse", "--absolute-git-dir", "--show-object-format")
		if err != nil {
			return "", "", err
		}
		f := strings.Fields(out)
		if len(f) != 2 {
			return "", "", fmt.Errorf("git rev-parse: unexpected output %q", out)
		}
		return f[0], f[1], nil
	}
	if _, err := os.Stat(abs); err == nil {
		if gitDir, format, err := probe(); err == nil {
			return gitDir, format, nil
		}
	}
	if _, err := runGit(ctx, "", gitEnv(), "init", "--quiet", "--bare", "--initial-branch=main", abs); err != nil {
		return "", "", fmt.Errorf("create repository: %w", err)
	}
	gitDir, format, err = probe()
	if err != nil {
		return "", "", fmt.Errorf("open repository: %w", err)
	}
	return gitDir, format, nil
}

// fastImport runs git fast-import on gitDir and feeds it the stream that
// write produces.
func fastImport(ctx context.Context, gitDir string, write func(*bufio.Writer) error) error {
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done")
	// fast-import allocates and frees a zlib stream per object; without a
	// trim threshold glibc returns that memory to the kernel every time,
	// which made it several times slower.
	cmd.Env = gitEnv("GIT_DIR="+gitDir, "MALLOC_TRIM_THRESHOLD_=268435456", "MALLOC_TOP_PAD_=16777216")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("fast-import: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("fast-import: %w", err)
	}
	w := bufio.NewWriterSize(stdin, 256<<10)
	werr := write(w)
	if werr == nil {
		werr = w.Flush()
	}
	cerr := stdin.Close()
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("fast-import: %w", ctx.Err())
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return fmt.Errorf("fast-import: %w: %s", err, msg)
	case werr != nil:
		return fmt.Errorf("fast-import: write stream: %w", werr)
	case cerr != nil:
		return fmt.Errorf("fast-import: %w", cerr)
	}
	return nil
}

// stream writes fast-import commands and remembers the first write error.
type stream struct {
	w   *bufio.Writer
	err error
}

func (s *stream) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

// data writes a data command holding msg.
func (s *stream) data(msg string) { s.printf("data %d\n%s\n", len(msg), msg) }

// blob writes a data command holding the content of f.
func (s *stream) blob(f *file) {
	s.printf("data %d\n", f.size())
	for _, l := range f.lines {
		if s.err != nil {
			return
		}
		if _, s.err = s.w.WriteString(l); s.err == nil {
			s.err = s.w.WriteByte('\n')
		}
	}
	s.printf("\n")
}

// start is the time of the first commit, 2020-01-01T00:00:00Z.
const start = 1577836800

// topic is a branch that forks from main and may be merged back.
type topic struct {
	name   string // branch name without refs/heads/
	ref    string // ref its commits are written to
	named  bool   // whether ref is kept as refs/heads/name
	author person
	fork   int // main event it forks from
	merge  int // main event that merges it, or -1
	n      int // number of commits

	tip   int  // mark of its latest commit, 0 before the first
	base  tree // main's tree at fork
	cur   tree // tree at tip
	focus []string
}

// gen holds the state of one generation run.
type gen struct {
	o     Options
	r     *rand.Rand
	x     text
	s     *stream
	null  string          // null object id, to delete scratch refs
	mark  int             // last mark used; marks number commits from 1
	times []int64         // commit time of mark i+1
	paths map[string]bool // every path ever created, to keep new ones unique
	tips  map[string]int  // mark of each ref's latest commit
}

// slot schedules a commit of topics[topic] just before main event pos.
type slot struct{ pos, topic int }

// run writes the whole fast-import stream.
func (g *gen) run(ctx context.Context) error {
	o := g.o
	merged := o.mergedBranches()
	unmerged := o.Branches - merged
	extra := o.Commits - o.minCommits()

	topics := make([]*topic, o.Merges+unmerged)
	for i := range topics {
		t := &topic{n: 1, merge: -1, author: people[g.r.IntN(len(people))]}
		if extra > 0 {
			k := min(g.r.IntN(8), extra)
			t.n += k
			extra -= k
		}
		t.name = fmt.Sprintf("%s/%d-%s-%s", branchKinds[g.r.IntN(len(branchKinds))], 101+i, g.x.word(), g.x.word())
		topics[i] = t
	}

	// Main is a line of events: linear commits (the first is the root) and
	// merges of topics 0..Merges-1, in that order.
	events := 1 + extra + o.Merges
	mergeAt := g.r.Perm(events - 1)[:o.Merges]
	for i := range mergeAt {
		mergeAt[i]++ // never the root
	}
	slices.Sort(mergeAt)
	named := make([]bool, o.Merges)
	for _, i := range g.r.Perm(o.Merges)[:merged] {
		named[i] = true
	}
	mergeOf := make([]*topic, events)
	for i, at := range mergeAt {
		t := topics[i]
		t.merge = at
		t.fork = at - 1 - g.r.IntN(min(at, 40))
		t.named = named[i]
		mergeOf[at] = t
	}
	for _, t := range topics[o.Merges:] {
		t.fork = g.r.IntN(events)
		t.named = true
	}

	// Topic commits happen after their fork and no later than their merge.
	var sched []slot
	keep := make([]bool, events) // main trees that topics fork from
	for i, t := range topics {
		if t.named {
			t.ref = "refs/heads/" + t.name
		} else {
			t.ref = fmt.Sprintf("refs/gitgen/topic/%d", i)
		}
		keep[t.fork] = true
		last := t.merge
		if last < 0 {
			last = events
		}
		for range t.n {
			sched = append(sched, slot{t.fork + 1 + g.r.IntN(last-t.fork), i})
		}
	}
	slices.SortFunc(sched, func(a, b slot) int {
		return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.topic, b.topic))
	})

	mainMark := make([]int, events)
	mainTree := make([]tree, events)
	var cur tree
	next := 0
	for p := 0; p <= events; p++ {
		for ; next < len(sched) && sched[next].pos == p; next++ {
			g.topicCommit(topics[sched[next].topic], mainMark, mainTree)
		}
		if err := cmp.Or(ctx.Err(), g.s.err); err != nil {
			return err
		}
		if p == events {
			break
		}
		var cs []change
		switch t := mergeOf[p]; {
		case p == 0:
			cs = g.rootChanges()
			mainMark[p] = g.commit("refs/heads/main", maintainer, "Initial import\n", 0, 0, cs)
		case t != nil:
			cs = merge3(t.base, cur, t.cur)
			msg := fmt.Sprintf("Merge branch '%s'\n", t.name)
			if !t.named {
				msg = fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s\n",
					100+p, strings.ToLower(strings.Fields(t.author.name)[0]), t.name, g.x.subject(t.focus[0]))
			}
			mainMark[p] = g.commit("refs/heads/main", maintainer, msg, mainMark[p-1], t.tip, cs)
		default:
			var msg string
			cs, msg = g.changes(cur, nil)
			mainMark[p] = g.commit("refs/heads/main", people[g.r.IntN(len(people))], msg, mainMark[p-1], 0, cs)
		}
		cur = cur.apply(cs)
		if keep[p] {
			mainTree[p] = cur
		}
	}

	g.tags(events, mainMark)
	for _, t := range topics {
		if !t.named {
			g.s.printf("reset %s\nfrom %s\n\n", t.ref, g.null)
		}
	}
	g.s.printf("done\n")
	return g.s.err
}

// tags writes the annotated and lightweight tags on main's events.
func (g *gen) tags(events int, mainMark []int) {
	major, minor, patch := 0, 1, 0
	for i, p := range g.spread(events, g.o.Tags) {
		if i > 0 {
			switch r := g.r.IntN(10); {
			case r == 0:
				major, minor, patch = major+1, 0, 0
			case r < 5:
				minor, patch = minor+1, 0
			default:
				patch++
			}
		}
		name := fmt.Sprintf("v%d.%d.%d", major, minor, patch)
		m := mainMark[p]
		msg := fmt.Sprintf("Release %s\n\n", name)
		for range 1 + g.r.IntN(4) {
			msg += "- " + g.x.sentence(3, 9) + "\n"
		}
		g.s.printf("tag %s\nfrom :%d\ntagger %s <%s> %d +0000\n",
			name, m, maintainer.name, maintainer.email, g.times[m-1]+600+g.r.Int64N(3000))
		g.s.data(msg)
	}
	for i, p := range g.spread(events, (g.o.Tags+4)/5) {
		g.s.printf("reset refs/tags/ci/build-%d\nfrom :%d\n\n", i+1, mainMark[p])
	}
}

// spread returns k sorted positions below n, distinct when k <= n.
func (g *gen) spread(n, k int) []int {
	var ps []int
	if k <= n {
		ps = g.r.Perm(n)[:k]
	} else {
		ps = make([]int, k)
		for i := range ps {
			ps[i] = g.r.IntN(n)
		}
	}
	slices.Sort(ps)
	return ps
}

// commit writes a commit to ref and returns its mark; from and merge are
// parent marks, 0 for none.
func (g *gen) commit(ref string, who person, msg string, from, merge int, cs []change) int {
	g.mark++
	m := g.mark
	ts := start + int64(m)*60 + g.r.Int64N(60)
	g.times = append(g.times, ts)
	s := g.s
	s.printf("commit %s\nmark :%d\n", ref, m)
	s.printf("author %s <%s> %d +0000\n", who.name, who.email, ts)
	s.printf("committer %s <%s> %d +0000\n", who.name, who.email, ts)
	s.data(msg)
	// fast-import continues from a branch's tip by itself; an explicit
	// from makes it reread the commit and its trees from the pack.
	if from > 0 && g.tips[ref] != from {
		s.printf("from :%d\n", from)
	}
	g.tips[ref] = m
	if merge > 0 {
		s.printf("merge :%d\n", merge)
	}
	for _, c := range cs {
		if c.f == nil {
			s.printf("D %s\n", c.path)
			continue
		}
		s.printf("M %s inline %s\n", c.f.mode(), c.path)
		s.blob(c.f)
	}
	s.printf("\n")
	return m
}

// topicCommit writes the next commit of t.
func (g *gen) topicCommit(t *topic, mainMark []int, mainTree []tree) {
	parent := t.tip
	if parent == 0 {
		parent = mainMark[t.fork]
		t.base = mainTree[t.fork]
		t.cur = t.base
		for range 1 + g.r.IntN(3) {
			t.focus = append(t.focus, g.pick(t.cur, nil).path)
		}
	}
	cs, msg := g.changes(t.cur, t.focus)
	t.tip = g.commit(t.ref, t.author, msg, parent, 0, cs)
	t.cur = t.cur.apply(cs)
}

// rootChanges returns the Files files of the root commit.
func (g *gen) rootChanges() []change {
	cs := make([]change, g.o.Files)
	for i := range cs {
		f := g.newFile()
		cs[i] = change{f.path, f}
	}
	return cs
}

// changes returns the changes and message of an ordinary commit on top of
// tr; edits prefer the paths in focus.
func (g *gen) changes(tr tree, focus []string) ([]change, string) {
	var cs []change
	var subject string
	switch r := g.r.IntN(100); {
	case r < 3:
		f := g.newFile()
		cs = append(cs, change{f.path, f})
		subject = fmt.Sprintf("%s: add %s", area(f.path), path.Base(f.path))
	case r < 6 && len(tr) > max(1, g.o.Files/2):
		f := g.pick(tr, nil)
		cs = append(cs, change{f.path, nil})
		subject = fmt.Sprintf("%s: remove %s", area(f.path), path.Base(f.path))
	case r < 7:
		f := g.pick(tr, nil)
		nf := *f
		nf.path = g.newPath(path.Dir(f.path), f.kind)
		cs = append(cs, change{f.path, nil}, change{nf.path, &nf})
		subject = fmt.Sprintf("%s: rename %s to %s", area(f.path), path.Base(f.path), path.Base(nf.path))
	}
	n := 1
	switch r := g.r.IntN(10); {
	case r >= 9:
		n = 3
	case r >= 6:
		n = 2
	}
	for range n {
		f := g.pick(tr, focus)
		if slices.ContainsFunc(cs, func(c change) bool { return c.path == f.path }) {
			continue
		}
		cs = append(cs, change{f.path, g.x.edit(f)})
		if subject == "" {
			subject = g.x.subject(f.path)
		}
	}
	if subject == "" {
		subject = g.x.subject(cs[0].path)
	}
	return cs, subject + "\n" + g.x.body()
}

// area returns the directory name used in commit subjects about p.
func area(p string) string {
	if d := path.Base(path.Dir(p)); d != "." {
		return d
	}
	return "all"
}

// pick returns a file of tr, weighted by heat; with focus, it usually
// returns one of the focus files.
func (g *gen) pick(tr tree, focus []string) *file {
	if len(focus) > 0 && g.r.IntN(10) < 7 {
		if f := tr.get(focus[g.r.IntN(len(focus))]); f != nil {
			return f
		}
	}
	total := 0
	for _, f := range tr {
		total += f.heat
	}
	n := g.r.IntN(total)
	for _, f := range tr {
		if n -= f.heat; n < 0 {
			return f
		}
	}
	panic("unreachable")
}

// newFile returns a new file with fresh content in a random directory.
func (g *gen) newFile() *file {
	total := 0
	for _, d := range dirs {
		total += d.weight
	}
	n := g.r.IntN(total)
	var d dirSpec
	for _, d = range dirs {
		if n -= d.weight; n < 0 {
			break
		}
	}
	// Most files are around a hundred lines, some a few hundred.
	n = 30 + g.r.IntN(120)
	if g.r.IntN(100) < 15 {
		n = 200 + g.r.IntN(300)
	}
	lines := g.x.header(d.kind, d.dir)
	for range n {
		lines = append(lines, g.x.line(d.kind))
	}
	heat := 1 + g.r.IntN(4)
	if g.r.IntN(10) == 0 {
		heat = 24
	}
	return &file{path: g.newPath(d.dir, d.kind), kind: d.kind, exec: d.kind == kindShell, heat: heat, lines: lines}
}

// newPath returns a path in dir that no file has used before.
func (g *gen) newPath(dir string, k kind) string {
	ext := [...]string{kindGo: ".go", kindMarkdown: ".md", kindShell: ".sh", kindText: ".csv"}[k]
	for i := 0; ; i++ {
		name := g.x.word() + "_" + g.x.word()
		if i >= 3 {
			name += fmt.Sprintf("_%d", len(g.paths))
		}
		p := path.Join(dir, name+ext)
		if !g.paths[p] {
			g.paths[p] = true
			return p
		}
	}
}
