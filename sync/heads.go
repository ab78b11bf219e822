package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// On every new connection the side that dialled compares, with
// /grove/heads/1, the signed refs both hold of the projects they seed
// (docs/PROTOCOL.md): a digest per project first, the heads only where the
// digests differ. Each side then fetches from the other the namespaces it
// follows whose signed refs it has never seen, and a node that took
// something this way tells the other peers of that project, so a missed
// announcement costs one connection's delay.

const (
	// headsTimeout bounds one heads exchange, either side.
	headsTimeout = gproto.HeadsTimeout
	// maxCatchUpWants is the most namespaces of one project a heads
	// exchange fetches one by one (update packs, a narrow fetch each);
	// past it one fetch brings the whole project.
	maxCatchUpWants = 4
	// maxSpread bounds the peers told of an update taken by catching up.
	maxSpread = 16
)

var errNoAddrs = errors.New("no address")

// headsLimiter bounds heads exchanges: how often one peer may ask, and
// how many are answered at once.
type headsLimiter struct {
	*peerLimiter
	serving *slots
}

func newHeadsLimiter() *headsLimiter {
	return &headsLimiter{peerLimiter: newPeerLimiter(headsBurst, headsEvery), serving: &slots{perPeer: maxHeadsPerPeer, max: maxHeadsServing}}
}

// localHeads are the signed refs this node holds of rid that it would
// serve (blocked NIDs are hidden), sorted by NID.
func (n *Node) localHeads(r *repo.Repo, pol *Policy) ([]gproto.Head, error) {
	f := r.RefFiles()
	nss, err := f.Namespaces()
	if err != nil {
		return nil, err
	}
	var out []gproto.Head
	for _, ns := range nss {
		nid, err := gproto.ParseNID(ns)
		if err != nil || pol.IsBlocked(nid) {
			continue
		}
		oid, err := f.Get(repo.NamespacePrefix(nid) + gproto.SigrefsRef)
		if err != nil {
			return nil, err
		}
		if oid != "" {
			out = append(out, gproto.Head{NID: nid, Sigrefs: oid})
		}
	}
	gproto.SortHeads(out)
	return out, nil
}

// sharable are the projects this node seeds that peer p may read, with
// this node's heads of each: rids narrows them (nil: every seeded one).
func (n *Node) sharable(ctx context.Context, p peer.ID, rids []gproto.RID) (map[gproto.RID][]gproto.Head, []gproto.RID, error) {
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return nil, nil, err
	}
	nid, err := gproto.ParseNID(p.String())
	if err != nil || pol.IsBlocked(nid) {
		return nil, nil, nil
	}
	heads := map[gproto.RID][]gproto.Head{}
	var order []gproto.RID
	for _, s := range pol.Seeds {
		rid, err := gproto.ParseRID(s)
		if err != nil || rids != nil && !slices.Contains(rids, rid) || len(order) >= gproto.MaxHeadsProjects {
			continue
		}
		r, err := repo.Open(n.cfg.Home, rid)
		if err != nil {
			continue
		}
		doc, err := n.identity(ctx, r)
		if err != nil || !n.mayRead(ctx, r, doc, nid) {
			continue
		}
		h, err := n.localHeads(r, pol)
		if err != nil {
			return nil, nil, err
		}
		heads[rid] = h
		order = append(order, rid)
	}
	return heads, order, nil
}

// capHeads returns m with its heads cut so that the message stays within
// gproto.MaxHeads: a peer with that many namespaces learns of the rest at
// the next exchange.
func capHeads(m *gproto.HeadsMessage) {
	left := gproto.MaxHeads
	for i := range m.Projects {
		h := m.Projects[i].Heads
		if len(h) > left {
			m.Projects[i].Heads = h[:left]
		}
		left -= len(m.Projects[i].Heads)
	}
}

// askHeads runs a heads exchange with p over the projects both seed (only
// rids, if given): it sends its digests, fetches what p's answer shows it
// lacks, and sends its own heads where they differ so that p can do the
// same.
func (n *Node) askHeads(ctx context.Context, p peer.ID, rids []gproto.RID) error {
	return n.exchangeHeads(ctx, p, rids, false)
}

