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
	"example.com/grove/repo"
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
delegates; a single delegate can change a project whose threshold is 1.
A delegate may be given by the alias of a person ('grove device'): any
current device of that person then acts for it on the canonical branches,
where the person counts once however many of its devices agree. Removing a
delegate removes every device of its person.`,
		`  grove id update --description "A better description"
  grove id update --add-delegate 12D3KooW... --threshold 1
  grove id update --visibility private --allow 12D3KooW...`,
	), func(ctx context.Context) error { return idUpdateRun(ctx, o) })
	f := c.Flags()
	f.Var(&o.Name, "name", "new name")
	f.Var(&o.Description, "description", "new description")
	f.Var(&o.DefaultBranch, "default-branch", "new default branch")
	stringsVarP(f, &o.AddDelegate, "add-delegate", "", "make `NID` (or the person with that alias) a delegate (repeatable)")
	stringsVarP(f, &o.RemoveDelegate, "remove-delegate", "", "remove delegate `NID` (or person), with every device of its person (repeatable)")
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
	h, err := o.Home()
	if err != nil {
		return err
	}
	people, err := r.People(ctx)
	if err != nil {
		return err
	}
	nm := cli.LoadNames(ctx, h, r)
	add, err := delegatesByPerson(o.AddDelegate, "add-delegate", nm, people)
	if err != nil {
		return err
	}
	rm, err := delegatesByPerson(o.RemoveDelegate, "remove-delegate", nm, people)
	if err != nil {
		return err
	}
	// Removing a person (by alias) removes every delegate NID of it; a
	// NID removes that key alone (a device removed from its person).
	var persons []protocol.NID
	for i, s := range o.RemoveDelegate {
		if _, err := protocol.ParseNID(s); err != nil {
			persons = append(persons, rm[i])
		}
	}
	for _, d := range doc.Delegates {
		for _, x := range persons {
			if people.Voter(d.String()) == people.Voter(x.String()) || cur.Voter(d) == cur.Voter(x) {
				rm = append(rm, d)
				break
			}
		}
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
	doc.Persons = personGroups(doc.Delegates, cur.Persons, people)
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
	if !cur.IsDelegate(key.NID()) {
		for _, d := range cur.Delegates {
			if people.Voter(d.String()) == people.Voter(key.NID().String()) && !d.Equal(key.NID()) {
				return fmt.Errorf("identity changes are signed by delegate keys, and this device's is not one: run it on %s, or make this device a delegate from there ('grove id update --add-delegate %s')", d.Short(), key.NID())
			}
		}
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

// delegatesByPerson reads --add-delegate or --remove-delegate: NIDs, or
// aliases of persons (a name picks a key here because the user typed it:
// the identity document still lists keys). An alias stands for a current
// device of the one person who goes by it.
func delegatesByPerson(in []string, flag string, nm *cli.Names, people *repo.People) ([]protocol.NID, error) {
	var out []protocol.NID
	for _, s := range in {
		n, perr := protocol.ParseNID(s)
		if perr == nil {
			out = append(out, n)
			continue
		}
		who := map[string]string{} // person (or NID) → a NID that acts for it
		for nid, a := range nm.Known() {
			if a != s {
				continue
			}
			acting := people.Acting(nid)
			if len(acting) == 0 {
				continue
			}
			if w := people.Voter(nid); who[w] == "" || acting[0] < who[w] {
				who[w] = acting[0]
			}
		}
		switch len(who) {
		case 0:
			return nil, usagef("--%s %q: %v, nor the alias of anyone in this project", flag, s, perr)
		case 1:
			for _, nid := range who {
				n, err := protocol.ParseNID(nid)
				if err != nil {
					return nil, usagef("--%s %q: %v", flag, s, err)
				}
				out = append(out, n)
			}
		default:
			return nil, usagef("--%s %q: %d people go by that alias: give a NID", flag, s, len(who))
		}
	}
	return out, nil
}

// personGroups groups delegates into the persons the identity document
// names (protocol.Identity.Persons): those cur groups already, joined with
// those that people (the person documents this storage holds) says are
// devices of one person, or lists as its devices. A group is never split
// here: only an identity revision that drops a key from it does.
func personGroups(delegates []protocol.NID, cur [][]protocol.NID, people *repo.People) [][]protocol.NID {
	parent := map[string]string{}
	var find func(string) string
	find = func(n string) string {
		if p, ok := parent[n]; ok && p != n {
			r := find(p)
			parent[n] = r
			return r
		}
		return n
	}
	union := func(a, b string) {
		if ra, rb := find(a), find(b); ra != rb {
			parent[rb] = ra
		}
	}
	in := map[string]bool{}
	for _, d := range delegates {
		in[d.String()] = true
	}
	for _, g := range cur {
		var first string
		for _, n := range g {
			if !in[n.String()] {
				continue
			}
			if first == "" {
				first = n.String()
			} else {
				union(first, n.String())
			}
		}
	}
	byVoter := map[string]string{}
	for _, d := range delegates {
		v := people.Voter(d.String())
		if first, ok := byVoter[v]; ok {
			union(first, d.String())
		} else {
			byVoter[v] = d.String()
		}
		// A device the person's newest revision lists, before it wrote
		// here: grouping only ever lowers the count, so it needs no
		// history of the device's own.
		if st := people.Of(d.String()); st != nil {
			for _, x := range st.Listed {
				if in[x] {
					union(d.String(), x)
				}
			}
		}
	}
	groups := map[string][]protocol.NID{}
	for _, d := range delegates {
		r := find(d.String())
		groups[r] = append(groups[r], d)
	}
	var out [][]protocol.NID
	for _, g := range groups {
		if len(g) > 1 {
			out = append(out, g)
		}
	}
	return out // Normalize sorts them
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
	people, err := r.People(ctx)
	if err != nil {
		return err
	}
	// persons: the delegates that are devices of a person, with the
	// person's ID and the devices that act for it now.
	type personOf struct {
		ID      string   `json:"id"`
		Alias   string   `json:"alias"`
		Devices []string `json:"devices"`
	}
	persons := map[string]personOf{}
	for _, d := range p.Delegates {
		if st := people.Of(d); st != nil {
			persons[d] = personOf{st.ID, st.Doc.Alias, append([]string{}, st.Devices...)}
		}
	}
	if o.JSON {
		// delegateGroups: the identity document's own grouping of
		// delegate keys into persons (each group one voter).
		groups := [][]string{}
		for _, g := range doc.Persons {
			gs := make([]string, len(g))
			for i, n := range g {
				gs[i] = n.String()
			}
			groups = append(groups, gs)
		}
		return writeJSON(o.IO.Out, struct {
			projectJSON
			Names          map[string]string   `json:"names"`
			Persons        map[string]personOf `json:"persons"`
			DelegateGroups [][]string          `json:"delegateGroups"`
		}{p, nm.Map(append(p.Delegates, p.Allow...)...), persons, groups})
	}
	named := func(nids []string) string {
		out := make([]string, len(nids))
		for i, n := range nids {
			if out[i] = n; nm.Alias(n) != "" {
				out[i] = nm.Of(n) + " " + n
			}
			if ps, ok := persons[n]; ok && (len(ps.Devices) != 1 || ps.Devices[0] != n) {
				others := make([]string, 0, len(ps.Devices))
				for _, d := range ps.Devices {
					if id, err := protocol.ParseNID(d); err == nil && d != n {
						others = append(others, id.Short())
					}
				}
				if len(others) == 0 {
					out[i] += " (removed from its person: acts through no device)"
				} else {
					out[i] += " (also on " + strings.Join(others, ", ") + ")"
				}
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
