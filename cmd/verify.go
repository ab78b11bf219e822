package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"example.com/grove/protocol/termtext"
)

type verifyOptions struct {
	on
	JSON bool
}

func newVerifyCmd(e *env) *cobra.Command {
	o := &verifyOptions{}
	c := o.projectOrArg(e, doc("verify [RID]", "Check a project's signed refs and identity history",
		`Check every namespace of a project: the identity history, the signature of
every signed-refs revision, that the refs are exactly the signed ones, and
that the canonical refs follow from the delegates. Prints each problem and
exits 1 if there is any.`,
		"  grove verify\n  grove verify RID",
	), func(ctx context.Context) error { return verifyRun(ctx, o) })
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

func verifyRun(ctx context.Context, o *verifyOptions) error {
	r, err := o.Repo(ctx)
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
		if err := writeJSON(o.IO.Out, out); err != nil {
			return err
		}
	} else {
		for _, p := range out.Problems {
			fmt.Fprintln(o.IO.Out, termtext.Line(p)) // problems quote ref names
		}
	}
	if !out.OK {
		return fmt.Errorf("project %s failed verification: %d problem(s), first: %s", r.RID, len(out.Problems), out.Problems[0])
	}
	if !o.JSON {
		fmt.Fprintf(o.IO.Out, "ok: %d namespace(s), %d refs\n", out.Namespaces, out.Refs)
	}
	return nil
}
