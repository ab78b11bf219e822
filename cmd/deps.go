package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// deps is what a command's run function reaches beyond its flags: the
// streams (and whether each is a terminal), the clock, and how to find the
// home, the user's key and the project, as funcs a test replaces. Each
// command's options struct embeds it; its run function is plain Go that a
// test calls directly.
type deps struct {
	IO  IO
	Now func() time.Time
	// Home returns $GROVE_HOME, or ~/.grove.
	Home func() (repo.Home, error)
	// Key unlocks the user's signing key (asking Passphrase, when it is
	// encrypted); NID reads who the user is without unlocking it.
	Key        func() (*protocol.Key, error)
	NID        func() (protocol.NID, error)
	Passphrase func() ([]byte, error)
	// Repo opens the project the command acts on: --repo's, or else the
	// one the working copy's Grove remote (any grove:// remote) names.
	Repo func(ctx context.Context) (*repo.Repo, error)
	// Announce is called after every change to the user's namespace: it
	// asks a running node to announce it and says where it went.
	Announce func(ctx context.Context, rid protocol.RID)
	// Editor asks the user for a text in $VISUAL or $EDITOR, starting
	// from initial.
	Editor func(ctx context.Context, initial string) (string, error)
	// Nodes starts libp2p nodes in this process: nil in grove, whose
	// commands that need one Handoff their command line to grove-node.
	Nodes   Nodes
	Handoff func(ctx context.Context, program string) error
}

// getenv returns the environment variable k, or "".
func (d *deps) getenv(k string) string {
	v, _ := d.IO.LookupEnv(k)
	return v
}

// info prints a line of progress on stderr when it is a terminal.
func (d *deps) info(format string, a ...any) {
	if d.IO.ErrTTY {
		fmt.Fprintf(d.IO.Err, format+"\n", a...)
	}
}

// deps returns the dependencies of a command run by the program; rid, when
// not nil, is the command's --repo flag, read when Repo is called.
func (e *env) deps(rid *string) deps {
	return deps{
		IO:         e.io,
		Now:        e.now,
		Home:       e.home,
		Key:        e.key,
		NID:        e.nid,
		Passphrase: e.passphrase,
		Repo: func(ctx context.Context) (*repo.Repo, error) {
			flag := ""
			if rid != nil {
				flag = *rid
			}
			return e.project(ctx, flag)
		},
		Announce: func(ctx context.Context, rid protocol.RID) { announceLine(ctx, e, rid, "saved") },
		Editor:   e.editor,
		Nodes:    e.nodes,
		Handoff:  e.runProgram,
	}
}

// repoFlag is --repo (-R): the project a command acts on.
func repoFlag(c *cobra.Command, p *string) {
	c.Flags().StringVarP(p, "repo", "R", "", "project `RID` (default: this working copy's)")
}

// optString is a string flag that knows whether it was given, so that a
// run function need not ask cobra.
type optString struct {
	Value string
	Given bool
}

func (s *optString) Set(v string) error { s.Value, s.Given = v, true; return nil }
func (s *optString) String() string     { return s.Value }

// Type is pflag's name for the kind, which help and man pages show.
func (s *optString) Type() string { return "string" }

// give returns an optString given as v.
func give(v string) optString { return optString{Value: v, Given: true} }

// bodyInput is --body / --body-file, or the editor.
type bodyInput struct {
	Body optString
	File optString
}

func (b *bodyInput) flags(c *cobra.Command, what string) {
	c.Flags().VarP(&b.Body, "body", "b", what+" (markdown)")
	c.Flags().VarP(&b.File, "body-file", "F", "read the "+what+" from `FILE` (- for stdin)")
}

// given reports whether --body or --body-file was given.
func (b *bodyInput) given() bool { return b.Body.Given || b.File.Given }

// read returns the body from the flags, or from the editor when neither
// flag was given and stdin is a terminal. ok is false when there is none.
func (b *bodyInput) read(ctx context.Context, d *deps) (body string, ok bool, err error) {
	switch {
	case b.Body.Given && b.File.Given:
		return "", false, usagef("give --body or --body-file, not both")
	case b.Body.Given:
		return b.Body.Value, true, nil
	case b.File.Given:
		var data []byte
		if b.File.Value == "-" {
			data, err = io.ReadAll(io.LimitReader(d.IO.In, issues.MaxBody+1))
		} else {
			data, err = os.ReadFile(b.File.Value)
		}
		if err != nil {
			return "", false, fmt.Errorf("read body: %w", err)
		}
		return string(data), true, nil
	case d.IO.InTTY:
		s, err := d.Editor(ctx, "")
		return s, err == nil, err
	}
	return "", false, nil
}

