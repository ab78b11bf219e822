package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// Limits bound what peers can make this node do.
type Limits struct {
	// MaxPack bounds the bytes one fetch may bring.
	MaxPack int64
	// MaxObject bounds the inflated size of one object it brings; zero
	// is gproto.MaxObject.
	MaxObject int64
	// FetchTimeout bounds one fetch from one peer.
	FetchTimeout time.Duration
	// Strikes is how many bad answers a peer may give before it is
	// disconnected and refused.
	Strikes int
	// HolePunchWait bounds how long a fetch that a relay's limit cut short
	// waits for a direct connection (hole punching) to finish over.
	HolePunchWait time.Duration
	// StallTimeout ends a fetch whose peer sends nothing for that long, so
	// a peer that stalls (slowloris) holds the project's fetch for no
	// longer than this, not FetchTimeout.
	StallTimeout time.Duration
	// RequestTimeout bounds how long a peer that opened a fetch or update
	// stream may take to send its request, so one that trickles it
	// (slowloris) holds the stream no longer than this.
	RequestTimeout time.Duration
	// MaxStrangerObjects and MaxStrangerBytes bound what the namespace of
	// a key that is neither a delegate nor followed may hold beyond the
	// canonical branches; zero is the default.
	MaxStrangerObjects int
	MaxStrangerBytes   int64
	// StrikeDecay forgives a peer one strike per this long without
	// another; a peer refused for its strikes may connect again once one
	// is forgiven (an honest peer that once relayed bad data is not
	// refused for ever).
	StrikeDecay time.Duration
}

// DefaultLimits are the limits of a node started by `grove node start`.
var DefaultLimits = Limits{MaxPack: gproto.DefaultMaxPack, MaxObject: gproto.MaxObject, FetchTimeout: gproto.DefaultFetchTimeout,
	Strikes: gproto.DefaultStrikes, HolePunchWait: 10 * time.Second, StallTimeout: gproto.DefaultStallTimeout,
	RequestTimeout: gproto.DefaultRequestTimeout, StrikeDecay: gproto.DefaultStrikeDecay,
	MaxStrangerObjects: gproto.MaxStrangerObjects, MaxStrangerBytes: gproto.MaxStrangerBytes}

// withDefaults is DefaultLimits for limits left all zero; a stall
// timeout left zero is the default's.
func (l Limits) withDefaults() Limits {
	if l == (Limits{}) {
		return DefaultLimits
	}
	if l.StallTimeout == 0 {
		l.StallTimeout = DefaultLimits.StallTimeout
	}
	if l.MaxStrangerObjects == 0 {
		l.MaxStrangerObjects = DefaultLimits.MaxStrangerObjects
	}
	if l.MaxStrangerBytes == 0 {
		l.MaxStrangerBytes = DefaultLimits.MaxStrangerBytes
	}
	if l.StrikeDecay == 0 {
		l.StrikeDecay = DefaultLimits.StrikeDecay
	}
	if l.RequestTimeout == 0 {
		l.RequestTimeout = DefaultLimits.RequestTimeout
	}
	if l.MaxObject == 0 {
		l.MaxObject = DefaultLimits.MaxObject
	}
	return l
}

// Config says how to run a node.
type Config struct {
	Home repo.Home
	Key  *gproto.Key
	// Listen are multiaddrs to listen on; empty means loopback TCP and QUIC
	// on ports the OS picks.
	Listen []string
	// Bootstrap are peers to dial at start and to seed the DHT with.
	Bootstrap []string
	// Relays are circuit relay v2 nodes to reserve a slot on. A node
	// given relays takes itself to be behind a NAT (see nat.go).
	Relays []string
	// RelayService lets this node relay for others, each connection
	// bounded by RelayLimit (zero: DefaultRelayLimit).
	RelayService bool
	RelayLimit   RelayLimit
	// MDNS turns on local network discovery.
	MDNS bool
	// ForcePrivate makes the node believe it is not reachable, as
	// Relays do.
	ForcePrivate bool
	// NoReconnect leaves out the dials at start to the policy's and the
	// book's peers (reconnect): for a node started for one command that
	// dials the peers it was given itself. Left to race that dial, the
	// book's addresses (QUIC first, as libp2p ranks them) opened a second
	// connection that a clone's pack then crossed.
	NoReconnect bool
	// OneCommand is for a node started for one command (a sync or a
	// clone with no node running): it fetches only what the command
	// asks, taking no announcement and catching up on no heads
	// exchange. Left to do both, its own fetch raced the command's on
	// connecting, and a sync that brought new commits could report that
	// nothing was updated.
	OneCommand bool
	Limits     Limits
	Log        *slog.Logger
	// Now is the clock for signed messages and for forgiving strikes.
	Now func() time.Time
	// IdleMaintenance is how long the node waits with no fetch and
	// nothing served before it settles the storage of the projects it
	// seeds (repo.Repo.Settle); 0 means DefaultIdleMaintenance, and a
	// negative value never.
	IdleMaintenance time.Duration
}

