package cmd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite" // issues.SQLDriver, as cmd/grove registers it

	"example.com/grove/cmd"
	"example.com/grove/cmd/netcmd"
)

// TestMain puts our programs on PATH, so the scripts' `git clone grove://…`
// runs our helper through the real git binary and `grove node start` finds
// grove-node. grove-tui is left out: linking it would make every program a
// script runs pay chroma's and glamour's package init (tens of ms each);
// cmd/tuicmd tests it, and TestTUIInTmux runs it built.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"grove":            func() { os.Exit(cmd.Grove(context.Background(), os.Args[1:], cmd.Stdio())) },
		"git-remote-grove": func() { os.Exit(cmd.RemoteHelper(context.Background(), os.Args[1:], cmd.Stdio())) },
		"grove-node":       func() { os.Exit(netcmd.Main(context.Background(), os.Args[1:], netcmd.Stdio())) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			for k, v := range gitTestEnv(e.WorkDir) {
				e.Setenv(k, v)
			}
			// Whether the script passes or fails, no node outlives it.
			e.Defer(func() { stopNodes(e.WorkDir) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// setstdout VAR [REGEXP] sets VAR to the previous command's
			// stdout, trimmed, or to the first match of REGEXP in it.
			"setstdout": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 || len(args) > 2 {
					ts.Fatalf("usage: setstdout VAR [REGEXP]")
				}
				out := strings.TrimSpace(ts.ReadFile("stdout"))
				if len(args) == 2 {
					m := regexp.MustCompile(args[1]).FindString(out)
					if m == "" {
						ts.Fatalf("no match for %q in stdout:\n%s", args[1], out)
					}
					out = m
				}
				ts.Setenv(args[0], out)
			},
			// waitfor DURATION PROG [ARGS...] runs PROG until it exits 0,
			// for at most DURATION; ! waitfor waits until it fails.
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: waitfor DURATION PROG [ARGS...]")
				}
				d, err := time.ParseDuration(args[0])
				if err != nil || d > time.Minute {
					ts.Fatalf("waitfor: bad duration %q (at most 1m)", args[0])
				}
				deadline := time.Now().Add(d)
				for tries := 1; ; tries++ {
					ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(5*time.Second))
					c := exec.CommandContext(ctx, args[1], args[2:]...)
					c.Dir, c.Env = ts.Getenv("PWD"), scriptEnv(ts)
					out, err := c.CombinedOutput()
					cancel()
					if (err == nil) != neg {
						return
					}
					if time.Now().After(deadline) {
						ts.Fatalf("waitfor: %s still %s after %v (%d tries): %v\n%s", args[1], map[bool]string{false: "failing", true: "succeeding"}[neg], d, tries, err, out)
					}
					time.Sleep(100 * time.Millisecond)
				}
			},
		},
	})
}

// scriptEnv is the script's environment, for programs a custom command runs.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "PWD", "WORK"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	for k := range gitTestEnv("") {
		env = append(env, k+"="+ts.Getenv(k))
	}
	if p := ts.Getenv("GROVE_PASSPHRASE"); p != "" {
		env = append(env, "GROVE_PASSPHRASE="+p)
	}
	return env
}

// stopNodes kills every node a script started under work, by the pid
// files of the homes it used ($WORK/.grove, $WORK/NAME and
// $WORK/NAME/.grove), and waits, bounded, until each is gone.
func stopNodes(work string) {
	var pids []int
	for _, pat := range []string{".grove/node/pid", "*/node/pid", "*/.grove/node/pid"} {
		files, _ := filepath.Glob(filepath.Join(work, pat))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				pids = append(pids, pid)
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for running(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// running reports whether process pid runs and is not a zombie.
func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// gitTestEnv isolates git and grove from the machine's configuration.
func gitTestEnv(work string) map[string]string {
	return map[string]string{
		"HOME":                work,
		"GROVE_HOME":          filepath.Join(work, ".grove"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   filepath.Join(work, ".gitconfig-test"),
		"GIT_AUTHOR_NAME":     "Alice",
		"GIT_AUTHOR_EMAIL":    "alice@example.com",
		"GIT_COMMITTER_NAME":  "Alice",
		"GIT_COMMITTER_EMAIL": "alice@example.com",
		"GIT_TERMINAL_PROMPT": "0",
	}
}
