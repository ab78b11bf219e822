// Package control is how programs reach a running Grove node without
// linking one: the client of the node's control socket and the messages it
// carries, the policy file the node follows, and the check of a peer's
// address. The node's side of the socket is in package sync, which imports
// this one; this package must not import sync or libp2p's host.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// The control socket lets the CLI, the remote helper and the TUI talk to a
// running node: a unix socket at $GROVE_HOME/node/control.sock, in a
// directory only its owner can enter. Each connection carries one JSON
// Request and one JSON Response, both bounded in size; the node bounds each
// request in time.

// ErrNotRunning is returned when no node answers on the control socket.
var ErrNotRunning = errors.New("no node is running")

// ErrNoPeers is returned when no peer could be asked for a project.
var ErrNoPeers = errors.New("no peer has the project")

// ErrUnreachable is a peer none of whose addresses answered a dial.
var ErrUnreachable = errors.New("peer unreachable")

// ErrPeerLacks is a peer answering that it has no project by that RID, or
// none it will show the asking node: a private project answers so to
// every NID not on its allow list, so as not to tell them it exists.
var ErrPeerLacks = errors.New("peer does not have the project, or does not share it with you")

// ErrRelayLimit is a fetch that a relay cut short at its limit, with no
// direct connection to finish it over.
var ErrRelayLimit = errors.New("relay limit reached")

const (
	// MaxRequest bounds a request's size.
	MaxRequest = 64 << 10
	// maxResponse bounds a response's size.
	maxResponse = 16 << 20
)

// Path is where the node of home h listens for control requests.
func Path(h repo.Home) string { return filepath.Join(h.NodeDir(), "control.sock") }

// Request is what a client asks.
type Request struct {
	Op      string   `json:"op"`
	RID     string   `json:"rid,omitempty"`
	Addr    string   `json:"addr,omitempty"`
	From    []string `json:"from,omitempty"`
	Timeout int64    `json:"timeout_ms,omitempty"`
	// NID is the peer a forget request names, or the namespace a sync may
	// move to a fork of the one stored (SyncReplacing).
	NID string `json:"nid,omitempty"`
}

// Response is what the node answers; Error is empty on success.
type Response struct {
	Error   string         `json:"error,omitempty"`
	Code    string         `json:"code,omitempty"`
	Status  *Status        `json:"status,omitempty"`
	Addrs   []string       `json:"addrs,omitempty"`
	Peers   []PeerInfo     `json:"peers,omitempty"`
	NID     string         `json:"nid,omitempty"`
	Result  *FetchResult   `json:"result,omitempty"`
	Results []*FetchResult `json:"results,omitempty"`
	// Known says whether the node knew the peer it was asked to forget.
	Known bool `json:"known,omitempty"`
	// Announced is how many connected peers an announcement was sent to.
	Announced int `json:"announced,omitempty"`
}

// codes carry sentinels across the socket: Response.Code lists, space
// separated, the codes of every sentinel the node's error matches.
var codes = []struct {
	code     string
	sentinel error
}{
	{"no_peers", ErrNoPeers},
	{"not_found", repo.ErrNotFound},
	{"unreachable", ErrUnreachable},
	{"peer_lacks", ErrPeerLacks},
	{"relay_limit", ErrRelayLimit},
}

// ErrorResponse is the response that reports err, with the codes of the
// sentinels it matches.
func ErrorResponse(err error) *Response {
	r := &Response{Error: err.Error()}
	var cs []string
	for _, c := range codes {
		if errors.Is(err, c.sentinel) {
			cs = append(cs, c.code)
		}
	}
	r.Code = strings.Join(cs, " ")
	return r
}

// sentinels returns the sentinels a response's codes name; unknown codes
// (from a newer node) are left out.
func sentinels(code string) []error {
	var out []error
	for _, f := range strings.Fields(code) {
		for _, c := range codes {
			if c.code == f {
				out = append(out, c.sentinel)
			}
		}
	}
	return out
}

// Status is what a running node reports about itself.
type Status struct {
	NID     string    `json:"nid"`
	PID     int       `json:"pid"`
	Addrs   []string  `json:"addrs"`
	Peers   int       `json:"peers"`
	Seeds   []string  `json:"seeds"`
	Started time.Time `json:"started"`
	// Reachability says whether peers can dial the node directly: public,
	// private or unknown.
	Reachability string `json:"reachability"`
	// Reservations are the node's addresses through the relays that hold
	// a slot for it, each ending in /p2p-circuit/p2p/NID.
	Reservations []string `json:"reservations,omitempty"`
	// Projects are the seeded projects, each with its connected seeders.
	Projects []ProjectStatus `json:"projects,omitempty"`
	// Goroutines is how many the node runs now: flat over time on a node
	// that leaks none (bench/soak.sh watches it).
	Goroutines int `json:"goroutines"`
}

// ProjectStatus is one seeded project as a running node sees it.
type ProjectStatus struct {
	RID string `json:"rid"`
	// Seeders are the connected peers that seed the project, by NID.
	Seeders []SeederStatus `json:"seeders"`
}

// SeederStatus is one connected seeder of a project.
type SeederStatus struct {
	NID string `json:"nid"`
	// LastExchange is when the node last exchanged the project with the
	// peer (a fetch either way, an update pack, a heads exchange); zero
	// if it never did.
	LastExchange time.Time `json:"lastExchange,omitzero"`
}

