// Command timeit runs a command several times and prints the median wall
// time of one run in milliseconds. It times the process from its start to
// its exit as seen from a Go parent, without a shell's forks in the
// measurement: a shell's `date` around a command adds several
// milliseconds, as much as a grove command's whole start-up.
//
//	timeit [-n RUNS] [-warmup N] [-cpu] [-vs 'COMMAND B'] -- COMMAND [ARG...]
//
// With -vs, a second command (split into words as a shell does, with
// single and double quotes but no other shell syntax) runs in turn
// with the first, A B A B …, and the line printed is A's median, B's
// median and the median of the ratios A/B taken pair by pair, with their
// least and greatest: pairing keeps the ratio meaningful while the
// machine's speed drifts, as it does on a shared VM by tens of percent
// within minutes.
//
// With -cpu, a run's time is the CPU time (user and system) the command
// took rather than its wall time: on a machine shared with other work, a
// run's wall time mostly measures how long it waited for a core.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("n", 11, "timed runs")
	warmup := flag.Int("warmup", 1, "untimed runs first")
	vs := flag.String("vs", "", "a second command, run in turn with the first (split into words, with quotes)")
	cpu := flag.Bool("cpu", false, "time the CPU (user and system) each run takes, not its wall time")
	flag.Parse()
	a := flag.Args()
	b, ok := words(*vs)
	if len(a) == 0 || *runs < 1 || !ok || (*vs != "" && len(b) == 0) {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n RUNS] [-warmup N] [-cpu] [-vs 'COMMAND B'] -- COMMAND [ARG...]")
		os.Exit(2)
	}
	var ta, tb, ratios []float64
	for i := range *warmup + *runs {
		da := run(a, *cpu)
		if len(b) == 0 {
			if i >= *warmup {
				ta = append(ta, da)
			}
			continue
		}
		db := run(b, *cpu)
		if i >= *warmup {
			ta, tb, ratios = append(ta, da), append(tb, db), append(ratios, da/db)
		}
	}
	if len(b) == 0 {
		fmt.Printf("%.1f\n", median(ta))
		return
	}
	fmt.Printf("A %.1f ms  B %.1f ms  A/B %.3f (%.3f-%.3f, %d pairs)\n",
		median(ta), median(tb), median(ratios), slices.Min(ratios), slices.Max(ratios), len(ratios))
}

// run runs args once and returns its wall time in milliseconds, or with
// cpu the CPU time it took; a failure ends timeit.
func run(args []string, cpu bool) float64 {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "timeit: %s: %v\n", args[0], err)
		os.Exit(1)
	}
	if cpu {
		d = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return float64(d.Microseconds()) / 1000
}

// words splits s into words at blanks, as a shell does, with single and
// double quotes; ok is false for an unclosed quote.
func words(s string) (w []string, ok bool) {
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				w, in = append(w, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if in {
		w = append(w, cur.String())
	}
	return w, quote == 0
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
