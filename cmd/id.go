package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/protocol"
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
	c.AddCommand(show, newIDUpdateCmd(e))
	return c
}

type idUpdateOptions struct {
	Repo           string
	Name           *string
	Description    *string
	DefaultBranch  *string
	AddDelegate    []string
	RemoveDelegate []string
	Threshold      int
	Visibility     string
	Allow          []string
	Disallow       []string
}

func newIDUpdateCmd(e *env) *cobra.Command {
	o := &idUpdateOptions{}
	var name, desc, branch string
	c := &cobra.Command{
		Use:   "update",
		Short: "Change the identity document (delegates only)",
		Long: `Write a new revision of the project's identity document, signed by you. Each
revision must be signed by the threshold of the previous revision's
delegates; a single delegate can change a project whose threshold is 1.`,
		Example: `  grove id update --description "A better description"
  grove id update --add-delegate 12D3KooW... --threshold 1
  grove id update --visibility private --allow 12D3KooW...`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			f := c.Flags()
			if f.Changed("name") {
				o.Name = &name
			}
			if f.Changed("description") {
				o.Description = &desc
			}
			if f.Changed("default-branch") {
				o.DefaultBranch = &branch
			}
			return idUpdateRun(c.Context(), e, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.Repo, "repo", "R", "", "project `RID` (default: this working copy's)")
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&desc, "description", "", "new description")
	f.StringVar(&branch, "default-branch", "", "new default branch")
	stringsVarP(f, &o.AddDelegate, "add-delegate", "", "make `NID` a delegate (repeatable)")
	stringsVarP(f, &o.RemoveDelegate, "remove-delegate", "", "remove delegate `NID` (repeatable)")
	f.IntVar(&o.Threshold, "threshold", 0, "delegate signatures needed for canonical refs and identity changes")
	f.StringVar(&o.Visibility, "visibility", "", "public or private")
	stringsVarP(f, &o.Allow, "allow", "", "let `NID` see the private project (repeatable)")
	stringsVarP(f, &o.Disallow, "disallow", "", "take `NID` off the allow list (repeatable)")
	return c
}

func idUpdateRun(ctx context.Context, e *env, o *idUpdateOptions) error {
	r, err := e.project(ctx, o.Repo)
	if err != nil {
		return err
	}
	key, err := e.key()
	if err != nil {
		return err
	}
	cur, _, err := r.Identity(ctx)
	if err != nil {
		return err
	}
	doc := *cur
	doc.Delegates = append([]protocol.NID(nil), cur.Delegates...)
	doc.Visibility.Allow = append([]protocol.NID(nil), cur.Visibility.Allow...)
	if o.Name != nil {
		doc.Name = *o.Name
	}
	if o.Description != nil {
		doc.Description = *o.Description
	}
	if o.DefaultBranch != nil {
		doc.DefaultBranch = *o.DefaultBranch
	}
	parse := func(flag string, in []string) ([]protocol.NID, error) {
		var out []protocol.NID
		for _, s := range in {
			n, err := protocol.ParseNID(s)
			if err != nil {
				return nil, usagef("--%s: %v", flag, err)
			}
			out = append(out, n)
		}
		return out, nil
	}
	add, err := parse("add-delegate", o.AddDelegate)
	if err != nil {
		return err
	}
	rm, err := parse("remove-delegate", o.RemoveDelegate)
	if err != nil {
		return err
	}
	allow, err := parse("allow", o.Allow)
	if err != nil {
		return err
	}
	disallow, err := parse("disallow", o.Disallow)
	if err != nil {
		return err
	}
	doc.Delegates = removeNIDs(append(doc.Delegates, add...), rm)
	doc.Visibility.Allow = removeNIDs(append(doc.Visibility.Allow, allow...), disallow)
	if o.Threshold != 0 {
		doc.Threshold = o.Threshold
	}
	switch o.Visibility {
	case "":
	case protocol.Public:
		doc.Visibility = protocol.Visibility{Type: protocol.Public}
	case protocol.Private:
		doc.Visibility.Type = protocol.Private
	default:
		return usagef("--visibility must be public or private")
	}
	if doc.Visibility.Type == protocol.Public && len(allow) > 0 {
		return usagef("--allow needs a private project: add --visibility private")
	}
	doc.Normalize()
	if err := doc.Validate(); err != nil {
		return usagef("%v", err)
	}
	oid, err := r.UpdateIdentity(ctx, key, &doc, e.now())
	if err != nil {
		return err
	}
	fmt.Fprintln(e.io.Out, oid)
	return nil
}

func removeNIDs(in, rm []protocol.NID) []protocol.NID {
	out := in[:0:0]
	for _, n := range in {
		drop := false
		for _, x := range rm {
			drop = drop || n.Equal(x)
		}
		if !drop {
			out = append(out, n)
		}
	}
	return out
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
