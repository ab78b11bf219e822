package sync

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// startMDNS finds grove nodes on the local network. Off unless asked for.
func (n *Node) startMDNS() error {
	s := mdns.NewMdnsService(n.host, "grove", mdnsNotifee{n})
	if err := s.Start(); err != nil {
		return fmt.Errorf("start mDNS: %w", err)
	}
	n.wg.Go(func() {
		<-n.ctx.Done()
		s.Close()
	})
	return nil
}

type mdnsNotifee struct{ n *Node }

func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	if ai.ID == m.n.host.ID() {
		return
	}
	if err := m.n.connect(context.Background(), ai); err != nil {
		m.n.log.Debug("mDNS peer unreachable", "peer", ai.ID, "err", err)
	}
}
