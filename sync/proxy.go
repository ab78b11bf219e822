package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	gproto "example.com/grove/protocol"
)

// gitProxy lets the local git fetch from a peer: it listens on loopback
// speaking git's daemon protocol (git://), and each connection for a
// registered session becomes a /grove/git/1 stream to that session's peer.
// git then runs its own negotiation and index-pack at native speed. Session
// tokens are random, so no other local program can use the proxy.
type gitProxy struct {
	n  *Node
	ln net.Listener

	mu       sync.Mutex
	sessions map[string]*session
}

// session is one fetch from one peer.
type session struct {
	token string
	peer  peer.ID
	rid   gproto.RID
	limit int64
	// direct opens the stream only over a connection that does not go
	// through a relay.
	direct bool
	bytes  atomic.Int64
	// err is what went wrong on the peer's side of the stream, if
	// anything; route is how the stream reached the peer.
	mu    sync.Mutex
	err   error
	route *route
	// conns counts the connections git opened for the session; whole,
	// those whose answer was seen to reach its pack with no shallow info
	// (shallowScan).
	conns, whole int
}

func (s *session) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *session) setRoute(r *route) {
	s.mu.Lock()
	s.route = r
	s.mu.Unlock()
}

func (s *session) opened() {
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
}

func (s *session) sawWhole() {
	s.mu.Lock()
	s.whole++
	s.mu.Unlock()
}

// NoShallow reports whether git opened a connection for the session and
// every one it opened reached its pack with no shallow info: only then
// does fetch-pack's "connectivity-ok" hold for the whole history.
func (s *session) NoShallow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns > 0 && s.whole == s.conns
}

// Route is how the session's stream reached the peer; nil before it opened.
func (s *session) Route() *route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.route
}

// errPeerLacks is a peer answering that it has no project by that RID (or
// none it may show this node).
var errPeerLacks = ErrPeerLacks

// lacksError is peer answering that it has no project rid (or none it may
// show this node: a private project's answer to a NID off its allow list).
type lacksError struct {
	peer peer.ID
	rid  gproto.RID
}

func (e *lacksError) Error() string {
	return fmt.Sprintf("peer %s does not have project %s, or does not share it with you", e.peer, e.rid)
}

func (e *lacksError) Unwrap() error { return errPeerLacks }

// ErrPeerBusy is a peer answering that it serves as many fetches as it
// will at once.
var ErrPeerBusy = errors.New("peer is busy serving other fetches: try again shortly or fetch from another peer")

// errOversized is a peer sending more than the pack limit.
var errOversized = errors.New("peer sent more than the pack size limit")

// StalledError is a peer that sent nothing for the stall timeout while a
// fetch waited on it. It is no strike: networks stall too.
type StalledError struct {
	Peer  peer.ID
	After time.Duration
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("peer %s sent nothing for %s; nothing was stored: try again or fetch from another peer", e.Peer, e.After)
}

func newGitProxy(n *Node) (*gitProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("git proxy: %w", err)
	}
	p := &gitProxy{n: n, ln: ln, sessions: map[string]*session{}}
	n.wg.Go(p.serve)
	return p, nil
}

func (p *gitProxy) Close() { p.ln.Close() }

func (p *gitProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.n.wg.Go(func() { p.handle(c) })
	}
}

// open registers a session and returns the URL git should fetch from.
func (p *gitProxy) open(pid peer.ID, rid gproto.RID, limit int64, direct bool) (*session, string) {
	b := make([]byte, 16)
	rand.Read(b)
	s := &session{token: hex.EncodeToString(b), peer: pid, rid: rid, limit: limit, direct: direct}
	p.mu.Lock()
	p.sessions[s.token] = s
	p.mu.Unlock()
	return s, fmt.Sprintf("git://%s/%s", p.ln.Addr(), s.token)
}

func (p *gitProxy) close(s *session) {
	p.mu.Lock()
	delete(p.sessions, s.token)
	p.mu.Unlock()
}

