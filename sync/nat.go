package sync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	gproto "example.com/grove/protocol"
)

// A node given relays takes itself to be behind a NAT: it reserves a slot
// on each relay at once, without waiting for AutoNAT (which needs several
// servers before it trusts a verdict, and which a node on a private
// network with one relay to talk to never gets), advertises its circuit
// addresses, and re-provides its projects on the DHT when they change, so
// that provider records carry an address that reaches it. DCUtR upgrades a
// relayed connection to a direct one when the NATs allow; a fetch that a
// relay's limits cut short is tried again over that direct connection.

// RelayLimit bounds what one connection relayed for others may carry.
type RelayLimit struct {
	Duration time.Duration
	Data     int64
}

// DefaultRelayLimit is what a node started with --relay-service relays
// per connection: the clone of an ordinary project, bounded in time. Past
// it, peers need the direct connection hole punching makes.
var DefaultRelayLimit = RelayLimit{Duration: 30 * time.Minute, Data: 1 << 30}

// startRelay relays for others at once. libp2p's own relay service waits
// until AutoNAT finds the node public, which needs AutoNAT servers; the
// peers of a relay are mostly behind NATs, and serve none.
func startRelay(h host.Host, lim RelayLimit) (*relay.Relay, error) {
	if lim == (RelayLimit{}) {
		lim = DefaultRelayLimit
	}
	res := relay.DefaultResources()
	res.Limit = &relay.RelayLimit{Duration: lim.Duration, Data: lim.Data}
	r, err := relay.New(h, relay.WithResources(res))
	if err != nil {
		return nil, fmt.Errorf("relay service: %w", err)
	}
	return r, nil
}

// reprovideInterval is how often the node provides its projects again.
const reprovideInterval = 12 * time.Hour

// natState is what the node knows about being reachable.
type natState struct {
	mu    sync.Mutex
	reach network.Reachability
	// inbound says a peer on a public address connected to the node
	// directly, unasked.
	inbound bool
	// relays are the circuit addresses of the relays that hold a
	// reservation for this node, without /p2p/NID.
	relays []ma.Multiaddr
	// provided are the circuit addresses the node last provided its
	// projects with.
	provided []string
}

// watchNAT follows reachability and relay reservations, and provides the
// seeded projects again when the node's circuit addresses change, and
// every reprovideInterval.
func (n *Node) watchNAT() error {
	sub, err := n.host.EventBus().Subscribe([]any{
		new(event.EvtLocalReachabilityChanged),
		new(event.EvtAutoRelayAddrsUpdated),
		new(event.EvtLocalAddressesUpdated),
	}, eventbus.Name("grove nat"))
	if err != nil {
		return fmt.Errorf("watch reachability: %w", err)
	}
	if !n.private {
		n.host.Network().Notify(&network.NotifyBundle{ConnectedF: n.onConnected})
	}
	n.wg.Go(func() {
		defer sub.Close()
		// Provider records expire after 48 hours on the DHT's servers.
		t := time.NewTicker(reprovideInterval)
		defer t.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-t.C:
				n.reprovide()
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				n.onNATEvent(e)
			}
		}
	})
	return nil
}

func (n *Node) onNATEvent(e any) {
	switch e := e.(type) {
	case event.EvtLocalReachabilityChanged:
		n.nat.mu.Lock()
		n.nat.reach = e.Reachability
		n.nat.mu.Unlock()
		n.log.Info("reachability", "reachability", reachabilityName(e.Reachability))
	case event.EvtAutoRelayAddrsUpdated:
		n.nat.mu.Lock()
		n.nat.relays = slices.Clone(e.RelayAddrs)
		n.nat.mu.Unlock()
		n.log.Info("relay reservations", "addrs", e.RelayAddrs)
	case event.EvtLocalAddressesUpdated:
		var circuits []string
		for _, a := range e.Current {
			if isCircuit(a.Address) {
				circuits = append(circuits, a.Address.String())
			}
		}
		slices.Sort(circuits)
		n.nat.mu.Lock()
		// A relay that restarts has lost the records: provide again when
		// the addresses come back, even the same ones.
		changed := len(circuits) > 0 && !slices.Equal(circuits, n.nat.provided)
		n.nat.provided = circuits
		n.nat.mu.Unlock()
		if changed {
			n.reprovide()
		}
	}
}

