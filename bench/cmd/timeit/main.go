// Command timeit runs a command several times and prints the median wall
// time of one run in milliseconds. It times the process from its start to
// its exit as seen from a Go parent, without a shell's forks in the
// measurement: a shell's `date` around a command adds several
// milliseconds, as much as a grove command's whole start-up.
//
//	timeit [-n RUNS] [-warmup N] -- COMMAND [ARG...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	runs := flag.Int("n", 11, "timed runs")
	warmup := flag.Int("warmup", 1, "untimed runs first")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n RUNS] [-warmup N] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	var times []time.Duration
	for i := range *warmup + *runs {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "timeit: %s: %v\n", args[0], err)
			os.Exit(1)
		}
		if i >= *warmup {
			times = append(times, d)
		}
	}
	slices.Sort(times)
	fmt.Printf("%.1f\n", float64(times[len(times)/2].Microseconds())/1000)
}
