package sync_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os/exec"
	pathpkg "path"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// evilSetup gives an honest origin a, a victim b that has a's project, and
// a peer e holding a copy that each case tampers with behind grove's back
// (e serves its storage as it is, like any node).
func evilSetup(t *testing.T) (a, b, e *testNode, rid gproto.RID) {
	t.Helper()
	strict := func(c *p2psync.Config) { c.Limits.Strikes = 100 }
	a, b, e = startNode(t), startNode(t, strict), startNode(t)
	rid = a.project("target")
	a.commit(rid, "second")
	ctx := context.Background()
	for _, n := range []*testNode{b, e} {
		if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, e, rid
}

func (n *testNode) storage(rid gproto.RID) string { return n.home.ProjectPath(rid) }

// fetchRejected fetches rid from e into b and checks that b's copy of a's
// namespace did not move and that e was scored down.
func fetchRejected(t *testing.T, a, b, e *testNode, rid gproto.RID, want string) {
	t.Helper()
	before := git(t, b.storage(rid), "for-each-ref", "refs/")
	strikes := b.Strikes(e.Host().ID())
	res, err := b.Fetch(context.Background(), e.Host().ID(), rid)
	if err == nil && len(res.Rejected) == 0 {
		t.Fatalf("fetch from a misbehaving peer was accepted: %+v", res)
	}
	got := ""
	if err != nil {
		got = err.Error()
	} else {
		got = strings.Join(res.Rejected, "; ")
	}
	if !strings.Contains(got, want) {
		t.Errorf("rejected with %q, want it to mention %q", got, want)
	}
	if after := git(t, b.storage(rid), "for-each-ref", "refs/"); after != before {
		t.Errorf("refs changed after a rejected fetch:\nbefore\n%s\nafter\n%s", before, after)
	}
	if b.Strikes(e.Host().ID()) <= strikes {
		t.Errorf("peer not scored down (strikes %d)", b.Strikes(e.Host().ID()))
	}
	b.verify(rid)
}

func TestRejectForgedSigrefs(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	a.commit(rid, "third") // b must have a reason to take e's version
	ns := repo.NamespacePrefix(a.NID())
	st := e.storage(rid)
	// e writes a new sigrefs for a's namespace, signed with e's own key.
	old := git(t, st, "rev-parse", ns+gproto.SigrefsRef)
	tree := git(t, st, "rev-parse", old+"^{tree}")
	entries := runStdin(t, st, "", "ls-tree", tree)
	badSig := strings.TrimSpace(runStdin(t, st, strings.Repeat("x", 64), "hash-object", "-w", "--stdin"))
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(entries), "\n") {
		if strings.HasSuffix(l, "\tsignature") {
			l = "100644 blob " + badSig + "\tsignature"
		}
		lines = append(lines, l)
	}
	newTree := strings.TrimSpace(runStdin(t, st, strings.Join(lines, "\n")+"\n", "mktree"))
	forged := git(t, st, "commit-tree", newTree, "-p", old, "-m", "forged")
	git(t, st, "update-ref", ns+gproto.SigrefsRef, forged)
	fetchRejected(t, a, b, e, rid, "bad signature")
}

