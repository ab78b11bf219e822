package tuicmd

import (
	"context"
	"strings"
	"testing"
)

// TestMainArgs: without a terminal grove-tui says so, and what to use
// instead, and exits 1; bad arguments are a usage error (exit 2).
func TestMainArgs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		tty      bool
		wantCode int
		wantErr  string
	}{
		{name: "no terminal", wantCode: 1, wantErr: "grove: grove tui needs a terminal: run it in one, or use 'grove ls' and 'grove issue list' in scripts\n"},
		{name: "no terminal, with a RID", args: []string{"baf4bcfbfeeepdnqxbdn5x4ayqd6ha5tikp3ujgy"}, wantCode: 1, wantErr: "grove: grove tui needs a terminal"},
		{name: "two arguments", args: []string{"a", "b"}, tty: true, wantCode: 2, wantErr: "grove: grove tui takes at most 1 argument(s), got 2\n"},
		{name: "unknown flag", args: []string{"--frob"}, tty: true, wantCode: 2, wantErr: "grove: flag provided but not defined: -frob\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut strings.Builder
			io := IO{In: strings.NewReader(""), Out: &out, Err: &errOut, InTTY: tt.tty, OutTTY: tt.tty,
				LookupEnv: func(k string) (string, bool) {
					if k == "GROVE_HOME" {
						return t.TempDir(), true
					}
					return "", false
				}}
			code := Main(context.Background(), tt.args, io)
			if code != tt.wantCode || !strings.HasPrefix(errOut.String(), tt.wantErr) {
				t.Errorf("Main(%q) = %d, stderr %q; want %d, %q", tt.args, code, errOut.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
