// Command grove-node is grove's command line with a libp2p node in
// process: `grove node start`, and `grove clone`, `seed --from` and `sync`
// with no node running, run it with the same arguments, so that grove
// itself starts without libp2p.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"example.com/grove/cmd"
	"example.com/grove/cmd/netcmd"
)

func main() {
	stopProfile := cmd.StartProfile() // GROVE_CPUPROFILE
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := netcmd.Main(ctx, os.Args[1:], netcmd.Stdio())
	stop()
	stopProfile()
	os.Exit(code)
}
