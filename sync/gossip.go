package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// topic is a joined project topic and its reader.
type topic struct {
	t      *pubsub.Topic
	sub    *pubsub.Subscription
	cancel context.CancelFunc
}

func (t *topic) close() {
	t.cancel()
	t.sub.Cancel()
	t.t.Close()
}

// join subscribes to rid's announcements and, for a public project,
// provides it on the DHT. Private projects are never gossiped in the open
// nor provided, and a project made private is left here (its provider
// records are not renewed, so they lapse within a day).
func (n *Node) join(rid gproto.RID) error {
	r, err := repo.Open(n.cfg.Home, rid)
	if errors.Is(err, repo.ErrNotFound) {
		return nil // joined once it is cloned
	}
	if err != nil {
		return err
	}
	doc, err := n.identity(n.ctx, r)
	if err != nil {
		return err
	}
	if doc.Visibility.Type != gproto.Public {
		n.mu.Lock()
		_, joined := n.topics[rid.String()]
		n.mu.Unlock()
		if joined {
			n.leave(rid)
		}
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.topics[rid.String()]; ok {
		return nil
	}
	name := gproto.Topic(rid)
	if err := n.ps.RegisterTopicValidator(name, func(ctx context.Context, from peer.ID, m *pubsub.Message) bool {
		a, err := gproto.ParseAnnouncement(m.Data)
		if err != nil || a.RID != rid {
			return false
		}
		m.ValidatorData = a // verified once, here
		return true
	}); err != nil {
		return fmt.Errorf("topic validator: %w", err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		return fmt.Errorf("join %s: %w", name, err)
	}
	sub, err := t.Subscribe()
	if err != nil {
		t.Close()
		return fmt.Errorf("subscribe %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(n.ctx)
	n.topics[rid.String()] = &topic{t: t, sub: sub, cancel: cancel}
	n.wg.Go(func() { n.readTopic(ctx, rid, sub) })
	// Whatever this node changed while it was offline travels now.
	n.wg.Go(func() {
		if err := n.Announce(ctx, rid); err != nil {
			n.log.Debug("announce on join", "rid", rid, "err", err)
		}
	})
	n.wg.Go(func() {
		pctx, pcancel := context.WithTimeout(ctx, time.Minute)
		defer pcancel()
		if err := n.dht.Provide(pctx, ridCID(rid), true); err != nil && ctx.Err() == nil {
			n.log.Debug("provide", "rid", rid, "err", err)
		}
		n.findSeeders(pctx, rid)
	})
	return nil
}

func (n *Node) leave(rid gproto.RID) {
	n.mu.Lock()
	t := n.topics[rid.String()]
	delete(n.topics, rid.String())
	delete(n.idents, rid)
	n.mu.Unlock()
	if t != nil {
		t.close()
		n.ps.UnregisterTopicValidator(gproto.Topic(rid))
	}
}

// TopicPeers returns the peers this node sees in rid's announcement topic:
// those an announcement reaches at once.
func (n *Node) TopicPeers(rid gproto.RID) []peer.ID {
	n.mu.Lock()
	t := n.topics[rid.String()]
	n.mu.Unlock()
	if t == nil {
		return nil
	}
	return t.t.ListPeers()
}

func (n *Node) readTopic(ctx context.Context, rid gproto.RID, sub *pubsub.Subscription) {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == n.host.ID() {
			continue
		}
		a, ok := m.ValidatorData.(gproto.Announcement)
		if !ok {
			continue // the validator refused it
		}
		n.onAnnouncement(ctx, a, m.Data, m.GetFrom(), m.ReceivedFrom)
	}
}

// maxSources bounds the peers asked for one announced update.
const maxSources = 8

// wanted is an announced update of one namespace that this node is
// fetching.
type wanted struct {
	a   gproto.Announcement
	raw []byte // the announcement as signed by its NID, to pass on
	// queue are the peers still to ask, in order; offered are all peers
	// ever queued; tries counts the fetches made.
	queue   []peer.ID
	offered map[peer.ID]bool
	tries   int
	// next is a newer announcement of the same namespace that arrived
	// during the fetch; it is fetched afterwards.
	next *wanted
	// spread says an update found by a heads exchange on a new connection
	// is passed on with heads exchanges too (a signed announcement, raw,
	// may be missing, or not reach peers whose GossipSub stream to this
	// node is not up yet).
	spread bool
}

func newWanted(a gproto.Announcement, raw []byte) *wanted {
	return &wanted{a: a, raw: raw, offered: map[peer.ID]bool{}}
}

// signed gives w, found by a heads exchange, the signed announcement of
// the same update, to pass on once it is taken. n.mu is held.
func (w *wanted) signed(a gproto.Announcement, raw []byte) {
	if w.raw == nil && raw != nil {
		w.a, w.raw = a, raw
	}
}

// offer queues p as a source of the update. has says p announced it
// itself, so it is asked again even if it was asked before (it may have
// been fetching then).
func (w *wanted) offer(p peer.ID, has bool) {
	if p == "" || len(w.offered) >= maxSources || slices.Contains(w.queue, p) || w.offered[p] && !has {
		return
	}
	w.offered[p] = true
	w.queue = append(w.queue, p)
}

// onAnnouncement fetches the announced namespace if this node seeds the
// project, follows the announcer, and does not have those signed refs.
// from is the peer that published the message (the NID itself, or a peer
// that passes on an update it took), via the one that delivered it. It
// does no git work and starts the fetch at once; while a fetch of the
// namespace runs, further announcements only add sources or queue the
// next update, so no namespace is fetched twice at the same time.
func (n *Node) onAnnouncement(ctx context.Context, a gproto.Announcement, raw []byte, from, via peer.ID) {
	if a.NID.Equal(n.NID()) || n.cfg.OneCommand {
		return
	}
	key := a.RID.String() + "/" + a.NID.String()
	if n.offer(key, a, raw, from, via) {
		return
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil || !pol.Seeding(a.RID) {
		return
	}
	r, err := repo.Open(n.cfg.Home, a.RID)
	if err != nil {
		return
	}
	if have, err := r.RefFiles().Get(repo.NamespacePrefix(a.NID) + gproto.SigrefsRef); err != nil || have == a.Sigrefs {
		return
	}
	doc, err := n.identity(ctx, r)
	if err != nil || !n.follows(ctx, r, pol, doc, a.NID, nil) {
		return
	}
	n.log.Debug("announcement", "rid", a.RID, "nid", a.NID, "sigrefs", a.Sigrefs, "from", from, "via", via)
	delegate := doc != nil && n.isDelegate(ctx, r, doc, a.NID)
	n.mu.Lock()
	if n.wants[key] != nil {
		n.mu.Unlock()
		n.offer(key, a, raw, from, via)
		return
	}
	if !delegate {
		// A fetch of a namespace that is not a delegate's: bounded per
		// peer that sent it and in all (limit.go).
		if wants := len(n.wants); wants >= maxWants || !n.announced.allow(from, time.Now()) {
			n.mu.Unlock()
			n.log.Debug("announcement dropped: over the limit", "rid", a.RID, "nid", a.NID, "from", from, "wants", wants)
			return
		}
	}
	n.fetchesStarted.Add(1)
	w := newWanted(a, raw)
	n.sources(w, from, via)
	n.wants[key] = w
	n.mu.Unlock()
	n.wg.Go(func() { n.fetchWanted(ctx, key, w) })
}

// offer adds an announcement to the fetch of its namespace that is
// running, if there is one, and reports whether it was taken care of:
// fetched already, being fetched, or queued to be fetched next. Only the
// newest announcement (by its signed time) waits; older ones are dropped.
func (n *Node) offer(key string, a gproto.Announcement, raw []byte, from, via peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if slices.Contains(n.fetched[key], a.Sigrefs) {
		return true
	}
	w := n.wants[key]
	switch {
	case w == nil:
		return false
	case w.a.Sigrefs == a.Sigrefs:
		w.signed(a, raw)
		n.sources(w, from, via)
	case w.next != nil && w.next.a.Sigrefs == a.Sigrefs:
		w.next.signed(a, raw)
		n.sources(w.next, from, via)
	case a.Time > w.a.Time && (w.next == nil || a.Time > w.next.a.Time):
		w.next = newWanted(a, raw)
		n.sources(w.next, from, via)
	}
	return true
}

// sources queues the peers that may have w's update: the announcer first
// when it is connected (it has the update for sure), then a peer that
// passed the update on after taking it, then the peer that relayed the
// message. n.mu is held.
func (n *Node) sources(w *wanted, from, via peer.ID) {
	author := peer.ID(w.a.NID.Multihash())
	connected := n.connectedTo(author)
	if connected {
		w.offer(author, false)
	}
	if from != author {
		w.offer(from, true)
	}
	w.offer(via, false)
	w.offer(author, false)
}

// fetchWanted fetches w's update, then each newer one that arrived
// meanwhile. An update it took is passed on: peers that are not connected
// to its author, or that asked this node too early, learn that this node
// has it now.
func (n *Node) fetchWanted(ctx context.Context, key string, w *wanted) {
	for {
		got := n.fetchAnnounced(ctx, w)
		n.mu.Lock()
		spread, rid := got && w.spread, w.a.RID
		n.mu.Unlock()
		if spread {
			// Caught up by a heads exchange on a new connection: peers of
			// the project that are not connected to the author, or whose
			// GossipSub stream to this node is not up yet, hear of it.
			n.spread(rid)
		}
		n.mu.Lock()
		if got {
			f := append(n.fetched[key], w.a.Sigrefs)
			n.fetched[key] = f[max(0, len(f)-4):]
		}
		next := w.next
		if next == nil || ctx.Err() != nil {
			delete(n.wants, key)
		} else {
			n.wants[key] = next
		}
		n.mu.Unlock()
		if next == nil || ctx.Err() != nil {
			if got {
				n.passOn(ctx, w)
			}
			return
		}
		w = next
	}
}

// fetchAnnounced asks w's sources in turn, only for the announced
// namespace, until this node holds the announced signed refs. It reports
// whether a fetch brought them.
func (n *Node) fetchAnnounced(ctx context.Context, w *wanted) bool {
	for ctx.Err() == nil {
		// w.a may be replaced meanwhile by the signed copy of the same
		// update (wanted.signed), under n.mu.
		n.mu.Lock()
		a := w.a
		n.mu.Unlock()
		if n.storedSigrefs(a.RID, a.NID) == a.Sigrefs {
			return false // a sync brought it meanwhile
		}
		n.mu.Lock()
		if len(w.queue) == 0 || w.tries >= 2*maxSources {
			n.mu.Unlock()
			return false
		}
		p := w.queue[0]
		w.queue = w.queue[1:]
		w.tries++
		n.mu.Unlock()
		if p == n.host.ID() {
			continue
		}
		t0 := time.Now()
		res, err := n.fetchUpdate(ctx, p, a)
		// A peer that went away (or could not be dialled) meanwhile is not
		// dialled again for a fetch: the next source is asked instead.
		if errors.Is(err, errNoUpdate) && n.connectedTo(p) {
			n.log.Debug("update pack", "rid", a.RID, "nid", a.NID, "peer", p, "err", err)
			res, err = n.Fetch(ctx, p, a.RID, onlyNamespace(a.NID))
		}
		got := n.storedSigrefs(a.RID, a.NID) == a.Sigrefs
		n.log.Debug("announced update", "rid", a.RID, "nid", a.NID, "sigrefs", a.Sigrefs, "peer", p,
			"got", got, "took", time.Since(t0), "err", err, "updated", res != nil && len(res.Updated) > 0)
		if got {
			return true
		}
	}
	return false
}

// announceWait bounds how long an announcement waits for a first peer of
// the project while the node is still connecting.
const announceWait = 2 * time.Second

// awaitProjectPeers returns rid's connected peers; when there are none
// yet but the node is still dialling the peers it remembers, or has peers
// whose subscriptions and heads exchanges are on their way, it waits for
// one, at most announceWait: an announcement made just after a start
// reaches them, and says so.
func (n *Node) awaitProjectPeers(ctx context.Context, rid gproto.RID) []peer.ID {
	deadline := time.Now().Add(announceWait)
	for {
		ps := n.projectPeers(rid)
		if len(ps) > 0 || time.Now().After(deadline) {
			return ps
		}
		select {
		case <-n.reconnected:
			if len(n.host.Network().Peers()) == 0 {
				return ps
			}
		default:
		}
		select {
		case <-ctx.Done():
			return ps
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// storedSigrefs is nid's signed refs in this node's copy of rid, read from
// the ref files ("" if none).
func (n *Node) storedSigrefs(rid gproto.RID, nid gproto.NID) string {
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return ""
	}
	oid, _ := r.RefFiles().Get(repo.NamespacePrefix(nid) + gproto.SigrefsRef)
	return oid
}

// passOn publishes, unchanged, the announcement of an update this node
// took, so that peers can fetch it from here. Each node passes on an
// update at most once (only after a fetch that brought it), and a node
// that holds it already ignores the copy, so this ends.
func (n *Node) passOn(ctx context.Context, w *wanted) {
	n.mu.Lock()
	a, raw := w.a, w.raw
	t := n.topics[a.RID.String()]
	n.mu.Unlock()
	if t == nil || raw == nil || len(t.t.ListPeers()) == 0 {
		return
	}
	if err := t.t.Publish(ctx, raw); err != nil {
		n.log.Debug("pass on announcement", "rid", a.RID, "nid", a.NID, "err", err)
	}
}

// Announce tells rid's peers that this node's namespace moved; see
// AnnounceCount.
func (n *Node) Announce(ctx context.Context, rid gproto.RID) error {
	_, err := n.AnnounceCount(ctx, rid)
	return err
}

// AnnounceCount tells rid's peers that this node's namespace moved, and
// returns how many connected peers were told: those in the project's
// topic get a signed announcement (private projects are not announced in
// the open), and every connected peer that seeds the project is also
// asked to compare heads, so an announcement that GossipSub loses (a
// peer that just reconnected) still arrives.
func (n *Node) AnnounceCount(ctx context.Context, rid gproto.RID) (int, error) {
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return 0, err
	}
	sig, err := r.RefFiles().Get(repo.NamespacePrefix(n.NID()) + gproto.SigrefsRef)
	if err != nil {
		return 0, err
	}
	if sig == "" {
		return 0, fmt.Errorf("nothing to announce: you have no refs in %s", rid)
	}
	if err := n.join(rid); err != nil {
		return 0, err
	}
	told := n.awaitProjectPeers(ctx, rid)
	// The pack from the previous revision is made ahead only for peers
	// here to ask for it: a node alone (just started, say) would hold up
	// to protocol.MaxUpdatePack bytes for nobody, and a peer that comes
	// later has it made when it asks.
	if len(told) > 0 {
		if prev, err := r.SigrefsParent(n.NID(), sig); err == nil {
			n.prepareUpdate(r, n.NID(), prev, sig)
		}
	}
	n.tellPeers(rid, true)
	n.mu.Lock()
	t := n.topics[rid.String()]
	n.mu.Unlock()
	if t == nil {
		return len(told), nil // private
	}
	a, err := gproto.NewAnnouncement(n.cfg.Key, rid, sig, n.cfg.Now())
	if err != nil {
		return len(told), err
	}
	if len(t.t.ListPeers()) > 0 {
		return len(told), t.t.Publish(ctx, a.Encode())
	}
	// No peer in the topic yet (the node just started or just connected,
	// and subscriptions travel with the next heartbeat): publish as soon as
	// one appears, bounded, without holding up the caller (a git push).
	n.wg.Go(func() {
		pctx, cancel := context.WithTimeout(n.ctx, 15*time.Second)
		defer cancel()
		if err := t.t.Publish(pctx, a.Encode(), pubsub.WithReadiness(pubsub.MinTopicSize(1))); err != nil {
			n.log.Debug("announce found no peer", "rid", rid, "err", err)
		}
	})
	return len(told), nil
}
