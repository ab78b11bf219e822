// Package cmd wires Grove's commands: the cobra tree of `grove` and the git
// remote helper. Logic lives in the packages below; here are flags, output
// and exit codes.
package cmd

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IO is what a command reads and writes, injected so tests can capture it.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// LookupEnv reads the environment (os.LookupEnv in production).
	LookupEnv func(string) (string, bool)
	// InTTY, OutTTY and ErrTTY say whether each stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
}

// Stdio returns the process's standard streams and environment.
func Stdio() IO {
	isTTY := func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		LookupEnv: os.LookupEnv,
		InTTY:     isTTY(os.Stdin), OutTTY: isTTY(os.Stdout), ErrTTY: isTTY(os.Stderr),
	}
}
