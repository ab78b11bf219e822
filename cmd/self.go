package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

type selfOptions struct {
	on
	JSON bool
}

func newSelfCmd(e *env) *cobra.Command {
	o := &selfOptions{}
	c := o.bind(e, doc("self", "Show your NID, did:key, alias and home",
		`Show who you are: your NID and did:key, your person document (the alias,
and name and email if set, that people see in place of your NID, signed by
your key and carried in every project you write to), your home and whether
your node runs.`,
		"  grove self\n  grove self --json | jq -r .nid",
	), 0, false, func(ctx context.Context) error { return selfRun(ctx, o) })
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.AddCommand(newSelfEditCmd(e))
	return c
}

type selfJSON struct {
	NID   string `json:"nid"`
	DID   string `json:"did"`
	Alias string `json:"alias"`
	Home  string `json:"home"`
	Node  string `json:"node"`
	// Addrs are the running node's addresses.
	Addrs []string `json:"addrs,omitempty"`
	// Person is the person document, when there is one.
	Person *personJSON `json:"person,omitempty"`
}

type personJSON struct {
	Alias     string `json:"alias"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Revisions int    `json:"revisions"`
	Commit    string `json:"commit"`
	// ID is the person's ID and Devices its devices (grove device).
	ID      string   `json:"id,omitempty"`
	Devices []string `json:"devices,omitempty"`
}

func selfRun(ctx context.Context, o *selfOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	nid, err := o.NID()
	if err != nil {
		return err
	}
	cfg, err := h.Config()
	if err != nil {
		return err
	}
	s := selfJSON{NID: nid.String(), DID: nid.DID(), Alias: cfg.Alias, Home: h.Dir, Node: "stopped"}
	ph, perr := h.Person()
	if perr == nil && ph.NID.Equal(nid) {
		s.Alias = ph.Doc.Alias
		s.Person = &personJSON{Alias: ph.Doc.Alias, Name: ph.Doc.Name, Email: ph.Doc.Email, Revisions: ph.Revisions, Commit: ph.Tip, ID: ph.Root, Devices: ph.Devices}
	}
	if cl := runningNode(h); cl != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		addrs, err := cl.Addrs(sctx)
		cancel()
		if err == nil {
			s.Node, s.Addrs = "running", addrs
		}
	}
	if o.JSON {
		return writeJSON(o.IO.Out, s)
	}
	rows := [][]string{{"NID", s.NID}, {"DID", s.DID}}
	if s.Alias != "" {
		rows = append(rows, []string{"Alias", s.Alias})
	}
	switch p := s.Person; {
	case p != nil:
		if p.Name != "" {
			rows = append(rows, []string{"Name", p.Name})
		}
		if p.Email != "" {
			rows = append(rows, []string{"Email", p.Email})
		}
		rows = append(rows, []string{"Person", fmt.Sprintf("signed, %s, commit %s", plural(p.Revisions, "revision"), short(p.Commit))})
		if len(p.Devices) > 1 {
			rows = append(rows, []string{"Devices", fmt.Sprintf("%d ('grove device list' lists them)", len(p.Devices))})
		}
	case perr != nil && !errors.Is(perr, repo.ErrNotFound):
		rows = append(rows, []string{"Person", "does not read: " + oneLine(perr)})
	case s.Alias != "":
		rows = append(rows, []string{"Person", "not signed yet: your next change signs it ('grove self edit' now)"})
	default:
		rows = append(rows, []string{"Person", "none: people see your NID ('grove self edit --alias NAME')"})
	}
	node := s.Node
	if s.Node == "running" {
		node = fmt.Sprintf("running, %d address(es): 'grove node addrs' lists them", len(s.Addrs))
	}
	rows = append(rows, []string{"Home", s.Home}, []string{"Node", node})
	if err := table(o.IO.Out, rows); err != nil {
		return fmt.Errorf("print: %w", err)
	}
	return nil
}

// writePersonEverywhere writes person history ph into every project of
// home h that key has a namespace in, and returns those that changed.
func writePersonEverywhere(ctx context.Context, h repo.Home, key *protocol.Key, ph *repo.PersonHistory, now time.Time) ([]protocol.RID, error) {
	rids, err := repo.List(h)
	if err != nil {
		return nil, err
	}
	var changed []protocol.RID
	for _, rid := range rids {
		r, err := repo.Open(h, rid)
		if err != nil {
			return nil, err
		}
		if tip, err := r.RefFiles().Get(repo.NamespacePrefix(key.NID()) + protocol.SigrefsRef); err != nil || tip == "" {
			continue // nothing of yours there: your first change brings it
		}
		ok, err := r.WritePerson(ctx, key, ph, now)
		if err != nil {
			return nil, fmt.Errorf("project %s: %w", rid, err)
		}
		if ok {
			changed = append(changed, rid)
		}
	}
	return changed, nil
}

type selfEditOptions struct {
	on
	jsonFlag
	Alias, Name, Email optString
}

func newSelfEditCmd(e *env) *cobra.Command {
	o := &selfEditOptions{}
	c := o.bind(e, doc("edit", "Change the alias, name or email people see for you",
		`Sign a new revision of your person document and write it into every project
you have written to, announcing each to a running node. People who fetch one
of those projects see the alias in place of your NID. A name is only shown:
what you may do in a project is decided by your key, never by a name.`,
		"  grove self edit --alias alice\n  grove self edit --name 'Alice Liddell' --email alice@example.org",
	), 0, false, func(ctx context.Context) error { return selfEditRun(ctx, o) })
	c.Flags().Var(&o.Alias, "alias", "the `NAME` people see next to or in place of your NID")
	c.Flags().Var(&o.Name, "name", "your full name (empty to remove it)")
	c.Flags().Var(&o.Email, "email", "your email address (empty to remove it)")
	return o.add(c)
}

func selfEditRun(ctx context.Context, o *selfEditOptions) error {
	if !o.Alias.Given && !o.Name.Given && !o.Email.Given {
		return usagef("give --alias, --name or --email")
	}
	if err := checkPlain(plainFlag{"alias", o.Alias}, plainFlag{"name", o.Name}, plainFlag{"email", o.Email}); err != nil {
		return err
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	cfg, err := h.Config()
	if err != nil {
		return err
	}
	doc := repo.Person{Alias: cfg.Alias}
	if ph, err := h.Person(); err == nil && ph.NID.Equal(key.NID()) {
		doc = *ph.Doc
	}
	for _, f := range []struct {
		flag optString
		to   *string
	}{{o.Alias, &doc.Alias}, {o.Name, &doc.Name}, {o.Email, &doc.Email}} {
		if f.flag.Given {
			*f.to = f.flag.Value
		}
	}
	if doc.Alias == "" {
		return usagef("a person document needs an alias: give --alias")
	}
	if err := repo.CheckAlias(doc.Alias); err != nil {
		return usagef("--alias %q: %v", doc.Alias, err)
	}
	if _, err := doc.Encode(); err != nil {
		return usagef("%v", err)
	}
	ph, err := repo.SetPerson(ctx, h, key, doc, o.Now())
	if err != nil {
		return err
	}
	if cfg.Alias != doc.Alias {
		cfg.Alias = doc.Alias
		if err := h.SetConfig(cfg); err != nil {
			return err
		}
	}
	changed, err := writePersonEverywhere(ctx, h, key, ph, o.Now())
	if err != nil {
		return err
	}
	projects := make([]string, len(changed))
	for i, rid := range changed {
		projects[i] = rid.String()
	}
	if err := o.result(o.IO.Out, struct {
		personJSON
		Projects []string `json:"projects"`
	}{personJSON{Alias: ph.Doc.Alias, Name: ph.Doc.Name, Email: ph.Doc.Email, Revisions: ph.Revisions, Commit: ph.Tip}, projects}, func() error {
		_, err := fmt.Fprintf(o.IO.Out, "%s: signed revision %d (%s), written to %s\n", ph.Doc.Alias, ph.Revisions, short(ph.Tip), plural(len(changed), "project"))
		return err
	}); err != nil {
		return err
	}
	for _, rid := range changed {
		o.Announce(ctx, rid)
	}
	return nil
}
