package cmd

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// StartProfile starts a CPU profile of this one command into the file
// GROVE_CPUPROFILE names, for `go tool pprof`; it is how the numbers in
// docs/BENCHMARKS.md were chased down. stop writes it out and must run
// before the program exits, whatever its exit code. With the variable
// unset, stop does nothing. A command grove hands to grove-index or
// grove-node is profiled by that program, into the same file.
func StartProfile() (stop func(), err error) {
	path := os.Getenv("GROVE_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		return nil, fmt.Errorf("GROVE_CPUPROFILE: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
