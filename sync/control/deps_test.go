package control_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps package control light: grove and git-remote-grove reach
// the node through it, so it must link neither the node nor libp2p's host.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]string{
		"testing":                                        "test code in binaries",
		"example.com/grove/sync":                         "the node imports control, not the other way",
		"example.com/grove/cmd":                          "imports point down",
		"example.com/grove/issues":                       "control knows nothing of issues",
		"github.com/libp2p/go-libp2p":                    "the host belongs to the node",
		"github.com/libp2p/go-libp2p-kad-dht":            "the DHT belongs to the node",
		"github.com/libp2p/go-libp2p-pubsub":             "gossip belongs to the node",
		"github.com/quic-go/quic-go":                     "transports belong to the node",
		"github.com/prometheus/client_golang/prometheus": "metrics belong to the node",
	}
	for _, d := range strings.Fields(string(out)) {
		if why, ok := forbidden[d]; ok {
			t.Errorf("control must not import %s: %s", d, why)
		}
		if strings.HasPrefix(d, "github.com/pion/") {
			t.Errorf("control must not import %s: WebRTC belongs to the node", d)
		}
	}
}
