package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManPage checks that a command's text reaches its man page escaped
// for roff: no line of it can act as a request, backslashes print as
// themselves, dashes as dashes.
func TestManPage(t *testing.T) {
	root := &cobra.Command{Use: "grove", Short: "Peer-to-peer collaboration for git"}
	c := &cobra.Command{
		Use:     "frob NAME",
		Short:   "Frob a -thing",
		Long:    "First paragraph,\n.with a line that looks like a request\n'and another.\n\nSecond, with a back\\slash.",
		Example: "  grove frob --hard x",
		Run:     func(*cobra.Command, []string) {},
	}
	c.Flags().StringP("mode", "m", "soft", "how to frob: `MODE`")
	c.Flags().Bool("hidden", false, "not shown")
	c.Flags().MarkHidden("hidden")
	root.AddCommand(c)
	page := string(manPage(c))
	for _, want := range []string{
		".SH NAME\ngrove\\-frob \\- Frob a \\-thing\n",
		".SH SYNOPSIS\n\\fBgrove frob NAME [flags]\\fP\n",
		"First paragraph,\n\\&.with a line that looks like a request\n\\&'and another.\n.PP\nSecond, with a back\\eslash.\n",
		".TP\n\\fB\\-m\\fP, \\fB\\-\\-mode\\fP \\fIMODE\\fP\nhow to frob: MODE (default soft)\n",
		".SH EXAMPLE\n.EX\n  grove frob \\-\\-hard x\n.EE\n",
		".SH SEE ALSO\n\\fBgrove\\fP(1)\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "hidden") {
		t.Errorf("man page shows a hidden flag:\n%s", page)
	}
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, ".") && !strings.HasPrefix(line, ".SH ") && !strings.HasPrefix(line, ".TH ") &&
			line != ".nh" && line != ".PP" && line != ".TP" && line != ".EX" && line != ".EE" {
			t.Errorf("line %q is a request no page writer meant", line)
		}
	}
}

// TestWriteMan writes the pages of grove's own tree: one per command that
// help lists, none for hidden ones.
func TestWriteMan(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man")
	if err := writeMan(newRoot(&env{io: IO{}, args: []string{}}), dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"grove.1", "grove-issue.1", "grove-issue-new.1", "grove-node-start.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.Contains(string(b), ".SH SYNOPSIS\n") {
			t.Errorf("%s: %v\n%s", name, err, b)
		}
	}
	// grove man is listed in help, so it has a page of its own too.
	if _, err := os.Stat(filepath.Join(dir, "grove-man.1")); err != nil {
		t.Errorf("grove man has no page: %v", err)
	}
}
