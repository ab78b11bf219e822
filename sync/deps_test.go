package sync_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps sync, the node, beside issues and under cmd: it moves
// storage between peers and answers the control socket, and knows nothing
// of commands, screens or the issue index. ("testing" is not banned here:
// go-libp2p-kad-dht imports it itself.)
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	forbidden := map[string]string{
		"example.com/grove/cmd":              "imports point down",
		"example.com/grove/tui":              "imports point down",
		"github.com/charmbracelet/bubbletea": "the node draws nothing",
		"github.com/spf13/cobra":             "flags and commands are cmd's; the node takes a Config",
		"modernc.org/sqlite":                 "the node replicates refs and never opens the issue index",
		"github.com/go-git/go-git/v5":        "go-git's root package links every transport; git itself serves and fetches packs",
	}
	for _, d := range deps {
		if why, ok := forbidden[d]; ok {
			t.Errorf("sync must not import %s: %s", d, why)
		}
	}
}
