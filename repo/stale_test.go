package repo_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"example.com/grove/repo"
)

func TestRemoveStale(t *testing.T) {
	h := repo.Home{Dir: t.TempDir()}
	old := time.Now().Add(-3 * time.Hour)
	dirs := map[string]bool{ // path → should survive
		".new-1":                        false,
		".clone-1":                      false,
		"baf4x.git/grove-tmp/fetch-1":   false,
		"baf4x.git/grove-tmp/fetch-new": true,
		"baf4x.git/grove-tmp/push-1":    true, // pushes clean their own under the lock
		"baf4x.git/objects":             true,
	}
	for d, keep := range dirs {
		p := filepath.Join(h.StorageDir(), d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if !keep || d == "baf4x.git/grove-tmp/push-1" {
			os.Chtimes(p, old, old)
		}
	}
	repo.RemoveStale(h, time.Hour)
	for d, keep := range dirs {
		_, err := os.Stat(filepath.Join(h.StorageDir(), d))
		if got := err == nil; got != keep {
			t.Errorf("%s: exists = %v, want %v", d, got, keep)
		}
	}
}
