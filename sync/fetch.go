package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// lockFetch waits for rid's fetch lock (one fetch a project at a time,
// so two never race to move the same refs) for as long as ctx lets it,
// and returns the function that unlocks it.
func (n *Node) lockFetch(ctx context.Context, rid gproto.RID) (unlock func(), err error) {
	n.mu.Lock()
	l := n.fetches[rid.String()]
	if l == nil {
		l = make(chan struct{}, 1)
		n.fetches[rid.String()] = l
	}
	n.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for another fetch of %s: %w", rid, ctx.Err())
	}
}

// Fetch fetches project rid from peer p: git negotiates over a
// /grove/git/1 stream into a quarantine, then the namespaces this node
// follows move only if they verify. A project not stored yet is created,
// and only once something verified arrived.
func (n *Node) Fetch(ctx context.Context, p peer.ID, rid gproto.RID, opts ...FetchOption) (*FetchResult, error) {
	if p == n.host.ID() {
		return nil, errors.New("cannot fetch from self")
	}
	unlock, err := n.lockFetch(ctx, rid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := time.Now()
	var o fetchOptions
	for _, opt := range opts {
		opt(&o)
	}
	rep := newReporter(opts, p)
	rep.setPhase(PhaseNegotiating)
	if !n.directConn(p) {
		n.awaitHolePunchReady(ctx)
	}
	res, err := n.fetch(ctx, p, rid, o.only, o.replace, rep, false)
	if rl := (*RelayLimitError)(nil); errors.As(err, &rl) {
		// Hole punching starts when the relayed connection opens; what
		// the relay would not carry may go over the connection it makes.
		n.log.Info("relay limit reached; waiting for a direct connection", "peer", p, "rid", rid, "relay", rl.Relay,
			"bytes", rl.Bytes, "wait", n.cfg.Limits.HolePunchWait)
		if n.awaitDirect(ctx, p, n.cfg.Limits.HolePunchWait) {
			n.log.Info("fetching again over a direct connection", "peer", p, "rid", rid)
			rep.setPhase(PhaseNegotiating)
			res, err = n.fetch(ctx, p, rid, o.only, o.replace, rep, true)
		}
	}
	rep.finish(err)
	if res == nil {
		res = &FetchResult{Peer: p.String()}
	}
	res.Duration = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		res.Error = err.Error()
		n.log.Info("fetch failed", "peer", p, "rid", rid, "err", err)
		return res, err
	}
	n.mu.Lock()
	n.synced[rid.String()] = time.Now()
	n.mu.Unlock()
	n.remember(p, rid)
	n.log.Info("fetched", "peer", p, "rid", rid, "via", res.Via, "updated", len(res.Updated), "rejected", len(res.Rejected))
	return res, nil
}

