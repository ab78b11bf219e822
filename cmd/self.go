package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type selfOptions struct {
	on
	JSON bool
}

func newSelfCmd(e *env) *cobra.Command {
	o := &selfOptions{}
	c := o.bind(e, doc("self", "Show your NID, did:key, alias and home", "",
		"  grove self\n  grove self --json | jq -r .nid",
	), 0, false, func(ctx context.Context) error { return selfRun(ctx, o) })
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
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
