package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
)

// --- search: one ranked search over a project's issues and patches

type searchOptions struct {
	on
	JSON bool
}

func newSearchCmd(e *env) *cobra.Command {
	o := &searchOptions{}
	c := o.project(e, doc("search QUERY... [--json]", "Search a project's issues and patches, best match first",
		`Search the titles, descriptions, comments and reviews of the project's
issues and patches, from its index. Every word must appear, as a word or the
start of one; every hit is listed, best match first (a word in a title
counts most), then newest first.`,
		"  grove search crash start\n  grove search -R RID timeout --json",
	), func(ctx context.Context) error { return searchRun(ctx, o) })
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("%s needs the words to search for", c.CommandPath())
		}
		return nil
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func searchRun(ctx context.Context, o *searchOptions) error {
	objs, err := openObjects(ctx, &o.deps, issueKind)
	if err != nil {
		return err
	}
	var hits []issues.Hit
	var nm *cli.Names
	err = withIndex(ctx, &o.deps, objs, func(ix *issues.Index) (err error) {
		if hits, err = ix.Search(ctx, strings.Join(o.Args, " ")); err != nil {
			return err
		}
		nm = objs.namesIn(ctx, ix)
		return nil
	})
	if err != nil {
		return err
	}
	// Authors by name, as issue and patch list show them; in JSON,
	// authorName beside author.
	type hitJSON struct {
		issues.Hit
		AuthorName string `json:"authorName,omitempty"`
	}
	var rows [][]string
	var out []hitJSON
	short := map[string]string{} // author → nm.Of: a project has few
	for _, h := range hits {
		if o.JSON {
			out = append(out, hitJSON{h, nameIfAny(nm, h.Author)})
			continue
		}
		state := h.State
		if h.Reason != "" {
			state += " (" + h.Reason + ")"
		}
		a, ok := short[h.Author]
		if !ok {
			a = nm.Of(h.Author)
			short[h.Author] = a
		}
		rows = append(rows, []string{h.Type, h.ID[:7], state, h.Title, a, h.Created.Format("2006-01-02")})
	}
	return writeList(o.IO, "issues or patches", o.JSON, out, []string{"TYPE", "ID", "STATE", "TITLE", "AUTHOR", "CREATED"}, rows)
}
