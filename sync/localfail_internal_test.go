package sync

import "testing"

// TestLocalGitFailure tells git's stderr of a fetch that failed here (no
// strike for the peer) from one that refused the peer's objects.
func TestLocalGitFailure(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the line that says so, "" for the peer's failures
	}{
		{"disk full", "error: write error: No space left on device\nfatal: index-pack failed", "error: write error: No space left on device"},
		{"quota", "fatal: unable to write file: Disk quota exceeded\nfatal: index-pack failed", "fatal: unable to write file: Disk quota exceeded"},
		{"read-only", "fatal: Unable to create temporary file '/s/objects/pack/tmp_pack_X': Read-only file system\nfatal: index-pack failed", "fatal: Unable to create temporary file '/s/objects/pack/tmp_pack_X': Read-only file system"},
		{"a ref's lock", "error: cannot lock ref 'refs/x': Unable to create '/s/refs/x.lock': File exists.", "error: cannot lock ref 'refs/x': Unable to create '/s/refs/x.lock': File exists."},
		{"a stale shallow lock", "fatal: Unable to create '/s/shallow.lock': File exists.", "fatal: Unable to create '/s/shallow.lock': File exists."},
		{"memory", "fatal: Out of memory, malloc failed (tried to allocate 1 bytes)\nfatal: index-pack failed", "fatal: Out of memory, malloc failed (tried to allocate 1 bytes)"},
		{"bad object", "error: object 1234: badTimezone: invalid author/committer line - bad time zone\nfatal: fsck error in packed object\nfatal: index-pack failed", ""},
		{"bad pack", "fatal: pack has bad object at offset 12: inflate returned -3\nfatal: index-pack failed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := localGitFailureLine(tt.in); got != tt.want {
				t.Fatalf("localGitFailureLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