// exchangeHeads is askHeads; announce says this node runs it to announce
// its own change (gproto.HeadsMessage.Announce).
func (n *Node) exchangeHeads(ctx context.Context, p peer.ID, rids []gproto.RID, announce bool) error {
	mine, order, err := n.sharable(ctx, p, rids)
	if err != nil || len(order) == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, headsTimeout)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "grove-heads"), p, protocol.ID(gproto.HeadsProtocolID))
	if err != nil {
		return err
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	req := &gproto.HeadsMessage{Announce: announce}
	for _, rid := range order {
		req.Projects = append(req.Projects, gproto.ProjectHeads{RID: rid, Digest: gproto.HeadsDigest(mine[rid])})
	}
	if err := gproto.WriteHeads(s, req); err != nil {
		s.Reset()
		return err
	}
	var resp gproto.HeadsMessage
	if err := gproto.ReadHeads(s, &resp); err != nil {
		s.Reset()
		n.strikeMessage(p, fmt.Errorf("heads answer: %w", err))
		return err
	}
	n.log.Debug("heads exchanged", "peer", p, "asked", len(req.Projects), "shared", len(resp.Projects))
	final := &gproto.HeadsMessage{}
	for _, ph := range resp.Projects {
		h, ok := mine[ph.RID]
		if !ok {
			s.Reset()
			err := fmt.Errorf("%w: heads of %s, which was not asked for", gproto.ErrMessage, ph.RID)
			n.strike(p, err)
			return err
		}
		n.remember(p, ph.RID)
		if ph.Digest == gproto.HeadsDigest(h) {
			continue
		}
		final.Projects = append(final.Projects, gproto.ProjectHeads{RID: ph.RID, Heads: h})
		n.catchUp(p, ph.RID, ph.Heads, true)
	}
	if len(final.Projects) == 0 {
		return nil
	}
	capHeads(final)
	if err := gproto.WriteHeads(s, final); err != nil {
		s.Reset()
		return err
	}
	return s.CloseWrite()
}

// sameHeadsWait bounds the heads round trip a sync makes before a fetch.
const sameHeadsWait = 5 * time.Second

// sameHeads reports whether p holds the same signed refs of rid as this
// node, by a heads exchange of rid alone that stops at the digests, and
// how many namespaces a fetch would have found current (others', that
// doc's policy follows). Any failure (p refuses or does not seed rid, the
// digests differ) says no, and the caller fetches.
func (n *Node) sameHeads(ctx context.Context, p peer.ID, rid gproto.RID, doc *gproto.Identity) (bool, int) {
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return false, 0
	}
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return false, 0
	}
	mine, err := n.localHeads(r, pol)
	if err != nil || len(mine) == 0 {
		return false, 0
	}
	ctx, cancel := context.WithTimeout(ctx, sameHeadsWait)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "grove-heads"), p, protocol.ID(gproto.HeadsProtocolID))
	if err != nil {
		return false, 0
	}
	// Closed without heads back when they differ: the peer only notes it.
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	digest := gproto.HeadsDigest(mine)
	if err := gproto.WriteHeads(s, &gproto.HeadsMessage{Projects: []gproto.ProjectHeads{{RID: rid, Digest: digest}}}); err != nil {
		s.Reset()
		return false, 0
	}
	var resp gproto.HeadsMessage
	if err := gproto.ReadHeads(s, &resp); err != nil {
		s.Reset()
		return false, 0
	}
	if len(resp.Projects) != 1 || resp.Projects[0].RID != rid || resp.Projects[0].Digest != digest {
		return false, 0
	}
	current := 0
	for _, h := range mine {
		if !h.NID.Equal(n.NID()) && n.follows(ctx, r, pol, doc, h.NID, nil) {
			current++
		}
	}
	return true, current
}

// serveHeads answers a heads exchange.
func (n *Node) serveHeads(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	if !n.heads.allow(p, time.Now()) {
		n.log.Debug("heads exchange refused: too often", "peer", p)
		s.Reset()
		return
	}
	if !n.heads.serving.take(p) {
		n.log.Debug("heads exchange refused: busy", "peer", p)
		s.Reset()
		return
	}
	defer n.heads.serving.done(p)
	ctx, cancel := context.WithTimeout(n.ctx, headsTimeout)
	defer cancel()
	// The request within RequestTimeout: a peer that trickles it holds
	// its slots no longer.
	s.SetDeadline(time.Now().Add(min(n.cfg.Limits.RequestTimeout, headsTimeout)))
	var req gproto.HeadsMessage
	if err := gproto.ReadHeads(s, &req); err != nil {
		n.strikeMessage(p, fmt.Errorf("heads request: %w", err))
		s.Reset()
		return
	}
	s.SetDeadline(time.Now().Add(headsTimeout))
	asked := make([]gproto.RID, 0, len(req.Projects))
	theirs := map[gproto.RID]string{}
	for _, ph := range req.Projects {
		asked = append(asked, ph.RID)
		theirs[ph.RID] = ph.Digest
	}
	mine, order, err := n.sharable(ctx, p, asked)
	if err != nil {
		n.log.Debug("heads exchange", "peer", p, "err", err)
		s.Reset()
		return
	}
	resp := &gproto.HeadsMessage{Projects: []gproto.ProjectHeads{}}
	differ := map[gproto.RID]bool{}
	for _, rid := range order {
		d := gproto.HeadsDigest(mine[rid])
		ph := gproto.ProjectHeads{RID: rid, Digest: d}
		if d != theirs[rid] {
			ph.Heads = mine[rid]
			differ[rid] = true
		}
		resp.Projects = append(resp.Projects, ph)
		n.remember(p, rid)
	}
	capHeads(resp)
	if err := gproto.WriteHeads(s, resp); err != nil {
		s.Reset()
		return
	}
	if len(differ) == 0 {
		return
	}
	var final gproto.HeadsMessage
	if err := gproto.ReadHeads(s, &final); err != nil {
		n.log.Debug("heads exchange: no heads back", "peer", p, "err", err)
		return
	}
	for _, ph := range final.Projects {
		if !differ[ph.RID] {
			n.strike(p, fmt.Errorf("%w: heads of %s, which did not differ", gproto.ErrMessage, ph.RID))
			return
		}
		n.catchUp(p, ph.RID, ph.Heads, !req.Announce)
	}
}

