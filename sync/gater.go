package sync

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// gater refuses connections with peers that sent bad data too often.
type gater struct {
	mu sync.Mutex
	// blocked holds until when each peer is refused (zero: for ever).
	blocked map[peer.ID]time.Time
	now     func() time.Time
}

// block refuses p for ever.
func (g *gater) block(p peer.ID) { g.blockUntil(p, time.Time{}) }

// blockUntil refuses p until t.
func (g *gater) blockUntil(p peer.ID, t time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.blocked) >= maxLimitedPeers {
		now := g.now()
		for q, until := range g.blocked {
			if !until.IsZero() && now.After(until) {
				delete(g.blocked, q)
			}
		}
	}
	g.blocked[p] = t
}

func (g *gater) ok(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, found := g.blocked[p]
	if found && !until.IsZero() && g.now().After(until) {
		delete(g.blocked, p)
		return true
	}
	return !found
}

func (g *gater) InterceptPeerDial(p peer.ID) bool                 { return g.ok(p) }
func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return g.ok(p) }
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.ok(p)
}
func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
