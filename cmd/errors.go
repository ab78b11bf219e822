package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// UsageError is a mistake in how a command was called; it exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, a ...any) error { return &UsageError{Err: fmt.Errorf(format, a...)} }

// silentError has been reported already; it only sets the exit code.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode prints err as one line and returns the exit code: 0 success,
// 1 failure, 2 bad usage.
func exitCode(err error, stderr io.Writer) int {
	var usage *UsageError
	var silent *silentError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "grove: %s\nsee 'grove help'\n", oneLine(err))
		return 2
	default:
		fmt.Fprintf(stderr, "grove: %s\n", oneLine(err))
		return 1
	}
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
