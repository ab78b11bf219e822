package sync_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// storeDigest hashes every file of a storage, name and bytes, so a test
// can tell that a refused fetch left it byte-identical.
func storeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		io.WriteString(h, rel+"\x00")
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestInflatingPackIsRefused: a pack of some kilobytes whose one blob
// inflates to 64 MiB, over the victim's object limit. git refuses it
// before inflating it, the store is byte-identical, the sender is not
// struck (an honest project may hold a large file), and the victim goes
// on serving others.
func TestInflatingPackIsRefused(t *testing.T) {
	a := startNode(t)
	rid := a.project("inflate")
	b := startNode(t, func(c *p2psync.Config) { c.Limits.MaxObject = 1 << 20 })
	ctx := context.Background()
	if _, err := b.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	a.commitFile(rid, "zeros", strings.Repeat("\x00", 64<<20))
	before := storeDigest(t, b.storage(rid))
	res, err := b.Fetch(ctx, a.Host().ID(), rid)
	if !errors.Is(err, repo.ErrObjectTooLarge) {
		t.Fatalf("fetch of a 64 MiB object over a 1 MiB limit: %+v, err = %v", res, err)
	}
	if res.Bytes > 1<<20 {
		t.Errorf("the pack was %d bytes; the test wants a small pack", res.Bytes)
	}
	if after := storeDigest(t, b.storage(rid)); after != before {
		t.Error("the store changed after a refused fetch")
	}
	if s := b.Strikes(a.Host().ID()); s != 0 {
		t.Errorf("a large object is %d strikes", s)
	}
	b.verify(rid)
	c := startNode(t)
	if _, err := c.Clone(ctx, rid, b.Addrs()[:1]); err != nil {
		t.Fatalf("clone from the victim: %v", err)
	}
	c.verify(rid)
	if _, err := repo.Open(c.home, rid); err != nil {
		t.Fatal(err)
	}
}

// bareHost is a libp2p host that is no grove node (it asks nothing by
// itself on connecting), connected to n: a hostile peer's raw hands.
func bareHost(t *testing.T, ctx context.Context, n *testNode) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.Connect(ctx, peer.AddrInfo{ID: n.Host().ID(), Addrs: n.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	return h
}

// trickle opens a stream of proto to n and sends the first byte of a
// request, then nothing: ended is closed when n ends the stream.
func trickle(t *testing.T, ctx context.Context, h host.Host, n *testNode, proto string) (ended chan struct{}) {
	t.Helper()
	s, err := h.NewStream(ctx, n.Host().ID(), protocol.ID(proto))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Reset() })
	if _, err := s.Write(binary.AppendUvarint(nil, 100)); err != nil {
		t.Fatal(err)
	}
	ended = make(chan struct{})
	go func() {
		defer close(ended)
		s.Read(make([]byte, 1)) // returns when the stream ends
	}()
	return ended
}

// TestSlowlorisStreamsAreBounded: a peer that opens streams on every
// grove protocol and trickles its requests holds at most two heads
// exchanges (not all eight a node answers at once), every stream ends at
// the request deadline, it is no strike, and honest peers are served all
// along.
func TestSlowlorisStreamsAreBounded(t *testing.T) {
	a := startNode(t, func(c *p2psync.Config) { c.Limits.RequestTimeout = time.Second })
	rid := a.project("slow")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	evil := bareHost(t, ctx, a)
	var ends []chan struct{}
	held := 0
	for range 8 {
		ended := trickle(t, ctx, evil, a, gproto.HeadsProtocolID)
		ends = append(ends, ended)
		// Until a answered this one: it holds a slot, or it was refused.
		eventually(t, 10*time.Second, "the heads stream to be taken or refused", func() bool {
			select {
			case <-ended:
				return true
			default:
				return a.HeadsServing() == held+1
			}
		})
		select {
		case <-ended:
		default:
			held++
		}
	}
	if held != 2 {
		t.Errorf("one peer holds %d heads exchanges at once, want 2", held)
	}
	for _, proto := range []string{gproto.GitProtocolID, gproto.GitProtocolID, gproto.UpdateProtocolID, gproto.FirstUpdateProtocolID} {
		ends = append(ends, trickle(t, ctx, evil, a, proto))
	}
	// An honest peer meanwhile: its heads exchange and its clone.
	good := startNode(t)
	if _, err := good.Connect(ctx, a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if err := good.AskHeads(ctx, a.Host().ID(), []gproto.RID{rid}); err != nil {
		t.Errorf("an honest heads exchange beside a slowloris: %v", err)
	}
	if _, err := good.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatalf("an honest clone beside a slowloris: %v", err)
	}
	for i, ended := range ends {
		select {
		case <-ended:
		case <-ctx.Done():
			t.Fatalf("trickled stream %d still open", i)
		}
	}
	if s := a.Strikes(evil.ID()); s != 0 {
		t.Errorf("a slow request is %d strikes", s)
	}
}