// fetch fetches rid from p once; direct refuses relayed connections.
func (n *Node) fetch(ctx context.Context, p peer.ID, rid gproto.RID, only, replace *gproto.NID, rep *reporter, direct bool) (*FetchResult, error) {
	defer n.working()()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Limits.FetchTimeout)
	defer cancel()
	r, err := repo.Open(n.cfg.Home, rid)
	fresh := errors.Is(err, repo.ErrNotFound)
	if fresh {
		r, err = repo.CreateEmpty(ctx, n.cfg.Home, rid)
	}
	if err != nil {
		return nil, err
	}
	if fresh {
		defer func() {
			if r.Path != n.cfg.Home.ProjectPath(rid) {
				r.Discard()
			}
		}()
	}
	// The quarantine starts with the refs the storage has, so git updates
	// only what moved; negotiation also offers the storage's other refs
	// (alternates).
	seed := make(map[string]string)
	refspec := "+refs/namespaces/*:refs/namespaces/*"
	if only != nil && !fresh {
		p := repo.NamespacePrefix(*only)
		refs, err := r.NamespaceRefs(ctx, *only)
		if err != nil {
			return nil, err
		}
		for name, oid := range refs {
			seed[p+name] = oid
		}
		// The canonical branches too: what a contributor builds on, so
		// negotiation and git's connectivity check stop there.
		canon, err := r.CanonicalRefs(ctx)
		if err != nil {
			return nil, err
		}
		for name, oid := range canon {
			seed[name] = oid
		}
		refspec = "+" + p + "*:" + p + "*"
	} else {
		local, err := r.Namespaces(ctx)
		if err != nil {
			return nil, err
		}
		for ns, refs := range local {
			for name, oid := range refs {
				seed[repo.NamespacePrefix(mustNID(ns))+name] = oid
			}
		}
	}
	// A node killed mid-fetch left its quarantine; none lives longer
	// than a fetch.
	r.RemoveOldQuarantines("fetch", 2*n.cfg.Limits.FetchTimeout)
	q, err := r.NewQuarantine("fetch", seed, "", map[string]string{
		"fetch.unpackLimit":      "1",
		"fetch.fsckObjects":      "true",
		"protocol.version":       "2",
		"fetch.writeCommitGraph": "false",
		// The quarantine borrows the storage's objects; git would list the
		// storage's refs with a git process of its own, twice per fetch,
		// to use as "haves". The refs that matter are seeded above, so
		// a shell no-op stands in (two git starts fewer per fetch).
		"core.alternateRefsCommand": "exit 0",
	})
	if err != nil {
		return nil, err
	}
	defer q.Close()
	s, url := n.proxy.open(p, rid, n.cfg.Limits.MaxPack, direct)
	defer n.proxy.close(s)
	rep.watch(&s.bytes)
	defer rep.unwatch()
	// In English, as the messages read below are (LC_ALL=C).
	env := repo.GitEnv(append(repo.ObjectLimitEnv(n.cfg.Limits.MaxObject), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")...)
	var stderr bytes.Buffer
	tFetch := time.Now()
	if fresh {
		err = fetchFresh(ctx, q, url, env, &stderr, s.NoShallow)
	} else {
		c := exec.CommandContext(ctx, "git", "fetch", "--quiet", "--prune", "--no-tags", "--no-write-fetch-head",
			"--no-auto-gc", url, refspec)
		c.Dir = q.Dir()
		c.Env = env
		c.Stderr = &stderr
		err = c.Run()
	}
	rep.unwatch()
	if err != nil {
		if perr := s.Err(); perr != nil {
			if errors.Is(perr, errOversized) {
				n.strike(p, perr)
			}
			return nil, perr
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A relay ends a limited connection when its limit is reached.
		if r := s.Route(); r != nil && r.limited && r.conn.IsClosed() {
			return nil, &RelayLimitError{Peer: p, Relay: r.relay, Data: r.data, Duration: r.duration, Bytes: s.bytes.Load()}
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if repo.ObjectOverLimit(stderr.String()) {
			// Honest projects can hold a file this large; refusing it
			// bounds what this node inflates, and is no strike.
			return nil, fmt.Errorf("%w: peer %s sent an object over %d bytes; nothing was stored", repo.ErrObjectTooLarge, p, n.cfg.Limits.MaxObject)
		}
		if !n.connectedTo(p) {
			return nil, fmt.Errorf("peer %s went away during the fetch; nothing was stored: try again or another peer", p)
		}
		// git refusing objects (fsck) is bad data from the peer, unless
		// what failed was this machine (a full disk, say): then the line
		// that says so is the one to show.
		if line := localGitFailureLine(stderr.String()); line != "" {
			return nil, &localFailure{fmt.Errorf("git fetch: %s", strings.TrimPrefix(line, "fatal: "))}
		}
		err := fmt.Errorf("git fetch: %s", strings.TrimPrefix(msg, "fatal: "))
		if strings.Contains(msg, "fsck") || strings.Contains(msg, "index-pack") {
			n.strike(p, err)
		}
		return nil, err
	}
	rep.setPhase(PhaseVerifying)
	var doc *gproto.Identity
	if !fresh {
		doc, _ = n.identity(ctx, r)
	} else {
		// A project not stored yet is read from what arrived, so a fresh
		// clone of a private project takes only the namespaces its
		// policy follows, as every later fetch does.
		doc = arrivedIdentity(ctx, q)
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return nil, err
	}
	me := n.NID()
	tAccept := time.Now()
	over := n.overQuota(ctx, r, q, doc, pol)
	// In a private project, the devices of a person it is shared with
	// are taken by the person histories as they arrive.
	var arrivedPeople *repo.People
	if doc != nil && doc.Visibility.Type != gproto.Public {
		arrivedPeople, _ = q.People(ctx)
	}
	consider := func(nid gproto.NID) bool {
		return !nid.Equal(me) && (only == nil || nid.Equal(*only)) && n.follows(ctx, r, pol, doc, nid, arrivedPeople) && over[nid.String()] == ""
	}
	var acc *repo.AcceptResult
	if replace != nil {
		acc, err = r.AcceptReplacing(ctx, q, consider, *replace)
	} else {
		acc, err = r.Accept(ctx, q, consider)
	}
	if err != nil {
		// What failed verification is in acc.Rejected (fetchResult); an
		// error is this storage's own (a lock, the disk) unless Accept
		// says what arrived caused it.
		if errors.As(err, new(*repo.ArrivalError)) {
			n.strike(p, err)
		}
		return nil, err
	}
	n.log.Debug("fetch phases", "rid", rid, "peer", p, "git", tAccept.Sub(tFetch), "accept", time.Since(tAccept), "bytes", s.bytes.Load())
	res := n.fetchResult(p, acc, s.bytes.Load())
	for _, ns := range slices.Sorted(maps.Keys(over)) {
		res.Rejected = append(res.Rejected, "namespace "+ns+": "+over[ns])
		n.log.Info("namespace over the stranger quota not taken", "peer", p, "nid", ns, "why", over[ns])
	}
	res.Via = s.Route().via()
	if fresh {
		if len(acc.Updated) == 0 {
			return res, fmt.Errorf("peer %s sent nothing that verifies for %s", p, rid)
		}
		if err := r.Publish(n.cfg.Home); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// overQuota lists the namespaces that arrived changed in public project
// r, from keys that are neither a delegate, nor followed, nor this node,
// and that hold more than the stranger quota beyond the canonical
// branches (Limits.MaxStrangerObjects, MaxStrangerBytes), each with why.
// They are not taken (and what only they reach stays out of the storage);
// it is no strike: the peer that relays them may be honest.
func (n *Node) overQuota(ctx context.Context, r *repo.Repo, q *repo.Quarantine, doc *gproto.Identity, pol *Policy) map[string]string {
	if doc == nil || doc.Visibility.Type != gproto.Public {
		return nil // a private project takes only whom it knows
	}
	qrefs, err := q.Refs(ctx)
	if err != nil {
		return nil
	}
	local, err := r.Namespaces(ctx)
	if err != nil {
		return nil
	}
	arrived := map[string]map[string]string{}
	for full, oid := range qrefs {
		if rest, ok := strings.CutPrefix(full, "refs/namespaces/"); ok {
			if ns, name, ok := strings.Cut(rest, "/"); ok {
				if arrived[ns] == nil {
					arrived[ns] = map[string]string{}
				}
				arrived[ns][name] = oid
			}
		}
	}
	canon, err := r.CanonicalRefs(ctx)
	if err != nil {
		return nil
	}
	// Beyond the canonical branches and what the delegates hold (a fresh
	// clone has no canonical branches yet).
	base := slices.Collect(maps.Values(canon))
	for ns, refs := range arrived {
		if nid, err := gproto.ParseNID(ns); err == nil && n.isDelegate(ctx, r, doc, nid) {
			base = slices.AppendSeq(base, maps.Values(refs))
		}
	}
	lim := n.cfg.Limits
	var over map[string]string
	for ns, refs := range arrived {
		nid, err := gproto.ParseNID(ns)
		if err != nil || maps.Equal(refs, local[ns]) || nid.Equal(n.NID()) || n.isDelegate(ctx, r, doc, nid) {
			continue
		}
		if _, followed := pol.Follows[ns]; followed {
			continue
		}
		objects, bytes, err := q.Usage(ctx, slices.Collect(maps.Values(refs)), base, lim.MaxStrangerObjects)
		if err != nil {
			n.log.Debug("namespace usage", "nid", ns, "err", err)
			continue // Accept decides
		}
		if objects > lim.MaxStrangerObjects || bytes > lim.MaxStrangerBytes {
			if over == nil {
				over = map[string]string{}
			}
			over[ns] = fmt.Sprintf("holds over %d objects or %d bytes beyond the canonical branches, the quota of a key that is neither a delegate nor followed: not taken ('grove follow %s' takes it)",
				lim.MaxStrangerObjects, lim.MaxStrangerBytes, ns)
		}
	}
	return over
}

// localFailures are what git prints (strerror and lock messages) when a
// fetch failed for a reason of this machine's, not the peer's.
var localFailures = []string{
	"No space left on device",
	"Disk quota exceeded",
	"Read-only file system",
	"Permission denied",
	"Input/output error",
	"Cannot allocate memory",
	"Out of memory",
	"out of memory",
	"Too many open files",
	".lock': File exists",
	"unable to create temporary file",
	"unable to write",
}

// localGitFailureLine returns the line of git's stderr that shows a
// failure of this machine's (localFailures), or "" if none does.
func localGitFailureLine(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		for _, s := range localFailures {
			if strings.Contains(line, s) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}

// localFailure is a fetch that failed for a reason of this machine's
// (localGitFailureLine, or a file system error such as a full disk): no
// strike, and not a sync that found no peer.
type localFailure struct{ err error }

func (e *localFailure) Error() string { return e.err.Error() }
func (e *localFailure) Unwrap() error { return e.err }

// isLocalFailure reports whether err is a failure of this machine's.
func isLocalFailure(err error) bool {
	var lf *localFailure
	return errors.As(err, &lf) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// arrivedIdentity is the project's identity as the namespaces in q hold
// it, verified; nil if it cannot be read (Accept then refuses what does
// not verify).
func arrivedIdentity(ctx context.Context, q *repo.Quarantine) *gproto.Identity {
	refs, err := q.Refs(ctx)
	if err != nil {
		return nil
	}
	idents := map[string]string{}
	for full, oid := range refs {
		rest, ok := strings.CutPrefix(full, "refs/namespaces/")
		if !ok {
			continue
		}
		if ns, name, ok := strings.Cut(rest, "/"); ok && name == gproto.IdentityRef {
			idents[ns] = oid
		}
	}
	view, err := q.View()
	if err != nil {
		return nil
	}
	doc, _, err := view.IdentityOf(idents)
	if err != nil {
		return nil
	}
	return doc
}

// fetchResult reports what Accept did with what p sent (bytes of it),
// and gives p a strike if a namespace it sent failed verification. A
// fork is no strike: its owner signed it, and p only holds it.
func (n *Node) fetchResult(p peer.ID, acc *repo.AcceptResult, bytes int64) *FetchResult {
	res := &FetchResult{Peer: p.String(), Unchanged: acc.Unchanged, Bytes: bytes}
	for _, u := range acc.Updated {
		res.Updated = append(res.Updated, u.String())
	}
	struck := false
	for _, rej := range acc.Rejected {
		res.Rejected = append(res.Rejected, rej.Error())
		switch {
		case rej.Fork():
			n.log.Info("forked namespace not taken", "peer", p, "nid", rej.NID, "err", rej.Err)
		case !rej.PeerFault():
			n.log.Warn("namespace not taken: this storage could not check it", "peer", p, "nid", rej.NID, "err", rej.Err)
		case !struck:
			struck = true
			n.strike(p, rej)
		}
	}
	return res
}

func mustNID(s string) gproto.NID {
	n, _ := gproto.ParseNID(s) // Namespaces returns only valid NIDs
	return n
}

// syncError is a sync that no peer it tried answered: the failure that
// says most, and how many were tried. It matches that failure, and
// ErrNoPeers unless the failure was this machine's (a full disk is not a
// lack of peers).
type syncError struct {
	tried int
	last  error
}

func (e *syncError) Error() string {
	if e.tried == 1 {
		return e.last.Error()
	}
	return fmt.Sprintf("%v (and %d other peers failed)", e.last, e.tried-1)
}

func (e *syncError) Unwrap() []error {
	if isLocalFailure(e.last) {
		return []error{e.last}
	}
	return []error{ErrNoPeers, e.last}
}

// Sync fetches rid from the connected peers, at most max of them; only
// when none of them has it does it ask the DHT for providers. It returns
// each peer's result. Options apply to every fetch. A private project is
// asked for only from the connected peers allowed to read it, and never
// on the DHT: asking names the RID to whoever is asked.
func (n *Node) Sync(ctx context.Context, rid gproto.RID, max int, opts ...FetchOption) ([]*FetchResult, error) {
	var doc *gproto.Identity
	var people *repo.People
	if r, err := repo.Open(n.cfg.Home, rid); err == nil {
		if doc, _ = n.identity(ctx, r); doc != nil && doc.Visibility.Type != gproto.Public {
			people = n.people(ctx, r)
		}
	}
	private := doc != nil && doc.Visibility.Type != gproto.Public
	var o fetchOptions
	for _, opt := range opts {
		opt(&o)
	}
	tried := map[peer.ID]bool{}
	var out []*FetchResult
	ok := false
	var last error // the failure that says most (as in Clone)
	try := func(peers []peer.ID) {
		for _, p := range peers {
			if tried[p] || ctx.Err() != nil {
				continue
			}
			tried[p] = true
			// A peer that holds the same signed refs has nothing to
			// send: one round trip instead of a fetch.
			if o.headsFirst && doc != nil && o.replace == nil && o.only == nil {
				start := time.Now()
				if same, heads := n.sameHeads(ctx, p, rid, doc); same {
					out = append(out, &FetchResult{Peer: p.String(), Unchanged: heads, Duration: time.Since(start).Round(time.Millisecond).String()})
					ok = true
					continue
				}
			}
			res, err := n.Fetch(ctx, p, rid, opts...)
			out = append(out, res)
			ok = ok || err == nil
			if err != nil && (last == nil || errors.Is(last, errPeerLacks)) {
				last = err
			}
		}
	}
	if private {
		try(n.readers(doc, people, max))
	} else {
		try(n.connected(max))
	}
	if !ok && !private && ctx.Err() == nil {
		try(n.providers(ctx, rid, max, tried))
	}
	if len(out) == 0 {
		if private {
			return nil, fmt.Errorf("%w: no connected peer may read private project %s: connect to a delegate or a peer on its allow list", ErrNoPeers, rid)
		}
		return nil, ErrNoPeers
	}
	if !ok {
		return out, &syncError{tried: len(out), last: last}
	}
	return out, nil
}

// readers lists up to max connected peers that are not blocked and may
// read a project described by doc, with persons people.
func (n *Node) readers(doc *gproto.Identity, people *repo.People, max int) []peer.ID {
	var out []peer.ID
	for _, p := range n.connected(len(n.host.Network().Peers())) {
		if nid, err := gproto.ParseNID(p.String()); err == nil && MayRead(doc, people, nid) && len(out) < max {
			out = append(out, p)
		}
	}
	return out
}

// connected lists up to max connected peers that are not blocked.
func (n *Node) connected(max int) []peer.ID {
	var out []peer.ID
	for _, p := range n.host.Network().Peers() {
		if p != n.host.ID() && len(out) < max && n.gater.ok(p) {
			out = append(out, p)
		}
	}
	return out
}

// providers asks the DHT who provides rid and returns up to max of them
// that answer: those already connected first, then those a dial reaches
// (gproto.ProviderDials dialled at once, each for at most
// gproto.ProviderDialTimeout), in the order they answer. Anyone can put a
// provider record under any key, from as many fresh keys as it likes: the
// lookup takes up to gproto.MaxProviders records for at most
// gproto.ProviderLookupTimeout, and records that lead nowhere cost a
// failed dial each instead of hiding the seeders among them.
func (n *Node) providers(ctx context.Context, rid gproto.RID, max int, skip map[peer.ID]bool) []peer.ID {
	fctx, cancel := context.WithTimeout(ctx, gproto.ProviderLookupTimeout)
	var out []peer.ID
	var rest []peer.AddrInfo
	seen := map[peer.ID]bool{}
	for ai := range n.dht.FindProvidersAsync(fctx, ridCID(rid), gproto.MaxProviders) {
		if ai.ID == n.host.ID() || skip[ai.ID] || seen[ai.ID] || !n.gater.ok(ai.ID) {
			continue
		}
		seen[ai.ID] = true
		if len(ai.Addrs) > 0 {
			n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
		}
		if n.host.Network().Connectedness(ai.ID) == network.Connected {
			out = append(out, ai.ID)
		} else {
			rest = append(rest, ai)
		}
	}
	cancel()
	if len(out) >= max {
		return out[:max]
	}
	dctx, dcancel := context.WithCancel(ctx)
	defer dcancel()                           // ends the dials still running once max answered
	answered := make(chan peer.ID, len(rest)) // never blocks a dial
	next, pending := 0, 0
	for (next < len(rest) || pending > 0) && len(out) < max {
		if next < len(rest) && pending < gproto.ProviderDials {
			ai := rest[next]
			next++
			pending++
			go func() {
				c, cancel := context.WithTimeout(dctx, gproto.ProviderDialTimeout)
				defer cancel()
				// A relayed connection opened before this node answers
				// DCUtR is never upgraded (awaitHolePunchReady).
				if slices.ContainsFunc(ai.Addrs, isCircuit) {
					n.awaitHolePunchReady(c)
				}
				if err := n.host.Connect(network.WithAllowLimitedConn(c, "grove"), ai); err != nil {
					n.log.Debug("provider unreachable", "rid", rid, "peer", ai.ID, "err", err)
					answered <- ""
					return
				}
				answered <- ai.ID
			}()
			continue
		}
		if p := <-answered; p != "" {
			out = append(out, p)
		}
		pending--
	}
	return out
}

// Clone gets a project this node does not have: from the given addresses,
// or else from providers found on the DHT. It then seeds it.
func (n *Node) Clone(ctx context.Context, rid gproto.RID, from []string, opts ...FetchOption) (*FetchResult, error) {
	var peers []peer.ID
	for _, a := range from {
		p, err := n.Connect(ctx, a)
		if err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}
	var last error
	tried := map[peer.ID]bool{}
	for _, list := range [][]peer.ID{peers, n.connected(8), nil} {
		if list == nil && len(from) == 0 {
			list = n.providers(ctx, rid, 8, tried)
		}
		for _, p := range list {
			if tried[p] {
				continue
			}
			tried[p] = true
			res, err := n.Fetch(ctx, p, rid, opts...)
			if err == nil {
				return res, n.Seed(ctx, rid)
			}
			// A peer that lacks the project says less than one that has
			// it and could not send it (a relay's limit, say).
			if last == nil || errors.Is(last, errPeerLacks) {
				last = err
			}
		}
		if len(from) > 0 {
			break // only the peers asked for
		}
	}
	if last == nil {
		return nil, fmt.Errorf("%w %s: pass --from ADDRESS or connect to a peer", ErrNoPeers, rid)
	}
	return nil, last
}

// Seed hosts rid: it is remembered, its topic joined and, for a public
// project, the node provides it on the DHT. A node started for one
// command (Config.OneCommand) only remembers it, for the node that starts
// next: it stops once the command is done, and joining and providing cost
// a clone some milliseconds for a topic it would leave at once and a
// provider record of addresses that close with it.
func (n *Node) Seed(ctx context.Context, rid gproto.RID) error {
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return err
	}
	if pol.AddSeed(rid) {
		if err := pol.Save(n.cfg.Home); err != nil {
			return err
		}
	}
	if n.cfg.OneCommand {
		return nil
	}
	return n.join(rid)
}

// Unseed stops hosting rid; the storage stays.
func (n *Node) Unseed(rid gproto.RID) error {
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return err
	}
	if pol.RemoveSeed(rid) {
		if err := pol.Save(n.cfg.Home); err != nil {
			return err
		}
	}
	n.leave(rid)
	return nil
}

// fetchFresh fetches a project not stored yet into q, whose refs and
// objects are empty, with git fetch-pack rather than git fetch: index-pack
// checks every object (--strict, as fetch.fsckObjects does) and reports
// whether the pack is self-contained, so that git need not walk the whole
// history again to prove the refs connected (git clone's own shortcut;
// git fetch always walks). The refs under refs/namespaces/ that arrived,
// with git's ref name rules, are q's refs once what they reach is
// proven there. noShallow, asked once fetch-pack is done, says whether the
// peer's answer was seen to carry no shallow info (session.NoShallow);
// nil where nothing watched it (a file:// URL).
func fetchFresh(ctx context.Context, q *repo.Quarantine, url string, env []string, stderr *bytes.Buffer, noShallow func() bool) error {
	// --lock-pack: git 2.39's fetch-pack reports connectivity only with
	// it (and crashes without it); the .keep it leaves is removed below.
	c := exec.CommandContext(ctx, "git", "fetch-pack", "--all", "--quiet", "--no-progress", "--lock-pack",
		"--check-self-contained-and-connected", url)
	c.Dir = q.Dir()
	c.Env = env
	c.Stderr = stderr
	out, err := c.Output()
	if err != nil {
		return err
	}
	refs := map[string]string{}
	connected := false
	var packs []string
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "connectivity-ok":
			connected = true
		case strings.HasPrefix(line, "lock "):
			// Only a lock git made in q's own pack directory is removed.
			if keep := filepath.Base(strings.TrimPrefix(line, "lock ")); strings.HasPrefix(keep, "pack-") && strings.HasSuffix(keep, ".keep") {
				os.Remove(filepath.Join(q.Dir(), "objects", "pack", keep))
				packs = append(packs, strings.TrimSuffix(keep, ".keep"))
			}
		default:
			oid, name, ok := strings.Cut(line, " ")
			if !ok || !gproto.ValidOID(oid) || !namespacedRef(name) {
				continue // HEAD, the canonical branches: not a namespace's
			}
			refs[name] = oid
		}
	}
	tips := slices.Sorted(maps.Values(refs))
	tips = slices.Compact(tips)
	if len(tips) == 0 {
		return q.SetRefs(refs)
	}
	// index-pack --strict checked every object and every link (a tree's
	// entries, a commit's tree and parents), except a commit's parents
	// where the peer's answer carries shallow info: git then grafts them
	// away for index-pack, which git fetch would refuse. So with the pack
	// self-contained, no shallow info seen and every tip in the pack (git
	// clone's check_connected), the refs are connected; with shallow info
	// possible, walking the commits from the tips (no trees, no blobs: a
	// fraction of git fetch's walk) proves it; without "connectivity-ok",
	// the whole walk is done.
	if connected && len(packs) == 1 && noShallow != nil && noShallow() && q.PackHolds(packs[0], tips) {
		return q.SetRefs(refs)
	}
	stdin := strings.Join(tips, "\n") + "\n"
	args := []string{"rev-list", "--quiet", "--stdin"}
	if !connected {
		args = []string{"rev-list", "--objects", "--quiet", "--stdin", "--not", "--all"}
	}
	c = exec.CommandContext(ctx, "git", args...)
	c.Dir = q.Dir()
	c.Env = env
	c.Stdin = strings.NewReader(stdin)
	c.Stderr = stderr
	if err := c.Run(); err != nil {
		// What the peer sent does not hold all that its refs reach.
		fmt.Fprintf(stderr, "fatal: peer did not send all necessary objects (%v)\n", err)
		return err
	}
	return q.SetRefs(refs)
}

// namespacedRef says whether name is a ref inside a namespace,
// refs/namespaces/NS/refs/…, with git's ref name rules.
func namespacedRef(name string) bool {
	rest, ok := strings.CutPrefix(name, "refs/namespaces/")
	if !ok {
		return false
	}
	ns, ref, ok := strings.Cut(rest, "/")
	return ok && ns != "" && gproto.CheckRefName("refs/"+ns) == nil && gproto.CheckRefName(ref) == nil
}
