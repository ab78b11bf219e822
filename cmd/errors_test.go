package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestExitCode is the error → exit code table, and what each prints.
func TestExitCode(t *testing.T) {
	tests := []struct {
		name     string
		in       error
		want     int
		wantText string
	}{
		{"success", nil, 0, ""},
		{"failure", errors.New("issue ffff: not found\nmore detail"), 1, "grove: issue ffff: not found\n"},
		{"usage", usagef("--state must be open, closed or all"), 2, "grove: --state must be open, closed or all\nsee 'grove help'\n"},
		{"wrapped usage", fmt.Errorf("wrapped: %w", usagef("bad")), 2, "grove: wrapped: bad\nsee 'grove help'\n"},
		{"reported already", &silentError{Code: 3}, 3, ""},
		{"reported success", fmt.Errorf("grove-node: %w", &silentError{Code: 0}), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := exitCode(tt.in, &stderr); got != tt.want || stderr.String() != tt.wantText {
				t.Fatalf("exit %d, stderr %q; want %d, %q", got, stderr.String(), tt.want, tt.wantText)
			}
		})
	}
}
