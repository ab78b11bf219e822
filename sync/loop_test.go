package sync_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"testing"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
	"example.com/grove/sync/control"
)

// arrivalWait bounds how long a change may take to reach a peer in these
// tests: generous, since machines are noisy; the figures that matter are
// measured by bench/loop.sh.
const arrivalWait = 30 * time.Second

// start starts n's node again (after Close) on the same home and key, on
// new ports, as `grove node start` after `grove node stop` does.
func (n *testNode) start() {
	n.t.Helper()
	n.Node = startNode(n.t, func(c *p2psync.Config) { c.Home, c.Key = n.home, n.key }).Node
}

// restart stops n's node and starts it again.
func (n *testNode) restart() {
	n.t.Helper()
	n.Close()
	n.start()
}

// arrivals records how long each change took to reach each peer.
type arrivals struct {
	t    *testing.T
	took []time.Duration
}

// change makes a change in from's namespace of rid (a commit on main) and
// announces it, as a push or an issue command does; then it waits,
// bounded, until every peer in to holds it, and records when each did.
// With offline, from's node is stopped for the change and started after
// it, as when someone works with the node down.
func (a *arrivals) change(name string, rid gproto.RID, from *testNode, offline bool, to ...*testNode) {
	a.t.Helper()
	if offline {
		from.Close()
	}
	head := from.commit(rid, name)
	want := from.sigrefs(rid, from.NID())
	start := time.Now()
	if offline {
		from.start()
	} else if err := from.Announce(context.Background(), rid); err != nil {
		a.t.Fatalf("%s: announce: %v", name, err)
	}
	left := slices.Clone(to)
	deadline := start.Add(arrivalWait)
	for len(left) > 0 {
		left = slices.DeleteFunc(left, func(n *testNode) bool {
			// The ref transaction renames one ref file after another:
			// the change is there once both its refs are.
			if n.sigrefs(rid, from.NID()) != want || n.ref(rid, from.NID(), "refs/heads/main") != head {
				return false
			}
			d := time.Since(start)
			a.took = append(a.took, d)
			a.t.Logf("%-40s reached %s after %v", name, n.NID().String()[len(n.NID().String())-6:], d.Round(time.Millisecond))
			return true
		})
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, n := range append([]*testNode{from}, to...) {
				a.t.Logf("%s: topic peers %v, connected %v", n.NID(), n.TopicPeers(rid), n.Host().Network().Peers())
				for _, c := range n.Host().Network().Conns() {
					a.t.Logf("  conn %s %s opened %v streams %d", c.RemotePeer(), c.RemoteMultiaddr(), c.Stat().Opened.Format("15:04:05.000"), len(c.GetStreams()))
				}
			}
			a.t.Fatalf("%s: not at %d peer(s) after %v", name, len(left), arrivalWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ref is what n holds as owner's ref name in rid ("" if none).
func (n *testNode) ref(rid gproto.RID, owner gproto.NID, name string) string {
	r, err := repo.Open(n.home, rid)
	if err != nil {
		return ""
	}
	oid, _ := r.RefFiles().Get(repo.NamespacePrefix(owner) + name)
	return oid
}

func (a *arrivals) report() {
	if len(a.took) == 0 {
		return
	}
	s := slices.Clone(a.took)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	a.t.Logf("%d arrivals: median %v, max %v", len(s), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// Two people, each with a node, no manual sync anywhere: Alice creates
// and seeds a project, Bob clones it from her. Changes by either reach the
// other, before and after either node restarts on new ports (they find
// each other again through their peer books), and after one of them works
// with the node stopped (the node announces what changed when it starts,
// and the two compare heads when they connect).
func TestTwoPersonLoop(t *testing.T) {
	alice, bob := startNode(t), startNode(t)
	rid := alice.project("loop")
	ctx := context.Background()
	if err := alice.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Clone(ctx, rid, alice.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	a := &arrivals{t: t}
	defer a.report()
	for round := range 2 {
		a.change(fmt.Sprintf("round %d: alice pushes", round), rid, alice, false, bob)
		a.change(fmt.Sprintf("round %d: bob pushes", round), rid, bob, false, alice)
	}
	alice.restart()
	a.change("alice restarted: bob pushes", rid, bob, false, alice)
	a.change("alice restarted: alice pushes", rid, alice, false, bob)
	bob.restart()
	a.change("bob restarted: bob pushes", rid, bob, false, alice)
	a.change("bob restarted: alice pushes", rid, alice, false, bob)
	a.change("alice offline", rid, alice, true, bob)
	a.change("bob offline", rid, bob, true, alice)
	a.change("after offline work: alice pushes", rid, alice, false, bob)
	a.change("after offline work: bob pushes", rid, bob, false, alice)
	alice.verify(rid)
	bob.verify(rid)
}

// Carol is connected only to Bob; she gets Alice's and Bob's changes, and
// hers reach both, through Bob, also when Bob's node was down while
// Alice worked.
func TestThreePersonChain(t *testing.T) {
	alice, bob, carol := startNode(t), startNode(t), startNode(t)
	rid := alice.project("chain")
	ctx := context.Background()
	if err := alice.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Clone(ctx, rid, alice.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	// Without this the DHT would connect Carol to Alice.
	carol.Refuse(alice.Host().ID())
	if _, err := carol.Clone(ctx, rid, bob.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	a := &arrivals{t: t}
	defer a.report()
	a.change("alice pushes", rid, alice, false, bob, carol)
	a.change("bob pushes", rid, bob, false, alice, carol)
	a.change("carol pushes", rid, carol, false, bob, alice)
	// Alice works while Bob's node is down: when it comes back it catches
	// up from Alice and passes what it took on to Carol.
	bob.Close()
	alice.commit(rid, "alice while bob is down")
	want := alice.sigrefs(rid, alice.NID())
	if err := alice.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bob.start()
	eventually(t, arrivalWait, "alice's change at carol through the restarted bob", func() bool {
		return carol.sigrefs(rid, alice.NID()) == want && bob.sigrefs(rid, alice.NID()) == want
	})
	t.Logf("alice's change made while bob was down reached carol %v after bob started", time.Since(start).Round(time.Millisecond))
	if slices.Contains(carol.Host().Network().Peers(), alice.Host().ID()) {
		t.Fatal("carol is connected to alice")
	}
	for _, n := range []*testNode{alice, bob, carol} {
		n.verify(rid)
	}
}

// Three people who share only a bootstrap node, which seeds nothing:
// Bob clones by RID through the DHT, and Carol, who holds a copy of the
// project but knows no peer of it, finds its seeders on the DHT when her
// node starts. Changes then flow between all three with no manual sync.
func TestBootstrapDHTLoop(t *testing.T) {
	boot := startNode(t)
	viaBoot := func(c *p2psync.Config) { c.Bootstrap = []string{boot.Addrs()[0]} }
	alice, bob := startNode(t, viaBoot), startNode(t, viaBoot)
	rid := alice.project("dht")
	ctx := context.Background()
	if err := alice.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	var err error
	for deadline := time.Now().Add(arrivalWait); ; {
		// The provider record may still be on its way.
		if _, err = bob.Clone(ctx, rid, nil); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("clone by RID through the DHT: %v", err)
	}
	a := &arrivals{t: t}
	defer a.report()
	a.change("alice pushes", rid, alice, false, bob)
	a.change("bob pushes", rid, bob, false, alice)

	// Carol's home holds a copy of Bob's storage and seeds it, nothing more.
	carolHome := repo.Home{Dir: t.TempDir()}
	if err := os.MkdirAll(carolHome.StorageDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", bob.home.ProjectPath(rid), carolHome.ProjectPath(rid)).CombinedOutput(); err != nil {
		t.Fatalf("copy storage: %v\n%s", err, out)
	}
	pol := &control.Policy{Follows: map[string]string{}, Seeds: []string{rid.String()}}
	if err := pol.Save(carolHome); err != nil {
		t.Fatal(err)
	}
	carol := startNode(t, viaBoot, func(c *p2psync.Config) { c.Home = carolHome })
	a.change("alice pushes, carol listens", rid, alice, false, bob, carol)
	a.change("carol pushes", rid, carol, false, alice, bob)
	for _, n := range []*testNode{alice, bob, carol} {
		n.verify(rid)
	}
}
