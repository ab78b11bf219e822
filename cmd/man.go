package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func newManCmd(*env) *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write man pages for every command into DIR",
		Hidden: true,
		Long:   `Write a man page for every command into DIR, creating it.`,
		Example: `  grove man /usr/local/share/man/man1
  grove man ./man && man ./man/grove-init.1`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return writeMan(c.Root(), args[0]) },
	}
}

// writeMan writes a man page for every command of root's tree into dir,
// creating it.
func writeMan(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	hdr := &doc.GenManHeader{Title: "GROVE", Section: "1", Source: "Grove"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	return nil
}
