package sync

import (
	gproto "example.com/grove/protocol"
)

// ParseAddr checks that s is a multiaddr ending in /p2p/NID and returns
// that NID.
func ParseAddr(s string) (gproto.NID, error) {
	ai, err := addrInfo(s)
	if err != nil {
		return gproto.NID{}, err
	}
	return gproto.ParseNID(ai.ID.String())
}
