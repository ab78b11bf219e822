package protocol_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps protocol at the bottom of the import graph: it imports
// nothing of Grove, and nothing that drags "testing" into binaries.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	for _, d := range deps {
		if d == "testing" || strings.HasPrefix(d, "example.com/grove/") {
			t.Errorf("protocol must not import %s", d)
		}
	}
}
