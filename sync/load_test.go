package sync_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// One seed serves 20 nodes cloning at once: every clone lands whole and
// verifies, and the seed still serves a fetch afterwards.
func TestSeedServesTwentyClonesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("21 nodes: not in -short")
	}
	if raceDetector {
		// A load test: under the detector's slowdown on two cores its
		// fetches hit their deadlines, which tests the machine, not Grove.
		// CI runs it without -race.
		t.Skip("a load test: not under the race detector")
	}
	seed := startNode(t)
	rid := seed.project("crowd")
	for i := range 20 {
		seed.commit(rid, fmt.Sprintf("change %d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := seed.Seed(ctx, rid); err != nil {
		t.Fatal(err)
	}
	want := seed.sigrefs(rid, seed.NID())
	nodes := make([]*testNode, 20)
	for i := range nodes {
		nodes[i] = startNode(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() {
			_, errs[i] = n.Clone(ctx, rid, seed.Addrs()[:1])
		})
	}
	wg.Wait()
	for i, n := range nodes {
		if errs[i] != nil {
			t.Errorf("clone %d: %v", i, errs[i])
			continue
		}
		if got := n.sigrefs(rid, seed.NID()); got != want {
			t.Errorf("clone %d holds signed refs %q, want %q", i, got, want)
		}
		n.verify(rid)
	}
	if s := seed.Strikes(nodes[0].Host().ID()); s != 0 {
		t.Errorf("the seed holds %d strikes against an honest cloner", s)
	}
	// Still serving.
	seed.commit(rid, "after the crowd")
	late := startNode(t)
	if _, err := late.Clone(ctx, rid, seed.Addrs()[:1]); err != nil {
		t.Fatalf("a clone after the crowd: %v", err)
	}
	late.verify(rid)
}
