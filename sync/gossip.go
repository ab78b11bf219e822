package sync

import (
	"context"
	"errors"
	"fmt"
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
// nor provided.
func (n *Node) join(rid gproto.RID) error {
	r, err := repo.Open(n.cfg.Home, rid)
	if errors.Is(err, repo.ErrNotFound) {
		return nil // joined once it is cloned
	}
	if err != nil {
		return err
	}
	doc, _, err := r.Identity(n.ctx)
	if err != nil {
		return err
	}
	if doc.Visibility.Type != gproto.Public {
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
		return err == nil && a.RID == rid
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
		if err := n.dht.Provide(pctx, rid.CID(), true); err != nil && ctx.Err() == nil {
			n.log.Debug("provide", "rid", rid, "err", err)
		}
	})
	return nil
}

func (n *Node) leave(rid gproto.RID) {
	n.mu.Lock()
	t := n.topics[rid.String()]
	delete(n.topics, rid.String())
	n.mu.Unlock()
	if t != nil {
		t.close()
		n.ps.UnregisterTopicValidator(gproto.Topic(rid))
	}
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
		a, err := gproto.ParseAnnouncement(m.Data)
		if err != nil {
			continue // the validator already refused it
		}
		n.onAnnouncement(ctx, a, m.ReceivedFrom)
	}
}

// onAnnouncement fetches the announced namespace if this node seeds the
// project, follows the announcer, and does not have those signed refs.
func (n *Node) onAnnouncement(ctx context.Context, a gproto.Announcement, via peer.ID) {
	if a.NID.Equal(n.NID()) {
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
	doc, _, err := r.Identity(ctx)
	if err != nil || !pol.FollowsIn(doc, a.NID) {
		return
	}
	refs, err := r.NamespaceRefs(ctx, a.NID)
	if err != nil || refs[gproto.SigrefsRef] == a.Sigrefs {
		return
	}
	n.log.Debug("announcement", "rid", a.RID, "nid", a.NID, "sigrefs", a.Sigrefs, "via", via)
	n.wg.Go(func() {
		// The announcer has it; the peer that relayed it may too.
		for _, p := range []peer.ID{a.NID.PeerID(), via} {
			if _, err := n.Fetch(ctx, p, a.RID); err == nil {
				return
			}
		}
	})
}

// Announce tells rid's peers that this node's namespace moved. Private
// projects are not announced in the open.
func (n *Node) Announce(ctx context.Context, rid gproto.RID) error {
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return err
	}
	refs, err := r.NamespaceRefs(ctx, n.NID())
	if err != nil {
		return err
	}
	sig := refs[gproto.SigrefsRef]
	if sig == "" {
		return fmt.Errorf("nothing to announce: you have no refs in %s", rid)
	}
	if err := n.join(rid); err != nil {
		return err
	}
	n.mu.Lock()
	t := n.topics[rid.String()]
	n.mu.Unlock()
	if t == nil {
		return nil // private
	}
	a, err := gproto.NewAnnouncement(n.cfg.Key, rid, sig, n.cfg.Now())
	if err != nil {
		return err
	}
	if len(t.t.ListPeers()) > 0 {
		return t.t.Publish(ctx, a.Encode())
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
	return nil
}