// scissors ends the text of a titled editor buffer: the lines from it on
// are help, as with git commit --cleanup=scissors, so that a markdown
// heading in the description is kept as written.
const scissors = "# ------------------------ >8 ------------------------"

// editTitled asks the user for the title and description of a new what
// (an issue, a patch) in one editor buffer, starting from title and body,
// as git commit and gh do: the title on the first line, the description
// below it, and a short help under a scissors line. An empty title aborts,
// with nothing made.
func editTitled(ctx context.Context, d *deps, what, title, body string) (string, string, error) {
	buf := title + "\n\n" + body
	if body != "" {
		buf += "\n"
	}
	buf += "\n" + scissors + "\n" +
		"# Do not change or remove the line above; everything below it is ignored.\n" +
		"# Write the " + what + "'s title on the first line and its description, in\n" +
		"# markdown, below it. An empty title aborts: no " + what + " is made.\n"
	s, err := d.Editor(ctx, buf)
	if err != nil {
		return "", "", err
	}
	title, body = parseTitled(s)
	if title == "" {
		return "", "", fmt.Errorf("empty title: no %s made", what)
	}
	return title, body, checkTitle(give(title))
}

// parseTitled returns the title (the first line with text) and the
// description (the lines after it) of a buffer editTitled wrote, cut at
// the scissors line.
func parseTitled(s string) (title, body string) {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if i := strings.Index("\n"+s+"\n", "\n"+scissors+"\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimLeft(s, " \t\n")
	title, body, _ = strings.Cut(s, "\n")
	body = strings.TrimRight(strings.TrimLeft(body, "\n"), " \t\n")
	return strings.TrimSpace(title), body
}

// editor opens $VISUAL or $EDITOR on a file holding initial and returns
// what was written, exactly (markdown headings are not comments).
func (e *env) editor(ctx context.Context, initial string) (string, error) {
	ed := e.getenv("VISUAL")
	if ed == "" {
		ed = e.getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	f, err := os.CreateTemp("", "grove-issue-*.md")
	if err != nil {
		return "", fmt.Errorf("editor: %w", err)
	}
	_, err = f.WriteString(initial)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("editor: %w", err)
	}
	defer os.Remove(f.Name())
	c := exec.CommandContext(ctx, "sh", "-c", ed+` "$1"`, "sh", f.Name())
	c.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GROVE_PASSPHRASE=") // the editor has no use for it
	})
	c.Stdin, c.Stdout, c.Stderr = e.io.In, e.io.Out, e.io.Err
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("editor %s: %w", ed, err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return "", fmt.Errorf("editor: %w", err)
	}
	return string(b), nil
}

// on is what a command takes besides its own flags: its dependencies,
// and for a command on a project (or on one of its objects) --repo and
// the object's ID.
type on struct {
	deps
	RID string // --repo: the project's RID; "" for the working copy's
	ID  string // the object's ID, or any unique prefix of it
	// Args are the positional arguments, the ID first.
	Args []string
}

// object makes c a command on one object: it takes the object's ID, and
// --repo, and runs run.
func (o *on) object(e *env, c *cobra.Command, run func(context.Context) error) *cobra.Command {
	return o.bind(e, c, 1, true, run)
}

// project makes c a command on a project: it takes no arguments, and
// --repo, and runs run.
func (o *on) project(e *env, c *cobra.Command, run func(context.Context) error) *cobra.Command {
	return o.bind(e, c, 0, true, run)
}

// bind makes c take nargs arguments (the object's ID first), and --repo
// when withRepo is set, and run run with o's dependencies.
func (o *on) bind(e *env, c *cobra.Command, nargs int, withRepo bool, run func(context.Context) error) *cobra.Command {
	o.deps = e.deps(&o.RID)
	c.Args = exactArgs(nargs)
	c.RunE = func(c *cobra.Command, args []string) error {
		if o.Args = args; nargs > 0 {
			o.ID = args[0]
		}
		return run(c.Context())
	}
	if withRepo {
		repoFlag(c, &o.RID)
	}
	return c
}

// doc returns a command with its help: how it is called, what it does in
// a line, and, where not empty, in paragraphs, and examples.
func doc(use, short, long, example string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Example: example}
}

// projectOrArg makes c a command on a project given by --repo or as its
// one, optional, argument.
func (o *on) projectOrArg(e *env, c *cobra.Command, run func(context.Context) error) *cobra.Command {
	o.project(e, c, run)
	c.Args = maxArgs(1)
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 1 {
			if o.RID != "" && o.RID != args[0] {
				return usagef("pass the project either as RID or as --repo")
			}
			o.RID = args[0]
		}
		return run(c.Context())
	}
	return c
}
