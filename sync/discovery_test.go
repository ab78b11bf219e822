package sync_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// TestDHTFindsProvider: five nodes bootstrapped to one another; a clone
// with no address finds the project's provider through the DHT.
func TestDHTFindsProvider(t *testing.T) {
	first := startNode(t)
	nodes := []*testNode{first}
	for range 4 {
		prev := nodes[len(nodes)-1]
		nodes = append(nodes, startNode(t, func(c *p2psync.Config) {
			c.Bootstrap = []string{first.Addrs()[0], prev.Addrs()[0]}
		}))
	}
	owner, cloner := nodes[2], nodes[4]
	rid := owner.project("found")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := owner.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	// The cloner was never given the owner's address.
	for _, p := range cloner.Peers() {
		if p.NID == owner.NID().String() {
			cloner.Host().Network().ClosePeer(owner.Host().ID())
		}
	}
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err = cloner.Clone(ctx, rid, nil); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond) // the provider record is still spreading
	}
	if err != nil {
		t.Fatalf("clone through the DHT: %v", err)
	}
	cloner.verify(rid)
}

// TestCloneThroughRelay: the only route to the target is a circuit relay
// address through a third node that runs the relay service.
func TestCloneThroughRelay(t *testing.T) {
	relay := startNode(t, func(c *p2psync.Config) { c.RelayService = true })
	target := startNode(t, func(c *p2psync.Config) {
		c.Relays = []string{relay.Addrs()[0]}
		c.ForcePrivate = true
	})
	rid := target.project("behind-nat")
	circuit := relay.Addrs()[0] + "/p2p-circuit/p2p/" + target.NID().String()
	cloner := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The target reserves a slot on the relay shortly after it starts
	// (libp2p keeps loopback circuit addresses out of Addrs, so try).
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if _, err = cloner.Clone(ctx, rid, []string{circuit}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("clone via %s: %v", circuit, err)
	}
	for _, c := range cloner.Host().Network().ConnsToPeer(target.Host().ID()) {
		t.Logf("connection to target: %s (limited: %v)", c.RemoteMultiaddr(), c.Stat().Limited)
	}
	cloner.verify(rid)
}

// privateProject creates a private project owned by n, readable by
// allowed.
func (n *testNode) privateProject(allowed *testNode) gproto.RID {
	n.t.Helper()
	doc := &gproto.Identity{Name: "secret", DefaultBranch: "main", Delegates: []gproto.NID{n.key.NID()},
		Threshold: 1, Visibility: gproto.Visibility{Type: gproto.Private, Allow: []gproto.NID{allowed.key.NID()}}}
	r, err := repo.Create(context.Background(), n.home, n.key, doc, time.Now())
	if err != nil {
		n.t.Fatal(err)
	}
	return r.RID
}

// TestPrivateProject: served only to the allow list, never provided.
func TestPrivateProject(t *testing.T) {
	owner, friend, stranger := startNode(t), startNode(t), startNode(t)
	rid := owner.privateProject(friend)
	owner.commit(rid, "hidden")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := owner.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	_, err := stranger.Clone(ctx, rid, owner.Addrs()[:1])
	if !errors.Is(err, p2psync.ErrPeerLacks) {
		t.Fatalf("a stranger cloned a private project: err = %v, want ErrPeerLacks", err)
	}
	if _, err := repo.Open(stranger.home, rid); err == nil {
		t.Fatal("the stranger has a storage for the private project")
	}
	if _, err := friend.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatalf("an allowed peer could not clone: %v", err)
	}
	friend.verify(rid)
	// Never provided: the stranger's DHT does not list the owner.
	fctx, fcancel := context.WithTimeout(ctx, 2*time.Second)
	defer fcancel()
	if _, err := stranger.Clone(fctx, rid, nil); err == nil {
		t.Fatal("found a private project without an address")
	}
}

// recordingServer makes n answer every fetch "not found" and record the
// RIDs it was asked for.
func recordingServer(n *testNode) func() []gproto.RID {
	var mu sync.Mutex
	var asked []gproto.RID
	n.Host().SetStreamHandler(protocol.ID(gproto.GitProtocolID), func(s network.Stream) {
		defer s.Close()
		var req gproto.FetchRequest
		if err := gproto.ReadMessage(s, gproto.MaxMessage, &req); err != nil {
			s.Reset()
			return
		}
		mu.Lock()
		asked = append(asked, req.RID)
		mu.Unlock()
		gproto.WriteMessage(s, gproto.FetchResponse{Error: "not found"})
	})
	return func() []gproto.RID {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(asked)
	}
}