// PeerInfo is a connected peer.
type PeerInfo struct {
	NID   string   `json:"nid"`
	Addrs []string `json:"addrs"`
}

// FetchResult is what one fetch from one peer did.
type FetchResult struct {
	Peer      string   `json:"peer"`
	Updated   []string `json:"updated,omitempty"` // NIDs whose namespaces moved
	Unchanged int      `json:"unchanged"`
	Rejected  []string `json:"rejected,omitempty"` // why namespaces were refused
	Error     string   `json:"error,omitempty"`
	Bytes     int64    `json:"bytes"` // what the peer sent, git protocol included
	Duration  string   `json:"duration"`
	Via       string   `json:"via,omitempty"` // "relay" or "direct": how the fetch reached the peer
}

// Client talks to the running node of a home.
type Client struct {
	path string
}

// Dial returns a client for the node of home h, or ErrNotRunning when no
// node answers there.
func Dial(h repo.Home) (*Client, error) {
	path := Path(h)
	// No socket, no node: most commands run with none, and a dial would
	// first set up the network poller for nothing.
	if _, err := os.Lstat(path); err != nil {
		return nil, notRunning(err)
	}
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
func (c *Client) call(ctx context.Context, req Request) (*Response, error) {
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
		return nil, ioErr(ctx, req.Op, err)
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(conn, maxResponse)).Decode(&resp); err != nil {
		return nil, ioErr(ctx, req.Op, err)
	}
	if resp.Error != "" {
		return &resp, &remoteError{msg: resp.Error, sentinels: sentinels(resp.Code)}
	}
	return &resp, nil
}

func ioErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("node %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("node %s: %w", op, err)
}

// remoteError is an error the node reported; it matches the sentinels the
// node's error matched.
type remoteError struct {
	msg       string
	sentinels []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.sentinels }

// Status reports the node's identity, addresses, peers and seeds.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	r, err := c.call(ctx, Request{Op: "status"})
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
	r, err := c.call(ctx, Request{Op: "addrs"})
	if err != nil {
		return nil, err
	}
	return r.Addrs, nil
}

// Peers returns the node's connected peers.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	r, err := c.call(ctx, Request{Op: "peers"})
	if err != nil {
		return nil, err
	}
	return r.Peers, nil
}

// Connect asks the node to dial addr (ending in /p2p/NID) and returns the
// peer's NID.
func (c *Client) Connect(ctx context.Context, addr string) (string, error) {
	r, err := c.call(ctx, Request{Op: "connect", Addr: addr})
	if err != nil {
		return "", err
	}
	return r.NID, nil
}

// Seed asks the node to host rid.
func (c *Client) Seed(ctx context.Context, rid protocol.RID) error {
	_, err := c.call(ctx, Request{Op: "seed", RID: rid.String()})
	return err
}

// Unseed asks the node to stop hosting rid.
func (c *Client) Unseed(ctx context.Context, rid protocol.RID) error {
	_, err := c.call(ctx, Request{Op: "unseed", RID: rid.String()})
	return err
}

// Clone asks the node to get rid from the given addresses (or from peers
// it finds) and to seed it.
func (c *Client) Clone(ctx context.Context, rid protocol.RID, from []string) (*FetchResult, error) {
	req := Request{Op: "clone", RID: rid.String(), From: from}
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
func (c *Client) Sync(ctx context.Context, rid protocol.RID, timeout time.Duration) ([]*FetchResult, error) {
	r, err := c.call(ctx, Request{Op: "sync", RID: rid.String(), Timeout: timeout.Milliseconds()})
	if r == nil {
		return nil, err
	}
	return r.Results, err
}

// SyncReplacing is Sync that lets nid's namespace move to what peers hold
// even when it forked from the stored copy (see sync.ReplaceFork).
func (c *Client) SyncReplacing(ctx context.Context, rid protocol.RID, nid protocol.NID, timeout time.Duration) ([]*FetchResult, error) {
	r, err := c.call(ctx, Request{Op: "sync", RID: rid.String(), NID: nid.String(), Timeout: timeout.Milliseconds()})
	if r == nil {
		return nil, err
	}
	return r.Results, err
}

// Announce asks the node to tell rid's peers that the local namespace moved.
func (c *Client) Announce(ctx context.Context, rid protocol.RID) error {
	_, err := c.AnnounceCount(ctx, rid)
	return err
}

// AnnounceCount is Announce, and says to how many connected peers the
// node sent the announcement.
func (c *Client) AnnounceCount(ctx context.Context, rid protocol.RID) (int, error) {
	r, err := c.call(ctx, Request{Op: "announce", RID: rid.String()})
	if err != nil {
		return 0, err
	}
	return r.Announced, nil
}

// Forget asks the node to drop peer nid from its peer book and policy
// and to disconnect it; it reports whether the node knew the peer.
func (c *Client) Forget(ctx context.Context, nid protocol.NID) (bool, error) {
	r, err := c.call(ctx, Request{Op: "forget", NID: nid.String()})
	if err != nil {
		return false, err
	}
	return r.Known, nil
}

// Stop asks the node to stop; it returns once the node has the request.
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.call(ctx, Request{Op: "stop"})
	return err
}