func TestRejectRefsNotMatchingSigrefs(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	ns := repo.NamespacePrefix(a.NID())
	st := e.storage(rid)
	// A newer, validly signed state from a, with main moved elsewhere by e.
	a.commit(rid, "third")
	if _, err := e.Fetch(context.Background(), a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	evil := git(t, st, "commit-tree", git(t, st, "rev-parse", "HEAD^{tree}"), "-m", "evil")
	git(t, st, "update-ref", ns+"refs/heads/main", evil)
	fetchRejected(t, a, b, e, rid, "does not match")
}

func TestRejectReplayFromAnotherProject(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	// e takes a's signed refs of another project and serves them as a's
	// namespace here.
	other := a.project("other")
	a.commit(other, "other work")
	st := e.storage(rid)
	git(t, st, "fetch", "-q", a.storage(other), "+refs/namespaces/*:refs/namespaces/*")
	fetchRejected(t, a, b, e, rid, "bad signature")
}

func TestStaleCopyIsIgnored(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	a.commit(rid, "third")
	ctx := context.Background()
	if _, err := b.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	before := git(t, b.storage(rid), "for-each-ref", "refs/")
	// e still has the older signed refs: a rollback if b took them.
	res, err := b.Fetch(ctx, e.Host().ID(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 0 {
		t.Fatalf("older signed refs were taken: %+v", res)
	}
	if after := git(t, b.storage(rid), "for-each-ref", "refs/"); after != before {
		t.Fatalf("refs moved back:\n%s\n%s", before, after)
	}
	// e re-wraps the old list as a child of the newest (a forged rollback):
	// the signature binds the parent, so it fails.
	ns := repo.NamespacePrefix(a.NID())
	st := e.storage(rid)
	if _, err := e.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	newest := git(t, st, "rev-parse", ns+gproto.SigrefsRef)
	older := git(t, st, "rev-parse", newest+"~1")
	forged := git(t, st, "commit-tree", git(t, st, "rev-parse", older+"^{tree}"), "-p", newest, "-m", "rollback")
	git(t, st, "update-ref", ns+gproto.SigrefsRef, forged)
	// The older ref tree: "160000 commit <oid>\t<dirs>/<bucket>/<last>".
	for _, l := range strings.Split(git(t, st, "ls-tree", "-r", older+":refs"), "\n") {
		meta, path, ok := strings.Cut(l, "\t")
		if f := strings.Fields(meta); ok && len(f) == 3 {
			dir, last := pathpkg.Split(path)
			git(t, st, "update-ref", ns+pathpkg.Dir(pathpkg.Clean(dir))+"/"+last, f[2])
		}
	}
	fetchRejected(t, a, b, e, rid, "bad signature")
}

func TestRejectOversizedPack(t *testing.T) {
	a := startNode(t)
	rid := a.project("big")
	for i := range 20 {
		a.commit(rid, strings.Repeat("data ", 2000)+string(rune('a'+i)))
	}
	b := startNode(t, func(c *p2psync.Config) { c.Limits.MaxPack = 2 << 10; c.Limits.Strikes = 100 })
	_, err := b.Clone(context.Background(), rid, a.Addrs()[:1])
	if err == nil || !strings.Contains(err.Error(), "pack size limit") {
		t.Fatalf("clone over the pack limit: err = %v", err)
	}
	if _, err := repo.Open(b.home, rid); err == nil {
		t.Fatal("a storage was created from a refused pack")
	}
	if b.Strikes(a.Host().ID()) == 0 {
		t.Error("peer not scored down")
	}
}

func TestOversizedMessageThenKeepsServing(t *testing.T) {
	a := startNode(t)
	rid := a.project("serving")
	evil, good := startNode(t), startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := evil.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	s, err := evil.Host().NewStream(ctx, a.Host().ID(), protocol.ID(gproto.GitProtocolID))
	if err != nil {
		t.Fatal(err)
	}
	// A length prefix of 1 GiB, then junk.
	s.Write(binary.AppendUvarint(nil, 1<<30))
	s.Write([]byte(strings.Repeat("x", 1024)))
	buf := make([]byte, 1)
	if n, _ := s.Read(buf); n != 0 {
		t.Fatalf("server answered an oversized request")
	}
	s.Close()
	eventually(t, 5*time.Second, "the oversized request to be scored", func() bool { return a.Strikes(evil.Host().ID()) > 0 })
	// a still serves others.
	if _, err := good.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	good.verify(rid)
}

func TestBadPeerIsBlocked(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	_ = a
	ns := repo.NamespacePrefix(a.NID())
	st := e.storage(rid)
	a.commit(rid, "third")
	if _, err := e.Fetch(context.Background(), a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	evil := git(t, st, "commit-tree", git(t, st, "rev-parse", "HEAD^{tree}"), "-m", "evil")
	git(t, st, "update-ref", ns+"refs/heads/main", evil)
	// b's limit is 100 strikes in evilSetup; use a fresh strict victim.
	v := startNode(t, func(c *p2psync.Config) { c.Limits.Strikes = 2 })
	if _, err := v.Clone(context.Background(), rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	_ = b
	ctx := context.Background()
	if _, err := v.Connect(ctx, e.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		v.Fetch(ctx, e.Host().ID(), rid)
	}
	if _, err := v.Connect(ctx, e.Addrs()[0]); err == nil {
		t.Fatal("a blocked peer could connect again")
	}
}

// TestRewrappedSigrefsCannotFreeze is the attack of a relaying peer that
// wraps the owner's newest signed refs in a commit of its own (same parent
// and ref tree, another date and message, so another oid): were it taken,
// every later revision of the owner would look like a fork, and the owner
// would be struck for sending it. It is refused, and the owner's next
// revision lands.
func TestRewrappedSigrefsCannotFreeze(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	ctx := context.Background()
	a.commit(rid, "third")
	if _, err := e.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	ns := repo.NamespacePrefix(a.NID())
	st := e.storage(rid)
	genuine := git(t, st, "rev-parse", ns+gproto.SigrefsRef)
	for _, wrap := range []struct{ name, date, msg string }{
		{"another date", "1700000000 +0000", "grove sigrefs v3"},
		{"another zone", "", "grove sigrefs v3"},
		{"another message", "", "grove sigrefs"},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			date := wrap.date
			if date == "" {
				// The genuine date in another zone: the same instant.
				d := strings.Fields(git(t, st, "log", "-1", "--format=%ad", "--date=raw", genuine))
				date = d[0] + " +0100"
			}
			c := exec.Command("git", "-C", st, "commit-tree", genuine+"^{tree}", "-p", genuine+"^", "-m", wrap.msg)
			c.Env = append(c.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
				"GIT_AUTHOR_NAME="+a.NID().String(), "GIT_COMMITTER_NAME="+a.NID().String(),
				"GIT_AUTHOR_EMAIL="+a.NID().String()+"@grove", "GIT_COMMITTER_EMAIL="+a.NID().String()+"@grove")
			out, err := c.Output()
			if err != nil {
				t.Fatal(err)
			}
			rewrapped := strings.TrimSpace(string(out))
			if rewrapped == genuine {
				t.Fatal("the re-wrap has the genuine oid")
			}
			git(t, st, "update-ref", ns+gproto.SigrefsRef, rewrapped)
			fetchRejected(t, a, b, e, rid, "sigrefs")
		})
	}
	// The owner moves on; b takes it from the owner, and the owner is not
	// scored down for it.
	a.commit(rid, "fourth")
	res, err := b.Fetch(ctx, a.Host().ID(), rid)
	if err != nil || len(res.Updated) != 1 || len(res.Rejected) != 0 {
		t.Fatalf("owner's next revision: %+v, %v", res, err)
	}
	if got, want := b.sigrefs(rid, a.NID()), a.sigrefs(rid, a.NID()); got != want {
		t.Errorf("b holds %s of a's namespace, a has %s", got, want)
	}
	if s := b.Strikes(a.Host().ID()); s != 0 {
		t.Errorf("owner has %d strikes", s)
	}
}

// TestForkIsNoStrike: a peer that serves a fork of a namespace (signed by
// the owner, but not descending from what the receiver holds) holds data
// the owner signed; the fork is not taken, and the peer is not struck.
func TestForkIsNoStrike(t *testing.T) {
	a, b, e, rid := evilSetup(t)
	ctx := context.Background()
	// The owner's history forks: e holds one branch, b the other.
	st := e.storage(rid)
	ns := repo.NamespacePrefix(a.NID())
	base := git(t, st, "rev-parse", ns+gproto.SigrefsRef)
	a.commit(rid, "third")
	if _, err := b.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(a.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	// a writes, from base, another revision: main at a new commit.
	if err := r.UpdateRefs(ctx, []repo.RefUpdate{{Name: ns + gproto.SigrefsRef, Old: a.sigrefs(rid, a.NID()), New: base}}); err != nil {
		t.Fatal(err)
	}
	a.commit(rid, "fork")
	if _, err := e.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	before := git(t, b.storage(rid), "for-each-ref", "refs/")
	res, err := b.Fetch(ctx, e.Host().ID(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 0 || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "not a successor") {
		t.Fatalf("fetch of a fork: %+v", res)
	}
	if after := git(t, b.storage(rid), "for-each-ref", "refs/"); after != before {
		t.Errorf("refs moved after a fork:\nbefore\n%s\nafter\n%s", before, after)
	}
	if s := b.Strikes(e.Host().ID()); s != 0 {
		t.Errorf("peer serving a fork has %d strikes", s)
	}
}

// stallingServer makes n answer every fetch with "yes" and then send
// nothing, until the stream is reset: a slowloris source.
func stallingServer(t *testing.T, n *testNode) (served chan struct{}) {
	served = make(chan struct{}, 16)
	n.Host().SetStreamHandler(protocol.ID(gproto.GitProtocolID), func(s network.Stream) {
		var req gproto.FetchRequest
		if err := gproto.ReadMessage(s, gproto.MaxMessage, &req); err != nil {
			s.Reset()
			return
		}
		gproto.WriteMessage(s, gproto.FetchResponse{})
		served <- struct{}{}
		// Read what git sends and never answer; a reset (or the test's
		// end, which closes the host) ends it.
		io.Copy(io.Discard, s)
		s.Reset()
	})
	return served
}

// TestStalledPeerEndsFetch: a peer that says it has the project and then
// sends nothing holds the project's fetch for the stall timeout, not the
// fetch timeout; it is no strike, and the next peer's fetch goes ahead.
func TestStalledPeerEndsFetch(t *testing.T) {
	a := startNode(t)
	rid := a.project("stalled")
	evil := startNode(t)
	served := stallingServer(t, evil)
	b := startNode(t, func(c *p2psync.Config) { c.Limits.StallTimeout = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Connect(ctx, evil.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := b.Fetch(ctx, evil.Host().ID(), rid)
	var stalled *p2psync.StalledError
	if !errors.As(err, &stalled) {
		t.Fatalf("fetch from a stalling peer: err = %v, want a StalledError", err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the stalled fetch took %s", took)
	}
	select {
	case <-served:
	default:
		t.Fatal("the stalling peer was never asked")
	}
	if s := b.Strikes(evil.Host().ID()); s != 0 {
		t.Errorf("a stall is %d strikes", s)
	}
	if _, err := repo.Open(b.home, rid); err == nil {
		t.Error("a storage was created from a stalled fetch")
	}
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatalf("clone from an honest peer after the stall: %v", err)
	}
	b.verify(rid)
}

// TestServesFewFetchesAtOncePerPeer: a peer that opens fetch after fetch
// and never finishes them gets four upload-packs at most, then "busy";
// others are still served, and a finished fetch frees its slot.
func TestServesFewFetchesAtOncePerPeer(t *testing.T) {
	a := startNode(t)
	rid := a.project("busy")
	evil, good := startNode(t), startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := evil.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	ask := func() (network.Stream, string) {
		t.Helper()
		s, err := evil.Host().NewStream(ctx, a.Host().ID(), protocol.ID(gproto.GitProtocolID))
		if err != nil {
			t.Fatal(err)
		}
		if err := gproto.WriteMessage(s, gproto.FetchRequest{RID: rid, Service: gproto.ServiceUploadPack, GitProtocol: "version=2"}); err != nil {
			t.Fatal(err)
		}
		var resp gproto.FetchResponse
		if err := gproto.ReadMessage(s, gproto.MaxMessage, &resp); err != nil {
			t.Fatal(err)
		}
		return s, resp.Error
	}
	var held []network.Stream
	for i := range 4 {
		s, e := ask()
		if e != "" {
			t.Fatalf("fetch %d refused: %q", i+1, e)
		}
		held = append(held, s)
	}
	s, e := ask()
	s.Close()
	if e != "busy" {
		t.Fatalf("a fifth fetch at once: answer %q, want busy", e)
	}
	if _, err := good.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatalf("another peer's clone while one holds its four: %v", err)
	}
	held[0].Reset()
	eventually(t, 10*time.Second, "a slot to free", func() bool {
		s, e := ask()
		s.Reset()
		return e == ""
	})
	for _, s := range held[1:] {
		s.Reset()
	}
	if n := a.Strikes(evil.Host().ID()); n != 0 {
		t.Errorf("busy answers struck the asking peer %d times", n)
	}
}
