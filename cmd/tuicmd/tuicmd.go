// Package tuicmd is the program grove-tui, which `grove tui` runs: it wires
// the terminal UI to local storage, the issue index, a running node and
// the markdown and code renderer (tui/render). It lives apart from package
// cmd so that grove, which every script calls, does not link (and
// initialise) the UI and its renderers.
package tuicmd

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/repo"
	"example.com/grove/tui"
	"example.com/grove/tui/render"
)

// IO is what the program reads and writes.
type IO = cli.IO

// Stdio returns the process's standard streams and environment.
func Stdio() IO { return cli.Stdio() }

// Main runs `grove tui` with args (what follows "tui") and returns the
// exit code.
func Main(ctx context.Context, args []string, io IO) int {
	e := &cli.Env{IO: io, Now: time.Now}
	o, err := parse(args, io.Out)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = run(ctx, e, o)
	}
	return cli.ExitCode(err, io.Err, "grove tui --help")
}

type options struct {
	Repo string
}

const usage = `Usage: grove tui [RID] [-R RID]

Browse projects, issues, patches and code in the terminal; 'grove tui --help'
says more.
`

// parse reads grove tui's flags and its optional RID, which wins over --repo.
func parse(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("grove tui", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Repo, "repo", "", "open the project `RID`")
	fs.StringVar(&o.Repo, "R", "", "open the project `RID`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(out, usage)
			return nil, err
		}
		return nil, &cli.UsageError{Err: err}
	}
	switch fs.NArg() {
	case 0:
	case 1:
		o.Repo = fs.Arg(0)
	default:
		return nil, cli.Usagef("grove tui takes at most 1 argument(s), got %d", fs.NArg())
	}
	return o, nil
}

func run(ctx context.Context, e *cli.Env, o *options) error {
	if !e.IO.InTTY || !e.IO.OutTTY {
		return errors.New("grove tui needs a terminal: run it in one, or use 'grove ls' and 'grove issue list' in scripts")
	}
	opts, err := setup(ctx, e, o, "")
	if err != nil {
		return err
	}
	return tui.Run(ctx, opts, e.IO.In, e.IO.Out)
}

// setup returns the UI's options for a program started in dir ("" for the
// current directory).
func setup(ctx context.Context, e *cli.Env, o *options, dir string) (tui.Options, error) {
	h, err := e.Home()
	if err != nil {
		return tui.Options{}, err
	}
	rid, err := startProject(ctx, e, o.Repo, dir)
	if err != nil {
		return tui.Options{}, err
	}
	src := newAdapter(h, e.Now)
	// Unlock the key now, before the screen is taken over, so that a
	// passphrase prompt can be answered; browsing works without a key.
	if k, err := e.Key(); err == nil {
		src.key = k
	} else if !errors.Is(err, repo.ErrNoKey) {
		return tui.Options{}, err
	}
	r := renderer(e.IO.Out)
	return tui.Options{
		Source:   src.source(),
		Renderer: r,
		Text:     render.New(r.ColorProfile(), r.HasDarkBackground()),
		Now:      e.Now,
		RID:      rid,
		Editor:   strings.Fields(firstNonEmpty(e.Getenv("VISUAL"), e.Getenv("EDITOR"))),
		Poll:     2 * time.Second,
	}, nil
}

// startProject returns the RID of the project the UI opens on: the one
// named by flagRID (the argument or --repo), else, in a Grove working copy
// in dir (a git repository with a grove:// remote, whatever its name), its
// project; "" outside one, for the project list.
func startProject(ctx context.Context, e *cli.Env, flagRID, dir string) (string, error) {
	if flagRID == "" {
		rem, err := cli.WorkingCopy(ctx, dir)
		if errors.Is(err, cli.ErrNotWorkingCopy) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		flagRID = rem.URL.RID.String()
	}
	r, err := e.Project(ctx, flagRID)
	if err != nil {
		return "", err
	}
	return r.RID.String(), nil
}

// renderer returns a renderer for out with its colour profile and
// background already known. Asking the terminal for its background (an OSC
// 11 query) has to happen before the UI starts reading the terminal: once
// bubbletea reads input, it takes the terminal's answer for keys, and the
// query then waits out termenv's 5 s timeout in the middle of the first
// frame. Bubbletea's init asks it for lipgloss's default renderer, which
// draws on standard output: there the answer is reused, not asked again.
func renderer(out io.Writer) *lipgloss.Renderer {
	r := lipgloss.DefaultRenderer()
	if f, ok := out.(*os.File); !ok || f != os.Stdout {
		r = lipgloss.NewRenderer(out)
	}
	r.ColorProfile()
	r.HasDarkBackground()
	return r
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
