package cmd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"example.com/grove/cmd"
)

// TestMain puts both programs on PATH, so the scripts' `git clone grove://…`
// runs our helper through the real git binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"grove":            func() { os.Exit(cmd.Grove(context.Background(), os.Args[1:], cmd.Stdio())) },
		"git-remote-grove": func() { os.Exit(cmd.RemoteHelper(context.Background(), os.Args[1:], cmd.Stdio())) },
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
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// setstdout VAR sets VAR to the previous command's stdout, trimmed.
			"setstdout": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: setstdout VAR")
				}
				ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
			},
		},
	})
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
