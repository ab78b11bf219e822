package cmd

import (
	"github.com/spf13/cobra"
)

// manProgram writes the man pages (cmd/grove-man); grove runs it so that
// grove itself does not link the man page renderer.
const manProgram = "grove-man"

func newManCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Long: `Write man pages for every command into DIR.

The pages are written by the program grove-man, installed next to grove.`,
		Example: `  grove man /usr/local/share/man/man1
  grove man ./man && man ./man/grove-init.1`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path, err := findProgram(manProgram)
			if err != nil {
				return err
			}
			return execProgram(c.Context(), e, path, []string{manProgram, args[0]})
		},
	}
}

// Command returns grove's command tree, for documentation generators; it
// is not wired to any streams and must not be executed.
func Command() *cobra.Command {
	return newRoot(&env{io: IO{}, args: []string{}})
}
