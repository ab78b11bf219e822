// Command netbench measures Grove's network against native git on the same
// data, on loopback: a clone from a peer over libp2p against `git clone`
// from `git daemon`, incremental fetches (time and bytes), and how long a
// push takes to reach 2, 5 and 10 seeding peers. It prints markdown rows.
//
//	go run ./bench/cmd/netbench -commits 3000 -runs 5
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"example.com/grove/bench/gitgen"
	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

func main() {
	commits := flag.Int("commits", 3000, "commits in the generated history")
	runs := flag.Int("runs", 5, "timed runs of each measurement")
	peers := flag.String("peers", "2,5,10", "seeding peer counts for propagation")
	only := flag.String("only", "", "measure only these, comma-separated: clone, fetch, propagation, loop (default all)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the propagation runs to this file")
	flag.Parse()
	if err := run(*commits, *runs, *peers, *only); err != nil {
		fmt.Fprintln(os.Stderr, "netbench:", err)
		os.Exit(1)
	}
}

// cpuProfile is where -cpuprofile writes.
var cpuProfile string

type env struct {
	tmp string
	ctx context.Context
}

func run(commits, runs int, peerCounts, only string) error {
	measure := func(what string) bool { return only == "" || slices.Contains(strings.Split(only, ","), what) }
	tmp, err := os.MkdirTemp("", "netbench")
	if err != nil {
		return err
	}
	if os.Getenv("NETBENCH_KEEP") == "" {
		defer os.RemoveAll(tmp)
	} else {
		fmt.Fprintln(os.Stderr, "netbench: keeping", tmp)
	}
	for k, v := range map[string]string{
		"HOME": tmp, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": filepath.Join(tmp, "gitconfig"),
		"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com",
	} {
		os.Setenv(k, v)
	}
	e := &env{tmp: tmp, ctx: context.Background()}

	origin, err := e.node("origin")
	if err != nil {
		return err
	}
	defer origin.Close()
	rid, err := e.project(origin, commits)
	if err != nil {
		return err
	}
	storage := origin.home.ProjectPath(rid)
	if out, err := exec.Command("git", "-C", storage, "repack", "-adq").CombinedOutput(); err != nil {
		return fmt.Errorf("repack: %v %s", err, out)
	}
	daemon, daemonBytes, stop, err := gitDaemon(filepath.Dir(storage))
	if err != nil {
		return err
	}
	defer stop()
	url := daemon + "/" + filepath.Base(storage)

	// Clone: grove over libp2p vs git clone --mirror from git daemon.
	var groveT, gitT, ratios []float64
	for i := 0; i <= runs && measure("clone"); i++ {
		b, err := e.node(fmt.Sprintf("clone%d", i))
		if err != nil {
			return err
		}
		t0 := time.Now()
		if _, err := b.Clone(e.ctx, rid, origin.Addrs()[:1]); err != nil {
			return fmt.Errorf("grove clone: %w", err)
		}
		g := time.Since(t0).Seconds()
		b.Close()
		dst := filepath.Join(tmp, fmt.Sprintf("mirror%d.git", i))
		t0 = time.Now()
		if out, err := exec.Command("git", "clone", "-q", "--mirror", url, dst).CombinedOutput(); err != nil {
			return fmt.Errorf("git clone: %v %s", err, out)
		}
		n := time.Since(t0).Seconds()
		if i == 0 {
			continue // warm-up
		}
		groveT, gitT, ratios = append(groveT, g), append(gitT, n), append(ratios, g/n)
	}
	if measure("clone") {
		objects := strings.TrimSpace(out("git", "-C", storage, "rev-list", "--all", "--objects", "--count"))
		fmt.Printf("| clone from a peer, %d commits (%s objects) | grove %.0f ms | git daemon %.0f ms | %.2fx |\n",
			commits, objects, 1000*median(groveT), 1000*median(gitT), median(ratios))
	}
	if measure("fetch") {
		if err := e.incremental(origin, rid, url, daemonBytes); err != nil {
			return err
		}
	}

	// Propagation: a push announced by origin reaches N seeding peers.
	for _, f := range strings.Split(peerCounts, ",") {
		if !measure("propagation") {
			break
		}
		var count int
		fmt.Sscan(f, &count)
		if count <= 0 {
			continue
		}
		p, err := e.propagation(origin, rid, count, runs)
		if err != nil {
			return err
		}
		ms := p.wall
		// CPU is steadier than wall time on a shared machine: every node
		// and git process runs on the same cores.
		fmt.Printf("| push reaches %d seeding peers (announce, fetch, verify) | median %.0f ms | max %.0f ms | CPU per push %.2f s (nodes %.2f s, git %.2f s) |\n",
			count, median(ms), ms[len(ms)-1], median(p.nodes)+median(p.git), median(p.nodes), median(p.git))
		fmt.Printf("| maintainer → contributors, %d peers: each arrival (%d) | median %.0f ms | max %.0f ms | |\n",
			count, len(p.down), median(p.down), slices.Max(p.down))
		fmt.Printf("| contributor → maintainer, %d peers: arrival at the maintainer (%d) | median %.0f ms | max %.0f ms | at every other peer: median %.0f ms, max %.0f ms |\n",
			count, len(p.up), median(p.up), slices.Max(p.up), median(p.upAll), slices.Max(p.upAll))
		if len(p.upFirst) > 0 {
			fmt.Printf("| contributor → maintainer, %d peers, the contributor's first change (%d) | median %.0f ms | max %.0f ms | at every other peer: median %.0f ms, max %.0f ms |\n",
				count, len(p.upFirst), median(p.upFirst), slices.Max(p.upFirst), median(p.upAllFirst), slices.Max(p.upAllFirst))
		}
	}
	if measure("loop") {
		if err := e.loop(runs); err != nil {
			return err
		}
	}
	return nil
}

