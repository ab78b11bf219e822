package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// An announced update usually reaches many peers that all hold the
// namespace's previous revision. Rather than run a git negotiation (and an
// upload-pack and pack-objects here) for each of them, a node makes the
// pack from that revision to the announced one once and hands the same
// bytes to every peer that asks (/grove/update/1). The receiver indexes it
// with git's fsck checks and verifies it exactly like a fetch. Anything
// this path cannot do (a peer that is further behind, an old peer, a
// large update) falls back to a fetch.

// updateTimeout bounds one update exchange, either side.
const updateTimeout = gproto.UpdateTimeout

// A node keeps at most maxUpdatePacks update packs ready, of at most
// updatePackBudget bytes together, and makes at most maxUpdateBuilds at a
// time: a peer asking for many different ones waits its turn.
const (
	maxUpdatePacks   = gproto.MaxUpdatePacks
	updatePackBudget = gproto.UpdatePackBudget
	maxUpdateBuilds  = gproto.MaxUpdateBuilds
	updatePackKeep   = gproto.UpdatePackKeep
)

// errNoUpdate means the update path could not be used; a fetch follows.
var errNoUpdate = errors.New("no update pack")

// updatePacks are the update packs a node made, by rid/nid/have/want, so
// that the peers an announcement reaches at once share one pack-objects.
type updatePacks struct {
	mu     sync.Mutex
	packs  map[string]*updatePack
	order  []string // keys, oldest first
	builds chan struct{}
	keep   time.Duration // how long a made pack is kept; updatePackKeep if 0
}

type updatePack struct {
	done chan struct{}
	pack []byte
	err  error
}

// size is what p holds, 0 until it is made.
func (p *updatePack) size() int {
	select {
	case <-p.done:
		return len(p.pack)
	default:
		return 0
	}
}

