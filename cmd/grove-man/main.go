// Command grove-man writes Grove's man pages, which `grove man DIR` runs;
// it is a program of its own so that grove starts without the renderers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"example.com/grove/cmd/mancmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mancmd.Main(ctx, os.Args[1:], mancmd.Stdio())
	stop()
	os.Exit(code)
}
