package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Example: `  grove man /usr/local/share/man/man1
  grove man ./man && man ./man/grove-init.1`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			hdr := &doc.GenManHeader{Title: "GROVE", Section: "1", Source: "Grove"}
			return doc.GenManTree(c.Root(), hdr, args[0])
		},
	}
}
