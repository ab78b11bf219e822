package repo_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps repo, local storage, under everything that uses it: it
// knows git and Grove's signed formats, nothing of the network, of
// collaborative objects or of how they are shown.
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
		"testing":                                     "test code in binaries",
		"example.com/grove/cmd":                       "imports point down",
		"example.com/grove/issues":                    "collaborative objects are built on storage, not the other way round",
		"example.com/grove/sync":                      "storage never dials: the node moves objects in and out through repo",
		"example.com/grove/sync/control":              "storage does not talk to a running node",
		"example.com/grove/tui":                       "imports point down",
		"github.com/go-git/go-git/v5":                 "go-git's root package links every transport (HTTP, TLS, SSH) into every program",
		"github.com/go-git/go-git/v5/plumbing/object": "OpenPGP and diffs for a few commits: gitstore encodes them (docs/STORAGE.md)",
		"github.com/libp2p/go-libp2p":                 "the libp2p host belongs to the node (grove-node)",
		"modernc.org/sqlite":                          "the index is issues'; storage is git's files",
		"github.com/charmbracelet/bubbletea":          "storage draws nothing",
	}
	for _, d := range deps {
		if why, ok := forbidden[d]; ok {
			t.Errorf("repo must not import %s: %s", d, why)
		}
	}
}
