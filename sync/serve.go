package sync

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// errNotFound is all a peer learns about a project it may not read, so
// private projects are not revealed.
const errNotFound = "not found"

// errBusy is the answer to a fetch past the node's upload-packs at once
// (maxServesPerPeer, maxServes).
const errBusy = "busy"

// serveGit answers a /grove/git/1 stream: one request, then git
// upload-pack over the stream.
func (n *Node) serveGit(s network.Stream) {
	defer s.Close()
	defer n.working()()
	remote := s.Conn().RemotePeer()
	s.SetDeadline(time.Now().Add(n.cfg.Limits.RequestTimeout))
	var req gproto.FetchRequest
	if err := gproto.ReadMessage(s, gproto.MaxMessage, &req); err != nil {
		n.strikeMessage(remote, err)
		s.Reset()
		return
	}
	s.SetDeadline(time.Now().Add(n.cfg.Limits.FetchTimeout))
	if err := req.Validate(); err != nil {
		n.strike(remote, err)
		s.Reset()
		return
	}
	r, pol, err := n.readable(req.RID, remote.String())
	if err != nil {
		n.log.Debug("refused fetch", "peer", remote, "rid", req.RID, "err", err)
		gproto.WriteMessage(s, gproto.FetchResponse{Error: errNotFound})
		return
	}
	if !n.serving.take(remote) {
		n.log.Info("refused fetch: too many at once", "peer", remote, "rid", req.RID)
		gproto.WriteMessage(s, gproto.FetchResponse{Error: errBusy})
		return
	}
	defer n.serving.done(remote)
	if err := gproto.WriteMessage(s, gproto.FetchResponse{}); err != nil {
		return
	}
	n.log.Debug("serving", "peer", remote, "rid", req.RID)
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Limits.FetchTimeout)
	defer cancel()
	args := []string{"-c", "uploadpack.allowFilter=true"}
	// Peers fetch namespaces (refs/namespaces/*) and derive the canonical
	// refs themselves, so the top-level refs and HEAD are not advertised:
	// a clone lists and asks for each branch once, not twice. The last
	// entry that matches a ref decides, so blocked namespaces come after.
	args = append(args, "-c", "uploadpack.hideRefs=refs/", "-c", "uploadpack.hideRefs=HEAD",
		"-c", "uploadpack.hideRefs=!refs/namespaces/")
	for _, b := range pol.Blocked {
		args = append(args, "-c", "uploadpack.hideRefs=refs/namespaces/"+b+"/")
	}
	args = append(args, "upload-pack", "--strict", "--timeout=120", r.Path)
	c := exec.CommandContext(ctx, "git", args...)
	c.Env = repo.GitEnv()
	if req.GitProtocol != "" {
		c.Env = append(c.Env, "GIT_PROTOCOL="+req.GitProtocol)
	}
	in, err := c.StdinPipe()
	if err != nil {
		s.Reset()
		return
	}
	c.Stdout = s
	if err := c.Start(); err != nil {
		s.Reset()
		return
	}
	// Not waited for: it ends when the stream closes below.
	go func() {
		io.Copy(in, s)
		in.Close()
	}()
	if err := c.Wait(); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		n.log.Debug("upload-pack", "peer", remote, "err", err)
	} else if err == nil {
		n.remember(remote, req.RID)
	}
	s.CloseWrite()
}

// readable opens project rid if peer may read it, and returns it with the
// node's policy.
func (n *Node) readable(rid gproto.RID, peerID string) (*repo.Repo, *Policy, error) {
	r, err := repo.Open(n.cfg.Home, rid)
	if err != nil {
		return nil, nil, err
	}
	doc, err := n.identity(n.ctx, r)
	if err != nil {
		return nil, nil, err
	}
	nid, err := gproto.ParseNID(peerID)
	if err != nil {
		return nil, nil, err
	}
	pol, err := LoadPolicy(n.cfg.Home)
	if err != nil {
		return nil, nil, err
	}
	if pol.IsBlocked(nid) {
		return nil, nil, errors.New("blocked")
	}
	if !n.mayRead(n.ctx, r, doc, nid) {
		return nil, nil, errors.New("not on the allow list")
	}
	return r, pol, nil
}
