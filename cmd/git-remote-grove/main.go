// Command git-remote-grove is the git remote helper for grove:// URLs; git
// runs it for `git clone/fetch/push grove://RID[/NID]`.
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
	code := cmd.RemoteHelper(ctx, os.Args[1:], cmd.Stdio())
	stop()
	os.Exit(code)
}