// catchUp fetches from p the namespaces of rid whose signed refs p holds
// and this node has never seen, among those it follows: each as an
// announced update would be (an update pack, or a narrow fetch), or, past
// maxCatchUpWants of them, in one fetch of the project. With spread, what
// it takes is passed on (spread). It does not wait.
func (n *Node) catchUp(p peer.ID, rid gproto.RID, theirs []gproto.Head, spread bool) {
	if len(theirs) == 0 || n.cfg.OneCommand {
		return
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil || !pol.Seeding(rid) {
		return
	}
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return
	}
	doc, err := n.identity(n.ctx, r)
	if err != nil {
		return
	}
	f := r.RefFiles()
	var missing []gproto.Head
	for _, h := range theirs {
		if h.NID.Equal(n.NID()) || !n.follows(n.ctx, r, pol, doc, h.NID, nil) {
			continue
		}
		// A revision this node holds the commit of is one it has had:
		// the peer is behind, or equal.
		if have, err := f.Get(repo.NamespacePrefix(h.NID) + gproto.SigrefsRef); err != nil || have == h.Sigrefs || r.HasObject(h.Sigrefs) {
			continue
		}
		missing = append(missing, h)
	}
	if len(missing) == 0 {
		return
	}
	n.log.Debug("catching up", "peer", p, "rid", rid, "namespaces", len(missing))
	if len(missing) <= maxCatchUpWants {
		for _, h := range missing {
			n.wantFrom(rid, h, p, spread)
		}
		return
	}
	n.wg.Go(func() {
		res, err := n.Fetch(n.ctx, p, rid)
		if err == nil && len(res.Updated) > 0 && spread {
			n.spread(rid)
		}
	})
}

// wantFrom queues the fetch of head h of rid from p, alongside the
// fetches that announcements start (one per namespace at a time); spread
// says to pass on what it takes.
func (n *Node) wantFrom(rid gproto.RID, h gproto.Head, p peer.ID, spread bool) {
	key := rid.String() + "/" + h.NID.String()
	a := gproto.Announcement{RID: rid, NID: h.NID, Sigrefs: h.Sigrefs}
	n.mu.Lock()
	defer n.mu.Unlock()
	if slices.Contains(n.fetched[key], h.Sigrefs) {
		return
	}
	if w := n.wants[key]; w != nil {
		switch {
		case w.a.Sigrefs == h.Sigrefs:
			w.offer(p, true)
		case w.next != nil && w.next.a.Sigrefs == h.Sigrefs:
			w.next.offer(p, true)
		case w.next == nil:
			w.next = newWanted(a, nil)
			w.next.spread = spread
			w.next.offer(p, true)
		}
		return
	}
	w := newWanted(a, nil)
	w.spread = spread
	w.offer(p, true)
	n.wants[key] = w
	n.wg.Go(func() { n.fetchWanted(n.ctx, key, w) })
}

// spread tells the connected peers of rid, by a heads exchange over rid
// alone, that this node took an update of it they may lack: an update
// that came with no announcement to pass on. Each node does this only
// after an update it took, so it ends.
func (n *Node) spread(rid gproto.RID) { n.tellPeers(rid, false) }

// tellPeers runs a heads exchange over rid with each connected peer of
// it (at most maxSpread); announce marks this node's own change.
func (n *Node) tellPeers(rid gproto.RID, announce bool) {
	ps := n.projectPeers(rid)
	for _, p := range ps[:min(len(ps), maxSpread)] {
		n.wg.Go(func() {
			if err := n.exchangeHeads(n.ctx, p, []gproto.RID{rid}, announce); err != nil && n.ctx.Err() == nil {
				n.log.Debug("spread", "peer", p, "rid", rid, "err", err)
			}
		})
	}
}
