package sync

import (
	"github.com/ipfs/go-cid"

	"example.com/grove/protocol"
)

// ridCID returns rid as a CID: what the DHT provides and finds for a
// project.
func ridCID(rid protocol.RID) cid.Cid {
	c, _ := cid.Cast(rid.CIDBytes()) // cannot fail: protocol's tests check the bytes against go-cid
	return c
}
