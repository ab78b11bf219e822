package sync

import (
	"context"
	"os/exec"

	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// OnlyNamespace narrows a fetch to one namespace, for tests.
var OnlyNamespace = onlyNamespace

// Refuse disconnects p and refuses it from then on, as if it had sent bad
// data too often.
func (n *Node) Refuse(p peer.ID) {
	n.gater.block(p)
	n.host.Network().ClosePeer(p)
}

// Allow lets p connect again after Refuse.
func (n *Node) Allow(p peer.ID) {
	n.gater.mu.Lock()
	delete(n.gater.blocked, p)
	n.gater.mu.Unlock()
}

// FetchUpdate takes announcement a's update from p as an update pack,
// for tests; ErrNoUpdate says p could not serve one.
func (n *Node) FetchUpdate(ctx context.Context, p peer.ID, a gproto.Announcement) (*FetchResult, error) {
	return n.fetchUpdate(ctx, p, a)
}

// ErrNoUpdate is errNoUpdate, for tests.
var ErrNoUpdate = errNoUpdate

// UpdatesTaken is how many updates n took as update packs.
func (n *Node) UpdatesTaken() int64 { return n.updatesTaken.Load() }

// UpdatePacksKept is how many update packs n holds, made or being made.
func (n *Node) UpdatePacksKept() int {
	n.updates.mu.Lock()
	defer n.updates.mu.Unlock()
	return len(n.updates.packs)
}

// WaitReconnected waits until n has dialled the peers it remembers at
// start and aged out the addresses that keep failing.
func (n *Node) WaitReconnected(ctx context.Context) error {
	select {
	case <-n.reconnected:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// AskHeads runs a heads exchange with p about rids, for tests.
func (n *Node) AskHeads(ctx context.Context, p peer.ID, rids []gproto.RID) error {
	return n.askHeads(ctx, p, rids)
}

// OnAnnouncement handles a verified announcement as gossip from from
// would, for tests.
func (n *Node) OnAnnouncement(ctx context.Context, a gproto.Announcement, from peer.ID) {
	n.onAnnouncement(ctx, a, a.Encode(), from, from)
}

// FetchesStarted is how many fetches announcements started.
func (n *Node) FetchesStarted() int64 { return n.fetchesStarted.Load() }

// Joined reports whether n is in rid's announcement topic.
func (n *Node) Joined(rid gproto.RID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.topics[rid.String()] != nil
}

// HeadsServing is how many heads exchanges n is answering now.
func (n *Node) HeadsServing() int {
	n.heads.serving.mu.Lock()
	defer n.heads.serving.mu.Unlock()
	return n.heads.serving.all
}

// Providers asks the DHT who provides rid, as a sync does, for at most
// max of them.
func (n *Node) Providers(ctx context.Context, rid gproto.RID, max int) []peer.ID {
	return n.providers(ctx, rid, max, nil)
}

// StoredProviders is how many provider records n's DHT holds for rid.
func (n *Node) StoredProviders(ctx context.Context, rid gproto.RID) int {
	ps, _ := n.dht.ProviderStore().GetProviders(ctx, ridCID(rid).Hash())
	return len(ps)
}

// RIDCID is rid as the DHT names it.
var RIDCID = ridCID

// HeadsFirst is headsFirst, the running node's sync option.
func HeadsFirst() FetchOption { return headsFirst() }

// AdvertisedRefs is what p's upload-pack advertises to n for rid, as
// `git ls-remote` prints it through n's proxy.
func (n *Node) AdvertisedRefs(ctx context.Context, p peer.ID, rid gproto.RID) (string, error) {
	s, url := n.proxy.open(p, rid, n.cfg.Limits.MaxPack, false)
	defer n.proxy.close(s)
	c := exec.CommandContext(ctx, "git", "-c", "protocol.version=2", "ls-remote", url)
	c.Env = repo.GitEnv()
	out, err := c.Output()
	if perr := s.Err(); perr != nil {
		return "", perr
	}
	return string(out), err
}
