package cmd

import (
	"io"

	"example.com/grove/cmd/internal/cli"
)

// UsageError is a mistake in how a command was called; it exits 2.
type UsageError = cli.UsageError

func usagef(format string, a ...any) error { return cli.Usagef(format, a...) }

// silentError has been reported already; it only sets the exit code.
type silentError = cli.ExitError

// exitCode prints err as one line and returns the exit code, from the one
// table (cli.ExitCode): 0 success, 1 failure, 2 bad usage.
func exitCode(err error, stderr io.Writer) int { return cli.ExitCode(err, stderr, "grove help") }

func oneLine(err error) string { return cli.OneLine(err) }
