package sync

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	manet "github.com/multiformats/go-multiaddr/net"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// A node remembers, per project, the peers it exchanged the project with
// (control.Book, $GROVE_HOME/peers.json): whoever fetched from whom, and
// both sides of every heads exchange. At start it dials the peers of its
// policy and, per seeded project, the peers it exchanged that project with
// most recently, so two peers find each other again after either
// restarts on new ports. Addresses that keep failing age out.

const (
	// reconnectPerProject is how many remembered peers of each seeded
	// project a node dials at start.
	reconnectPerProject = 4
	// reconnectParallel bounds the dials at start in flight at once.
	reconnectParallel = 8
	// reconnectTimeout bounds one dial at start.
	reconnectTimeout = 10 * time.Second
	// bookSaveEvery is the most often the book is written to disk.
	bookSaveEvery = time.Second
	// peerTag tags the connections of peers a node shares projects with,
	// so the connection manager trims them last (a tag, not protection: a
	// seed that many peers clone from must still be able to trim).
	peerTag      = "grove-peer"
	peerTagValue = 20
)

// peerBook is the node's control.Book, written to disk behind changes.
type peerBook struct {
	mu    sync.Mutex
	b     *control.Book
	dirty chan struct{}
}

// with runs f on the book under its lock and, if f reports a change,
// schedules a save.
func (pb *peerBook) with(f func(b *control.Book) bool) {
	pb.mu.Lock()
	changed := f(pb.b)
	pb.mu.Unlock()
	if changed {
		select {
		case pb.dirty <- struct{}{}:
		default:
		}
	}
}

// save writes the book now.
func (pb *peerBook) save(h repo.Home) error {
	pb.mu.Lock()
	defer pb.mu.Unlock()
	return pb.b.Save(h)
}

// startBook loads the book and starts what keeps it: the writer, and the
// watcher of new connections that remembers peers and compares heads.
func (n *Node) startBook() error {
	b, err := control.LoadBook(n.cfg.Home)
	if err != nil {
		return err
	}
	n.book = &peerBook{b: b, dirty: make(chan struct{}, 1)}
	n.reconnected = make(chan struct{})
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return err
	}
	n.wg.Go(func() {
		defer sub.Close()
		for {
			select {
			case <-n.ctx.Done():
				return
			case e := <-sub.Out():
				n.identified(e.(event.EvtPeerIdentificationCompleted))
			}
		}
	})
	n.wg.Go(n.saveBook)
	return nil
}

// saveBook writes the book when it changed, at most once per
// bookSaveEvery, and a last time when the node stops.
func (n *Node) saveBook() {
	save := func() {
		if err := n.book.save(n.cfg.Home); err != nil {
			n.log.Warn("save peer book", "err", err)
		}
	}
	for {
		select {
		case <-n.ctx.Done():
			select {
			case <-n.book.dirty:
				save()
			default:
			}
			return
		case <-n.book.dirty:
			save()
		}
		select {
		case <-n.ctx.Done():
		case <-time.After(bookSaveEvery):
		}
	}
}

// identified is called once identify has run on a new connection: the
// side that dialled starts a heads exchange, if the peer speaks it.
func (n *Node) identified(e event.EvtPeerIdentificationCompleted) {
	if e.Conn == nil || !n.gater.ok(e.Peer) {
		return
	}
	n.refresh(e.Peer)
	n.log.Debug("identified", "peer", e.Peer, "dir", e.Conn.Stat().Direction, "heads", slices.Contains(e.Protocols, protocol.ID(gproto.HeadsProtocolID)))
	if e.Conn.Stat().Direction != network.DirOutbound {
		return
	}
	if !slices.Contains(e.Protocols, protocol.ID(gproto.HeadsProtocolID)) {
		return
	}
	n.wg.Go(func() {
		if err := n.askHeads(n.ctx, e.Peer, nil); err != nil && n.ctx.Err() == nil {
			n.log.Debug("heads exchange", "peer", e.Peer, "err", err)
		}
	})
}

// dialable returns where p can be reached: the remote addresses of the
// connections this node dialled, then what p says it listens on, each
// ending in /p2p/p, at most control.MaxBookAddrs.
func (n *Node) dialable(p peer.ID) []string {
	var out []string
	add := func(a string) {
		if !slices.Contains(out, a) && len(out) < control.MaxBookAddrs {
			out = append(out, a)
		}
	}
	suffix := "/p2p/" + p.String()
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if c.Stat().Direction == network.DirOutbound {
			add(c.RemoteMultiaddr().String() + suffix)
		}
	}
	for _, a := range n.host.Peerstore().Addrs(p) {
		if ip, err := manet.ToIP(a); err == nil && (ip.IsUnspecified() || ip.IsLinkLocalUnicast()) {
			continue
		}
		add(a.String() + suffix)
	}
	return out
}