// onConnected takes an inbound direct connection from a public address
// as proof that the node is reachable. AutoNAT wants a server to dial
// back, and the peers of a relay, behind NATs, serve none; a node behind
// a NAT has relays and never gets here, so a hole-punched connection
// does not count.
func (n *Node) onConnected(_ network.Network, c network.Conn) {
	a := c.RemoteMultiaddr()
	if c.Stat().Direction != network.DirInbound || isCircuit(a) || !manet.IsPublicAddr(a) {
		return
	}
	n.nat.mu.Lock()
	first := !n.nat.inbound
	n.nat.inbound = true
	n.nat.mu.Unlock()
	if first {
		n.log.Info("reachable: a peer on a public address connected directly", "peer", c.RemotePeer(), "addr", a)
	}
}

// reprovide provides every public project the node seeds again, so that
// provider records carry its current addresses.
func (n *Node) reprovide() {
	n.mu.Lock()
	var rids []gproto.RID
	for s := range n.topics {
		if rid, err := gproto.ParseRID(s); err == nil {
			rids = append(rids, rid)
		}
	}
	n.mu.Unlock()
	for _, rid := range rids {
		n.wg.Go(func() {
			ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
			defer cancel()
			if err := n.dht.Provide(ctx, ridCID(rid), true); err != nil && n.ctx.Err() == nil {
				n.log.Debug("provide again", "rid", rid, "err", err)
			}
		})
	}
}

// Reachability says whether peers can dial the node directly: public,
// private or unknown. A node with relays is private; others follow
// AutoNAT, or a direct connection a peer on a public address made.
func (n *Node) Reachability() string {
	if n.private {
		return "private" // by configuration, not by libp2p's event, which arrives when it will
	}
	n.nat.mu.Lock()
	defer n.nat.mu.Unlock()
	if n.nat.reach == network.ReachabilityUnknown && n.nat.inbound {
		return "public"
	}
	return reachabilityName(n.nat.reach)
}

func reachabilityName(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}

// autorelayTag is how libp2p's autorelay protects the connection to a
// relay that holds a reservation for the node.
const autorelayTag = "autorelay"

// Reservations returns the node's addresses through the configured relays
// that hold a reservation for it, one per relay, each the relay's address
// as configured followed by /p2p-circuit/p2p/NID. libp2p advertises
// circuit addresses only through relays on public addresses; the
// reservation holds on others too.
func (n *Node) Reservations() []string {
	n.nat.mu.Lock()
	advertised := slices.Clone(n.nat.relays)
	n.nat.mu.Unlock()
	var out []string
	for _, s := range n.cfg.Relays {
		ai, err := addrInfo(s)
		if err != nil {
			continue
		}
		held := n.host.ConnManager().IsProtected(ai.ID, autorelayTag) || slices.ContainsFunc(advertised, func(a ma.Multiaddr) bool {
			id, err := a.ValueForProtocol(ma.P_P2P)
			return err == nil && id == ai.ID.String()
		})
		if held {
			out = append(out, s+"/p2p-circuit/p2p/"+n.host.ID().String())
		}
	}
	return out
}

