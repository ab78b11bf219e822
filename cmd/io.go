// Package cmd wires Grove's commands: the cobra tree of `grove` and the git
// remote helper. Logic lives in the packages below; here are flags, output
// and exit codes.
package cmd

import "example.com/grove/cmd/internal/cli"

// IO is what a command reads and writes, injected so tests can capture it.
type IO = cli.IO

// Stdio returns the process's standard streams and environment.
func Stdio() IO { return cli.Stdio() }
