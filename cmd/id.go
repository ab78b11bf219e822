package cmd

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

type idShowOptions struct {
	Repo string
	JSON bool
}

func newIDCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "id",
		Short: "Show a project's identity document",
	}
	o := &idShowOptions{}
	show := &cobra.Command{
		Use:     "show",
		Short:   "Show the identity document: name, delegates, threshold, visibility",
		Example: "  grove id show\n  grove id show --repo RID --json",
		Args:    exactArgs(0),
		RunE:    func(c *cobra.Command, args []string) error { return idShowRun(c.Context(), e, o) },
	}
	show.Flags().StringVarP(&o.Repo, "repo", "R", "", "project `RID` (default: this working copy's)")
	show.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.AddCommand(show)
	return c
}

func idShowRun(ctx context.Context, e *env, o *idShowOptions) error {
	r, err := e.project(ctx, o.Repo)
	if err != nil {
		return err
	}
	doc, head, err := r.Identity(ctx)
	if err != nil {
		return err
	}
	p := newProjectJSON(r, doc, head)
	if o.JSON {
		return writeJSON(e.io.Out, p)
	}
	rows := [][]string{
		{"RID", p.RID},
		{"Name", p.Name},
		{"Description", p.Description},
		{"Default branch", p.DefaultBranch},
		{"Delegates", strings.Join(p.Delegates, " ")},
		{"Threshold", strconv.Itoa(p.Threshold)},
		{"Visibility", p.Visibility},
	}
	if len(p.Allow) > 0 {
		rows = append(rows, []string{"Allow", strings.Join(p.Allow, " ")})
	}
	rows = append(rows, []string{"Revision", p.Head})
	return table(e.io.Out, rows)
}
