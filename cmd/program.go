package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
)

// Main is grove's main function: it runs program (Grove) on the process's
// arguments and streams, and exits with its code.
func Main(program func(ctx context.Context, args []string, io IO) int) {
	stopProfile := StartProfile()
	// A grove command is short and its live heap small: collecting at five
	// times the live heap instead of twice spares a listing of 10,000
	// issues its one collection (17% of its CPU); a cold index rebuild
	// peaks at 58 MiB instead of 45. GOGC still wins when set.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := program(ctx, os.Args[1:], Stdio())
	stop()
	stopProfile()
	os.Exit(code)
}

// StartProfile starts a CPU profile of this one command into the file
// GROVE_CPUPROFILE names, for `go tool pprof`; it is how the numbers in
// docs/BENCHMARKS.md were chased down. stop writes it out. With the
// variable unset, stop does nothing. A command grove hands to grove-node
// is profiled by that program (its main calls StartProfile too), into
// the same file: execProgram stops grove's profile first, and grove-node
// starts the file again. A file that cannot be made exits the process
// with a message.
func StartProfile() (stop func()) {
	path := os.Getenv("GROVE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove: GROVE_CPUPROFILE: %v\n", err)
		os.Exit(1)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
