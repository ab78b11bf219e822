package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// start starts a node on n's home and key again, on new ports, as `grove
// node start` after `grove node stop` does.
func (e *env) start(n *benchNode, name string) error {
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("NETBENCH_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", name)
	}
	node, err := p2psync.New(e.ctx, p2psync.Config{Home: n.home, Key: n.key, Log: log})
	if err != nil {
		return err
	}
	n.Node = node
	return nil
}

// loop measures the two-person loop of issue 15 on loopback, with no
// manual sync anywhere: Alice creates a project, Bob clones it; then, runs
// times, each pushes once, Alice's node restarts and both push, Bob's node
// restarts and both push, each works with the node stopped (the change is
// timed from the node's start), and both push again. It prints the median
// and the slowest of all arrivals.
func (e *env) loop(runs int) error {
	alice, err := e.node("loop-alice")
	if err != nil {
		return err
	}
	defer func() { alice.Close() }()
	bob, err := e.node("loop-bob")
	if err != nil {
		return err
	}
	defer func() { bob.Close() }()
	doc := &gproto.Identity{Name: "loop", DefaultBranch: "main", Delegates: []gproto.NID{alice.key.NID()},
		Threshold: 1, Visibility: gproto.Visibility{Type: gproto.Public}}
	r, err := repo.Create(e.ctx, alice.home, alice.key, doc, time.Now())
	if err != nil {
		return err
	}
	rid := r.RID
	if err := e.firstCommit(alice, rid); err != nil {
		return err
	}
	if err := alice.Seed(e.ctx, rid); err != nil {
		return err
	}
	if _, err := bob.Clone(e.ctx, rid, alice.Addrs()[:1]); err != nil {
		return err
	}
	var took []float64
	step := func(name string, from, to *benchNode, offline bool) error {
		if offline {
			from.Close()
		}
		if err := e.commit(from, rid, name); err != nil {
			return err
		}
		want := sigrefs(from.home, rid, from.key.NID())
		t0 := time.Now()
		if offline {
			if err := e.start(from, name); err != nil {
				return err
			}
		} else if err := from.Announce(e.ctx, rid); err != nil {
			return err
		}
		arrived, err := waitArrivals(t0, rid, from, want, []*benchNode{to})
		if err != nil {
			return fmt.Errorf("loop, %s: %w", name, err)
		}
		took = append(took, float64(arrived[0].Microseconds())/1000)
		if os.Getenv("NETBENCH_LOG") != "" {
			fmt.Fprintf(os.Stderr, "loop: %s: %d ms\n", name, arrived[0].Milliseconds())
		}
		return nil
	}
	restart := func(n *benchNode, name string) error {
		n.Close()
		return e.start(n, name)
	}
	for i := range runs {
		steps := []struct {
			name     string
			from, to *benchNode
			offline  bool
			before   func() error
		}{
			{name: "alice pushes", from: alice, to: bob},
			{name: "bob pushes", from: bob, to: alice},
			{name: "alice restarted, bob pushes", from: bob, to: alice, before: func() error { return restart(alice, "alice") }},
			{name: "alice restarted, alice pushes", from: alice, to: bob},
			{name: "bob restarted, bob pushes", from: bob, to: alice, before: func() error { return restart(bob, "bob") }},
			{name: "bob restarted, alice pushes", from: alice, to: bob},
			{name: "alice offline", from: alice, to: bob, offline: true},
			{name: "bob offline", from: bob, to: alice, offline: true},
			{name: "after offline work, alice pushes", from: alice, to: bob},
			{name: "after offline work, bob pushes", from: bob, to: alice},
		}
		for _, s := range steps {
			if s.before != nil {
				if err := s.before(); err != nil {
					return err
				}
			}
			if err := step(fmt.Sprintf("%s %d", s.name, i), s.from, s.to, s.offline); err != nil {
				return err
			}
		}
	}
	fmt.Printf("| two-person loop, both ways, restarts and offline work (%d arrivals) | median %.0f ms | max %.0f ms | |\n",
		len(took), median(took), slices.Max(took))
	return nil
}

// firstCommit puts one commit on main in n's namespace of a new project.
func (e *env) firstCommit(n *benchNode, rid gproto.RID) error {
	r, err := repo.Open(n.home, rid)
	if err != nil {
		return err
	}
	src := filepath.Join(e.tmp, "loop-src")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", src},
		{"-C", src, "commit", "-q", "--allow-empty", "-m", "first"},
		{"-C", r.Path, "fetch", "-q", src, "+refs/heads/main:refs/import/main"},
	} {
		if b, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v %s", args, err, b)
		}
	}
	oid := strings.TrimSpace(out("git", "-C", r.Path, "rev-parse", "refs/import/main"))
	exec.Command("git", "-C", r.Path, "update-ref", "-d", "refs/import/main").Run()
	return r.UpdateNamespace(e.ctx, n.key, []repo.RefUpdate{{Name: "refs/heads/main", New: oid}}, time.Now())
}