// Node is a running Grove peer.
type Node struct {
	cfg    Config
	log    *slog.Logger
	host   host.Host
	dht    *dht.IpfsDHT
	ps     *pubsub.PubSub
	gater  *gater
	relay  *relay.Relay
	proxy  *gitProxy
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	topics  map[string]*topic
	strikes map[peer.ID]*strikes
	synced  map[string]time.Time     // RID → last successful sync
	fetches map[string]chan struct{} // by RID: a fetch lock each (lockFetch)
	idents  map[gproto.RID]cachedIdentity
	persons map[gproto.RID]cachedPeople
	// serving counts the upload-packs running for peers' fetches.
	serving *slots
	// wants are the announced namespaces being fetched, by rid/nid.
	wants map[string]*wanted
	// fetched are, by rid/nid, the last signed refs fetched after an
	// announcement, so late copies of that announcement are ignored.
	fetched map[string][]string
	// updates are the update packs this node made for its peers;
	// updatesTaken counts the updates it took as update packs.
	updates      updatePacks
	updatesTaken atomic.Int64
	// private says the node is behind a NAT (it has relays).
	private bool
	nat     natState
	// book is the peers remembered (peers.go); heads bounds the heads
	// exchanges peers ask for (heads.go).
	book  *peerBook
	heads *headsLimiter
	// announced bounds the fetches each peer's gossip starts.
	announced *peerLimiter
	// fetchesStarted counts the fetches announcements started.
	fetchesStarted atomic.Int64
	// reconnected is closed once the dials at start are done.
	reconnected chan struct{}
	// busy counts the fetches and serves under way, and lastActive is
	// when the last began or ended (UnixNano), for maintenance when idle.
	busy       atomic.Int32
	lastActive atomic.Int64
}