// TestPrivateSyncAsksOnlyReaders: syncing a private project asks the
// connected peers allowed to read it, and no one else: asking would name
// the RID to them.
func TestPrivateSyncAsksOnlyReaders(t *testing.T) {
	owner, friend, stranger := startNode(t), startNode(t), startNode(t)
	rid := owner.privateProject(friend)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := friend.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	asked := recordingServer(stranger)
	if _, err := friend.Connect(ctx, stranger.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	owner.commit(rid, "more")
	res, err := friend.Sync(ctx, rid, 8)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range res {
		if x.Peer != owner.Host().ID().String() {
			t.Errorf("sync asked %s", x.Peer)
		}
	}
	if got := asked(); len(got) > 0 {
		t.Fatalf("a peer not allowed to read the project was asked for it: %v", got)
	}
	friend.verify(rid)
	// With only the stranger connected there is no one to ask.
	friend.Host().Network().ClosePeer(owner.Host().ID())
	eventually(t, 5*time.Second, "the owner to disconnect", func() bool {
		return friend.Host().Network().Connectedness(owner.Host().ID()) != network.Connected
	})
	_, err = friend.Sync(ctx, rid, 8)
	if err == nil || !strings.Contains(err.Error(), "may read private project") {
		t.Fatalf("sync with no reader connected: err = %v", err)
	}
	if got := asked(); len(got) > 0 {
		t.Fatalf("a peer not allowed to read the project was asked for it: %v", got)
	}
}

// TestMadePrivateLeavesTopic: a public project made private is no longer
// gossiped in the open by the node that made it so.
func TestMadePrivateLeavesTopic(t *testing.T) {
	owner, b := startNode(t), startNode(t)
	rid := owner.project("soon-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	if err := owner.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if !owner.Joined(rid) {
		t.Fatal("a public project's seeder is not in its topic")
	}
	r, err := repo.Open(owner.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := r.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc.Visibility = gproto.Visibility{Type: gproto.Private}
	if _, err := r.UpdateIdentity(ctx, owner.key, doc, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := owner.Announce(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if owner.Joined(rid) {
		t.Fatal("the project made private is still gossiped in the open")
	}
	eventually(t, 10*time.Second, "the owner to leave the topic b sees", func() bool {
		return !slices.Contains(b.TopicPeers(rid), owner.Host().ID())
	})
}

// TestPrivateProjectFollowsAllowList: in a private project a node takes
// the namespaces of its delegates, of those on its allow list and of
// NIDs it follows, and no others, a fresh clone included (it reads the
// allow list from what arrived).
func TestPrivateProjectFollowsAllowList(t *testing.T) {
	owner, friend, other := startNode(t), startNode(t), startNode(t)
	rid := owner.privateProject(friend)
	owner.commit(rid, "owner's work")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// other is not on the allow list but holds a copy (made behind
	// grove's back) with a namespace of its own, which the owner follows.
	if err := os.MkdirAll(other.home.StorageDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", owner.home.ProjectPath(rid), other.home.ProjectPath(rid)).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	other.commit(rid, "other's work")
	pol, err := p2psync.LoadPolicy(owner.home)
	if err != nil {
		t.Fatal(err)
	}
	if pol.Follows == nil {
		pol.Follows = map[string]string{}
	}
	pol.Follows[other.NID().String()] = "other"
	if err := pol.Save(owner.home); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Connect(ctx, other.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Fetch(ctx, other.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if owner.sigrefs(rid, other.NID()) == "" {
		t.Fatal("the owner did not take the namespace of a NID it follows")
	}
	// A fresh clone by the friend takes the owner's namespace, not other's.
	if _, err := friend.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	if friend.sigrefs(rid, owner.NID()) == "" {
		t.Fatal("the clone lacks the delegate's namespace")
	}
	if friend.sigrefs(rid, other.NID()) != "" {
		t.Fatal("a fresh clone of a private project took the namespace of a NID off its allow list")
	}
	friend.verify(rid)
	// The friend's own work reaches the owner: the allow list is followed.
	friend.commit(rid, "friend's work")
	if _, err := owner.Fetch(ctx, friend.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if got, want := owner.sigrefs(rid, friend.NID()), friend.sigrefs(rid, friend.NID()); got != want {
		t.Fatalf("the owner holds the friend's signed refs %q, want %q", got, want)
	}
}
