package cmd

import (
	"testing"

	"github.com/spf13/cobra"
)

// printsNoData are the commands that take no --json, each with why: they
// print no data of their own, only a line of confirmation on a terminal,
// or they are interactive. Every other command takes --json
// (TestEveryDataCommandHasJSON), so a new command must choose.
var printsNoData = map[string]string{
	"grove demo":                  "a narrated walk-through for people",
	"grove man":                   "writes man pages into a directory",
	"grove tui":                   "interactive",
	"grove node stop":             "an action: confirms on a terminal",
	"grove node forget":           "an action: confirms on a terminal",
	"grove seed":                  "an action: confirms on a terminal",
	"grove unseed":                "an action: confirms on a terminal",
	"grove unfollow":              "an action: confirms on a terminal",
	"grove unblock":               "an action: confirms on a terminal",
	"grove issue edit":            "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove issue close":           "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove issue reopen":          "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove issue label":           "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove issue assign":          "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove issue react":           "an action on an issue: confirms on a terminal; issue show --json reads it",
	"grove patch edit":            "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove patch close":           "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove patch reopen":          "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove patch label":           "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove patch assign":          "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove patch react":           "an action on a patch: confirms on a terminal; patch show --json reads it",
	"grove completion bash":       "a shell script",
	"grove completion zsh":        "a shell script",
	"grove completion fish":       "a shell script",
	"grove completion powershell": "a shell script",
}

// TestEveryDataCommandHasJSON walks the whole command tree: every command
// a user runs takes --json, unless printsNoData says why it prints no
// data; and printsNoData names only commands that exist and lack it.
func TestEveryDataCommandHasJSON(t *testing.T) {
	root := newRoot(&env{args: []string{}})
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		// A command with subcommands only groups them, except self, which
		// shows who you are.
		if !c.Runnable() || c.Hidden || c.HasSubCommands() && c.Name() != "self" || c == root {
			return
		}
		path := c.CommandPath()
		seen[path] = true
		has := c.Flags().Lookup("json") != nil
		why, exempt := printsNoData[path]
		switch {
		case exempt && has:
			t.Errorf("%s takes --json, but printsNoData says: %s", path, why)
		case !exempt && !has:
			t.Errorf("%s prints data but takes no --json (or say why in printsNoData)", path)
		}
	}
	root.InitDefaultCompletionCmd()
	walk(root)
	for path := range printsNoData {
		if !seen[path] {
			t.Errorf("printsNoData names %q, which is no command", path)
		}
	}
}
