package sync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "grove-sync-test")
	if err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	if code == 0 {
		// Every node the tests started is closed by now: a goroutine
		// still running leaked (libp2p's own stop with their hosts).
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

type testNode struct {
	*p2psync.Node
	t    *testing.T
	home repo.Home
	key  *gproto.Key
}

func newKey(t *testing.T) *gproto.Key {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gproto.NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func startNode(t *testing.T, mod ...func(*p2psync.Config)) *testNode {
	t.Helper()
	home := repo.Home{Dir: t.TempDir()}
	key := newKey(t)
	self := key.NID().String()
	cfg := p2psync.Config{
		Home: home, Key: key,
		Limits: p2psync.Limits{MaxPack: 256 << 20, FetchTimeout: time.Minute, Strikes: 3},
		Log:    testLog(t).With("self", self[len(self)-6:]),
	}
	for _, m := range mod {
		m(&cfg)
	}
	n, err := p2psync.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &testNode{Node: n, t: t, home: cfg.Home, key: cfg.Key}
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// project creates a project owned by n with one commit on main.
func (n *testNode) project(name string) gproto.RID {
	n.t.Helper()
	doc := &gproto.Identity{Name: name, DefaultBranch: "main", Delegates: []gproto.NID{n.key.NID()},
		Threshold: 1, Visibility: gproto.Visibility{Type: gproto.Public}}
	r, err := repo.Create(context.Background(), n.home, n.key, doc, time.Now())
	if err != nil {
		n.t.Fatal(err)
	}
	n.commit(r.RID, "first")
	return r.RID
}

// commit adds a commit on n's main branch of rid.
func (n *testNode) commit(rid gproto.RID, msg string) string {
	n.t.Helper()
	ctx := context.Background()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		n.t.Fatal(err)
	}
	refs, err := r.NamespaceRefs(ctx, n.key.NID())
	if err != nil {
		n.t.Fatal(err)
	}
	old := refs["refs/heads/main"]
	blob := strings.TrimSpace(runStdin(n.t, r.Path, msg, "hash-object", "-w", "--stdin"))
	tree := strings.TrimSpace(runStdin(n.t, r.Path, "100644 blob "+blob+"\tfile\n", "mktree"))
	args := []string{"commit-tree", tree, "-m", msg}
	if old != "" {
		args = append(args, "-p", old)
	}
	oid := git(n.t, r.Path, args...)
	if err := r.UpdateNamespace(ctx, n.key, []repo.RefUpdate{{Name: "refs/heads/main", Old: old, New: oid}}, time.Now()); err != nil {
		n.t.Fatal(err)
	}
	return oid
}

func runStdin(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	c.Stdin = strings.NewReader(stdin)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return string(out)
}

// sigrefs returns what n holds as owner's signed refs in rid ("" if none).
func (n *testNode) sigrefs(rid gproto.RID, owner gproto.NID) string {
	r, err := repo.Open(n.home, rid)
	if err != nil {
		return ""
	}
	refs, err := r.NamespaceRefs(context.Background(), owner)
	if err != nil {
		return ""
	}
	return refs[gproto.SigrefsRef]
}

func (n *testNode) verify(rid gproto.RID) {
	n.t.Helper()
	r, err := repo.Open(n.home, rid)
	if err != nil {
		n.t.Fatal(err)
	}
	rep, err := r.Verify(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	for _, p := range rep.Problems {
		n.t.Errorf("verify %s: %s", rid, p)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloneFromPeer(t *testing.T) {
	a, b := startNode(t), startNode(t)
	rid := a.project("hello")
	ctx := context.Background()
	res, err := b.Clone(ctx, rid, a.Addrs()[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
		t.Fatalf("updated %v, want [%s]", res.Updated, a.NID())
	}
	if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want || got == "" {
		t.Fatalf("b has sigrefs %q, a has %q", got, want)
	}
	b.verify(rid)
	// A second sync with nothing new moves nothing.
	res, err = b.Fetch(ctx, a.Host().ID(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 0 || res.Unchanged != 1 {
		t.Fatalf("second fetch: %+v", res)
	}
}

func TestGossipReachesSeeders(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("gossip")
	ctx := context.Background()
	for _, n := range []*testNode{b, c} {
		if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	// c hears of a only through b.
	if _, err := c.Connect(ctx, b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a.commit(rid, fmt.Sprintf("change %d", i))
		want := a.sigrefs(rid, a.NID())
		// GossipSub needs a heartbeat to graft a fresh mesh; announce until
		// both have it, bounded.
		deadline := time.Now().Add(20 * time.Second)
		for b.sigrefs(rid, a.NID()) != want || c.sigrefs(rid, a.NID()) != want {
			if time.Now().After(deadline) {
				t.Fatalf("push %d did not reach both seeders", i)
			}
			if err := a.Announce(ctx, rid); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	b.verify(rid)
	c.verify(rid)
}

func TestCloneFromRelayWhileOriginOffline(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("relay")
	ctx := context.Background()
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	want := a.sigrefs(rid, a.NID())
	a.Close()
	if _, err := c.Clone(ctx, rid, b.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	if got := c.sigrefs(rid, a.NID()); got != want {
		t.Fatalf("c has %q, want a's %q", got, want)
	}
	c.verify(rid)
}

func testLog(t *testing.T) *slog.Logger {
	if os.Getenv("GROVE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Kept, and printed only if the test fails.
	w := &failLog{}
	t.Cleanup(func() {
		if t.Failed() {
			w.mu.Lock()
			t.Logf("node log:\n%s", w.b.Bytes())
			w.mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// failLog keeps the last 256 KiB of a node's log.
type failLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *failLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.b.Len() > 256<<10 {
		w.b.Next(w.b.Len() - 256<<10)
	}
	return len(p), nil
}
