// Command grove is Grove's command line: identities, projects, the node,
// issues, patches and the terminal UI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"example.com/grove/cmd"
)

func main() {
	stopProfile, err := cmd.StartProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: %v\n", err)
		os.Exit(1)
	}
	// A grove command is short and its live heap small: collecting at five
	// times the live heap instead of twice spares a listing of 10,000
	// issues its one collection (17% of its CPU); a cold index rebuild
	// peaks at 58 MiB instead of 45. GOGC still wins when set.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Grove(ctx, os.Args[1:], cmd.Stdio())
	stop()
	stopProfile()
	os.Exit(code)
}