// New starts a node: host, DHT, gossip, git proxy; then it dials its
// bootstrap peers and joins the topics of the projects it seeds.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Key == nil {
		return nil, errors.New("node needs a key")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(cfg.Key.Private())
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	rm, err := newResourceManager()
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(64, 192, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	listen := make([]ma.Multiaddr, 0, len(cfg.Listen))
	for _, s := range cfg.Listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("listen address %q: %w", s, err)
		}
		listen = append(listen, a)
	}
	g := &gater{blocked: map[peer.ID]time.Time{}, now: cfg.Now}
	// Behind a NAT, reserve on the relays at once and advertise the
	// circuit addresses (see nat.go); a failed reservation is tried again
	// soon, not after libp2p's hour. Not behind one, answer other nodes'
	// AutoNAT dial-backs.
	private := cfg.ForcePrivate || len(cfg.Relays) > 0
	hc := hostConfig{key: priv, listen: listen, gater: g, connMgr: cm, private: private}
	if len(cfg.Relays) > 0 {
		if hc.relays, err = addrInfos(cfg.Relays); err != nil {
			return nil, fmt.Errorf("--relay: %w", err)
		}
		hc.relayOpts = []autorelay.Option{autorelay.WithBootDelay(0),
			autorelay.WithMinInterval(time.Second), autorelay.WithBackoff(30 * time.Second)}
	}
	h, err := newHost(hc, rm)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	nctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, log: cfg.Log, host: h, gater: g, ctx: nctx, cancel: cancel, private: private,
		topics: map[string]*topic{}, strikes: map[peer.ID]*strikes{},
		synced: map[string]time.Time{}, fetches: map[string]chan struct{}{},
		idents: map[gproto.RID]cachedIdentity{}, persons: map[gproto.RID]cachedPeople{}, wants: map[string]*wanted{}, fetched: map[string][]string{},
		serving: &slots{perPeer: maxServesPerPeer, max: maxServes},
	}
	fail := func(err error) (*Node, error) {
		n.Close()
		return nil, err
	}
	boot, err := addrInfos(cfg.Bootstrap)
	if err != nil {
		return fail(fmt.Errorf("--bootstrap: %w", err))
	}
	// A node behind a NAT cannot answer DHT queries: it asks only.
	mode := dht.ModeServer
	if private {
		mode = dht.ModeClient
	}
	n.dht, err = dht.New(h, dht.ProtocolPrefix(protocol.ID(gproto.DHTPrefix)), dht.Mode(mode),
		dht.BootstrapPeers(boot...), dht.DisableValues())
	if err != nil {
		return fail(fmt.Errorf("start DHT: %w", err))
	}
	n.ps, err = pubsub.NewGossipSub(nctx, h,
		pubsub.WithMaxMessageSize(2*gproto.MaxAnnouncement),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign))
	if err != nil {
		return fail(fmt.Errorf("start gossip: %w", err))
	}
	if err := n.watchNAT(); err != nil {
		return fail(err)
	}
	if cfg.RelayService {
		if n.relay, err = startRelay(h, cfg.RelayLimit); err != nil {
			return fail(err)
		}
	}
	h.SetStreamHandler(protocol.ID(gproto.GitProtocolID), n.serveGit)
	h.SetStreamHandler(protocol.ID(gproto.UpdateProtocolID), n.serveUpdate)
	h.SetStreamHandler(protocol.ID(gproto.FirstUpdateProtocolID), n.serveUpdate)
	n.heads = newHeadsLimiter()
	n.announced = newPeerLimiter(announceBurst, announceEvery)
	h.SetStreamHandler(protocol.ID(gproto.HeadsProtocolID), n.serveHeads)
	if err := n.startBook(); err != nil {
		return fail(err)
	}
	if n.proxy, err = newGitProxy(n); err != nil {
		return fail(err)
	}
	if cfg.MDNS {
		if err := n.startMDNS(); err != nil {
			return fail(err)
		}
	}
	for _, ai := range boot {
		if err := n.connect(ctx, ai); err != nil {
			n.log.Warn("bootstrap peer unreachable", "peer", ai.ID, "err", err)
		}
	}
	if len(boot) > 0 {
		if err := n.dht.Bootstrap(nctx); err != nil {
			n.log.Warn("DHT bootstrap", "err", err)
		}
	}
	// Fetches never outlive FetchTimeout; anything older is from a node
	// that died.
	repo.RemoveStale(cfg.Home, 2*cfg.Limits.FetchTimeout)
	pol, err := LoadPolicy(cfg.Home)
	if err != nil {
		return fail(err)
	}
	for _, s := range pol.Seeds {
		rid, err := gproto.ParseRID(s)
		if err != nil {
			continue
		}
		if err := n.join(rid); err != nil {
			n.log.Warn("join project", "rid", rid, "err", err)
		}
	}
	n.wg.Go(func() {
		defer close(n.reconnected)
		if !cfg.NoReconnect {
			n.reconnect(nctx)
		}
	})
	if cfg.IdleMaintenance >= 0 {
		n.lastActive.Store(time.Now().UnixNano())
		n.wg.Go(func() { n.maintainWhenIdle(nctx) })
	}
	n.log.Info("node started", "nid", cfg.Key.NID(), "addrs", n.Addrs())
	return n, nil
}

// Close stops the node and everything it started.
func (n *Node) Close() error {
	n.cancel()
	if n.proxy != nil {
		n.proxy.Close()
	}
	n.mu.Lock()
	for _, t := range n.topics {
		t.close()
	}
	n.topics = map[string]*topic{}
	n.mu.Unlock()
	if n.dht != nil {
		n.dht.Close()
	}
	if n.relay != nil {
		n.relay.Close()
	}
	err := n.host.Close()
	n.wg.Wait()
	n.log.Info("node stopped")
	return err
}

// NID is the node's identity.
func (n *Node) NID() gproto.NID { return n.cfg.Key.NID() }

// Host is the libp2p host, for tests and tools.
func (n *Node) Host() host.Host { return n.host }

// Addrs returns the node's dialable addresses, each ending in /p2p/NID.
func (n *Node) Addrs() []string {
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.String()+"/p2p/"+n.host.ID().String())
	}
	return out
}

// Peers returns the connected peers.
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	for _, p := range n.host.Network().Peers() {
		pi := PeerInfo{NID: p.String()}
		for _, c := range n.host.Network().ConnsToPeer(p) {
			pi.Addrs = append(pi.Addrs, c.RemoteMultiaddr().String())
		}
		out = append(out, pi)
	}
	return out
}

// Connect dials a peer by multiaddr (ending in /p2p/NID).
func (n *Node) Connect(ctx context.Context, addr string) (peer.ID, error) {
	ai, err := addrInfo(addr)
	if err != nil {
		return "", err
	}
	// A dial the user asks for is made now, even if one to the peer
	// failed a moment ago (the node dials remembered peers as it starts):
	// its error is then the peer's, not libp2p's dial backoff.
	if sw, ok := n.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(ai.ID)
	}
	return ai.ID, n.connect(ctx, *ai)
}

