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
	"sync"
	"syscall"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// The control socket lets the CLI and the remote helper talk to a running
// node: a unix socket at $GROVE_HOME/node/control.sock, in a directory
// only its owner can enter. Each connection carries one JSON request and
// one JSON response, both bounded in size; the server bounds each request
// in time.

// ErrNotRunning is returned when no node answers on the control socket.
var ErrNotRunning = errors.New("no node is running")

// ErrRunning is returned by Serve when another node already answers on the
// socket.
var ErrRunning = errors.New("a node is already running")

const (
	maxControlRequest  = 64 << 10
	maxControlResponse = 16 << 20
	// maxSyncTimeout bounds a sync or clone asked over the socket.
	maxSyncTimeout = time.Hour
	// defaultSyncTimeout is a sync's bound when the client names none.
	defaultSyncTimeout = 2 * time.Minute
)

// ControlPath is where the node of home h listens for control requests.
func ControlPath(h repo.Home) string { return filepath.Join(h.NodeDir(), "control.sock") }

// controlRequest is what a client asks.
type controlRequest struct {
	Op      string   `json:"op"`
	RID     string   `json:"rid,omitempty"`
	Addr    string   `json:"addr,omitempty"`
	From    []string `json:"from,omitempty"`
	Timeout int64    `json:"timeout_ms,omitempty"`
}

// controlResponse is what the node answers; Error is empty on success.
type controlResponse struct {
	Error   string         `json:"error,omitempty"`
	Code    string         `json:"code,omitempty"`
	Status  *Status        `json:"status,omitempty"`
	Addrs   []string       `json:"addrs,omitempty"`
	Peers   []PeerInfo     `json:"peers,omitempty"`
	NID     string         `json:"nid,omitempty"`
	Result  *FetchResult   `json:"result,omitempty"`
	Results []*FetchResult `json:"results,omitempty"`
}

// Error codes carry sentinels across the socket.
var controlCodes = map[string]error{
	"no_peers":  ErrNoPeers,
	"not_found": repo.ErrNotFound,
}

// Status is what a running node reports about itself.
type Status struct {
	NID     string    `json:"nid"`
	PID     int       `json:"pid"`
	Addrs   []string  `json:"addrs"`
	Peers   int       `json:"peers"`
	Seeds   []string  `json:"seeds"`
	Started time.Time `json:"started"`
}

