package termtext_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps termtext a leaf: grove, grove-tui and package issues all
// import it, so it imports nothing of Grove's and nothing beyond the
// standard library.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	std, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	isStd := map[string]bool{}
	for _, p := range strings.Fields(string(std)) {
		isStd[p] = true
	}
	for _, d := range strings.Fields(string(out)) {
		if d == "testing" || !isStd[d] && !strings.HasPrefix(d, "internal/") && !strings.HasPrefix(d, "vendor/") {
			t.Errorf("termtext must import only the standard library, not %s", d)
		}
	}
}