func isCircuit(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// route is how a fetch's stream reached its peer.
type route struct {
	conn network.Conn
	// relayed says the connection goes through relay.
	relayed bool
	relay   peer.ID
	// limited says the relay bounds the connection, to data bytes each
	// way and duration (zero: no bound of that kind).
	limited  bool
	data     int64
	duration time.Duration
}

func routeOf(c network.Conn) *route {
	r := &route{conn: c}
	a := c.RemoteMultiaddr()
	if !isCircuit(a) {
		return r
	}
	r.relayed = true
	// /…/p2p/RELAY/p2p-circuit: the relay is the /p2p before it.
	relayPart, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Code() == ma.P_CIRCUIT })
	if id, err := relayPart.ValueForProtocol(ma.P_P2P); err == nil {
		r.relay, _ = peer.Decode(id)
	}
	st := c.Stat()
	r.limited = st.Limited
	if d, ok := st.Extra[client.StatLimitData].(uint64); ok {
		r.data = int64(min(d, 1<<62))
	}
	if d, ok := st.Extra[client.StatLimitDuration].(time.Duration); ok {
		r.duration = d
	}
	return r
}

// via names the route for results and logs: "relay" or "direct".
func (r *route) via() string {
	if r == nil {
		return ""
	}
	if r.relayed {
		return "relay"
	}
	return "direct"
}

// RelayLimitError is a fetch that a relay cut short at its limit, with no
// direct connection to the peer to finish it over.
type RelayLimitError struct {
	Peer, Relay peer.ID
	// Data and Duration are the relay's bounds per connection (zero: none
	// of that kind); Bytes is what arrived before the cut.
	Data     int64
	Duration time.Duration
	Bytes    int64
}

// Unwrap makes the error match ErrRelayLimit, which crosses the control
// socket.
func (e *RelayLimitError) Unwrap() error { return ErrRelayLimit }

func (e *RelayLimitError) Error() string {
	var lim []string
	if e.Data > 0 {
		lim = append(lim, formatBytes(e.Data))
	}
	if e.Duration > 0 {
		lim = append(lim, e.Duration.String())
	}
	relay := "the relay"
	if e.Relay != "" {
		relay = "relay " + e.Relay.String()
	}
	limit := "its limit"
	if len(lim) > 0 {
		limit += " (" + strings.Join(lim, ", ") + " per connection)"
	}
	return fmt.Sprintf("%s closed the relayed connection to %s at %s after %s, "+
		"and hole punching made no direct connection: fetch from a peer you can reach directly, or through a relay with higher limits",
		relay, e.Peer, limit, formatBytes(e.Bytes))
}

func formatBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}

// connectedTo reports whether the node has a connection to p, direct or
// through a relay: git fetches, update packs and heads exchanges use
// either (GossipSub only a direct one).
func (n *Node) connectedTo(p peer.ID) bool {
	c := n.host.Network().Connectedness(p)
	return c == network.Connected || c == network.Limited
}

// directConn reports whether the node has a connection to p that does not
// go through a relay.
func (n *Node) directConn(p peer.ID) bool {
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if !isCircuit(c.RemoteMultiaddr()) {
			return true
		}
	}
	return false
}

// holePunchReadyWait bounds how long a node behind a NAT that just
// started waits, before it opens a relayed connection, until it answers
// hole punching (DCUtR).
const holePunchReadyWait = 5 * time.Second

// awaitHolePunchReady waits, bounded, until the node answers DCUtR, when
// it is behind a NAT. libp2p registers the handler only once peers have
// told the node its public address, a moment after it starts; a relayed
// connection opened before that is never upgraded, since the peer tries
// hole punching once, when the connection opens.
func (n *Node) awaitHolePunchReady(ctx context.Context) {
	if !n.private {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, holePunchReadyWait)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !slices.Contains(n.host.Mux().Protocols(), holepunch.Protocol) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// awaitDirect waits, at most d, until the node has a direct connection to
// p, as hole punching makes after a relayed connection opens.
func (n *Node) awaitDirect(ctx context.Context, p peer.ID, d time.Duration) bool {
	if n.directConn(p) {
		return true
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.Name("grove await direct"))
	if err != nil {
		return false
	}
	defer sub.Close()
	t := time.NewTimer(d)
	defer t.Stop()
	// Connectedness events say little about which connection came, so
	// look again on each, and every so often.
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if n.directConn(p) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return n.directConn(p)
		case <-sub.Out():
		case <-tick.C:
		}
	}
}
