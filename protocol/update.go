package protocol

import "fmt"

// UpdateProtocolID carries one announced namespace update as a thin pack
// from the revision the asker holds: one UpdateRequest, one
// UpdateResponse, then Size bytes of pack. It saves a git negotiation per
// peer when an announcement reaches many peers that are one step behind;
// anything it cannot serve is fetched over GitProtocolID instead.
const UpdateProtocolID = "/grove/update/1"

// FirstUpdateProtocolID carries a namespace's first revision that an
// asker holds nothing of (a contributor's first change) as a thin pack:
// the same messages as UpdateProtocolID, with Have empty and Base listing
// the asker's canonical branch and tag tips, which the pack need not
// carry. A peer that does not speak it is fetched from instead.
const FirstUpdateProtocolID = "/grove/update/2"

// UpdateRequest asks for the objects of NID's namespace in RID that take
// it from the sigrefs commit Have (which the asker holds) to Want.
type UpdateRequest struct {
	RID  RID    `json:"rid"`
	NID  NID    `json:"nid"`
	Have string `json:"have"`
	Want string `json:"want"`
	// Base, only over FirstUpdateProtocolID and with Have empty, are
	// commits the asker holds (its canonical branch and tag tips).
	Base []string `json:"base,omitempty"`
}

// Validate checks the request's fields, as UpdateProtocolID carries them.
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
	case len(r.Base) > 0:
		return fmt.Errorf("%w: base with have", ErrMessage)
	}
	return nil
}

// ValidateFirst checks the request's fields as FirstUpdateProtocolID
// carries them: no Have, at most MaxUpdateBase object IDs in Base.
func (r *UpdateRequest) ValidateFirst() error {
	switch {
	case r.RID.IsZero():
		return fmt.Errorf("%w: no rid", ErrMessage)
	case r.NID.IsZero():
		return fmt.Errorf("%w: no nid", ErrMessage)
	case r.Have != "" || !ValidOID(r.Want):
		return fmt.Errorf("%w: a first update has no have and wants an object ID", ErrMessage)
	case len(r.Base) > MaxUpdateBase:
		return fmt.Errorf("%w: %d base commits, over %d", ErrMessage, len(r.Base), MaxUpdateBase)
	}
	for _, b := range r.Base {
		if !ValidOID(b) {
			return fmt.Errorf("%w: base %q", ErrMessage, b)
		}
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
