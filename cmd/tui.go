package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

// tuiProgram is the program that holds the terminal UI (cmd/grove-tui);
// grove runs it so that grove itself does not link the UI.
const tuiProgram = "grove-tui"

type tuiOptions struct {
	Repo string
}

func newTUICmd(e *env) *cobra.Command {
	o := &tuiOptions{}
	c := &cobra.Command{
		Use:   "tui [RID]",
		Short: "Browse projects, issues, patches and code in the terminal",
		Long: `Browse projects, issues, patches and code in the terminal.

With no RID the UI opens on the project list. Keys are shown at the bottom;
press ? for all of them. Text is written in a text area, or in $VISUAL or
$EDITOR with ctrl+e. A running node's updates show up as they land.

The UI is the program grove-tui, installed next to grove.`,
		Example: "  grove tui\n  grove tui " + "baf4bcf…",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Repo = args[0]
			}
			return tuiRun(c.Context(), e, o)
		},
	}
	c.Flags().StringVarP(&o.Repo, "repo", "R", "", "open the project `RID`")
	return c
}

// tuiRun replaces grove with grove-tui, so that the terminal, signals and
// the exit code are the UI's own. The environment goes through whole:
// GROVE_HOME, GROVE_PASSPHRASE, TERM, VISUAL and EDITOR are the UI's too.
func tuiRun(ctx context.Context, e *env, o *tuiOptions) error {
	path, err := findProgram(tuiProgram)
	if err != nil {
		return err
	}
	argv := []string{tuiProgram}
	if o.Repo != "" {
		argv = append(argv, "--repo="+o.Repo)
	}
	return execProgram(ctx, e, path, argv)
}
