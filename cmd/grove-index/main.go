// Command grove-index is grove's command line with the SQLite issue index
// in process: `grove issue list` runs it with the same arguments when the
// list snapshot cannot answer (a search, or refs that moved since the
// snapshot in ways it cannot be brought forward over), so that grove
// itself starts without SQLite.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "modernc.org/sqlite" // issues.SQLDriver

	"example.com/grove/cmd"
)

func main() {
	stopProfile, err := cmd.StartProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
		os.Exit(1)
	}
	// As in grove: a short command with a small live heap, collected at
	// five times it rather than twice (see cmd/grove).
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.GroveIndex(ctx, os.Args[1:], cmd.Stdio())
	stop()
	stopProfile()
	os.Exit(code)
}
