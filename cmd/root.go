package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// env is what every command shares: streams, the home, a clock.
type env struct {
	io  IO
	now func() time.Time
	// args are the program's arguments, for handing the command line to
	// grove-node.
	args []string
	// nodes start libp2p nodes in this process: nil in grove, which runs
	// grove-node instead (runProgram).
	nodes Nodes
}

// cli is the shared environment grove and grove-tui both use.
func (e *env) cli() *cli.Env { return &cli.Env{IO: e.io, Now: e.now} }

func (e *env) home() (repo.Home, error)    { return e.cli().Home() }
func (e *env) getenv(k string) string      { return e.cli().Getenv(k) }
func (e *env) passphrase() ([]byte, error) { return e.cli().Passphrase() }

// key loads the user's signing key.
func (e *env) key() (*protocol.Key, error) { return e.cli().Key() }

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
	return e.cli().Project(ctx, flagRID)
}

// Grove runs the grove command line with args and returns the exit code.
func Grove(ctx context.Context, args []string, io IO) int {
	return run(ctx, &env{io: io, now: time.Now, args: args})
}

// run runs the command line e.args.
func run(ctx context.Context, e *env) int {
	if e.args == nil {
		e.args = []string{} // cobra reads os.Args for nil
	}
	io := e.io
	root := newRoot(e)
	root.SetArgs(e.args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	unknownSubcommands(root)
	c, err := root.ExecuteContextC(ctx)
	if c == nil || c == root {
		return exitCode(err, io.Err)
	}
	// A usage error points at the help of the command that was called.
	return cli.ExitCode(err, io.Err, c.CommandPath()+" --help")
}

// unknownSubcommands makes every command that has subcommands refuse an
// unknown one as a usage error (exit 2) that suggests the nearest, where
// cobra would print help and exit 0 (or, at the root, fail with exit 1),
// and show its help when called alone.
func unknownSubcommands(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	c.SuggestionsMinimumDistance = 2
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(": did you mean %q?", s[0])
		}
		return usagef("%s", msg)
	}
	if c.RunE == nil && c.Run == nil {
		c.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	}
	for _, sub := range c.Commands() {
		unknownSubcommands(sub)
	}
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
	// A run that names a command builds only that one: building all of
	// them costs a fresh process about a millisecond, a thirtieth of
	// grove issue new. Help, completion, typos, flags first and man
	// (which documents every command) see all.
	name := ""
	if len(e.args) > 0 {
		name = e.args[0]
	}
	if mk, ok := commands[name]; ok && name != "man" {
		root.AddCommand(mk(e))
		return root
	}
	for _, name := range commandOrder {
		root.AddCommand(commands[name](e))
	}
	if completing(e.args) {
		addCompletions(e, root)
	}
	return root
}

// commands makes each of grove's commands by name; commandOrder is the
// order help lists them in.
var commands = map[string]func(*env) *cobra.Command{
	"auth":     newAuthCmd,
	"self":     newSelfCmd,
	"device":   newDeviceCmd,
	"init":     newInitCmd,
	"ls":       newLsCmd,
	"id":       newIDCmd,
	"verify":   newVerifyCmd,
	"issue":    newIssueCmd,
	"patch":    newPatchCmd,
	"search":   newSearchCmd,
	"node":     newNodeCmd,
	"connect":  newConnectCmd,
	"seed":     newSeedCmd,
	"unseed":   newUnseedCmd,
	"clone":    newCloneCmd,
	"sync":     newSyncCmd,
	"follow":   newFollowCmd,
	"unfollow": newUnfollowCmd,
	"block":    newBlockCmd,
	"unblock":  newUnblockCmd,
	"remote":   newRemoteCmd,
	"man":      newManCmd,
	"tui":      newTUICmd,
	"demo":     newDemoCmd,
}

var commandOrder = []string{"auth", "self", "device", "init", "ls", "id", "verify", "issue", "patch", "search", "node", "connect", "seed", "unseed", "clone", "sync", "follow", "unfollow", "block", "unblock", "remote", "man", "tui", "demo"}

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
