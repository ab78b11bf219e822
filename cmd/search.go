package cmd

import (
	"context"
	"slices"
	"strings"

	"github.com/spf13/cobra"

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
counts most, then in a description, then in comments, and a rare word more
than a common one), then newest first.`,
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
	// Authors by name, as issue and patch list show them; in JSON,
	// authorName beside author. Hits are collected (JSON) or made into
	// rows as they come, and printed once the index is let go.
	type hitJSON struct {
		issues.Hit
		AuthorName string `json:"authorName,omitempty"`
	}
	var out []hitJSON
	var rows issueRows
	err = withIndex(ctx, &o.deps, objs, func(ix *issues.Index) error {
		rows.names = objs.namesIn(ctx, ix)
		return ix.EachHit(ctx, strings.Join(o.Args, " "), func(n int, h *issues.Hit) error {
			if o.JSON {
				if out == nil {
					out = make([]hitJSON, 0, n)
				}
				c := hitJSON{*h, nameIfAny(rows.names, h.Author)}
				c.Labels = slices.Clone(h.Labels)
				c.Assignees = slices.Clone(h.Assignees)
				out = append(out, c)
				return nil
			}
			state, author, day := rows.common(n, &h.Summary)
			c := len(rows.cells)
			rows.cells = append(rows.cells, h.Type, h.ID[:7], state, h.Title, author, day)
			rows.rows = append(rows.rows, rows.cells[c:len(rows.cells):len(rows.cells)])
			return nil
		})
	})
	if err != nil {
		return err
	}
	return writeList(o.IO, "issues or patches", o.JSON, out, []string{"TYPE", "ID", "STATE", "TITLE", "AUTHOR", "CREATED"}, rows.rows)
}
