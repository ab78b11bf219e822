package repo

import (
	"strings"
	"testing"
)

// TestGitEnvLeavesOutPassphrase: no git grove starts (nor the hooks,
// pagers and credential helpers it runs) sees the key's passphrase.
func TestGitEnvLeavesOutPassphrase(t *testing.T) {
	t.Setenv("GROVE_PASSPHRASE", "correct horse")
	t.Setenv("GIT_DIR", "/elsewhere")
	for _, kv := range GitEnv("EXTRA=1") {
		if strings.HasPrefix(kv, "GROVE_PASSPHRASE=") || strings.HasPrefix(kv, "GIT_DIR=") {
			t.Errorf("git's environment holds %s", kv)
		}
	}
	if c := GitCommand(t.Context(), "", "version"); strings.Contains(strings.Join(c.Env, "\n"), "correct horse") {
		t.Error("GitCommand passes the passphrase on")
	}
}
