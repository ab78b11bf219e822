package sync

import "github.com/libp2p/go-libp2p/core/peer"

// OnlyNamespace narrows a fetch to one namespace, for tests.
var OnlyNamespace = onlyNamespace

// Refuse disconnects p and refuses it from then on, as if it had sent bad
// data too often.
func (n *Node) Refuse(p peer.ID) {
	n.gater.block(p)
	n.host.Network().ClosePeer(p)
}
