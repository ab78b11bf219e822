package cmd

import (
	"slices"
	"testing"
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
