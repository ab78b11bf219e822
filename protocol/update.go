package protocol

import "fmt"

// UpdateProtocolID carries one announced namespace update as a thin pack
// from the revision the asker holds: one UpdateRequest, one
// UpdateResponse, then Size bytes of pack. It saves a git negotiation per
// peer when an announcement reaches many peers that are one step behind;
// anything it cannot serve is fetched over GitProtocolID instead.
const UpdateProtocolID = "/grove/update/1"

// MaxUpdatePack bounds the pack of one update. Larger updates go through
// a full fetch, which git negotiates.
const MaxUpdatePack = 8 << 20

// UpdateRequest asks for the objects of NID's namespace in RID that take
// it from the sigrefs commit Have (which the asker holds) to Want.
type UpdateRequest struct {
	RID  RID    `json:"rid"`
	NID  NID    `json:"nid"`
	Have string `json:"have"`
	Want string `json:"want"`
}

// Validate checks the request's fields.
func (r *UpdateRequest) Validate() error {
	switch {
	case r.RID.IsZero():
		return fmt.Errorf("%w: no rid", ErrMessage)
	case r.NID.IsZero():
		return fmt.Errorf("%w: no nid", ErrMessage)
	case !ValidOID(r.Have) || !ValidOID(r.Want):
		return fmt.Errorf("%w: have and want must be object IDs", ErrMessage)
	case r.Have == r.Want:
		return fmt.Errorf("%w: have and want are the same", ErrMessage)
	}
	return nil
}

// UpdateResponse answers an UpdateRequest. With no Error, a pack of Size
// bytes (at most MaxUpdatePack) follows: every object reachable from
// Want's signed refs and not from Have's, possibly thin (deltas against
// objects reachable from Have).
type UpdateResponse struct {
	Error string `json:"error,omitempty"`
	Size  int64  `json:"size,omitempty"`
}

// Errors an UpdateResponse may carry besides "not found".
const (
	// UpdateUnavailable: the server does not hold Want, or not Have, or the
	// pack would be over MaxUpdatePack. The asker fetches instead.
	UpdateUnavailable = "unavailable"
)