// incremental fetches 0, 1 and 100 new commits from origin, with grove and
// with git from git daemon.
func (e *env) incremental(origin *benchNode, rid gproto.RID, url string, daemonBytes *atomic.Int64) error {
	tmp := e.tmp
	b, err := e.node("incremental")
	if err != nil {
		return err
	}
	defer b.Close()
	if _, err := b.Clone(e.ctx, rid, origin.Addrs()[:1]); err != nil {
		return err
	}
	mirror := filepath.Join(tmp, "incremental.git")
	if out, err := exec.Command("git", "clone", "-q", "--mirror", url, mirror).CombinedOutput(); err != nil {
		return fmt.Errorf("git clone: %v %s", err, out)
	}
	for _, n := range []int{0, 1, 100} {
		for i := 0; i < n; i++ {
			if err := e.commit(origin, rid, fmt.Sprintf("incremental %d of %d\n%s", i, n, strings.Repeat("line\n", i%17))); err != nil {
				return err
			}
		}
		t0 := time.Now()
		res, err := b.Fetch(e.ctx, origin.Host().ID(), rid)
		if err != nil {
			return fmt.Errorf("grove fetch: %w", err)
		}
		g := time.Since(t0)
		daemonBytes.Store(0)
		t0 = time.Now()
		if out, err := exec.Command("git", "-C", mirror, "fetch", "-q", url, "+refs/*:refs/*").CombinedOutput(); err != nil {
			return fmt.Errorf("git fetch: %v %s", err, out)
		}
		d := time.Since(t0)
		what := fmt.Sprintf("%d new commits", n)
		if n == 0 {
			what = "nothing new"
		}
		fmt.Printf("| fetch, %s | grove %d ms, %d bytes | git daemon %d ms, %d bytes | %.2fx time, %.2fx bytes |\n",
			what, g.Milliseconds(), res.Bytes, d.Milliseconds(), daemonBytes.Load(),
			g.Seconds()/d.Seconds(), float64(res.Bytes)/float64(max(daemonBytes.Load(), 1)))
	}

	return nil
}

