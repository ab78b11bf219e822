package cmd

import (
	"errors"
	"fmt"
	"strings"

	"example.com/grove/protocol"
	"example.com/grove/sync/control"
)

// The network's failures, as commands report them: the cause in the
// node's words (which peer, which address, why), then what to do. Every
// message is listed in docs/NETWORK.md, "When the network fails".
const (
	hintUnreachable = "check that its node is running and that the address is current ('grove node addrs' on that machine)"
	hintLacks       = "check the RID; a private project is served only to the NIDs on its allow list: send a delegate yours ('grove self') to add with 'grove id update --allow NID'"
)

// peerHow says how a command takes a peer's address: clone and seed take
// --from, sync the peers remembered with 'grove connect'.
type peerHow string

const (
	viaFrom    peerHow = "pass --from ADDRESS"
	viaConnect peerHow = "run 'grove connect ADDRESS'"
)

// netError returns err, a failure to get project rid from peers, as one
// line that names the cause and says what to do, or nil for nil. what
// names the work for failures of any other kind ("clone", "sync").
func netError(what string, rid protocol.RID, err error, how peerHow) error {
	var msg string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, control.ErrRelayLimit):
		// Its own message says what to do.
		return err
	case errors.Is(err, control.ErrUnreachable):
		msg = err.Error() + ": " + hintUnreachable
	case errors.Is(err, control.ErrPeerLacks):
		msg = err.Error() + ": " + hintLacks
	case errors.Is(err, control.ErrNoPeers) && strings.Contains(err.Error(), "private project"):
		// A private project is asked only of the peers allowed to read
		// it: the node's line says so, and what to do.
		return err
	case errors.Is(err, control.ErrNoPeers):
		msg = fmt.Sprintf("no peer to fetch project %s from: none is connected and the DHT named none: %s with the address of a peer that has it ('grove node addrs' there)", rid, how)
	default:
		return fmt.Errorf("%s %s: %w", what, rid, err)
	}
	return &netFailure{msg: msg, err: err}
}

// netFailure is a network failure worded for the user; it still matches
// what it explains.
type netFailure struct {
	msg string
	err error
}

func (e *netFailure) Error() string { return e.msg }
func (e *netFailure) Unwrap() error { return e.err }
