package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

type blockOptions struct {
	on
	JSON bool
}

// blockJSON is what grove block prints with --json.
type blockJSON struct {
	NID     string   `json:"nid"`
	Blocked bool     `json:"blocked"`
	Dropped []string `json:"droppedFrom"` // projects whose copy of the namespace went
}

func newBlockCmd(e *env) *cobra.Command {
	o := &blockOptions{}
	c := o.bind(e, doc("block [NID]", "Stop fetching, serving and listing a peer's work",
		`Block NID: in every project, its namespace is no longer fetched, served
or listed, and what this home already holds of it (issues, comments,
patches, branches) is dropped; its objects go at the next maintenance.
A running node applies it at once. Nothing of anyone else's is touched.

A project's delegate cannot be blocked: its namespace is where the
project's canonical branches come from.

With no NID, lists the blocked peers. 'grove unblock NID' undoes a block;
the peer's work comes back with the next fetch.`,
		"  grove block 12D3KooW...\n  grove block --json",
	), 0, false, func(ctx context.Context) error { return blockRun(ctx, o) })
	c.Args = maxArgs(1)
	inner := c.RunE
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 1 {
			o.ID = args[0]
		}
		return inner(c, args)
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func blockRun(ctx context.Context, o *blockOptions) error {
	if o.ID == "" {
		return blockedRun(o)
	}
	nid, h, err := o.peerArg()
	if err != nil {
		return err
	}
	if self, err := o.NID(); err == nil && self.String() == nid.String() {
		return usagef("%s is you: a home cannot block its own key", nid)
	}
	rids, err := repo.List(h)
	if err != nil {
		return err
	}
	// Refuse before changing anything: a delegate of any project stays.
	repos := make([]*repo.Repo, 0, len(rids))
	for _, rid := range rids {
		r, err := repo.Open(h, rid)
		if err != nil {
			return err
		}
		doc, _, err := r.Identity(ctx)
		if err != nil {
			return fmt.Errorf("project %s: %w", rid, err)
		}
		if doc.IsDelegate(nid) {
			return fmt.Errorf("%s is a delegate of %s (%s): its namespace holds the project's canonical branches; remove it from the delegates with 'grove id update' first", nid, doc.Name, rid)
		}
		repos = append(repos, r)
	}
	// The policy first: a fetch that starts from now on skips the
	// namespace, then what is stored of it goes.
	if err := editPolicy(h, func(pol *control.Policy) bool {
		if pol.IsBlocked(nid) {
			return false
		}
		pol.Blocked = append(pol.Blocked, nid.String())
		return true
	}); err != nil {
		return err
	}
	out := blockJSON{NID: nid.String(), Blocked: true, Dropped: []string{}}
	for _, r := range repos {
		n, err := r.DropNamespace(ctx, nid)
		if errors.Is(err, repo.ErrDelegateNamespace) {
			continue // became a delegate meanwhile; the check above said why
		}
		if err != nil {
			return fmt.Errorf("blocked %s, but dropping its namespace from %s failed: %w; run 'grove block %s' again", nid, r.RID, err, nid)
		}
		if n > 0 {
			out.Dropped = append(out.Dropped, r.RID.String())
		}
	}
	if o.JSON {
		return writeJSON(o.IO.Out, out)
	}
	o.info("Blocked %s; dropped its work from %d project(s).", nid, len(out.Dropped))
	return nil
}

// blockedRun lists the blocked peers.
func blockedRun(o *blockOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	pol, err := control.LoadPolicy(h)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, append([]string{}, pol.Blocked...))
	}
	for _, b := range pol.Blocked {
		fmt.Fprintln(o.IO.Out, b)
	}
	return nil
}

func newUnblockCmd(e *env) *cobra.Command {
	o := &on{}
	return o.bind(e, doc("unblock NID", "Fetch, serve and list a blocked peer's work again", "",
		"  grove unblock 12D3KooW...",
	), 1, false, func(ctx context.Context) error { return unblockRun(ctx, o) })
}

func unblockRun(ctx context.Context, o *on) error {
	nid, h, err := o.peerArg()
	if err != nil {
		return err
	}
	was := false
	if err := editPolicy(h, func(pol *control.Policy) bool {
		i := slices.Index(pol.Blocked, nid.String())
		if i < 0 {
			return false
		}
		was = true
		pol.Blocked = slices.Delete(pol.Blocked, i, i+1)
		return true
	}); err != nil {
		return err
	}
	if !was {
		return fmt.Errorf("%s is not blocked ('grove block' lists who is)", nid)
	}
	o.info("Unblocked %s; its work comes back with the next fetch.", nid)
	return nil
}
