// Command grove is Grove's command line: identities, projects, the node,
// issues, patches and the terminal UI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"example.com/grove/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Grove(ctx, os.Args[1:], cmd.Stdio())
	stop()
	os.Exit(code)
}
