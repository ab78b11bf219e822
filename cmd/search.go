package cmd

import (
	"context"
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
	err = withIndex(ctx, &o.deps, objs, func(ix *issues.Index) (err error) {
		hits, err = ix.Search(ctx, strings.Join(o.Args, " "))
		return err
	})
	if err != nil {
		return err
	}
	var rows [][]string
	short := map[string]string{} // by author: a project has few
	for _, h := range hits {
		state := h.State
		if h.Reason != "" {
			state += " (" + h.Reason + ")"
		}
		a, ok := short[h.Author]
		if !ok {
			a = shortNID(h.Author)
			short[h.Author] = a
		}
		rows = append(rows, []string{h.Type, h.ID[:7], state, h.Title, a, h.Created.Format("2006-01-02")})
	}
	return writeList(o.IO, "issues or patches", o.JSON, hits, []string{"TYPE", "ID", "STATE", "TITLE", "AUTHOR", "CREATED"}, rows)
}