type benchNode struct {
	*p2psync.Node
	home repo.Home
	key  *gproto.Key
}

func (e *env) node(name string) (*benchNode, error) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	k, err := gproto.NewKey(priv)
	if err != nil {
		return nil, err
	}
	h := repo.Home{Dir: filepath.Join(e.tmp, name)}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("NETBENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	n, err := p2psync.New(e.ctx, p2psync.Config{Home: h, Key: k, Log: log})
	if err != nil {
		return nil, err
	}
	return &benchNode{Node: n, home: h, key: k}, nil
}

// project makes a project in n from a generated history.
func (e *env) project(n *benchNode, commits int) (gproto.RID, error) {
	src := filepath.Join(e.tmp, "src")
	if out, err := exec.Command("git", "init", "-q", "-b", "main", src).CombinedOutput(); err != nil {
		return gproto.RID{}, fmt.Errorf("%v %s", err, out)
	}
	if err := gitgen.Generate(e.ctx, src, gitgen.Options{Commits: commits, Branches: 30, Merges: 12, Tags: 20, Files: 200, Seed: 1}); err != nil {
		return gproto.RID{}, err
	}
	doc := &gproto.Identity{Name: "bench", DefaultBranch: "main", Delegates: []gproto.NID{n.key.NID()},
		Threshold: 1, Visibility: gproto.Visibility{Type: gproto.Public}}
	r, err := repo.Create(e.ctx, n.home, n.key, doc, time.Now())
	if err != nil {
		return gproto.RID{}, err
	}
	if out, err := exec.Command("git", "-C", r.Path, "fetch", "-q", src, "+refs/heads/*:refs/import/heads/*", "+refs/tags/*:refs/import/tags/*").CombinedOutput(); err != nil {
		return gproto.RID{}, fmt.Errorf("import: %v %s", err, out)
	}
	var ups []repo.RefUpdate
	for _, l := range strings.Split(strings.TrimSpace(out("git", "-C", r.Path, "for-each-ref", "--format=%(objectname) %(refname)", "refs/import/")), "\n") {
		oid, name, _ := strings.Cut(l, " ")
		ups = append(ups, repo.RefUpdate{Name: "refs/" + strings.TrimPrefix(name, "refs/import/"), New: oid})
		exec.Command("git", "-C", r.Path, "update-ref", "-d", name).Run()
	}
	if err := r.UpdateNamespace(e.ctx, n.key, ups, time.Now()); err != nil {
		return gproto.RID{}, err
	}
	return r.RID, n.Seed(e.ctx, r.RID)
}

// commit adds one commit on main in n's namespace.
func (e *env) commit(n *benchNode, rid gproto.RID, msg string) error {
	r, err := repo.Open(n.home, rid)
	if err != nil {
		return err
	}
	refs, err := r.NamespaceRefs(e.ctx, n.key.NID())
	if err != nil {
		return err
	}
	old := refs["refs/heads/main"]
	parent := old
	if parent == "" {
		// A contributor's first push builds on the project's main.
		parent = strings.TrimSpace(out("git", "-C", r.Path, "rev-parse", "refs/heads/main"))
	}
	c := exec.Command("git", "-C", r.Path, "commit-tree", parent+"^{tree}", "-p", parent, "-m", msg)
	b, err := c.Output()
	if err != nil {
		return err
	}
	oid := strings.TrimSpace(string(b))
	return r.UpdateNamespace(e.ctx, n.key, []repo.RefUpdate{{Name: "refs/heads/main", Old: old, New: oid}}, time.Now())
}

