package sync

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
)

// What a node takes from one peer, and how much at once. Every bound a
// peer can reach is deliberate: docs/SECURITY.md ("Limits") lists them.
const (
	// headsBurst and headsEvery bound how often one peer may ask for a
	// heads exchange: a burst, then one more per interval.
	headsBurst = gproto.HeadsBurst
	headsEvery = gproto.HeadsEvery
	// announceBurst and announceEvery bound how many fetches of new
	// revisions one peer's gossip may start: a burst, then one per
	// interval. Announcements past it are dropped without a strike (an
	// honest relay of a busy project may reach it); the heads exchange
	// of the next connection makes up what they said.
	announceBurst = gproto.AnnounceBurst
	announceEvery = gproto.AnnounceEvery
	// maxWants bounds the namespaces being fetched or queued at once on
	// announcements, whoever sent them: a flood signed by many fresh keys
	// queues no more. Delegates' announcements are always taken.
	maxWants = gproto.MaxWants
	// maxLimitedPeers bounds the peers a limiter keeps a bucket for.
	maxLimitedPeers = gproto.MaxLimitedPeers
	// maxServesPerPeer and maxServes bound the git upload-packs a node
	// runs for fetches at once, for one peer and in all: each is a git
	// process. A fetch past them is answered "busy", with no strike (a
	// peer syncing many projects at once is honest).
	maxServesPerPeer = gproto.MaxServesPerPeer
	maxServes        = gproto.MaxServes
	// maxHeadsServing and maxHeadsPerPeer bound the heads exchanges a
	// node answers at once, in all and for one peer: a peer that opens
	// exchanges and trickles its request (slowloris) holds two of them
	// until headsTimeout, not all.
	maxHeadsServing = gproto.MaxHeadsServing
	maxHeadsPerPeer = gproto.MaxHeadsPerPeer
)

// slots counts what runs at once for peers (upload-packs, heads
// exchanges), by peer: at most perPeer for one, max in all.
type slots struct {
	perPeer, max int

	mu     sync.Mutex
	all    int
	byPeer map[peer.ID]int
}

// take reports whether p may have one more slot now, and counts it if so;
// done gives it back.
func (s *slots) take(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all >= s.max || s.byPeer[p] >= s.perPeer {
		return false
	}
	if s.byPeer == nil {
		s.byPeer = map[peer.ID]int{}
	}
	s.all++
	s.byPeer[p]++
	return true
}

func (s *slots) done(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all--
	if s.byPeer[p]--; s.byPeer[p] <= 0 {
		delete(s.byPeer, p)
	}
}

// peerLimiter is a token bucket per peer: burst requests at once, then one
// more per every. It keeps at most maxLimitedPeers buckets, forgetting
// those idle long enough to be full again, and refuses new peers past it.
type peerLimiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	buckets map[peer.ID]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newPeerLimiter(burst int, every time.Duration) *peerLimiter {
	return &peerLimiter{burst: float64(burst), every: every, buckets: map[peer.ID]*bucket{}}
}

// allow reports whether p may have one more now, and takes it if so.
func (l *peerLimiter) allow(p peer.ID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[p]
	if b == nil {
		if len(l.buckets) >= maxLimitedPeers {
			full := time.Duration(l.burst) * l.every
			for q, x := range l.buckets {
				if now.Sub(x.last) > full {
					delete(l.buckets, q)
				}
			}
			if len(l.buckets) >= maxLimitedPeers {
				return false
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[p] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()/l.every.Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