// TestProviderSpamIsBounded: thirty fresh keys provide a project's RID on
// a node's DHT. The node's own lookup still returns at most the few
// providers a sync tries, and ends; the node goes on answering honest
// peers' clones and heads exchanges.
func TestProviderSpamIsBounded(t *testing.T) {
	v := startNode(t)
	a := startNode(t)
	rid := a.project("spammed")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := v.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	const spammers = 30
	for range spammers {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		d, err := dht.New(h, dht.ProtocolPrefix(gproto.DHTPrefix), dht.Mode(dht.ModeClient), dht.DisableValues(),
			dht.BootstrapPeers(peer.AddrInfo{ID: v.Host().ID(), Addrs: v.Host().Addrs()}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if err := h.Connect(ctx, peer.AddrInfo{ID: v.Host().ID(), Addrs: v.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the spammer's routing table to hold the victim", func() bool { return d.RoutingTable().Size() > 0 })
		if err := d.Provide(ctx, p2psync.RIDCID(rid), true); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the victim to hold the spam", func() bool { return v.StoredProviders(ctx, rid) >= spammers })
	const max = 8
	if got := v.Providers(ctx, rid, max); len(got) > max {
		t.Errorf("a lookup for %d providers returned %d", max, len(got))
	}
	good := startNode(t)
	if _, err := good.Clone(ctx, rid, v.Addrs()[:1]); err != nil {
		t.Fatalf("an honest clone from the spammed node: %v", err)
	}
	if err := good.AskHeads(ctx, v.Host().ID(), []gproto.RID{rid}); err != nil {
		t.Errorf("an honest heads exchange with the spammed node: %v", err)
	}
	good.verify(rid)
}

// sendOversized opens a fetch stream from evil to n and sends a length
// prefix of 1 GiB: bad data, a strike.
func sendOversized(t *testing.T, ctx context.Context, evil, n *testNode) {
	t.Helper()
	s, err := evil.Host().NewStream(ctx, n.Host().ID(), protocol.ID(gproto.GitProtocolID))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Write(binary.AppendUvarint(nil, 1<<30))
	s.Read(make([]byte, 1)) // until n ends the stream
}

// TestStrikesDecay: a peer refused for its strikes is forgiven one per
// StrikeDecay, and may connect again; it is not refused for ever.
func TestStrikesDecay(t *testing.T) {
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	v := startNode(t, func(c *p2psync.Config) {
		c.Limits.Strikes = 1
		c.Limits.StrikeDecay = time.Hour
		c.Now = clock
	})
	evil := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := evil.Connect(ctx, v.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	sendOversized(t, ctx, evil, v)
	eventually(t, 10*time.Second, "the strike", func() bool { return v.Strikes(evil.Host().ID()) > 0 })
	// The gater refuses a refused peer's dials at once (its inbound
	// connections after the handshake).
	if _, err := v.Connect(ctx, evil.Addrs()[0]); err == nil {
		t.Fatal("a peer at its strike limit could be connected to")
	}
	skew.Add(int64(59 * time.Minute))
	if _, err := v.Connect(ctx, evil.Addrs()[0]); err == nil {
		t.Fatal("a peer at its strike limit could be connected to before a strike was forgiven")
	}
	skew.Add(int64(2 * time.Minute))
	if s := v.Strikes(evil.Host().ID()); s != 0 {
		t.Errorf("%d strikes an hour later, want 0", s)
	}
	if _, err := v.Connect(ctx, evil.Addrs()[0]); err != nil {
		t.Fatalf("a peer forgiven its strike could not be connected to: %v", err)
	}
}

// TestStrangerQuota: in a public project, a key that is neither a
// delegate nor followed writes more into its namespace than the quota.
// A node fetching it takes the delegate's new work from the same peer,
// not the stranger's namespace (nor its objects), and strikes no one.
func TestStrangerQuota(t *testing.T) {
	a := startNode(t)
	rid := a.project("quota")
	b := startNode(t, func(c *p2psync.Config) { c.Limits.MaxStrangerObjects = 10 })
	s := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range []*testNode{b, s} {
		if _, err := n.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
			t.Fatal(err)
		}
	}
	var junk []string
	for i := range 7 {
		junk = append(junk, s.commit(rid, fmt.Sprintf("junk %d", i)))
	}
	a.commit(rid, "delegate's work")
	if _, err := s.Fetch(ctx, a.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	res, err := b.Fetch(ctx, s.Host().ID(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0] != a.NID().String() {
		t.Errorf("updated %v, want the delegate's namespace alone", res.Updated)
	}
	if len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0], "quota") {
		t.Errorf("rejected %q, want the stranger's namespace over its quota", res.Rejected)
	}
	if got := b.sigrefs(rid, s.NID()); got != "" {
		t.Errorf("the stranger's namespace was taken at %s", got)
	}
	for _, oid := range junk {
		if _, err := exec.Command("git", "-C", b.storage(rid), "cat-file", "-e", oid).Output(); err == nil {
			t.Errorf("the stranger's commit %.7s is in the storage", oid)
		}
	}
	if n := b.Strikes(s.Host().ID()); n != 0 {
		t.Errorf("relaying a namespace over its quota is %d strikes", n)
	}
	b.verify(rid)
}

// TestCloneByRIDPastProviderSpam: forty fresh keys provide a project's
// RID on the DHT node that a cloner bootstraps from, and are gone (their
// records point at ports nobody listens on). A clone by RID alone still
// finds the one honest seeder among them, within its bounds.
func TestCloneByRIDPastProviderSpam(t *testing.T) {
	boot := startNode(t)
	bootAI := peer.AddrInfo{ID: boot.Host().ID(), Addrs: boot.Host().Addrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seeder := startNode(t, func(c *p2psync.Config) { c.Bootstrap = []string{boot.Addrs()[0]} })
	eventually(t, 10*time.Second, "the seeder to be connected to the DHT node", func() bool {
		return seeder.Host().Network().Connectedness(boot.Host().ID()) == network.Connected
	})
	rid := seeder.project("spammed")
	if err := seeder.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the DHT node to hold the seeder's record", func() bool { return boot.StoredProviders(ctx, rid) == 1 })
	const spammers = 40
	var gone []func()
	for range spammers {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
		if err != nil {
			t.Fatal(err)
		}
		d, err := dht.New(h, dht.ProtocolPrefix(gproto.DHTPrefix), dht.Mode(dht.ModeClient), dht.DisableValues(), dht.BootstrapPeers(bootAI))
		if err != nil {
			t.Fatal(err)
		}
		gone = append(gone, func() { d.Close(); h.Close() })
		if err := h.Connect(ctx, bootAI); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the spammer's routing table to hold the DHT node", func() bool { return d.RoutingTable().Size() > 0 })
		// Straight to the DHT node, which a lookup asks first.
		if err := d.Provide(ctx, p2psync.RIDCID(rid), true); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the DHT node to hold the spam", func() bool { return boot.StoredProviders(ctx, rid) > spammers*3/4 })
	// Gone: their records point at ports nobody listens on.
	for _, f := range gone {
		f()
	}
	cloner := startNode(t, func(c *p2psync.Config) { c.Bootstrap = []string{boot.Addrs()[0]} })
	for _, p := range cloner.Peers() {
		if p.NID == seeder.NID().String() {
			cloner.Host().Network().ClosePeer(seeder.Host().ID())
		}
	}
	if _, err := cloner.Clone(ctx, rid, nil); err != nil {
		t.Fatalf("clone by RID past %d spammed provider records: %v", boot.StoredProviders(ctx, rid)-1, err)
	}
	cloner.verify(rid)
}
