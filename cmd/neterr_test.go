package cmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/sync/control"
)

// TestNetError: each failure to reach peers becomes one line that keeps
// the node's cause and adds what to do, and still matches its sentinel;
// other failures keep their message under the command's name.
func TestNetError(t *testing.T) {
	rid, err := protocol.ParseRID("baf4bcfabencwpcnlzxxqci2fm6e2xtppaerukzy")
	if err != nil {
		t.Fatal(err)
	}
	cause := func(msg string, sentinel error) error { return fmt.Errorf("%s%w", msg, sentinelOnly{sentinel}) }
	tests := []struct {
		name     string
		in       error
		how      peerHow
		want     string
		sentinel error
	}{
		{"unreachable", cause("cannot reach peer P at /ip4/127.0.0.1/tcp/1: connection refused", control.ErrUnreachable), viaFrom,
			"cannot reach peer P at /ip4/127.0.0.1/tcp/1: connection refused: " + hintUnreachable, control.ErrUnreachable},
		{"lacks", cause("peer P does not have project R, or does not share it with you", control.ErrPeerLacks), viaFrom,
			"peer P does not have project R, or does not share it with you: " + hintLacks, control.ErrPeerLacks},
		{"no peers, clone", control.ErrNoPeers, viaFrom,
			"no peer to fetch project " + rid.String() + " from: none is connected and the DHT named none: pass --from ADDRESS with the address of a peer that has it ('grove node addrs' there)", control.ErrNoPeers},
		{"no peers, sync", control.ErrNoPeers, viaConnect,
			"no peer to fetch project " + rid.String() + " from: none is connected and the DHT named none: run 'grove connect ADDRESS' with the address of a peer that has it ('grove node addrs' there)", control.ErrNoPeers},
		{"the cause before no peers", fmt.Errorf("%w%w", cause("cannot reach peer P: no answer in time", control.ErrUnreachable), sentinelOnly{control.ErrNoPeers}), viaConnect,
			"cannot reach peer P: no answer in time: " + hintUnreachable, control.ErrUnreachable},
		{"relay limit says what to do itself", cause("relay R closed the relayed connection to P at its limit: fetch from a peer you can reach directly", control.ErrRelayLimit), viaFrom,
			"relay R closed the relayed connection to P at its limit: fetch from a peer you can reach directly", control.ErrRelayLimit},
		{"no reader of a private project says what to do itself", cause("no peer has the project: no connected peer may read private project R: connect to a delegate or a peer on its allow list", control.ErrNoPeers), viaConnect,
			"no peer has the project: no connected peer may read private project R: connect to a delegate or a peer on its allow list", control.ErrNoPeers},
		{"anything else", errors.New("git fetch: bad pack"), viaFrom, "clone " + rid.String() + ": git fetch: bad pack", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := netError("clone", rid, tt.in, tt.how)
			if got.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if strings.Contains(got.Error(), "\n") {
				t.Errorf("more than one line: %q", got)
			}
			if tt.sentinel != nil && !errors.Is(got, tt.sentinel) {
				t.Errorf("%v no longer matches %v", got, tt.sentinel)
			}
		})
	}
	if netError("clone", rid, nil, viaFrom) != nil {
		t.Error("nil became an error")
	}
}

// sentinelOnly matches err but adds nothing to a message.
type sentinelOnly struct{ err error }

func (s sentinelOnly) Error() string { return "" }
func (s sentinelOnly) Unwrap() error { return s.err }
