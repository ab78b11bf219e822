package sync_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	p2psync "example.com/grove/sync"
)

// behindRelay starts a relay whose connections carry at most limit bytes
// each way, and a node behind it (private, with a reservation there) that
// owns a project of a few hundred KiB. It returns the target and the
// project, and the target's circuit address.
func behindRelay(t *testing.T, limit int64) (*testNode, gproto.RID, string) {
	relay := startNode(t, func(c *p2psync.Config) {
		c.RelayService = true
		c.RelayLimit = p2psync.RelayLimit{Duration: time.Minute, Data: limit}
	})
	target := startNode(t, func(c *p2psync.Config) {
		c.Relays = []string{relay.Addrs()[0]}
	})
	eventually(t, 30*time.Second, "a reservation on the relay", func() bool { return len(target.Reservations()) > 0 })
	if r := target.Reachability(); r != "private" {
		t.Errorf("a node with relays reports reachability %q, want private", r)
	}
	rid := target.project("big")
	b := make([]byte, 300<<10)
	rand.Read(b)
	target.commitFile(rid, "big", base64.StdEncoding.EncodeToString(b))
	return target, rid, relay.Addrs()[0] + "/p2p-circuit/p2p/" + target.NID().String()
}

// TestRelayLimitSaysSo: a clone larger than what the relay carries per
// connection, with no direct connection to finish it over, fails saying
// that the relay's limit cut it; nothing is stored.
func TestRelayLimitSaysSo(t *testing.T) {
	target, rid, circuit := behindRelay(t, 64<<10)
	cloner := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := cloner.Clone(ctx, rid, []string{circuit})
	var rl *p2psync.RelayLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("clone past the relay's limit: err = %v, want a RelayLimitError", err)
	}
	if rl.Peer != target.Host().ID() || rl.Data != 64<<10 || rl.Duration != time.Minute {
		t.Errorf("error names peer %s, limits %d bytes and %v", rl.Peer, rl.Data, rl.Duration)
	}
	for _, want := range []string{"limit (64.0 KiB, 1m0s per connection)", "hole punching made no direct connection"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := repo.Open(cloner.home, rid); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("a storage for the project after a failed clone: %v", err)
	}
}

// TestRelayLimitThenDirect: the relay cuts a clone at its limit; a direct
// connection to the peer comes up (as hole punching makes) while the
// fetch waits for one, and the clone finishes over it.
func TestRelayLimitThenDirect(t *testing.T) {
	target, rid, circuit := behindRelay(t, 64<<10)
	waiting := make(chan struct{})
	cloner := startNode(t, func(c *p2psync.Config) {
		c.Limits.HolePunchWait = 30 * time.Second
		c.Log = slog.New(&onMessage{Handler: c.Log.Handler(), msg: "relay limit reached; waiting for a direct connection",
			do: sync.OnceFunc(func() { close(waiting) })})
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type result struct {
		res *p2psync.FetchResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := cloner.Clone(ctx, rid, []string{circuit})
		done <- result{res, err}
	}()
	select {
	case <-waiting:
	case r := <-done:
		t.Fatalf("the clone ended before the relay cut it: %+v, %v", r.res, r.err)
	}
	// The relay cut the first try: connect the two directly.
	var direct []string
	for _, a := range target.Addrs() {
		if !strings.Contains(a, "/p2p-circuit") {
			direct = append(direct, a)
		}
	}
	ai, err := peer.AddrInfoFromString(direct[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := cloner.Host().Connect(network.WithForceDirectDial(ctx, "test"), *ai); err != nil {
		t.Fatalf("direct connection: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("clone over the direct connection: %v", r.err)
	}
	if r.res.Via != "direct" {
		t.Errorf("the second try went over %q, want direct", r.res.Via)
	}
	cloner.verify(rid)
}

// TestCloneReportsRoute: a clone through the relay says so.
func TestCloneReportsRoute(t *testing.T) {
	_, rid, circuit := behindRelay(t, 8<<20)
	cloner := startNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := cloner.Clone(ctx, rid, []string{circuit})
	if err != nil {
		t.Fatal(err)
	}
	if res.Via != "relay" {
		t.Errorf("clone through the relay reports via %q", res.Via)
	}
	cloner.verify(rid)
}

// onMessage is a log handler that calls do on each record with message
// msg.
type onMessage struct {
	slog.Handler
	msg string
	do  func()
}

// Enabled is true whatever the wrapped handler discards, so that every
// message is seen.
func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }

func (h *onMessage) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.do()
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *onMessage) WithAttrs(as []slog.Attr) slog.Handler {
	return &onMessage{Handler: h.Handler.WithAttrs(as), msg: h.msg, do: h.do}
}

func (h *onMessage) WithGroup(name string) slog.Handler {
	return &onMessage{Handler: h.Handler.WithGroup(name), msg: h.msg, do: h.do}
}