// remember records that this node and p exchanged project rid, with p's
// current addresses.
func (n *Node) remember(p peer.ID, rid gproto.RID) {
	if p == n.host.ID() || n.book == nil {
		return
	}
	now := n.cfg.Now()
	addrs := n.dialable(p)
	n.host.ConnManager().TagPeer(p, peerTag, peerTagValue)
	n.book.with(func(b *control.Book) bool {
		bp := b.Peer(p.String(), now)
		_, known := bp.Projects[rid.String()]
		bp.Exchanged(rid.String(), now)
		bp.Seen = now
		for _, a := range addrs {
			if bp.AddAddr(a, now) {
				known = false
			}
			bp.Worked(a, now)
		}
		// Only new facts must reach the disk at once; fresher times
		// are saved with them or when the node stops.
		return !known
	})
}

// refresh records where p, a peer in the book, is reachable now: a peer
// that restarted on new ports and dialled this node is found there next
// time.
func (n *Node) refresh(p peer.ID) {
	var known bool
	n.book.with(func(b *control.Book) bool {
		_, known = b.Peers[p.String()]
		return false
	})
	if !known {
		return
	}
	now := n.cfg.Now()
	addrs := n.dialable(p)
	n.book.with(func(b *control.Book) bool {
		bp := b.Peers[p.String()]
		if bp == nil {
			return false
		}
		changed := false
		for _, a := range addrs {
			changed = bp.AddAddr(a, now) || changed
			bp.Worked(a, now)
		}
		bp.Seen = now
		return changed
	})
}

// exchanges returns, by peer, when this node last exchanged rid with it.
func (n *Node) exchanges(rid gproto.RID) map[string]time.Time {
	out := map[string]time.Time{}
	n.book.with(func(b *control.Book) bool {
		for nid, p := range b.Peers {
			if t, ok := p.Projects[rid.String()]; ok {
				out[nid] = t
			}
		}
		return false
	})
	return out
}

// projectStatus lists each project pol seeds with its connected seeders
// and when this node last exchanged the project with each.
func (n *Node) projectStatus(pol *Policy) []control.ProjectStatus {
	var out []control.ProjectStatus
	for _, s := range pol.Seeds {
		rid, err := gproto.ParseRID(s)
		if err != nil {
			continue
		}
		last := n.exchanges(rid)
		ps := control.ProjectStatus{RID: s, Seeders: []control.SeederStatus{}}
		for _, p := range n.projectPeers(rid) {
			ps.Seeders = append(ps.Seeders, control.SeederStatus{NID: p.String(), LastExchange: last[p.String()]})
		}
		sort.Slice(ps.Seeders, func(i, j int) bool { return ps.Seeders[i].NID < ps.Seeders[j].NID })
		out = append(out, ps)
	}
	return out
}

// projectPeers are the connected peers that seed rid, as far as this node
// knows: those in its topic, and those it exchanged it with.
func (n *Node) projectPeers(rid gproto.RID) []peer.ID {
	out := n.TopicPeers(rid)
	for nid := range n.exchanges(rid) {
		p, err := peer.Decode(nid)
		if err == nil && !slices.Contains(out, p) && n.connectedTo(p) {
			out = append(out, p)
		}
	}
	return out
}

// reconnect dials, in the background of a starting node, the peers of
// its policy and, per seeded project, the reconnectPerProject peers it
// exchanged the project with most recently; it then ages out addresses
// that keep failing, in the book and in the policy.
func (n *Node) reconnect(ctx context.Context) {
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		n.log.Warn("reconnect", "err", err)
		return
	}
	now := n.cfg.Now()
	targets, explicit := map[string]bool{}, map[string]bool{}
	var order []string
	want := func(nid string) {
		if !targets[nid] && nid != n.NID().String() {
			targets[nid] = true
			order = append(order, nid)
		}
	}
	n.book.with(func(b *control.Book) bool {
		changed := false
		for _, a := range pol.Peers {
			if slices.Contains(n.cfg.Bootstrap, a) {
				continue // dialled already
			}
			nid, err := control.ParseAddr(a)
			if err != nil || pol.IsBlocked(nid) {
				continue
			}
			if b.Peer(nid.String(), now).AddAddr(a, now) {
				changed = true
			}
			explicit[nid.String()] = true
			want(nid.String())
		}
		for _, rid := range pol.Seeds {
			var ps []string
			for nid, p := range b.Peers {
				if _, ok := p.Projects[rid]; ok && len(p.Addrs) > 0 {
					ps = append(ps, nid)
				}
			}
			sort.Slice(ps, func(i, j int) bool { return b.Peers[ps[i]].Projects[rid].After(b.Peers[ps[j]].Projects[rid]) })
			for _, nid := range ps[:min(len(ps), reconnectPerProject)] {
				want(nid)
			}
		}
		return changed
	})
	n.log.Debug("reconnecting", "peers", len(order))
	sem := make(chan struct{}, reconnectParallel)
	var wg sync.WaitGroup
	for _, nid := range order {
		p, err := peer.Decode(nid)
		if err != nil || n.host.Network().Connectedness(p) == network.Connected {
			continue
		}
		var addrs []string
		n.book.with(func(b *control.Book) bool {
			for _, a := range b.Peers[nid].Addrs {
				addrs = append(addrs, a.Addr)
			}
			return false
		})
		ai, err := addrInfoOf(p, addrs)
		if err != nil {
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			dctx, cancel := context.WithTimeout(ctx, reconnectTimeout)
			var err error
			if explicit[nid] {
				err = n.connect(dctx, ai) // protected, as grove connect
			} else {
				err = n.host.Connect(network.WithAllowLimitedConn(dctx, "grove"), ai)
			}
			cancel()
			if ctx.Err() != nil {
				return
			}
			n.dialed(p, err)
		})
	}
	wg.Wait()
	if ctx.Err() == nil {
		n.ageOut()
	}
}

