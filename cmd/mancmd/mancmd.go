// Package mancmd is the program grove-man, which `grove man DIR` runs: it
// writes a man page for every command of grove's command tree. It lives
// apart from package cmd so that grove does not link (and initialise) the
// markdown and roff renderers on every call.
package mancmd

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra/doc"

	"example.com/grove/cmd"
	"example.com/grove/cmd/internal/cli"
)

// IO is what the program reads and writes.
type IO = cli.IO

// Stdio returns the process's standard streams and environment.
func Stdio() IO { return cli.Stdio() }

// Main writes the man pages into the one directory args names and returns
// the exit code.
func Main(ctx context.Context, args []string, io IO) int {
	var err error
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		err = cli.Usagef("grove man takes one argument, the directory DIR")
	} else {
		err = Write(args[0])
	}
	return cli.ExitCode(err, io.Err, "grove man --help")
}

// Write writes a man page for every command into dir, creating it.
func Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	hdr := &doc.GenManHeader{Title: "GROVE", Section: "1", Source: "Grove"}
	if err := doc.GenManTree(cmd.Command(), hdr, dir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}
