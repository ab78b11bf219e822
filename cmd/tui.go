package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

// tuiProgram is the program that holds the terminal UI (cmd/grove-tui);
// grove runs it so that grove itself does not link the UI.
const tuiProgram = "grove-tui"

func newTUICmd(e *env) *cobra.Command {
	o := &on{}
	return o.projectOrArg(e, doc("tui [RID]", "Browse projects, issues, patches and code in the terminal",
		`Browse projects, issues, patches and code in the terminal.

With no RID, inside a working copy of a project (a git repository with a
grove:// remote, whatever its name) the UI opens on that project, and
elsewhere on the project list. Keys are shown at the bottom;
press ? for all of them. Text is written in a text area, or in $VISUAL or
$EDITOR with ctrl+e. A running node's updates show up as they land.

The UI is the program grove-tui, installed next to grove.`,
		"  grove tui\n  grove tui "+"baf4bcf…",
	), func(ctx context.Context) error { return tuiRun(ctx, o) })
}

// tuiRun replaces grove with grove-tui, so that the terminal, signals and
// the exit code are the UI's own. The environment goes through whole:
// GROVE_HOME, GROVE_PASSPHRASE, TERM, VISUAL and EDITOR are the UI's too.
func tuiRun(ctx context.Context, o *on) error {
	path, err := findProgram(tuiProgram)
	if err != nil {
		return err
	}
	argv := []string{tuiProgram}
	if o.RID != "" {
		argv = append(argv, "--repo="+o.RID)
	}
	return execProgram(ctx, o.IO, path, argv)
}