// addrInfoOf parses addrs (each ending in /p2p/p) into one AddrInfo.
func addrInfoOf(p peer.ID, addrs []string) (peer.AddrInfo, error) {
	ai := peer.AddrInfo{ID: p}
	for _, a := range addrs {
		x, err := addrInfo(a)
		if err != nil || x.ID != p {
			continue
		}
		ai.Addrs = append(ai.Addrs, x.Addrs...)
	}
	if len(ai.Addrs) == 0 {
		return ai, errNoAddrs
	}
	return ai, nil
}

// dialed records the outcome of a dial of p at start.
func (n *Node) dialed(p peer.ID, err error) {
	now := n.cfg.Now()
	worked := n.dialable(p)
	n.book.with(func(b *control.Book) bool {
		bp := b.Peers[p.String()]
		if bp == nil {
			return false
		}
		if err != nil {
			n.log.Info("remembered peer unreachable", "peer", p, "err", err)
			bp.Failed()
			return true
		}
		n.log.Debug("remembered peer reconnected", "peer", p)
		bp.Seen = now
		for _, a := range worked {
			bp.Worked(a, now)
		}
		return true
	})
	if err == nil {
		n.host.ConnManager().TagPeer(p, peerTag, peerTagValue)
	}
}

// ageOut drops the addresses that keep failing from the book, and from
// the policy's peers; a peer of the policy whose last address there goes
// is kept through the address that worked for it most recently, if any.
func (n *Node) ageOut() {
	now := n.cfg.Now()
	gone := map[string][]string{}
	best := map[string]string{}
	n.book.with(func(b *control.Book) bool {
		for nid, p := range b.Peers {
			if g := p.AgeOut(now); len(g) > 0 {
				gone[nid] = g
			}
			if len(p.Addrs) > 0 {
				best[nid] = p.Addrs[0].Addr
			} else {
				delete(b.Peers, nid)
			}
		}
		return len(gone) > 0
	})
	if len(gone) == 0 {
		return
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return
	}
	changed := false
	for nid, addrs := range gone {
		had := slices.ContainsFunc(pol.Peers, func(a string) bool { return slices.Contains(addrs, a) })
		for _, a := range addrs {
			n.log.Info("address aged out", "peer", nid, "addr", a)
			changed = pol.RemovePeer(a) || changed
		}
		still := slices.ContainsFunc(pol.Peers, func(a string) bool {
			id, err := control.ParseAddr(a)
			return err == nil && id.String() == nid
		})
		if had && !still && best[nid] != "" {
			pol.AddPeer(best[nid])
		}
	}
	if changed {
		if err := pol.Save(n.cfg.Home); err != nil {
			n.log.Warn("save policy", "err", err)
		}
	}
}

// Forget drops peer nid from the book and its addresses from the policy,
// and closes the connections to it: the node no longer dials it at start.
// It reports whether the node knew the peer.
func (n *Node) Forget(nid gproto.NID) (bool, error) {
	p, err := peer.Decode(nid.String())
	if err != nil {
		return false, err
	}
	var known bool
	n.book.with(func(b *control.Book) bool {
		known = b.Forget(nid.String())
		return false
	})
	if known {
		if err := n.book.save(n.cfg.Home); err != nil {
			return known, err
		}
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return known, err
	}
	if pol.RemovePeersOf(nid.String()) {
		known = true
		if err := pol.Save(n.cfg.Home); err != nil {
			return known, err
		}
	}
	n.host.ConnManager().UntagPeer(p, peerTag)
	n.host.ConnManager().Unprotect(p, "grove-explicit")
	n.host.Network().ClosePeer(p)
	return known, nil
}

// findSeeders connects to a few providers of rid found on the DHT when,
// once the node has dialled the peers it remembers, no peer of the
// project is connected: a node that seeds a project it got some other way
// (a forgotten peer, a copied storage) meets its peers through the DHT.
func (n *Node) findSeeders(ctx context.Context, rid gproto.RID) {
	select {
	case <-n.reconnected:
	case <-ctx.Done():
		return
	}
	if len(n.projectPeers(rid)) > 0 || n.dht.RoutingTable().Size() == 0 {
		return
	}
	for _, p := range n.providers(ctx, rid, reconnectPerProject, nil) {
		if n.host.Network().Connectedness(p) == network.Connected {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, reconnectTimeout)
		err := n.host.Connect(network.WithAllowLimitedConn(cctx, "grove"), peer.AddrInfo{ID: p})
		cancel()
		n.log.Debug("seeder found on the DHT", "rid", rid, "peer", p, "err", err)
	}
}
