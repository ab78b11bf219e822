package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// fakeNode answers each control request on h's socket with answer(req).
func fakeNode(t *testing.T, h repo.Home, answer func(control.Request) *control.Response) {
	t.Helper()
	if err := os.MkdirAll(h.NodeDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", control.Path(h))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var req control.Request
			if err := json.NewDecoder(c).Decode(&req); err == nil {
				json.NewEncoder(c).Encode(answer(req))
			}
			c.Close()
		}
	}()
}

func TestClient(t *testing.T) {
	h := repo.Home{Dir: t.TempDir()}
	if _, err := control.Dial(h); !errors.Is(err, control.ErrNotRunning) {
		t.Fatalf("Dial with no node: %v, want ErrNotRunning", err)
	}
	rid := protocol.RID{}
	other, err := protocol.ParseRID("baf4bcfabencwpcnlzxxqci2fm6e2xtppaerukzy")
	if err != nil {
		t.Fatal(err)
	}
	fakeNode(t, h, func(req control.Request) *control.Response {
		switch req.Op {
		case "addrs":
			return &control.Response{Addrs: []string{"/ip4/127.0.0.1/tcp/1/p2p/x"}}
		case "sync":
			return control.ErrorResponse(control.ErrNoPeers)
		case "clone":
			if req.RID == "" {
				return control.ErrorResponse(repo.ErrNotFound)
			}
			// A sync whose best failure was a relay's limit: both cross.
			return control.ErrorResponse(fmt.Errorf("%w: %w", control.ErrNoPeers, control.ErrRelayLimit))
		case "stop":
			return &control.Response{}
		}
		return &control.Response{Error: "unknown request " + req.Op}
	})
	c, err := control.Dial(h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"addrs", func() error { _, err := c.Addrs(ctx); return err }, nil},
		{"stop", func() error { return c.Stop(ctx) }, nil},
		{"sync carries ErrNoPeers", func() error { _, err := c.Sync(ctx, rid, time.Second); return err }, control.ErrNoPeers},
		{"clone carries ErrNotFound", func() error { _, err := c.Clone(ctx, rid, nil); return err }, repo.ErrNotFound},
		{"two sentinels cross: the first", func() error { _, err := c.Clone(ctx, other, nil); return err }, control.ErrNoPeers},
		{"two sentinels cross: the second", func() error { _, err := c.Clone(ctx, other, nil); return err }, control.ErrRelayLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := c.Peers(ctx); err == nil || err.Error() != "unknown request peers" {
		t.Errorf("peers: err = %v, want the node's message", err)
	}
}

func TestParseAddr(t *testing.T) {
	const nid = "12D3KooWGRUVh6DRTJXNRdvC4sTuYNYeCYZhn2HUSVKJoAkRoXJV"
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"tcp", "/ip4/127.0.0.1/tcp/8776/p2p/" + nid, false},
		{"quic", "/ip4/127.0.0.1/udp/8776/quic-v1/p2p/" + nid, false},
		{"ip6", "/ip6/::1/tcp/8776/p2p/" + nid, false},
		{"dns", "/dns4/tcp/tcp/8776/p2p/" + nid, false},
		{"relayed", "/ip4/127.0.0.1/tcp/1/p2p/" + nid + "/p2p-circuit/p2p/" + nid, false},
		{"ipfs", "/ip4/127.0.0.1/tcp/8776/ipfs/" + nid, false},
		{"no peer", "/ip4/127.0.0.1/tcp/8776", true},
		{"not a multiaddr", "127.0.0.1:8776", true},
		{"bad ip4", "/ip4/127.0.0.256/tcp/8776/p2p/" + nid, true},
		{"ip6 as ip4", "/ip4/::1/tcp/8776/p2p/" + nid, true},
		{"bad port", "/ip4/127.0.0.1/tcp/65536/p2p/" + nid, true},
		{"port not a number", "/ip4/127.0.0.1/udp/x/quic-v1/p2p/" + nid, true},
		{"bad peer", "/ip4/127.0.0.1/tcp/8776/p2p/12D3KooW", true},
		{"trailing slash", "/ip4/127.0.0.1/tcp/8776/p2p/" + nid + "/", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := control.ParseAddr(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got.String() != nid {
				t.Errorf("NID = %s, want %s", got, nid)
			}
		})
	}
}
