package tuicmd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the node's network stack out of grove-tui: the UI reads
// the policy and asks a running node over the control socket
// (sync/control), and each linked package costs start-up time. Nor does
// it link glamour and chroma, whose package initialisers cost more than
// the rest of its start: grove-render draws markdown and code
// (tui/remote).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../grove-tui").Output()
	if err != nil {
		t.Fatalf("go list -deps ../grove-tui: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"example.com/grove/sync",
			"github.com/libp2p/go-libp2p/p2p/",
			"github.com/quic-go/",
			"github.com/pion/",
			"github.com/prometheus/",
			"github.com/charmbracelet/glamour",
			"github.com/charmbracelet/glamour/",
			"github.com/alecthomas/chroma/",
			"example.com/grove/tui/render",
		} {
			if d == banned || strings.HasPrefix(d, banned) && strings.HasSuffix(banned, "/") {
				t.Errorf("grove-tui links %s", d)
			}
		}
	}
}