// get returns the pack for req, making it (once, however many ask at the
// same time) if it is not cached.
func (u *updatePacks) get(ctx context.Context, r *repo.Repo, req gproto.UpdateRequest) ([]byte, error) {
	key := req.RID.String() + "/" + req.NID.String() + "/" + req.Have + "/" + req.Want
	if len(req.Base) > 0 {
		h := sha256.New()
		for _, b := range req.Base {
			io.WriteString(h, b+"\n")
		}
		key += "/" + hex.EncodeToString(h.Sum(nil))
	}
	u.mu.Lock()
	if u.packs == nil {
		u.packs = make(map[string]*updatePack)
		u.builds = make(chan struct{}, maxUpdateBuilds)
	}
	p, ok := u.packs[key]
	if !ok {
		p = &updatePack{done: make(chan struct{})}
		u.packs[key] = p
		u.order = append(u.order, key)
		if len(u.order) > maxUpdatePacks {
			delete(u.packs, u.order[0])
			u.order = u.order[1:]
		}
	}
	u.mu.Unlock()
	if !ok {
		p.pack, p.err = u.build(ctx, r, req)
		close(p.done)
		if p.err != nil {
			// Only packs are kept: this node may get what it lacked.
			u.forget(key, p)
		} else {
			u.expire(key, p)
		}
		u.trim()
	}
	select {
	case <-p.done:
		return p.pack, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// build makes one pack when a build slot is free.
func (u *updatePacks) build(ctx context.Context, r *repo.Repo, req gproto.UpdateRequest) ([]byte, error) {
	select {
	case u.builds <- struct{}{}:
		defer func() { <-u.builds }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if req.Have == "" {
		return r.FirstUpdatePack(ctx, req.NID, req.Want, req.Base, gproto.MaxUpdatePack)
	}
	return r.UpdatePack(ctx, req.NID, req.Have, req.Want, gproto.MaxUpdatePack)
}

// trim drops the oldest packs until the rest fit the budget.
func (u *updatePacks) trim() {
	u.mu.Lock()
	defer u.mu.Unlock()
	total := 0
	for _, k := range u.order {
		total += u.packs[k].size()
	}
	for total > updatePackBudget && len(u.order) > 1 {
		total -= u.packs[u.order[0]].size()
		delete(u.packs, u.order[0])
		u.order = u.order[1:]
	}
}

// expire forgets the pack p made for key once it has been kept its
// time: the peers an announcement reaches ask for it at once, and a node
// at rest should not hold up to UpdatePackBudget bytes for nobody.
// Askers that have it keep their copy until they have sent it.
func (u *updatePacks) expire(key string, p *updatePack) {
	keep := u.keep
	if keep == 0 {
		keep = updatePackKeep
	}
	time.AfterFunc(keep, func() { u.forget(key, p) })
}

func (u *updatePacks) forget(key string, p *updatePack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.packs[key] == p {
		delete(u.packs, key)
		u.order = slices.DeleteFunc(u.order, func(k string) bool { return k == key })
	}
}

// prepareUpdate makes, in the background, the pack that peers holding
// sigrefs have will ask for to reach want: the announcer's own previous
// revision is what nearly every seeder holds. For a first revision (no
// have) it is the pack for peers whose canonical refs are this node's.
func (n *Node) prepareUpdate(r *repo.Repo, nid gproto.NID, have, want string) {
	req := gproto.UpdateRequest{RID: r.RID, NID: nid, Have: have, Want: want}
	if have == "" {
		req.Base = updateBase(r)
	}
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(n.ctx, updateTimeout)
		defer cancel()
		if _, err := n.updates.get(ctx, r, req); err != nil {
			n.log.Debug("prepare update pack", "rid", r.RID, "nid", nid, "err", err)
		}
	})
}

// serveUpdate answers a /grove/update/1 stream.
func (n *Node) serveUpdate(s network.Stream) {
	defer s.Close()
	defer n.working()()
	remote := s.Conn().RemotePeer()
	s.SetDeadline(time.Now().Add(min(n.cfg.Limits.RequestTimeout, updateTimeout)))
	var req gproto.UpdateRequest
	err := gproto.ReadMessage(s, gproto.MaxMessage, &req)
	s.SetDeadline(time.Now().Add(updateTimeout))
	if err == nil {
		if s.Protocol() == protocol.ID(gproto.FirstUpdateProtocolID) {
			err = req.ValidateFirst()
		} else {
			err = req.Validate()
		}
	}
	if err != nil {
		n.strikeMessage(remote, err)
		s.Reset()
		return
	}
	r, pol, err := n.readable(req.RID, remote.String())
	if err != nil || pol.IsBlocked(req.NID) {
		n.log.Debug("refused update", "peer", remote, "rid", req.RID, "err", err)
		gproto.WriteMessage(s, gproto.UpdateResponse{Error: errNotFound})
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, updateTimeout)
	defer cancel()
	pack, err := n.updates.get(ctx, r, req)
	if err != nil {
		n.log.Debug("no update pack", "peer", remote, "rid", req.RID, "nid", req.NID, "err", err)
		gproto.WriteMessage(s, gproto.UpdateResponse{Error: gproto.UpdateUnavailable})
		return
	}
	if err := gproto.WriteMessage(s, gproto.UpdateResponse{Size: int64(len(pack))}); err != nil {
		return
	}
	if _, err := s.Write(pack); err != nil {
		s.Reset()
		return
	}
	s.CloseWrite()
	n.remember(remote, req.RID)
}

// fetchUpdate takes announcement a's update from p as an update pack, if
// this node holds an earlier revision of that namespace. It returns
// errNoUpdate (wrapped) when p cannot serve one, so the caller fetches.
// The caller holds no fetch lock.
func (n *Node) fetchUpdate(ctx context.Context, p peer.ID, a gproto.Announcement) (*FetchResult, error) {
	unlock, err := n.lockFetch(ctx, a.RID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	r, err := repo.Open(n.cfg.Home, a.RID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	have, err := r.RefFiles().Get(repo.NamespacePrefix(a.NID) + gproto.SigrefsRef)
	if err != nil || have == a.Sigrefs {
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	req := gproto.UpdateRequest{RID: a.RID, NID: a.NID, Have: have, Want: a.Sigrefs}
	proto := gproto.UpdateProtocolID
	if have == "" {
		// No earlier revision here (a contributor's first change): the
		// peer packs it against this node's canonical tips.
		req.Base, proto = updateBase(r), gproto.FirstUpdateProtocolID
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	// An update pack (at most 8 MiB) may cross a relay: a peer behind a
	// NAT may be reachable no other way.
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "grove"), p, protocol.ID(proto))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if err := gproto.WriteMessage(s, req); err != nil {
		s.Reset()
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	var resp gproto.UpdateResponse
	if err := gproto.ReadMessage(s, gproto.MaxMessage, &resp); err != nil {
		s.Reset()
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("%w: peer says %s", errNoUpdate, resp.Error)
	}
	if resp.Size <= 0 || resp.Size > gproto.MaxUpdatePack {
		err := fmt.Errorf("update pack of %d bytes is over the limit of %d", resp.Size, gproto.MaxUpdatePack)
		n.strike(p, err)
		s.Reset()
		return nil, err
	}
	if resp.Size > n.cfg.Limits.MaxPack {
		s.Reset()
		return nil, fmt.Errorf("%w: %d bytes is over this node's limit", errNoUpdate, resp.Size)
	}
	pack := make([]byte, resp.Size)
	if _, err := io.ReadFull(s, pack); err != nil {
		s.Reset()
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	tAccept := time.Now()
	doc, _ := n.identity(ctx, r)
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return nil, err
	}
	me := n.NID()
	acc, err := r.AcceptPack(ctx, a.NID, a.Sigrefs, pack, func(nid gproto.NID) bool {
		return !nid.Equal(me) && n.follows(ctx, r, pol, doc, nid, nil)
	})
	if err != nil {
		// Whether the pack was bad or this node lacks a base it should
		// have, a fetch sorts it out (and strikes a peer that sends bad
		// data); rejected namespaces come back in acc, not here.
		return nil, fmt.Errorf("%w: %v", errNoUpdate, err)
	}
	n.updatesTaken.Add(1)
	res := n.fetchResult(p, acc, resp.Size)
	res.Duration = time.Since(start).Round(time.Millisecond).String()
	n.mu.Lock()
	n.synced[a.RID.String()] = time.Now()
	n.mu.Unlock()
	n.remember(p, a.RID)
	n.log.Info("took update", "peer", p, "rid", a.RID, "nid", a.NID, "bytes", resp.Size, "updated", len(res.Updated), "took", time.Since(start), "accept", time.Since(tAccept))
	return res, nil
}

// updateBase lists commits a node holds that a first update pack need not
// carry: the project's identity as a few namespaces hold it, then its
// canonical branch and tag tips, at most gproto.MaxUpdateBase, read from
// the ref files.
func updateBase(r *repo.Repo) []string {
	f := r.RefFiles()
	var out []string
	add := func(oid string) {
		if oid != "" && len(out) < gproto.MaxUpdateBase && !slices.Contains(out, oid) {
			out = append(out, oid)
		}
	}
	if ids, err := f.Namespaced(gproto.IdentityRef); err == nil {
		for _, ns := range slices.Sorted(maps.Keys(ids)) {
			if len(out) < 4 {
				add(ids[ns])
			}
		}
	}
	for _, prefix := range []string{"refs/heads/", "refs/tags/"} {
		refs, err := f.List(prefix)
		if err != nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(refs)) {
			add(refs[name])
		}
	}
	return out
}
