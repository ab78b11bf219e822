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
	// The hits are printed once the index is let go. They hold the
	// encoded rows; each hit is decoded as it is printed (twice for the
	// table: measured, then printed), none is held decoded. Authors by
	// name, as issue and patch list show them; in JSON, authorName
	// beside author.
	var hits *issues.Hits
	var names *cli.Names
	err = withIndex(ctx, &o.deps, objs, func(ix *issues.Index) error {
		names = objs.namesIn(ctx, ix)
		var err error
		hits, err = ix.SearchHits(ctx, strings.Join(o.Args, " "))
		return err
	})
	if err != nil {
		return err
	}
	if hits.Len() == 0 {
		return writeList[any](o.IO, "issues or patches", o.JSON, nil, nil, nil)
	}
	if o.JSON {
		// Every hit is decoded once before the first is printed, as the
		// table's first pass does: a damaged index fails the search
		// before any of it is written, not halfway through the JSON.
		if err := hits.Each(func(*issues.Hit) error { return nil }); err != nil {
			return err
		}
		type hitJSON struct {
			*issues.Hit
			AuthorName string `json:"authorName,omitempty"`
		}
		out := newJSONList(o.IO.Out)
		err := hits.Each(func(h *issues.Hit) error {
			return out.add(&hitJSON{h, nameIfAny(names, h.Author)})
		})
		if err != nil {
			return err
		}
		return out.close()
	}
	c := newListCells(names)
	t := newStreamTable(o.IO.Out, 6)
	for t.pass() {
		if o.IO.OutTTY {
			for _, h := range []string{"TYPE", "ID", "STATE", "TITLE", "AUTHOR", "CREATED"} {
				t.cell(h)
			}
			t.end()
		}
		err := hits.Each(func(h *issues.Hit) error {
			t.cell(h.Type)
			t.cell(h.ID[:7])
			t.cell(c.state(&h.Summary))
			t.cell(h.Title)
			t.cell(c.author(&h.Summary))
			t.cell(c.day(&h.Summary))
			t.end()
			return nil
		})
		if err != nil {
			return err
		}
	}
	return t.flush()
}
