package sync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// keyedHome gives a node a home that holds its key, as grove auth makes
// one: a person document needs it.
func keyedHome(t *testing.T) func(*p2psync.Config) {
	return func(c *p2psync.Config) {
		h := repo.Home{Dir: t.TempDir()}
		k, err := repo.CreateKey(h, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Home, c.Key = h, k
	}
}

// TestPrivateProjectPerson: a private project shared with friend is
// served to the laptop friend's person document lists, once that document
// reached the owner (and not before), and the owner takes the laptop's
// namespace; once friend removes the laptop and the owner has the
// removal, the laptop is refused.
func TestPrivateProjectPerson(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	owner, friend, laptop := startNode(t), startNode(t, keyedHome(t)), startNode(t, keyedHome(t))
	if _, err := repo.SetPerson(ctx, friend.home, friend.key, repo.Person{Alias: "friend"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ph, err := repo.AddDevice(ctx, friend.home, friend.key, laptop.key.NID(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.JoinPerson(ctx, laptop.home, laptop.key, ph.Export()); err != nil {
		t.Fatal(err)
	}
	rid := owner.privateProject(friend)
	owner.commit(rid, "hidden")
	if err := owner.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Clone(ctx, rid, owner.Addrs()[:1]); !errors.Is(err, p2psync.ErrPeerLacks) {
		t.Fatalf("the laptop cloned before the owner had friend's person document: err = %v", err)
	}

	// Friend writes to the project: the owner gets the document.
	if _, err := friend.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	friend.commit(rid, "from friend")
	if _, err := owner.Fetch(ctx, friend.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if _, err := laptop.Clone(ctx, rid, owner.Addrs()[:1]); err != nil {
		t.Fatalf("a device of the allowed person could not clone: %v", err)
	}
	laptop.verify(rid)
	work := laptop.commit(rid, "from the laptop")
	if _, err := owner.Fetch(ctx, laptop.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(owner.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	if refs, err := r.NamespaceRefs(ctx, laptop.key.NID()); err != nil || refs["refs/heads/main"] != work {
		t.Fatalf("the owner did not take the laptop's namespace: %v %v", refs, err)
	}

	// Friend removes the laptop; the owner gets the removal.
	if _, err := repo.RemoveDevice(ctx, friend.home, friend.key, laptop.key.NID(), nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	friend.commit(rid, "removed the laptop")
	if _, err := owner.Fetch(ctx, friend.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	later := owner.commit(rid, "after the removal")
	if _, err := laptop.Fetch(ctx, owner.Host().ID(), rid); err == nil {
		t.Fatal("the removed laptop fetched the private project")
	}
	lr, err := repo.Open(laptop.home, rid)
	if err != nil {
		t.Fatal(err)
	}
	if refs, _ := lr.NamespaceRefs(ctx, owner.key.NID()); refs["refs/heads/main"] == later {
		t.Fatal("the removed laptop has the owner's later work")
	}
	// Friend itself still reads.
	if _, err := friend.Fetch(ctx, owner.Host().ID(), rid); err != nil {
		t.Fatalf("friend after removing its laptop: %v", err)
	}
}
