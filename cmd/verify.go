package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

type verifyOptions struct {
	Repo string
	JSON bool
}

func newVerifyCmd(e *env) *cobra.Command {
	o := &verifyOptions{}
	c := &cobra.Command{
		Use:   "verify [RID]",
		Short: "Check a project's signed refs and identity history",
		Long: `Check every namespace of a project: the identity history, the signature of
every signed-refs revision, that the refs are exactly the signed ones, and
that the canonical refs follow from the delegates. Prints each problem and
exits 1 if there is any.`,
		Example: "  grove verify\n  grove verify RID",
		Args:    maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Repo = args[0]
			}
			return verifyRun(c.Context(), e, o)
		},
	}
	c.Flags().StringVarP(&o.Repo, "repo", "R", "", "project `RID` (default: this working copy's)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

type verifyJSON struct {
	RID        string   `json:"rid"`
	OK         bool     `json:"ok"`
	Namespaces int      `json:"namespaces"`
	Refs       int      `json:"refs"`
	Problems   []string `json:"problems"`
}

func verifyRun(ctx context.Context, e *env, o *verifyOptions) error {
	r, err := e.project(ctx, o.Repo)
	if err != nil {
		return err
	}
	rep, err := r.Verify(ctx)
	if err != nil {
		return err
	}
	out := verifyJSON{RID: r.RID.String(), OK: len(rep.Problems) == 0, Namespaces: rep.Namespaces, Refs: rep.Refs, Problems: []string{}}
	for _, p := range rep.Problems {
		out.Problems = append(out.Problems, p.String())
	}
	if o.JSON {
		if err := writeJSON(e.io.Out, out); err != nil {
			return err
		}
	} else {
		for _, p := range out.Problems {
			fmt.Fprintln(e.io.Out, p)
		}
	}
	if !out.OK {
		return fmt.Errorf("project %s failed verification: %d problem(s), first: %s", r.RID, len(out.Problems), out.Problems[0])
	}
	if !o.JSON {
		fmt.Fprintf(e.io.Out, "ok: %d namespace(s), %d refs\n", out.Namespaces, out.Refs)
	}
	return nil
}
