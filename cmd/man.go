package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newManCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "Write man pages for every command into DIR",
		Long:  `Write a man page for every command into DIR, creating it.`,
		Example: `  grove man /usr/local/share/man/man1
  grove man ./man && man ./man/grove-init.1`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := writeMan(c.Root(), args[0]); err != nil {
				return err
			}
			d := e.deps(nil)
			d.info("Wrote the man pages into %s", args[0])
			return nil
		},
	}
}

// writeMan writes a man page for every command of root's tree into dir,
// creating it: grove-issue-new.1 for `grove issue new`. The pages are
// written here rather than with cobra/doc, whose markdown-to-roff
// renderer (blackfriday) builds its tables in its package init, which
// every grove call would pay for a command run once per install.
func writeMan(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
				if err := walk(sub); err != nil {
					return err
				}
			}
		}
		c.InitDefaultHelpFlag() // as cobra adds it when a command runs
		name := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		if err := os.WriteFile(filepath.Join(dir, name), manPage(c), 0o644); err != nil {
			return fmt.Errorf("man pages: %w", err)
		}
		return nil
	}
	return walk(root)
}

// manPage is c's man page in roff (man(7)): name, synopsis, description,
// options, examples and related commands.
func manPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString(".nh\n.TH \"GROVE\" \"1\" \"\" \"Grove\" \"\"\n")
	name := strings.ReplaceAll(c.CommandPath(), " ", "-")
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(name), roff(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP\n", roff(c.UseLine()))
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	b.WriteString(".SH DESCRIPTION\n")
	for i, para := range strings.Split(strings.TrimSpace(desc), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(roffLines(para))
	}
	manFlags(&b, "OPTIONS", c.NonInheritedFlags())
	manFlags(&b, "OPTIONS INHERITED FROM PARENT COMMANDS", c.InheritedFlags())
	if c.Example != "" {
		b.WriteString(".SH EXAMPLE\n.EX\n" + roffLines(c.Example) + ".EE\n")
	}
	var see []string
	if c.HasParent() {
		see = append(see, c.Parent().CommandPath())
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			see = append(see, sub.CommandPath())
		}
	}
	if len(see) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range see {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, "\\fB%s\\fP(1)", roff(strings.ReplaceAll(s, " ", "-")))
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// manFlags writes the visible flags of fs as a section titled title.
func manFlags(b *bytes.Buffer, title string, fs *pflag.FlagSet) {
	first := true
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if first {
			b.WriteString(".SH " + title + "\n")
			first = false
		}
		arg, usage := pflag.UnquoteUsage(f)
		switch f.DefValue {
		case "", "false", "0", "[]":
		default:
			usage += " (default " + f.DefValue + ")"
		}
		b.WriteString(".TP\n")
		if f.Shorthand != "" {
			fmt.Fprintf(b, "\\fB\\-%s\\fP, ", roff(f.Shorthand))
		}
		fmt.Fprintf(b, "\\fB\\-\\-%s\\fP", roff(f.Name))
		if arg != "" {
			fmt.Fprintf(b, " \\fI%s\\fP", roff(arg))
		}
		b.WriteString("\n" + roffLines(usage))
	})
}

// roff escapes s for use inside a roff line: backslashes, and dashes,
// which roff would otherwise print as hyphens.
func roff(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// roffLines escapes text as roff lines: each escaped, and a line that
// roff would read as a request (it starts with . or ') guarded with \&.
func roffLines(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		line = roff(line)
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
