package tui_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps tui to screens: it draws what a Source gives it (wired
// to storage, the index and the node by cmd/tuicmd), so it can be tested
// with a fake source and reused over any of them.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	allowed := map[string]bool{
		"example.com/grove/protocol/termtext": true, // making peers' text safe to draw
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "example.com/grove/") && !allowed[d] {
			t.Errorf("tui must not import %s: screens get their data from a Source (cmd/tuicmd wires it)", d)
		}
		switch d {
		case "testing":
			t.Errorf("tui must not import testing: test code in binaries")
		case "modernc.org/sqlite", "github.com/libp2p/go-libp2p":
			t.Errorf("tui must not import %s: the index and the node are reached through the Source", d)
		}
	}
}
