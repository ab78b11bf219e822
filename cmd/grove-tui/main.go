// Command grove-tui is Grove's terminal UI, which `grove tui` runs; it is
// a program of its own so that grove starts without the UI's packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"example.com/grove/cmd/tuicmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := tuicmd.Main(ctx, os.Args[1:], tuicmd.Stdio())
	stop()
	os.Exit(code)
}
