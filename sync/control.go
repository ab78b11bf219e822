package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// This is the node's side of the control socket; the client and the
// messages are in package control, which programs that do not run a node
// use without linking libp2p.

// ErrRunning is returned by Serve when another node already answers on the
// socket.
var ErrRunning = errors.New("a node is already running")

const (
	// maxSyncTimeout bounds a sync or clone asked over the socket.
	maxSyncTimeout = time.Hour
	// defaultSyncTimeout is a sync's bound when the client names none.
	defaultSyncTimeout = 2 * time.Minute
)

// Names from package control, for callers that run a node anyway.
type (
	// Client talks to the running node of a home.
	Client = control.Client
	// Status is what a running node reports about itself.
	Status = control.Status
	// PeerInfo is a connected peer.
	PeerInfo = control.PeerInfo
	// FetchResult is what one fetch from one peer did.
	FetchResult = control.FetchResult
)

var (
	// ErrNotRunning is returned when no node answers on the control socket.
	ErrNotRunning = control.ErrNotRunning
	// ErrNoPeers is returned when no peer could be asked for a project.
	ErrNoPeers = control.ErrNoPeers
	// ErrUnreachable is a peer none of whose addresses answered a dial.
	ErrUnreachable = control.ErrUnreachable
	// ErrPeerLacks is a peer answering that it has no project by that RID,
	// or none it will show this node.
	ErrPeerLacks = control.ErrPeerLacks
	// ErrRelayLimit is a fetch a relay cut short (RelayLimitError).
	ErrRelayLimit = control.ErrRelayLimit
)

// ControlPath is where the node of home h listens for control requests.
func ControlPath(h repo.Home) string { return control.Path(h) }

// Dial returns a client for the node of home h, or ErrNotRunning when no
// node answers there.
func Dial(h repo.Home) (*Client, error) { return control.Dial(h) }

// ParseAddr checks that s is a multiaddr ending in /p2p/NID and returns
// that NID.
func ParseAddr(s string) (gproto.NID, error) { return control.ParseAddr(s) }

// Serve answers control requests for n on a unix socket at path until ctx
// is done or a client asks the node to stop; it then removes the socket. A
// socket file nothing answers on is left by a node that died and is
// replaced; one that answers makes Serve return ErrRunning. A non-nil
// ready runs once the socket listens, before the first request is taken,
// so that whatever announces the node (its address and pid files) is
// written only when a command can reach it; its error ends Serve.
func Serve(ctx context.Context, n *Node, path string, ready func() error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	// sun_path holds 108 bytes on Linux, 104 on the BSDs.
	if len(path) >= 104 {
		return fmt.Errorf("control socket path %s is too long for a unix socket: use a shorter GROVE_HOME", path)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("%w: %s answers", ErrRunning, path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove stale control socket: %w", err)
		}
		n.log.Info("removed stale control socket", "path", path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	defer os.Remove(path)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	if ready != nil {
		if err := ready(); err != nil {
			ln.Close()
			return err
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &controlServer{n: n, started: time.Now(), stop: cancel}
	var wg sync.WaitGroup
	wg.Go(func() {
		<-sctx.Done()
		ln.Close()
	})
	n.log.Info("control socket", "path", path)
	for {
		c, err := ln.Accept()
		if err != nil {
			break
		}
		wg.Go(func() { s.handle(sctx, c) })
	}
	cancel()
	wg.Wait()
	return nil
}

type controlServer struct {
	n       *Node
	started time.Time
	stop    context.CancelFunc
}

func (s *controlServer) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req control.Request
	if err := json.NewDecoder(io.LimitReader(c, control.MaxRequest)).Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return // Dial checking that the node answers
		}
		s.n.log.Warn("bad control request", "err", err)
		return
	}
	c.SetReadDeadline(time.Time{})
	resp := s.do(ctx, &req)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := json.NewEncoder(c).Encode(resp); err != nil {
		s.n.log.Debug("control response", "op", req.Op, "err", err)
	}
	if req.Op == "stop" {
		s.stop()
	}
}

// timeout returns the bound of request r: what the client asked, within
// limits, or def.
func timeout(r *control.Request, def time.Duration) time.Duration {
	d := time.Duration(r.Timeout) * time.Millisecond
	if d <= 0 {
		return def
	}
	return min(d, maxSyncTimeout)
}

func (s *controlServer) do(ctx context.Context, req *control.Request) *control.Response {
	n := s.n
	n.log.Debug("control request", "op", req.Op, "rid", req.RID)
	bound := map[string]time.Duration{
		"status": 10 * time.Second, "addrs": 10 * time.Second, "peers": 10 * time.Second,
		"stop": 10 * time.Second, "connect": 30 * time.Second, "seed": time.Minute,
		"unseed": time.Minute, "announce": 30 * time.Second, "forget": 10 * time.Second,
		"sync": timeout(req, defaultSyncTimeout), "clone": timeout(req, maxSyncTimeout),
	}
	d, ok := bound[req.Op]
	if !ok {
		return &control.Response{Error: fmt.Sprintf("unknown request %q", req.Op)}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var rid gproto.RID
	switch req.Op {
	case "seed", "unseed", "clone", "sync", "announce":
		var err error
		if rid, err = gproto.ParseRID(req.RID); err != nil {
			return control.ErrorResponse(err)
		}
	}
	resp := &control.Response{}
	var err error
	switch req.Op {
	case "status":
		st := &Status{NID: n.NID().String(), PID: os.Getpid(), Addrs: n.Addrs(),
			Peers: len(n.host.Network().Peers()), Started: s.started,
			Reachability: n.Reachability(), Reservations: n.Reservations(), Goroutines: runtime.NumGoroutine()}
		if pol, perr := LoadPolicy(n.cfg.Home); perr == nil {
			st.Seeds = pol.Seeds
			st.Projects = n.projectStatus(pol)
		}
		resp.Status = st
	case "addrs":
		resp.Addrs = n.Addrs()
	case "peers":
		resp.Peers = n.Peers()
	case "stop":
	case "connect":
		id, cerr := n.Connect(ctx, req.Addr)
		if err = cerr; err == nil {
			resp.NID = id.String()
		}
	case "seed":
		err = n.Seed(ctx, rid)
	case "unseed":
		err = n.Unseed(rid)
	case "clone":
		resp.Result, err = n.Clone(ctx, rid, req.From)
	case "sync":
		opts := []FetchOption{headsFirst()}
		if req.NID != "" {
			nid, perr := gproto.ParseNID(req.NID)
			if perr != nil {
				return control.ErrorResponse(perr)
			}
			opts = append(opts, ReplaceFork(nid))
		}
		resp.Results, err = n.Sync(ctx, rid, 8, opts...)
	case "announce":
		resp.Announced, err = n.AnnounceCount(ctx, rid)
	case "forget":
		nid, perr := gproto.ParseNID(req.NID)
		if perr != nil {
			return control.ErrorResponse(perr)
		}
		resp.Known, err = n.Forget(nid)
	}
	if err != nil {
		e := control.ErrorResponse(err)
		e.Result, e.Results = resp.Result, resp.Results
		return e
	}
	return resp
}
