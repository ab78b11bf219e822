package sync

import "testing"

// TestLocalGitFailure tells git's stderr of a fetch that failed here (no
// strike for the peer) from one that refused the peer's objects.
func TestLocalGitFailure(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"disk full", "error: write error: No space left on device\nfatal: index-pack failed", true},
		{"quota", "fatal: unable to write file: Disk quota exceeded\nfatal: index-pack failed", true},
		{"read-only", "fatal: Unable to create temporary file '/s/objects/pack/tmp_pack_X': Read-only file system\nfatal: index-pack failed", true},
		{"a ref's lock", "error: cannot lock ref 'refs/x': Unable to create '/s/refs/x.lock': File exists.", true},
		{"a stale shallow lock", "fatal: Unable to create '/s/shallow.lock': File exists.", true},
		{"memory", "fatal: Out of memory, malloc failed (tried to allocate 1 bytes)\nfatal: index-pack failed", true},
		{"bad object", "error: object 1234: badTimezone: invalid author/committer line - bad time zone\nfatal: fsck error in packed object\nfatal: index-pack failed", false},
		{"bad pack", "fatal: pack has bad object at offset 12: inflate returned -3\nfatal: index-pack failed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := localGitFailure(tt.in); got != tt.want {
				t.Fatalf("localGitFailure(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