func (p *gitProxy) handle(conn net.Conn) {
	defer conn.Close()
	c := quickAck(conn)
	line, err := readPktLine(c)
	if err != nil {
		return
	}
	// "git-upload-pack /TOKEN\0host=…\0" and, for protocol v2, "\0version=2\0".
	fields := strings.Split(line, "\x00")
	svc, path, ok := strings.Cut(fields[0], " ")
	if !ok || svc != "git-upload-pack" {
		writePktError(c, "grove proxy serves only git-upload-pack")
		return
	}
	p.mu.Lock()
	s := p.sessions[strings.TrimPrefix(path, "/")]
	p.mu.Unlock()
	if s == nil {
		writePktError(c, "unknown session")
		return
	}
	s.opened()
	proto := ""
	for _, f := range fields[1:] {
		if strings.HasPrefix(f, "version=") {
			proto = f
		}
	}
	ctx, cancel := context.WithTimeout(p.n.ctx, p.n.cfg.Limits.FetchTimeout)
	defer cancel()
	if !s.direct {
		ctx = network.WithAllowLimitedConn(ctx, "grove")
	}
	st, err := p.n.host.NewStream(ctx, s.peer, protocol.ID(gproto.GitProtocolID))
	if err != nil {
		if errors.As(err, new(*swarm.DialError)) || errors.Is(err, swarm.ErrNoAddresses) {
			s.fail(&unreachableError{peer: s.peer, err: err})
		} else {
			s.fail(fmt.Errorf("open stream: %w", err))
		}
		writePktError(c, "cannot reach peer "+s.peer.String())
		return
	}
	defer st.Close()
	s.setRoute(routeOf(st.Conn()))
	req := gproto.FetchRequest{RID: s.rid, Service: gproto.ServiceUploadPack, GitProtocol: proto}
	if err := gproto.WriteMessage(st, req); err != nil {
		s.fail(err)
		writePktError(c, "peer closed the stream")
		return
	}
	stall := p.n.cfg.Limits.StallTimeout
	in := &stallReader{st: st, after: stall}
	var resp gproto.FetchResponse
	if err := gproto.ReadMessage(in, gproto.MaxMessage, &resp); err != nil {
		if in.stalled {
			err = &StalledError{Peer: s.peer, After: stall}
		}
		s.fail(err)
		writePktError(c, "bad answer from peer")
		return
	}
	if resp.Error == errNotFound {
		s.fail(&lacksError{peer: s.peer, rid: s.rid})
		writePktError(c, resp.Error)
		return
	}
	if resp.Error == errBusy {
		s.fail(fmt.Errorf("%s: %w", s.peer, ErrPeerBusy))
		writePktError(c, resp.Error)
		return
	}
	if resp.Error != "" {
		s.fail(fmt.Errorf("peer: %s", resp.Error))
		writePktError(c, resp.Error)
		return
	}
	go func() {
		// Through Read, not TCPConn.WriteTo, so every read re-arms quick ACKs.
		io.Copy(st, struct{ io.Reader }{c})
		st.CloseWrite()
	}()
	lim := &limitWriter{w: c, s: s}
	if _, err := io.Copy(lim, in); err != nil {
		switch {
		case errors.Is(err, errOversized):
			s.fail(err)
			st.Reset()
		case in.stalled:
			s.fail(&StalledError{Peer: s.peer, After: stall})
			st.Reset()
		}
	}
}

// stallReader reads a peer's stream with a deadline re-armed before every
// read: a peer may take as long as it likes in all, but not send nothing
// for longer than after. (upload-pack sends keep-alives every 5 seconds
// while it prepares a pack, uploadpack.keepAlive.)
type stallReader struct {
	st      network.Stream
	after   time.Duration
	stalled bool
}

func (r *stallReader) Read(b []byte) (int, error) {
	r.st.SetReadDeadline(time.Now().Add(r.after))
	n, err := r.st.Read(b)
	var ne net.Error
	if err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		r.stalled = true // yamux's deadline error is a net.Error, QUIC's wraps os.ErrDeadlineExceeded
	}
	return n, err
}

// limitWriter counts what a peer sends and refuses past the session
// limit; until the pack begins, it scans it for shallow info.
type limitWriter struct {
	w    io.Writer
	s    *session
	scan shallowScan
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if l.s.bytes.Add(int64(len(b))) > l.s.limit {
		return 0, errOversized
	}
	if !l.scan.done {
		// Told before git reads the pack, so before fetch-pack exits.
		l.scan.feed(b)
		if l.scan.whole {
			l.s.sawWhole()
		}
	}
	return l.w.Write(b)
}

// readPktLine reads one git pkt-line (4 hex digits of length, then data).
func readPktLine(r io.Reader) (string, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
	if err != nil || n < 4 {
		return "", fmt.Errorf("bad pkt-line length %q", hdr)
	}
	b := make([]byte, n-4)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// writePktError sends git an error it prints as "remote error: msg".
func writePktError(w io.Writer, msg string) {
	line := "ERR " + msg + "\n"
	fmt.Fprintf(w, "%04x%s", len(line)+4, line)
}

// quickAckConn turns on TCP_QUICKACK before every read. git's git://
// client sends its requests in several small writes with Nagle on, and
// Linux's delayed ACK would hold each one back for tens of milliseconds
// (docs/BENCHMARKS.md, "Network"); acknowledging
// at once lets them through.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func quickAck(c net.Conn) io.ReadWriter {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{TCPConn: tc, raw: raw}
	q.quickAck()
	return q
}

func (q *quickAckConn) Read(b []byte) (int, error) {
	q.quickAck()
	n, err := q.TCPConn.Read(b)
	q.quickAck()
	return n, err
}
