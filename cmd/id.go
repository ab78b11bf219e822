package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
)

func newIDCmd(e *env) *cobra.Command {
	c := doc("id", "Show a project's identity document", "", "")
	o := &jsonOptions{}
	show := o.flags(o.project(e, doc("show", "Show the identity document: name, delegates, threshold, visibility", "",
		"  grove id show\n  grove id show --repo RID --json",
	), func(ctx context.Context) error { return idShowRun(ctx, o) }))
	c.AddCommand(show, newIDUpdateCmd(e))
	return c
}

type idUpdateOptions struct {
	on
	jsonFlag
	Name, Description, DefaultBranch optString
	AddDelegate, RemoveDelegate      []string
	Threshold                        int
	Visibility                       string
	Allow, Disallow                  []string
}

func newIDUpdateCmd(e *env) *cobra.Command {
	o := &idUpdateOptions{}
	c := o.project(e, doc("update", "Change the identity document (delegates only)",
		`Write a new revision of the project's identity document, signed by you. Each
revision must be signed by the threshold of the previous revision's
delegates; a single delegate can change a project whose threshold is 1.`,
		`  grove id update --description "A better description"
  grove id update --add-delegate 12D3KooW... --threshold 1
  grove id update --visibility private --allow 12D3KooW...`,
	), func(ctx context.Context) error { return idUpdateRun(ctx, o) })
	f := c.Flags()
	f.Var(&o.Name, "name", "new name")
	f.Var(&o.Description, "description", "new description")
	f.Var(&o.DefaultBranch, "default-branch", "new default branch")
	stringsVarP(f, &o.AddDelegate, "add-delegate", "", "make `NID` a delegate (repeatable)")
	stringsVarP(f, &o.RemoveDelegate, "remove-delegate", "", "remove delegate `NID` (repeatable)")
	f.IntVar(&o.Threshold, "threshold", 0, "delegate signatures needed for canonical refs and identity changes")
	f.StringVar(&o.Visibility, "visibility", "", "public or private")
	stringsVarP(f, &o.Allow, "allow", "", "let `NID` see the private project (repeatable)")
	stringsVarP(f, &o.Disallow, "disallow", "", "take `NID` off the allow list (repeatable)")
	return o.add(c)
}

func idUpdateRun(ctx context.Context, o *idUpdateOptions) error {
	r, err := o.Repo(ctx)
	if err != nil {
		return err
	}
	key, err := o.Key()
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
	for _, f := range []struct {
		flag optString
		to   *string
	}{{o.Name, &doc.Name}, {o.Description, &doc.Description}, {o.DefaultBranch, &doc.DefaultBranch}} {
		if f.flag.Given {
			*f.to = f.flag.Value
		}
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
	if err := checkPlain(plainFlag{"name", o.Name}, plainFlag{"description", o.Description}, plainFlag{"default-branch", o.DefaultBranch}); err != nil {
		return err
	}
	doc.Normalize()
	if err := doc.Validate(); err != nil {
		return usagef("%v", err)
	}
	oid, err := r.UpdateIdentity(ctx, key, &doc, o.Now())
	if err != nil {
		return err
	}
	// "head", as id show names the identity's newest revision.
	return o.result(o.IO.Out, struct {
		Head string `json:"head"`
	}{oid}, func() error { _, err := fmt.Fprintln(o.IO.Out, oid); return err })
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

func idShowRun(ctx context.Context, o *jsonOptions) error {
	r, err := o.Repo(ctx)
	if err != nil {
		return err
	}
	doc, head, err := r.Identity(ctx)
	if err != nil {
		return err
	}
	p := newProjectJSON(r, doc, head)
	h, err := o.Home()
	if err != nil {
		return err
	}
	nm := cli.LoadNames(ctx, h, r)
	if o.JSON {
		return writeJSON(o.IO.Out, struct {
			projectJSON
			Names map[string]string `json:"names"`
		}{p, nm.Map(append(p.Delegates, p.Allow...)...)})
	}
	named := func(nids []string) string {
		out := make([]string, len(nids))
		for i, n := range nids {
			if out[i] = n; nm.Alias(n) != "" {
				out[i] = nm.Alias(n) + " " + n
			}
		}
		return strings.Join(out, ", ")
	}
	rows := [][]string{
		{"RID", p.RID},
		{"Name", p.Name},
		{"Description", p.Description},
		{"Default branch", p.DefaultBranch},
		{"Delegates", named(p.Delegates)},
		{"Threshold", strconv.Itoa(p.Threshold)},
		{"Visibility", p.Visibility},
	}
	if len(p.Allow) > 0 {
		rows = append(rows, []string{"Allow", named(p.Allow)})
	}
	rows = append(rows, []string{"Head", p.Head})
	return table(o.IO.Out, rows)
}

// checkPlain refuses a given flag whose value holds a character a
// terminal acts on (termtext.Safe): names, descriptions and aliases are
// shown to everyone on one line. What others wrote is made safe when
// shown; this only keeps the user from writing it.
func checkPlain(flags ...plainFlag) error {
	for _, f := range flags {
		if f.value.Given && !termtext.Safe(f.value.Value) {
			return usagef("--%s %q: control characters, tabs and bidirectional overrides are not allowed", f.name, f.value.Value)
		}
	}
	return nil
}

// plainFlag is a flag checkPlain checks.
type plainFlag struct {
	name  string
	value optString
}