func (n *Node) connect(ctx context.Context, ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if slices.ContainsFunc(ai.Addrs, isCircuit) {
		n.awaitHolePunchReady(ctx)
	}
	ctx = network.WithAllowLimitedConn(ctx, "grove")
	if err := n.host.Connect(ctx, ai); err != nil {
		return &unreachableError{peer: ai.ID, addrs: ai.Addrs, err: err}
	}
	n.host.ConnManager().Protect(ai.ID, "grove-explicit")
	return nil
}

// unreachableError is a dial that reached none of a peer's addresses.
type unreachableError struct {
	peer  peer.ID
	addrs []ma.Multiaddr
	err   error
}

func (e *unreachableError) Error() string {
	at := ""
	switch len(e.addrs) {
	case 0:
	case 1:
		at = " at " + e.addrs[0].String()
	default:
		at = fmt.Sprintf(" at %s (and %d more addresses)", e.addrs[0], len(e.addrs)-1)
	}
	return fmt.Sprintf("cannot reach peer %s%s: %s", e.peer, at, dialCause(e.err))
}

func (e *unreachableError) Unwrap() []error { return []error{ErrUnreachable, e.err} }

// dialCause says in a few words why a dial failed: libp2p's own message
// spans lines, one per address tried.
func dialCause(err error) string {
	var errno syscall.Errno
	var de *swarm.DialError
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "no answer in time"
	case errors.Is(err, swarm.ErrNoAddresses):
		return "no address known for it"
	case errors.Is(err, swarm.ErrDialBackoff):
		return "a dial to it failed moments ago"
	case errors.As(err, &de) && len(de.DialErrors) > 0:
		err = de.DialErrors[0].Cause
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func addrInfo(s string) (*peer.AddrInfo, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return nil, fmt.Errorf("address %q must end in /p2p/NID: %w", s, err)
	}
	return ai, nil
}

func addrInfos(ss []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range ss {
		ai, err := addrInfo(s)
		if err != nil {
			return nil, err
		}
		out = append(out, *ai)
	}
	return out, nil
}

// strikes are a peer's bad answers not yet forgiven: n of them, the
// last counted (or forgiven) at last.
type strikes struct {
	n    int
	last time.Time
}

// strikesNow returns p's strikes at now, after forgiving one per
// StrikeDecay since the last; n.mu is held.
func (n *Node) strikesNow(p peer.ID, now time.Time) int {
	s := n.strikes[p]
	if s == nil {
		return 0
	}
	decay := n.cfg.Limits.StrikeDecay
	if k := int(now.Sub(s.last) / decay); k > 0 {
		s.n -= k
		s.last = s.last.Add(time.Duration(k) * decay)
	}
	if s.n <= 0 {
		delete(n.strikes, p)
		return 0
	}
	return s.n
}

// strike records bad data from p; at the limit p is disconnected and
// refused until one strike is forgiven (Limits.StrikeDecay).
func (n *Node) strike(p peer.ID, why error) {
	now := n.cfg.Now()
	n.mu.Lock()
	if len(n.strikes) >= maxLimitedPeers {
		// Many keys struck once: forget those forgiven.
		for q := range n.strikes {
			n.strikesNow(q, now)
		}
	}
	s := n.strikesNow(p, now) + 1
	n.strikes[p] = &strikes{n: s, last: now}
	n.mu.Unlock()
	n.log.Warn("bad data from peer", "peer", p, "strikes", s, "err", why)
	n.host.ConnManager().TagPeer(p, "grove-bad", -50*s)
	if s >= n.cfg.Limits.Strikes {
		n.gater.blockUntil(p, now.Add(n.cfg.Limits.StrikeDecay))
		n.host.Network().ClosePeer(p)
		n.log.Warn("peer blocked", "peer", p, "until", now.Add(n.cfg.Limits.StrikeDecay))
	}
}

// strikeMessage strikes p for a message it sent that is bad data
// (gproto.ErrMessage: malformed, oversized, invalid). A stream that was
// reset, cut short or timed out is not: a busy peer refuses by resetting,
// and networks fail.
func (n *Node) strikeMessage(p peer.ID, err error) {
	if errors.Is(err, gproto.ErrMessage) {
		n.strike(p, err)
		return
	}
	n.log.Debug("stream failed", "peer", p, "err", err)
}

// Strikes returns how many times p sent bad data, less those forgiven.
func (n *Node) Strikes(p peer.ID) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.strikesNow(p, n.cfg.Now())
}
