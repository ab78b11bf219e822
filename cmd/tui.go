package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/repo"
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
// the exit code are the UI's own.
func tuiRun(ctx context.Context, e *env, o *tuiOptions) error {
	path, err := findTUI()
	if err != nil {
		return err
	}
	argv := []string{tuiProgram}
	if o.Repo != "" {
		argv = append(argv, "--repo="+o.Repo)
	}
	if isStdio(e.io) {
		// The environment goes through whole: GROVE_HOME,
		// GROVE_PASSPHRASE, TERM, VISUAL and EDITOR are the UI's too.
		err := syscall.Exec(path, argv, os.Environ())
		return fmt.Errorf("run %s: %w", path, err)
	}
	// Streams that are not this process's own (a test calling Grove)
	// cannot be handed over: run the UI as a child on them instead.
	c := exec.CommandContext(ctx, path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = e.io.In, e.io.Out, e.io.Err
	err = c.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return &silentError{code: max(ee.ExitCode(), 1)} // -1: killed by a signal
	}
	return err
}

// findTUI looks for grove-tui next to the running grove, then on PATH.
func findTUI() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), tuiProgram)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(tuiProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed next to grove: run 'go install ./cmd/...'", tuiProgram)
}

// isStdio reports whether io's streams are this process's standard ones,
// which an exec'd program inherits.
func isStdio(io IO) bool {
	for fd, s := range []any{io.In, io.Out, io.Err} {
		f, ok := s.(*os.File)
		if !ok || f.Fd() != uintptr(fd) {
			return false
		}
	}
	return true
}

// announce asks a running node, if any, to tell peers about a change;
// with none the change waits in storage for the next sync.
func announce(ctx context.Context, h repo.Home, rid protocol.RID) {
	cli.Announce(ctx, h, rid)
}
