package cmd_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// syncFrom copies peer from's namespace of project rid into p's storage the
// way the network's fetch does, minus the network: git fetches it into a
// quarantine and repo.Accept verifies it and moves the refs (with the
// canonical refs) in one transaction.
func (p *peer) syncFrom(from *peer, rid string) {
	p.t.Helper()
	ctx := context.Background()
	id, err := protocol.ParseRID(rid)
	if err != nil {
		p.t.Fatal(err)
	}
	h := repo.Home{Dir: filepath.Join(p.work, ".grove")}
	r, err := repo.Open(h, id)
	fresh := errors.Is(err, repo.ErrNotFound)
	if fresh {
		r, err = repo.CreateEmpty(ctx, h, id)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	q, err := r.NewQuarantine("fetch", nil, "", map[string]string{"fetch.fsckObjects": "true"})
	if err != nil {
		p.t.Fatal(err)
	}
	defer q.Close()
	ns := "refs/namespaces/" + from.nid + "/"
	p.run(q.Dir(), "git", "fetch", "-q", from.storage(rid), "+"+ns+"*:"+ns+"*")
	res, err := r.Accept(ctx, q, nil)
	if err != nil || len(res.Rejected) > 0 {
		p.t.Fatalf("accept %s's namespace: %+v, %v", from.nid, res, err)
	}
	if fresh {
		if err := r.Publish(h); err != nil {
			p.t.Fatal(err)
		}
	}
}

// TestIssueOfflineSync: an issue filed offline reaches another peer once
// its namespace arrives; concurrent edits on two peers converge to the same
// bytes on both; `issue show` takes a prefix. (The network's own fetch will
// replace syncFrom; what moves is the same: one namespace's refs.)
func TestIssueOfflineSync(t *testing.T) {
	alice, bob := newPeer(t), newPeer(t)
	_, rid := alice.project()
	bob.syncFrom(alice, rid) // bob clones the project: alice's namespace

	// Alice files an issue with nobody connected.
	id := alice.run(alice.work, "grove", "issue", "new", "-R", rid, "--title", "Crash on start", "--body", "It *panics*.", "--label", "bug")
	if out := bob.run(bob.work, "grove", "issue", "list", "-R", rid); out != "" {
		t.Fatalf("bob sees issues before any sync:\n%s", out)
	}
	bob.syncFrom(alice, rid)
	if out := bob.run(bob.work, "grove", "issue", "list", "-R", rid); !strings.Contains(out, id[:7]) || !strings.Contains(out, "Crash on start") {
		t.Fatalf("after sync bob lists:\n%s", out)
	}
	// And bob's own offline issue reaches alice.
	bid := bob.run(bob.work, "grove", "issue", "new", "-R", rid, "--title", "Docs are thin")
	alice.syncFrom(bob, rid)
	if out := alice.run(alice.work, "grove", "issue", "show", "-R", rid, bid[:7]); !strings.Contains(out, "Docs are thin") {
		t.Fatalf("alice shows bob's issue:\n%s", out)
	}

	// Concurrent edits, neither peer connected: alice (author, delegate)
	// retitles, labels and comments; bob comments, reacts and tries to
	// close, which a stranger may not do.
	alice.run(alice.work, "grove", "issue", "edit", "-R", rid, id[:8], "--title", "Crash on start with an empty config")
	alice.run(alice.work, "grove", "issue", "label", "-R", rid, id[:8], "--add", "p1")
	ac := alice.run(alice.work, "grove", "issue", "comment", "-R", rid, id[:8], "--body", "Looking into it")
	bc := bob.run(bob.work, "grove", "issue", "comment", "-R", rid, id[:8], "--body", "Same here on arm64")
	bob.run(bob.work, "grove", "issue", "react", "-R", rid, id[:8], "👀")
	if _, err := bob.try(bob.work, "grove", "issue", "close", "-R", rid, id[:8]); err == nil {
		t.Fatal("bob, a stranger, closed alice's issue")
	}
	show := func(p *peer) string {
		return p.run(p.work, "grove", "issue", "show", "-R", rid, id[:7], "--json")
	}
	if show(alice) == show(bob) {
		t.Fatal("the peers agree before exchanging anything")
	}
	alice.syncFrom(bob, rid)
	bob.syncFrom(alice, rid)
	a, b := show(alice), show(bob)
	if a != b {
		t.Fatalf("peers differ after exchange:\nalice %s\nbob %s", a, b)
	}
	var is struct {
		Title    string   `json:"title"`
		State    string   `json:"state"`
		Labels   []string `json:"labels"`
		Comments []struct {
			ID string `json:"id"`
		} `json:"comments"`
		Reactions []struct {
			Emoji string `json:"emoji"`
		} `json:"reactions"`
	}
	if err := json.Unmarshal([]byte(a), &is); err != nil {
		t.Fatal(err)
	}
	if is.Title != "Crash on start with an empty config" || is.State != "open" || strings.Join(is.Labels, ",") != "bug,p1" || len(is.Comments) != 2 || len(is.Reactions) != 1 {
		t.Fatalf("merged issue: %s", a)
	}
	got := map[string]bool{is.Comments[0].ID: true, is.Comments[1].ID: true}
	if !got[ac] || !got[bc] {
		t.Fatalf("comments %v, want %s and %s", got, ac, bc)
	}
	list := func(p *peer) string {
		return p.run(p.work, "grove", "issue", "list", "-R", rid, "--state", "all", "--json")
	}
	if la, lb := list(alice), list(bob); la != lb {
		t.Fatalf("lists differ:\n%s\n%s", la, lb)
	}
	// The next change from either side merges both branches: one head.
	alice.run(alice.work, "grove", "issue", "comment", "-R", rid, id[:7], "--body", "merged view")
	tip := alice.run(alice.storage(rid), "git", "rev-parse", "refs/namespaces/"+alice.nid+"/refs/cobs/grove.issue/"+id+"^@")
	if n := len(strings.Fields(tip)); n != 2 {
		t.Fatalf("merge change has %d parents, want 2: %s", n, tip)
	}
	alice.run(alice.work, "grove", "verify", rid)
	bob.run(bob.work, "grove", "verify", rid)
}
