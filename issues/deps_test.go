package issues_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps issues below cmd and beside sync: it reaches storage
// through repo and never dials (objects travel as refs).
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]string{
		"testing":                                   "test code in binaries",
		"example.com/grove/cmd":                     "imports point down",
		"example.com/grove/sync":                    "issues never dials; objects travel as refs",
		"example.com/grove/tui":                     "imports point down",
		"github.com/libp2p/go-libp2p/p2p/net/swarm": "issues never dials",
	}
	for _, d := range strings.Fields(string(out)) {
		if why, ok := forbidden[d]; ok {
			t.Errorf("issues must not import %s: %s", d, why)
		}
	}
}
