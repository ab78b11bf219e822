// Command gitgen writes a deterministic, realistic git history into a
// repository, for end-to-end tests and benchmarks.
//
// Usage:
//
//	gitgen [-commits N] [-branches N] [-merges N] [-tags N] [-files N] [-seed N] DIR
//
// DIR must hold a repository without refs, or none: then a bare one is
// created. Nothing is printed on success. See package
// example.com/grove/bench/gitgen for what the counts mean.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"example.com/grove/bench/gitgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "gitgen: %v\n", err)
		os.Exit(1)
	}
}

// run parses args and generates the history; usage goes to stderr.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gitgen", flag.ContinueOnError)
	var o gitgen.Options
	fs.IntVar(&o.Commits, "commits", 3000, "total `number` of commits, merges included")
	fs.IntVar(&o.Branches, "branches", 30, "`number` of branches besides main")
	fs.IntVar(&o.Merges, "merges", 40, "`number` of merge commits on main")
	fs.IntVar(&o.Tags, "tags", 20, "`number` of annotated tags (plus (tags+4)/5 lightweight ones)")
	fs.IntVar(&o.Files, "files", 200, "`number` of files in the root commit")
	fs.Int64Var(&o.Seed, "seed", 1, "random `seed`; the same seed and options give the same history")
	fs.SetOutput(io.Discard) // errors are reported once, by main
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: gitgen [flags] DIR\n")
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want exactly one DIR argument, got %d (run gitgen -h for usage)", fs.NArg())
	}
	return gitgen.Generate(ctx, fs.Arg(0), o)
}
