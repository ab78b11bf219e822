package netcmd

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	p2psync "example.com/grove/sync"
)

func TestProgressHumanBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{8493465, "8.1 MiB"},
		{3 << 30, "3.0 GiB"},
		{5 << 40, "5.0 TiB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := humanBytes(tt.in); got != tt.want {
				t.Errorf("humanBytes(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestProgressFetchLine(t *testing.T) {
	p := peer.ID("12D3KooWAbCdEfGhxyz") // stands in for a real ID; String is base58
	who := shortPeer(p.String())
	tests := []struct {
		name string
		in   p2psync.FetchProgress
		want string
	}{
		{"negotiating", p2psync.FetchProgress{Peer: p, Phase: p2psync.PhaseNegotiating}, "Negotiating with " + who + "…"},
		{"receiving", p2psync.FetchProgress{Peer: p, Phase: p2psync.PhaseReceiving, Bytes: 8493465, Elapsed: 660 * time.Millisecond},
			"Receiving from " + who + ": 8.1 MiB, 12.3 MiB/s"},
		{"receiving at once", p2psync.FetchProgress{Peer: p, Phase: p2psync.PhaseReceiving, Bytes: 2048, Elapsed: time.Millisecond},
			"Receiving from " + who + ": 2.0 KiB"},
		{"verifying", p2psync.FetchProgress{Peer: p, Phase: p2psync.PhaseVerifying, Bytes: 2048}, "Verifying 2.0 KiB from " + who + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fetchLine(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := shortPeer("12D3KooWLongPeerIDxyz"); got != "12D3Ko…xyz" {
		t.Errorf("shortPeer = %q", got)
	}
}
