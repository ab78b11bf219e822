package cmd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps libp2p's host, transports, DHT and gossip out of grove and
// git-remote-grove, whose package init every call and every git fetch would
// pay: a node runs in grove-node (cmd/netcmd), and the light programs reach
// it through sync/control.
func TestDeps(t *testing.T) {
	forbidden := map[string]string{
		"github.com/libp2p/go-libp2p":                    "the host",
		"github.com/libp2p/go-libp2p-kad-dht":            "the DHT",
		"github.com/libp2p/go-libp2p-pubsub":             "gossip",
		"github.com/quic-go/quic-go":                     "the QUIC transport",
		"github.com/prometheus/client_golang/prometheus": "the host's metrics",
		"example.com/grove/sync":                         "the node",
		"example.com/grove/cmd/netcmd":                   "grove-node",
	}
	// Nor what only other programs need: every call pays a linked
	// package's init, and the binary's size in page faults.
	light := map[string]string{
		"github.com/go-git/go-git/v5": "go-git's root package, which links every transport: repo uses its lower packages",
		"net/http":                    "HTTP (go-git's transports)",
		"github.com/go-git/go-git/v5/plumbing/transport": "go-git's transports",
		"github.com/go-git/go-git/v5/plumbing/object":    "go-git's object package (OpenPGP, diffs, tree walks): repo encodes and parses its commits itself",
		"github.com/ProtonMail/go-crypto/openpgp":        "OpenPGP (go-git's commit signatures)",
		"modernc.org/sqlite":                             "the issue index's SQLite: it belongs to grove-index and grove-tui",
		"modernc.org/libc":                               "SQLite's C library: it belongs to grove-index and grove-tui",
	}
	for _, prog := range []string{"./grove", "./git-remote-grove"} {
		out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, prog).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", prog, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) == 0 {
			t.Fatalf("go list %s listed no dependencies", prog)
		}
		for _, d := range deps {
			if why, ok := forbidden[d]; ok {
				t.Errorf("%s links %s (%s): it belongs to grove-node", prog, d, why)
			}
			if why, ok := light[d]; ok {
				t.Errorf("%s links %s (%s)", prog, d, why)
			}
			if strings.HasPrefix(d, "github.com/go-git/go-git/v5/plumbing/transport/") {
				t.Errorf("%s links %s (go-git's transports)", prog, d)
			}
			if strings.HasPrefix(d, "github.com/libp2p/") || d == "github.com/multiformats/go-multiaddr" || strings.HasPrefix(d, "google.golang.org/protobuf/") {
				t.Errorf("%s links %s (libp2p, its multiaddrs or protobuf): protocol and sync/control do without, so that no call pays their package init", prog, d)
			}
			if strings.HasPrefix(d, "github.com/pion/") {
				t.Errorf("%s links %s (WebRTC): it belongs to grove-node", prog, d)
			}
		}
	}
}
