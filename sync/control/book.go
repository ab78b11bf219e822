package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"example.com/grove/repo"
)

// Book is what a node remembers of its peers, kept by the node in
// $GROVE_HOME/peers.json: where each was reachable and, per project, when
// they last exchanged it. A node dials some of them at start, so that
// peers find each other again after either restarts. The policy's peers
// (grove connect, --bootstrap, --from) have entries here too, which count
// their failed dials.
type Book struct {
	// Peers are by NID.
	Peers map[string]*BookPeer `json:"peers"`
}

// BookPeer is one remembered peer.
type BookPeer struct {
	// Addrs are multiaddrs ending in /p2p/NID, most recently working first.
	Addrs []BookAddr `json:"addrs,omitempty"`
	// Projects are the RIDs exchanged with the peer, with the time of the
	// last exchange.
	Projects map[string]time.Time `json:"projects,omitempty"`
	// Seen is when the node was last connected to the peer.
	Seen time.Time `json:"seen"`
}

// BookAddr is one address of a peer.
type BookAddr struct {
	Addr string `json:"addr"`
	// OK is when a connection through the address last worked, or when it
	// was first remembered.
	OK time.Time `json:"ok"`
	// Fails counts the dials of the peer that failed since.
	Fails int `json:"fails,omitempty"`
}

// Bounds of the book: peers, addresses per peer, projects per peer.
const (
	MaxBookPeers    = 256
	MaxBookAddrs    = 8
	MaxBookProjects = 1024
)

// An address ages out once it has not worked for AddrMaxAge and either
// failed AddrMaxFails dials or its peer works at a newer address.
const (
	AddrMaxAge   = 7 * 24 * time.Hour
	AddrMaxFails = 3
)

func bookPath(h repo.Home) string { return filepath.Join(h.Dir, "peers.json") }

// LoadBook reads h's peer book; a missing file is an empty book.
func LoadBook(h repo.Home) (*Book, error) {
	b := &Book{Peers: map[string]*BookPeer{}}
	data, err := os.ReadFile(bookPath(h))
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read peer book: %w", err)
	}
	if err := json.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("peer book %s: %w", bookPath(h), err)
	}
	if b.Peers == nil {
		b.Peers = map[string]*BookPeer{}
	}
	for _, p := range b.Peers {
		if p.Projects == nil {
			p.Projects = map[string]time.Time{}
		}
	}
	return b, nil
}

// Save writes the book atomically.
func (b *Book) Save(h repo.Home) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return err
	}
	return repo.WriteFileAtomic(bookPath(h), append(data, '\n'), 0o600)
}

// Peer returns nid's entry, made if there is none; making one past
// MaxBookPeers drops the peer seen longest ago.
func (b *Book) Peer(nid string, now time.Time) *BookPeer {
	if p := b.Peers[nid]; p != nil {
		return p
	}
	if len(b.Peers) >= MaxBookPeers {
		oldest := ""
		for id, p := range b.Peers {
			if oldest == "" || p.Seen.Before(b.Peers[oldest].Seen) {
				oldest = id
			}
		}
		delete(b.Peers, oldest)
	}
	p := &BookPeer{Projects: map[string]time.Time{}, Seen: now}
	b.Peers[nid] = p
	return p
}

// Forget drops nid; it reports whether the book had it.
func (b *Book) Forget(nid string) bool {
	_, ok := b.Peers[nid]
	delete(b.Peers, nid)
	return ok
}

// AddAddr remembers addr; it reports whether addr is new. A new address
// counts as working now; past MaxBookAddrs the one that worked longest
// ago goes.
func (p *BookPeer) AddAddr(addr string, now time.Time) bool {
	if slices.ContainsFunc(p.Addrs, func(a BookAddr) bool { return a.Addr == addr }) {
		return false
	}
	p.Addrs = append(p.Addrs, BookAddr{Addr: addr, OK: now})
	p.sortAddrs()
	if len(p.Addrs) > MaxBookAddrs {
		p.Addrs = p.Addrs[:MaxBookAddrs]
	}
	return true
}

// Worked records that a connection through addr works now.
func (p *BookPeer) Worked(addr string, now time.Time) {
	p.AddAddr(addr, now)
	for i := range p.Addrs {
		if p.Addrs[i].Addr == addr {
			p.Addrs[i].OK, p.Addrs[i].Fails = now, 0
		}
	}
	p.sortAddrs()
}

// Failed records a failed dial of the peer at all its addresses.
func (p *BookPeer) Failed() {
	for i := range p.Addrs {
		p.Addrs[i].Fails++
	}
}

func (p *BookPeer) sortAddrs() {
	slices.SortStableFunc(p.Addrs, func(a, b BookAddr) int { return b.OK.Compare(a.OK) })
}

// AgeOut drops the addresses that have not worked for AddrMaxAge and
// either failed AddrMaxFails dials or belong to a peer that worked at a
// newer address since; it returns them.
func (p *BookPeer) AgeOut(now time.Time) []string {
	var gone []string
	newest := time.Time{}
	for _, a := range p.Addrs {
		if a.OK.After(newest) {
			newest = a.OK
		}
	}
	p.Addrs = slices.DeleteFunc(p.Addrs, func(a BookAddr) bool {
		old := now.Sub(a.OK) >= AddrMaxAge
		if old && (a.Fails >= AddrMaxFails || newest.After(a.OK)) {
			gone = append(gone, a.Addr)
			return true
		}
		return false
	})
	return gone
}

// Exchanged records that the peer and this node exchanged project rid
// now; past MaxBookProjects the project exchanged longest ago goes.
func (p *BookPeer) Exchanged(rid string, now time.Time) {
	if _, ok := p.Projects[rid]; !ok && len(p.Projects) >= MaxBookProjects {
		oldest := ""
		for r, t := range p.Projects {
			if oldest == "" || t.Before(p.Projects[oldest]) {
				oldest = r
			}
		}
		delete(p.Projects, oldest)
	}
	p.Projects[rid] = now
}

// RemovePeersOf drops every address of nid from the policy's peers; it
// reports whether that changed anything.
func (p *Policy) RemovePeersOf(nid string) bool {
	n := len(p.Peers)
	p.Peers = slices.DeleteFunc(p.Peers, func(a string) bool {
		id, err := ParseAddr(a)
		return err == nil && id.String() == nid
	})
	return len(p.Peers) != n
}

// RemovePeer drops addr from the policy's peers; it reports whether the
// policy had it.
func (p *Policy) RemovePeer(addr string) bool {
	i := slices.Index(p.Peers, addr)
	if i < 0 {
		return false
	}
	p.Peers = slices.Delete(p.Peers, i, i+1)
	return true
}