// Serve answers control requests for n on a unix socket at path until ctx
// is done or a client asks the node to stop; it then removes the socket. A
// socket file nothing answers on is left by a node that died and is
// replaced; one that answers makes Serve return ErrRunning.
func Serve(ctx context.Context, n *Node, path string) error {
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
	var req controlRequest
	if err := json.NewDecoder(io.LimitReader(c, maxControlRequest)).Decode(&req); err != nil {
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

// timeout returns the bound of one request: what the client asked, within
// limits, or def.
func (r *controlRequest) timeout(def time.Duration) time.Duration {
	d := time.Duration(r.Timeout) * time.Millisecond
	if d <= 0 {
		return def
	}
	return min(d, maxSyncTimeout)
}

func (s *controlServer) do(ctx context.Context, req *controlRequest) *controlResponse {
	n := s.n
	n.log.Debug("control request", "op", req.Op, "rid", req.RID)
	bound := map[string]time.Duration{
		"status": 10 * time.Second, "addrs": 10 * time.Second, "peers": 10 * time.Second,
		"stop": 10 * time.Second, "connect": 30 * time.Second, "seed": time.Minute,
		"unseed": time.Minute, "announce": 30 * time.Second,
		"sync": req.timeout(defaultSyncTimeout), "clone": req.timeout(maxSyncTimeout),
	}
	d, ok := bound[req.Op]
	if !ok {
		return &controlResponse{Error: fmt.Sprintf("unknown request %q", req.Op)}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var rid gproto.RID
	switch req.Op {
	case "seed", "unseed", "clone", "sync", "announce":
		var err error
		if rid, err = gproto.ParseRID(req.RID); err != nil {
			return errResponse(err)
		}
	}
	resp := &controlResponse{}
	var err error
	switch req.Op {
	case "status":
		st := &Status{NID: n.NID().String(), PID: os.Getpid(), Addrs: n.Addrs(),
			Peers: len(n.host.Network().Peers()), Started: s.started}
		if pol, perr := LoadPolicy(n.cfg.Home); perr == nil {
			st.Seeds = pol.Seeds
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
		resp.Results, err = n.Sync(ctx, rid, 8)
	case "announce":
		err = n.Announce(ctx, rid)
	}
	if err != nil {
		e := errResponse(err)
		e.Result, e.Results = resp.Result, resp.Results
		return e
	}
	return resp
}

func errResponse(err error) *controlResponse {
	r := &controlResponse{Error: err.Error()}
	for code, sentinel := range controlCodes {
		if errors.Is(err, sentinel) {
			r.Code = code
		}
	}
	return r
}

// Client talks to the running node of a home.
type Client struct {
	path string
}

// Dial returns a client for the node of home h, or ErrNotRunning when no
// node answers there.
func Dial(h repo.Home) (*Client, error) {
	path := ControlPath(h)
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, notRunning(err)
	}
	c.Close()
	return &Client{path: path}, nil
}

func notRunning(err error) error {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTSOCK) {
		return ErrNotRunning
	}
	return fmt.Errorf("%w: %w", ErrNotRunning, err)
}

// call sends one request and reads the response; the connection closes when
// ctx is done.
func (c *Client) call(ctx context.Context, req controlRequest) (*controlResponse, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, notRunning(err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, c.ioErr(ctx, req.Op, err)
	}
	var resp controlResponse
	if err := json.NewDecoder(io.LimitReader(conn, maxControlResponse)).Decode(&resp); err != nil {
		return nil, c.ioErr(ctx, req.Op, err)
	}
	if resp.Error != "" {
		if s, ok := controlCodes[resp.Code]; ok {
			return &resp, &remoteError{msg: resp.Error, sentinel: s}
		}
		return &resp, &remoteError{msg: resp.Error}
	}
	return &resp, nil
}

func (c *Client) ioErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("node %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("node %s: %w", op, err)
}

// remoteError is an error the node reported; it matches the sentinel the
// node's error matched.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// Status reports the node's identity, addresses, peers and seeds.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	r, err := c.call(ctx, controlRequest{Op: "status"})
	if err != nil {
		return nil, err
	}
	if r.Status == nil {
		return nil, errors.New("node sent no status")
	}
	return r.Status, nil
}

// Addrs returns the node's dialable addresses, each ending in /p2p/NID.
func (c *Client) Addrs(ctx context.Context) ([]string, error) {
	r, err := c.call(ctx, controlRequest{Op: "addrs"})
	if err != nil {
		return nil, err
	}
	return r.Addrs, nil
}

// Peers returns the node's connected peers.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	r, err := c.call(ctx, controlRequest{Op: "peers"})
	if err != nil {
		return nil, err
	}
	return r.Peers, nil
}

// Connect asks the node to dial addr (ending in /p2p/NID) and returns the
// peer's NID.
func (c *Client) Connect(ctx context.Context, addr string) (string, error) {
	r, err := c.call(ctx, controlRequest{Op: "connect", Addr: addr})
	if err != nil {
		return "", err
	}
	return r.NID, nil
}

// Seed asks the node to host rid.
func (c *Client) Seed(ctx context.Context, rid gproto.RID) error {
	_, err := c.call(ctx, controlRequest{Op: "seed", RID: rid.String()})
	return err
}

// Unseed asks the node to stop hosting rid.
func (c *Client) Unseed(ctx context.Context, rid gproto.RID) error {
	_, err := c.call(ctx, controlRequest{Op: "unseed", RID: rid.String()})
	return err
}

// Clone asks the node to get rid from the given addresses (or from peers
// it finds) and to seed it.
func (c *Client) Clone(ctx context.Context, rid gproto.RID, from []string) (*FetchResult, error) {
	req := controlRequest{Op: "clone", RID: rid.String(), From: from}
	if dl, ok := ctx.Deadline(); ok {
		req.Timeout = time.Until(dl).Milliseconds()
	}
	r, err := c.call(ctx, req)
	if r == nil {
		return nil, err
	}
	return r.Result, err
}

// Sync asks the node to fetch rid from its peers, bounded by timeout (0:
// the node's default), and returns each peer's result; on error the
// results so far come too.
func (c *Client) Sync(ctx context.Context, rid gproto.RID, timeout time.Duration) ([]*FetchResult, error) {
	r, err := c.call(ctx, controlRequest{Op: "sync", RID: rid.String(), Timeout: timeout.Milliseconds()})
	if r == nil {
		return nil, err
	}
	return r.Results, err
}

// Announce asks the node to tell rid's peers that the local namespace moved.
func (c *Client) Announce(ctx context.Context, rid gproto.RID) error {
	_, err := c.call(ctx, controlRequest{Op: "announce", RID: rid.String()})
	return err
}

// Stop asks the node to stop; it returns once the node has the request.
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.call(ctx, controlRequest{Op: "stop"})
	return err
}
