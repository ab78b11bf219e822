package sync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	p2psync "example.com/grove/sync"
)

// TestServedRefsAreNamespacesOnly: a node's upload-pack advertises to
// peers only the namespaces it may share (peers derive the canonical refs
// themselves): not the canonical branches, nor HEAD, nor a blocked
// namespace.
func TestServedRefsAreNamespacesOnly(t *testing.T) {
	a, b, c := startNode(t), startNode(t), startNode(t)
	rid := a.project("hello")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// c's namespace arrives in a's storage, then a blocks c.
	if _, err := c.Clone(ctx, rid, a.Addrs()[:1]); err != nil {
		t.Fatal(err)
	}
	c.commit(rid, "c's work")
	if _, err := a.Fetch(ctx, c.Host().ID(), rid); err != nil {
		t.Fatal(err)
	}
	if a.sigrefs(rid, c.NID()) == "" {
		t.Fatal("a did not take c's namespace")
	}
	advertised := func() string {
		t.Helper()
		if _, err := b.Connect(ctx, a.Addrs()[0]); err != nil {
			t.Fatal(err)
		}
		out, err := b.AdvertisedRefs(ctx, a.Host().ID(), rid)
		if err != nil {
			t.Fatalf("ls-remote: %v\n%s", err, out)
		}
		return out
	}
	out := advertised()
	for _, nid := range []string{a.NID().String(), c.NID().String()} {
		if !strings.Contains(out, "\trefs/namespaces/"+nid+"/refs/heads/main\n") {
			t.Errorf("%s's main is not advertised:\n%s", nid, out)
		}
	}
	for line := range strings.Lines(out) {
		if _, name, _ := strings.Cut(strings.TrimSpace(line), "\t"); !strings.HasPrefix(name, "refs/namespaces/") {
			t.Errorf("advertised %q, outside the namespaces", name)
		}
	}

	pol, err := p2psync.LoadPolicy(a.home)
	if err != nil {
		t.Fatal(err)
	}
	pol.Blocked = append(pol.Blocked, c.NID().String())
	if err := pol.Save(a.home); err != nil {
		t.Fatal(err)
	}
	if out := advertised(); strings.Contains(out, c.NID().String()) || !strings.Contains(out, a.NID().String()) {
		t.Errorf("with c blocked, a advertises:\n%s", out)
	}
}
