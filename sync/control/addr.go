package control

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"example.com/grove/protocol"
)

// ParseAddr checks that s is a multiaddr ending in /p2p/NID and returns
// that NID.
func ParseAddr(s string) (protocol.NID, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return protocol.NID{}, fmt.Errorf("address %q: %w", s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return protocol.NID{}, fmt.Errorf("address %q must end in /p2p/NID: %w", s, err)
	}
	return protocol.ParseNID(ai.ID.String())
}
