package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// env is what every command shares: streams, the home, a clock.
type env struct {
	io  IO
	now func() time.Time
}

func (e *env) home() (repo.Home, error) {
	if d := e.getenv("GROVE_HOME"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return repo.Home{}, fmt.Errorf("GROVE_HOME: %w", err)
		}
		return repo.Home{Dir: abs}, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return repo.Home{}, fmt.Errorf("no home directory: set GROVE_HOME")
	}
	return repo.Home{Dir: filepath.Join(h, ".grove")}, nil
}

// passphrase returns GROVE_PASSPHRASE, or asks on the terminal.
func (e *env) passphrase() ([]byte, error) {
	if p, ok := e.io.LookupEnv("GROVE_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: set GROVE_PASSPHRASE to unlock the key", repo.ErrPassphrase)
	}
	defer tty.Close()
	fmt.Fprint(tty, "Passphrase: ")
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return p, nil
}

func (e *env) getenv(k string) string {
	v, _ := e.io.LookupEnv(k)
	return v
}

// key loads the user's signing key.
func (e *env) key() (*protocol.Key, error) {
	h, err := e.home()
	if err != nil {
		return nil, err
	}
	k, err := repo.LoadKey(h, e.passphrase)
	switch {
	case errors.Is(err, repo.ErrNoKey):
		return nil, fmt.Errorf("no key yet in %s: run 'grove auth' first", h.Dir)
	case errors.Is(err, repo.ErrPassphrase):
		return nil, fmt.Errorf("cannot unlock your key: wrong or missing passphrase (set GROVE_PASSPHRASE in scripts)")
	}
	return k, err
}

// nid returns the user's NID without unlocking the key.
func (e *env) nid() (protocol.NID, error) {
	h, err := e.home()
	if err != nil {
		return protocol.NID{}, err
	}
	n, err := repo.PublicNID(h)
	if errors.Is(err, repo.ErrNoKey) {
		return protocol.NID{}, fmt.Errorf("no key yet in %s: run 'grove auth' first", h.Dir)
	}
	return n, err
}

// project opens the project named by --repo, or else the one the working
// copy's "grove" remote points at.
func (e *env) project(ctx context.Context, flagRID string) (*repo.Repo, error) {
	h, err := e.home()
	if err != nil {
		return nil, err
	}
	var rid protocol.RID
	if flagRID != "" {
		rid, err = protocol.ParseRID(strings.TrimPrefix(flagRID, protocol.URLScheme))
		if err != nil {
			return nil, usagef("%v", err)
		}
	} else {
		out, gerr := repo.GitCommand(ctx, "", "config", "--get", "remote.grove.url").Output()
		if gerr != nil {
			return nil, fmt.Errorf("not in a Grove working copy (no remote \"grove\"): pass --repo RID or run 'grove init'")
		}
		u, err := protocol.ParseURL(strings.TrimSpace(string(out)))
		if err != nil {
			return nil, fmt.Errorf("remote \"grove\": %w", err)
		}
		rid = u.RID
	}
	r, err := repo.Open(h, rid)
	if errors.Is(err, repo.ErrNotFound) {
		return nil, fmt.Errorf("project %s is not in local storage: clone it with 'grove clone %s'", rid, rid)
	}
	return r, err
}

// Grove runs the grove command line with args and returns the exit code.
func Grove(ctx context.Context, args []string, io IO) int {
	e := &env{io: io, now: time.Now}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	return exitCode(err, io.Err)
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "grove",
		Short: "Peer-to-peer collaboration for git",
		Long: `Peer-to-peer collaboration for git.

Grove lets a team collaborate on git projects with no server: each peer
holds the projects it cares about, signs its own refs, and exchanges objects
directly with other peers.`,
		Example: `  grove auth --alias alice
  cd myproject && grove init
  git push grove main
  git clone grove://RID`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &UsageError{Err: err} })
	root.AddCommand(
		newAuthCmd(e),
		newSelfCmd(e),
		newInitCmd(e),
		newLsCmd(e),
		newIDCmd(e),
		newVerifyCmd(e),
		newIssueCmd(e),
		newPatchCmd(e),
		newNodeCmd(e),
		newConnectCmd(e),
		newSeedCmd(e),
		newUnseedCmd(e),
		newCloneCmd(e),
		newSyncCmd(e),
		newFollowCmd(e),
		newUnfollowCmd(e),
		newRemoteCmd(e),
		newManCmd(e),
		newTUICmd(e),
		newDemoCmd(e),
	)
	return root
}

// args validators that report usage errors (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", c.CommandPath(), n, len(args))
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument(s), got %d", c.CommandPath(), n, len(args))
		}
		return nil
	}
}