// propagated is what propagation measured, in ms: per push from the
// maintainer (origin), the wall time until the last seeder held it
// (wall) and every seeder's arrival (down); per push from a contributor
// (each seeder in turn), the arrival at the maintainer (up) and at every
// other peer (upAll); and the CPU seconds of the maintainer's pushes
// (nodes: this process, git: its git children).
type propagated struct {
	wall, down, up, upAll, nodes, git []float64
	// upFirst and upAllFirst are up and upAll for a contributor's first
	// change, which its peers cannot take as an update pack (they hold no
	// earlier revision of its namespace): each fetches it.
	upFirst, upAllFirst []float64
}

// propagation measures runs pushes from origin to count fresh seeders, and
// runs pushes from the seeders, in turn, to origin and the others.
func (e *env) propagation(origin *benchNode, rid gproto.RID, count, runs int) (*propagated, error) {
	var seeders []*benchNode
	defer func() {
		for _, s := range seeders {
			s.Close()
		}
	}()
	for i := 0; i < count; i++ {
		s, err := e.node(fmt.Sprintf("seed%d-%d", count, i))
		if err != nil {
			return nil, err
		}
		seeders = append(seeders, s)
		if _, err := s.Clone(e.ctx, rid, origin.Addrs()[:1]); err != nil {
			return nil, err
		}
		// A mesh: each seeder also knows the previous one.
		if i > 0 {
			s.Connect(e.ctx, seeders[i-1].Addrs()[0])
		}
	}
	// Steady state before the clock starts: every seeder sees origin in the
	// project's topic and origin sees every seeder (subscriptions travel
	// when peers connect), one GossipSub heartbeat (1 s) has grafted the
	// mesh, and one untimed round has warmed connections and caches.
	ready := time.Now().Add(30 * time.Second)
	for !inTopic(origin, rid, seeders) {
		if time.Now().After(ready) {
			return nil, fmt.Errorf("propagation to %d peers: topic not formed after 30 s", count)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, _, _, _, err := e.round(origin, rid, seeders, "warm-up"); err != nil {
		return nil, err
	}
	if cpuProfile != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", cpuProfile, count))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	p := &propagated{}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for r := 0; r < runs; r++ {
		arrived, d, n, g, err := e.round(origin, rid, seeders, fmt.Sprintf("run %d", r))
		if err != nil {
			return nil, err
		}
		p.wall, p.nodes, p.git = append(p.wall, ms(d)), append(p.nodes, n.Seconds()), append(p.git, g.Seconds())
		for _, a := range arrived {
			p.down = append(p.down, ms(a))
		}
		// A contributor pushes, twice: the maintainer first among those to
		// hear. A contributor's first change is counted apart.
		from := seeders[r%len(seeders)]
		to := []*benchNode{origin}
		for _, s := range seeders {
			if s != from {
				to = append(to, s)
			}
		}
		for k := range 2 {
			first := sigrefs(from.home, rid, from.key.NID()) == ""
			arrived, _, _, _, err = e.round(from, rid, to, fmt.Sprintf("contributor run %d.%d", r, k))
			if err != nil {
				return nil, err
			}
			up, upAll := &p.up, &p.upAll
			if first {
				up, upAll = &p.upFirst, &p.upAllFirst
			}
			*up = append(*up, ms(arrived[0]))
			for _, a := range arrived {
				*upAll = append(*upAll, ms(a))
			}
		}
	}
	sort.Float64s(p.wall)
	return p, nil
}

// inTopic reports whether origin and every seeder see each other in rid's
// topic.
func inTopic(origin *benchNode, rid gproto.RID, seeders []*benchNode) bool {
	op := origin.TopicPeers(rid)
	for _, s := range seeders {
		if !slices.Contains(op, s.Host().ID()) || !slices.Contains(s.TopicPeers(rid), origin.Host().ID()) {
			return false
		}
	}
	return true
}

// round commits on from, announces it as a push does, and returns when
// each peer of to held from's new signed refs, how long until the last
// did, and the CPU time the nodes and the git processes spent meanwhile.
func (e *env) round(from *benchNode, rid gproto.RID, to []*benchNode, name string) (arrived []time.Duration, wall, nodes, git time.Duration, err error) {
	if err := e.commit(from, rid, "propagate "+name); err != nil {
		return nil, 0, 0, 0, err
	}
	want := sigrefs(from.home, rid, from.key.NID())
	self0, children0 := cpu()
	t0 := time.Now()
	if err := from.Announce(e.ctx, rid); err != nil {
		return nil, 0, 0, 0, err
	}
	arrived, err = waitArrivals(t0, rid, from, want, to)
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("propagation to %d peers, %s: %w", len(to), name, err)
	}
	wall = time.Since(t0)
	self1, children1 := cpu()
	nodes, git = self1-self0, children1-children0
	if os.Getenv("NETBENCH_LOG") != "" {
		var b strings.Builder
		for i, d := range arrived {
			fmt.Fprintf(&b, " %d=%dms", i, d.Milliseconds())
		}
		fmt.Fprintf(os.Stderr, "propagation %d peers, %s, announced at %s, CPU: nodes %d ms, git %d ms; arrived:%s\n",
			len(to), name, t0.UTC().Format("15:04:05.000000"), nodes.Milliseconds(), git.Milliseconds(), b.String())
	}
	return arrived, wall, nodes, git, nil
}

