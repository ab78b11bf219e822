// Package netcmd is the program grove-node: grove's command line with a
// libp2p node in process, for the commands that need one (node start, and
// clone, seed --from and sync when no node runs). grove runs grove-node
// with the same arguments for those, so that grove and git-remote-grove do
// not link libp2p's host, transports, DHT and gossip, whose package init
// every call would pay.
package netcmd

import (
	"context"

	"example.com/grove/cmd"
	"example.com/grove/protocol"
	p2psync "example.com/grove/sync"
	"example.com/grove/sync/control"
)

// Main runs grove-node with args and returns the exit code.
func Main(ctx context.Context, args []string, io cmd.IO) int {
	return cmd.GroveNode(ctx, args, io, nodes{})
}

// Stdio returns the process's standard streams and environment.
func Stdio() cmd.IO { return cmd.Stdio() }

// nodes starts p2psync nodes.
type nodes struct{}

var _ cmd.Nodes = nodes{}

func (nodes) Start(ctx context.Context, cfg cmd.NodeConfig) (cmd.Node, error) {
	n, err := p2psync.New(ctx, p2psync.Config{
		Home: cfg.Home, Key: cfg.Key, Listen: cfg.Listen, Bootstrap: cfg.Bootstrap, Relays: cfg.Relays,
		RelayService: cfg.RelayService, MDNS: cfg.MDNS, NoReconnect: cfg.NoReconnect, OneCommand: cfg.OneCommand, Log: cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	return node{n}, nil
}

// node is a p2psync node as package cmd uses it.
type node struct{ *p2psync.Node }

func (n node) Connect(ctx context.Context, addr string) error {
	_, err := n.Node.Connect(ctx, addr)
	return err
}

func (n node) Clone(ctx context.Context, rid protocol.RID, from []string, progress func(string)) (*control.FetchResult, error) {
	return n.Node.Clone(ctx, rid, from, fetchOptions(progress)...)
}

func (n node) Sync(ctx context.Context, rid protocol.RID, max int, progress func(string), reset *protocol.NID) ([]*control.FetchResult, error) {
	opts := fetchOptions(progress)
	if reset != nil {
		opts = append(opts, p2psync.ReplaceFork(*reset))
	}
	return n.Node.Sync(ctx, rid, max, opts...)
}

func (n node) Serve(ctx context.Context, path string, ready func() error) error {
	return p2psync.Serve(ctx, n.Node, path, ready)
}
