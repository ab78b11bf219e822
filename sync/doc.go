// Package sync is the Grove node: a libp2p host made from the user's key,
// discovery (explicit peers, a Kademlia DHT with protocol prefix /grove,
// opt-in mDNS), GossipSub announcements per project, and fetch/serve of
// git's pack protocol over /grove/git/1 streams. Everything a peer sends is
// untrusted: fetched objects land in a quarantine and a namespace's refs move
// only after repo.Accept verifies its signed refs. Import it as p2psync.
package sync
