package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

type lsOptions struct {
	on
	JSON bool
}

func newLsCmd(e *env) *cobra.Command {
	o := &lsOptions{}
	c := o.bind(e, doc("ls", "List the projects in local storage", "",
		"  grove ls\n  grove ls --json",
	), 0, false, func(ctx context.Context) error { return lsRun(ctx, o) })
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

type projectJSON struct {
	RID           string   `json:"rid"`
	Name          string   `json:"name"`
	Description   string   `json:"description"`
	DefaultBranch string   `json:"defaultBranch"`
	Delegates     []string `json:"delegates"`
	Threshold     int      `json:"threshold"`
	Visibility    string   `json:"visibility"`
	Allow         []string `json:"allow,omitempty"`
	Head          string   `json:"head,omitempty"`
	Path          string   `json:"path"`
}

func newProjectJSON(r *repo.Repo, doc *protocol.Identity, head string) projectJSON {
	p := projectJSON{
		RID: r.RID.String(), Name: doc.Name, Description: doc.Description,
		DefaultBranch: doc.DefaultBranch, Threshold: doc.Threshold,
		Visibility: doc.Visibility.Type, Head: head, Path: r.Path,
		Delegates: []string{},
	}
	for _, d := range doc.Delegates {
		p.Delegates = append(p.Delegates, d.String())
	}
	for _, a := range doc.Visibility.Allow {
		p.Allow = append(p.Allow, a.String())
	}
	return p
}

func lsRun(ctx context.Context, o *lsOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	rids, err := repo.List(h)
	if err != nil {
		return err
	}
	out := []projectJSON{}
	for _, rid := range rids {
		r, err := repo.Open(h, rid)
		if err != nil {
			return err
		}
		doc, _, err := r.Identity(ctx)
		if err != nil {
			return err
		}
		out = append(out, newProjectJSON(r, doc, ""))
	}
	if o.JSON {
		return writeJSON(o.IO.Out, out)
	}
	var rows [][]string
	for _, p := range out {
		rows = append(rows, []string{p.RID, p.Name, p.Visibility, p.Description})
	}
	return headedTable(o.IO, []string{"RID", "NAME", "VISIBILITY", "DESCRIPTION"}, rows)
}
