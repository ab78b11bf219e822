package cmd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCommandTable: the table a run builds one command from names each
// command as its own Use does, lists every one exactly once in order, and
// a run that names a command builds that command alone.
func TestCommandTable(t *testing.T) {
	if len(commandOrder) != len(commands) {
		t.Fatalf("%d commands in order, %d in the table", len(commandOrder), len(commands))
	}
	seen := map[string]bool{}
	for _, name := range commandOrder {
		mk, ok := commands[name]
		if !ok || seen[name] {
			t.Fatalf("%q: in the table %v, listed twice %v", name, ok, seen[name])
		}
		seen[name] = true
		if c := mk(&env{}); c.Name() != name {
			t.Errorf("commands[%q] makes %q", name, c.Name())
		}
	}
	full := newRoot(&env{args: []string{}})
	var names []string
	for _, c := range full.Commands() {
		names = append(names, c.Name())
	}
	for _, name := range commandOrder {
		if !slices.Contains(names, name) {
			t.Errorf("the full tree lacks %q: %v", name, names)
		}
	}
	one := newRoot(&env{args: []string{"issue", "list"}})
	if cs := one.Commands(); len(cs) != 1 || cs[0].Name() != "issue" {
		t.Errorf("grove issue list builds %d commands", len(cs))
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"isue"}, {}} {
		if cs := newRoot(&env{args: args}).Commands(); len(cs) < len(commands) {
			t.Errorf("%q builds %d commands, want all", args, len(cs))
		}
	}
}

// TestUsageErrors: unknown commands and subcommands exit 2 with the
// nearest command suggested and a pointer to the help of the command
// called; a command of commands alone shows its help.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		wantStderr string
	}{
		{[]string{"isue", "list"}, 2, "grove: unknown command \"isue\" for \"grove\": did you mean \"issue\"?\nsee 'grove help'\n"},
		{[]string{"xyzzy"}, 2, "grove: unknown command \"xyzzy\" for \"grove\"\nsee 'grove help'\n"},
		{[]string{"issue", "lis"}, 2, "grove: unknown command \"lis\" for \"grove issue\": did you mean \"list\"?\nsee 'grove issue --help'\n"},
		{[]string{"patch", "shwo"}, 2, "grove: unknown command \"shwo\" for \"grove patch\": did you mean \"show\"?\nsee 'grove patch --help'\n"},
		{[]string{"issue", "list", "--state", "maybe"}, 2, "grove: --state must be open, closed or all\nsee 'grove issue list --help'\n"},
		{[]string{"issue"}, 0, ""},
	} {
		var out, errb strings.Builder
		e := &env{io: IO{In: strings.NewReader(""), Out: &out, Err: &errb, LookupEnv: func(string) (string, bool) { return "", false }}, now: time.Now, args: tc.args}
		if code := run(context.Background(), e); code != tc.code || errb.String() != tc.wantStderr {
			t.Errorf("grove %v: exit %d, stderr %q; want %d, %q", tc.args, code, errb.String(), tc.code, tc.wantStderr)
		}
	}
}