// waitArrivals polls, for at most 30 s from t0, until every peer of to
// holds want as from's signed refs, and returns when each did.
func waitArrivals(t0 time.Time, rid gproto.RID, from *benchNode, want string, to []*benchNode) ([]time.Duration, error) {
	deadline := t0.Add(30 * time.Second)
	arrived := make([]time.Duration, len(to))
	for {
		done := 0
		for i, s := range to {
			if arrived[i] > 0 {
				done++
			} else if sigrefs(s.home, rid, from.key.NID()) == want {
				arrived[i] = time.Since(t0)
				done++
			}
		}
		if done == len(to) {
			return arrived, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d peers have it after 30 s", done, len(to))
		}
		// Often enough for a few ms of resolution, seldom enough that
		// reading the ref files costs the nodes little CPU.
		time.Sleep(5 * time.Millisecond)
	}
}

// cpu returns the CPU time (user and system) of this process and of the
// children it has waited for (the git processes).
func cpu() (self, children time.Duration) {
	var s, c syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &s)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c)
	d := func(u syscall.Rusage) time.Duration {
		return time.Duration(u.Utime.Nano() + u.Stime.Nano())
	}
	return d(s), d(c)
}

func sigrefs(h repo.Home, rid gproto.RID, nid gproto.NID) string {
	b, _ := os.ReadFile(filepath.Join(h.ProjectPath(rid), "refs", "namespaces", nid.String(), "refs", "grove", "sigrefs"))
	if len(b) > 0 {
		return strings.TrimSpace(string(b))
	}
	return strings.TrimSpace(out("git", "-C", h.ProjectPath(rid), "rev-parse", "-q", "--verify", repo.NamespacePrefix(nid)+gproto.SigrefsRef))
}

func out(name string, args ...string) string {
	b, _ := exec.Command(name, args...).Output()
	return string(b)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// gitDaemon serves dir with git daemon on loopback behind a counting proxy,
// so the bytes git moves can be compared with grove's.
func gitDaemon(dir string) (url string, served *atomic.Int64, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
		fmt.Sprintf("--port=%d", port), "--base-path="+dir, dir)
	// git runs git-daemon as a child: stop them together, as a group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", nil, nil, err
	}
	kill := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			kill()
			return "", nil, nil, fmt.Errorf("git daemon did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		kill()
		return "", nil, nil, err
	}
	served = new(atomic.Int64)
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
				if err != nil {
					return
				}
				defer d.Close()
				go func() { io.Copy(d, c); d.(*net.TCPConn).CloseWrite() }()
				n, _ := io.Copy(c, d)
				served.Add(n)
			}()
		}
	}()
	return "git://" + pl.Addr().String(), served, func() { pl.Close(); kill() }, nil
}
