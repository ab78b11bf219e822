package sync

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/core/transport"
	"github.com/libp2p/go-libp2p/p2p/host/autonat"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/net/upgrader"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	circuitproto "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/quicreuse"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	quicgo "github.com/quic-go/quic-go"
	"golang.org/x/crypto/hkdf"
)

// The node's libp2p host is put together here from the parts Grove uses,
// not with libp2p.New: that constructor's package links (and initialises)
// every transport libp2p has, WebRTC, WebTransport and websockets
// included, and wires the parts through a reflection-based dependency
// container at every start. Grove speaks TCP and QUIC, secured with
// Noise, multiplexed with yamux, and dials through circuit relays (v2);
// hole punching (DCUtR), AutoNAT and, given relays, AutoRelay run as
// libp2p would run them.

// hostConfig is what the node's host is made of.
type hostConfig struct {
	key     crypto.PrivKey
	listen  []ma.Multiaddr
	gater   *gater
	connMgr *connmgr.BasicConnMgr
	// relays, if any, are the static relays AutoRelay reserves on.
	relays    []peer.AddrInfo
	relayOpts []autorelay.Option
	// private forces AutoNAT's verdict to private; otherwise the node
	// answers other nodes' AutoNAT dial-backs.
	private bool
}

// nodeHost is the node's host with the parts that outlive it stopped on
// Close.
type nodeHost struct {
	*basichost.BasicHost
	stops []func() error
	once  sync.Once
}

// Close stops what was started, the last first, then the host. Only the
// first call does anything.
func (h *nodeHost) Close() error {
	h.once.Do(func() {
		for _, stop := range slices.Backward(h.stops) {
			stop()
		}
		h.BasicHost.Close()
	})
	return nil
}

// newResourceManager bounds what peers may open: libp2p's scaled default
// limits, with limits of its own for each libp2p service the node runs.
func newResourceManager() (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	for _, s := range serviceLimits {
		limits.AddServiceLimit(s.service, s.all, s.allIncrease)
		limits.AddServicePeerLimit(s.service, s.peer, rcmgr.BaseLimitIncrease{})
		for _, p := range s.protocols {
			limits.AddProtocolLimit(p, s.all, s.allIncrease)
			limits.AddProtocolPeerLimit(p, s.protoPeer, rcmgr.BaseLimitIncrease{})
		}
	}
	addCircuitLimits(&limits)
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits.AutoScale()))
}

// serviceLimits are the stream and memory bounds of the libp2p services
// the node runs, in all and per peer (the figures libp2p sets for them
// itself).
var serviceLimits = []struct {
	service         string
	protocols       []protocol.ID
	all             rcmgr.BaseLimit
	allIncrease     rcmgr.BaseLimitIncrease
	peer, protoPeer rcmgr.BaseLimit
}{
	{
		service:     identify.ServiceName,
		protocols:   []protocol.ID{identify.ID, identify.IDPush},
		all:         rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
		allIncrease: rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 128, Memory: 4 << 20},
		peer:        rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 1 << 20},
		protoPeer:   rcmgr.BaseLimit{StreamsInbound: 16, StreamsOutbound: 16, Streams: 32, Memory: 32 * (256<<20 + 16<<10)},
	},
	{
		service:     ping.ServiceName,
		protocols:   []protocol.ID{ping.ID},
		all:         rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20},
		allIncrease: rcmgr.BaseLimitIncrease{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20},
		peer:        rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 3, Streams: 4, Memory: 32 * (256<<20 + 16<<10)},
		protoPeer:   rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 3, Streams: 4, Memory: 32 * (256<<20 + 16<<10)},
	},
	{
		service:     autonat.ServiceName,
		protocols:   []protocol.ID{autonat.AutoNATProto},
		all:         rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 4 << 20},
		allIncrease: rcmgr.BaseLimitIncrease{StreamsInbound: 4, StreamsOutbound: 4, Streams: 4, Memory: 2 << 20},
		peer:        rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 2, Memory: 1 << 20},
		protoPeer:   rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 2, Memory: 1 << 20},
	},
	{
		service:     holepunch.ServiceName,
		protocols:   []protocol.ID{holepunch.Protocol},
		all:         rcmgr.BaseLimit{StreamsInbound: 32, StreamsOutbound: 32, Streams: 64, Memory: 4 << 20},
		allIncrease: rcmgr.BaseLimitIncrease{StreamsInbound: 8, StreamsOutbound: 8, Streams: 16, Memory: 4 << 20},
		peer:        rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 2, Memory: 1 << 20},
		protoPeer:   rcmgr.BaseLimit{StreamsInbound: 2, StreamsOutbound: 2, Streams: 2, Memory: 1 << 20},
	},
	{
		// The relay service (--relay-service) and, below, the circuit
		// protocols, which relay clients speak too.
		service:     relay.ServiceName,
		all:         rcmgr.BaseLimit{StreamsInbound: 256, StreamsOutbound: 256, Streams: 256, Memory: 16 << 20},
		allIncrease: rcmgr.BaseLimitIncrease{StreamsInbound: 256, StreamsOutbound: 256, Streams: 256, Memory: 16 << 20},
		peer:        rcmgr.BaseLimit{StreamsInbound: 64, StreamsOutbound: 64, Streams: 64, Memory: 1 << 20},
	},
}

// addCircuitLimits bounds the circuit relay protocols, which relays and
// their clients both speak.
func addCircuitLimits(l *rcmgr.ScalingLimitConfig) {
	for _, p := range []protocol.ID{circuitproto.ProtoIDv2Hop, circuitproto.ProtoIDv2Stop} {
		l.AddProtocolLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 640, StreamsOutbound: 640, Streams: 640, Memory: 16 << 20},
			rcmgr.BaseLimitIncrease{StreamsInbound: 640, StreamsOutbound: 640, Streams: 640, Memory: 16 << 20})
		l.AddProtocolPeerLimit(p,
			rcmgr.BaseLimit{StreamsInbound: 128, StreamsOutbound: 128, Streams: 128, Memory: 32 << 20},
			rcmgr.BaseLimitIncrease{})
	}
}

// newHost starts a host listening on cfg.listen, with the resource
// manager rm (which the host closes).
func newHost(cfg hostConfig, rm network.ResourceManager) (_ host.Host, err error) {
	h := &nodeHost{}
	fail := func(err error) (host.Host, error) {
		for _, stop := range slices.Backward(h.stops) {
			stop()
		}
		if h.BasicHost != nil {
			h.BasicHost.Close()
		} else {
			rm.Close()
			cfg.connMgr.Close()
		}
		return nil, err
	}
	bus := eventbus.NewBus()
	sw, up, stop, err := newSwarm(cfg.key, bus, cfg.gater, rm, true)
	if stop != nil {
		h.stops = append(h.stops, stop)
	}
	if err != nil {
		return fail(err)
	}
	obs, err := observedaddrs.NewManager(bus, sw)
	if err != nil {
		return fail(fmt.Errorf("observed addresses: %w", err))
	}
	h.stops = append(h.stops, obs.Close)
	bh, err := basichost.NewHost(sw, &basichost.HostOpts{
		EventBus:             bus,
		ConnManager:          cfg.connMgr,
		EnablePing:           true,
		UserAgent:            "grove/0.1",
		EnableHolePunching:   true,
		ObservedAddrsManager: obs,
	})
	if err != nil {
		return fail(fmt.Errorf("host: %w", err))
	}
	h.BasicHost = bh
	// Dialling and accepting through circuit relays.
	if err := circuit.AddTransport(bh, up); err != nil {
		return fail(fmt.Errorf("relay transport: %w", err))
	}
	if err := sw.Listen(cfg.listen...); err != nil {
		return fail(err)
	}
	obs.Start(sw)
	if len(cfg.relays) > 0 {
		ar, err := autorelay.NewAutoRelay(bh, append([]autorelay.Option{autorelay.WithStaticRelays(cfg.relays)}, cfg.relayOpts...)...)
		if err != nil {
			return fail(fmt.Errorf("autorelay: %w", err))
		}
		ar.Start()
		h.stops = append(h.stops, ar.Close)
	}
	bh.Start()
	// AutoNAT judges only public addresses.
	opts := []autonat.Option{autonat.UsingAddresses(func() []ma.Multiaddr {
		return slices.DeleteFunc(bh.AllAddrs(), func(a ma.Multiaddr) bool { return !manet.IsPublicAddr(a) })
	})}
	if cfg.private {
		opts = append(opts, autonat.WithReachability(network.ReachabilityPrivate))
	} else {
		// Dial-backs for other nodes' AutoNAT, from a swarm of their own
		// with a throwaway key, which never listens.
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return fail(err)
		}
		dialer, _, stop, err := newSwarm(k, eventbus.NewBus(), cfg.gater, rm, false)
		if stop != nil {
			h.stops = append(h.stops, stop)
		}
		if err != nil {
			return fail(fmt.Errorf("AutoNAT dialer: %w", err))
		}
		opts = append(opts, autonat.EnableService(dialer))
	}
	an, err := autonat.New(bh, opts...)
	if err != nil {
		return fail(fmt.Errorf("AutoNAT: %w", err))
	}
	bh.SetAutoNat(an)
	return h, nil
}

// newSwarm makes a swarm for key with TCP and QUIC, Noise and yamux, and
// returns the upgrader its transports share; stop, if not nil, closes the
// swarm and what it holds. own says it is the node's own swarm, which
// tracks UDP and IPv6 black holes; a dial-back swarm dials every address
// at once and leaves that to the node's.
func newSwarm(key crypto.PrivKey, bus event.Bus, g *gater, rm network.ResourceManager, own bool) (_ *swarm.Swarm, _ transport.Upgrader, stop func() error, err error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := ps.AddPrivKey(id, key); err != nil {
		return nil, nil, nil, err
	}
	if err := ps.AddPubKey(id, key.GetPublic()); err != nil {
		return nil, nil, nil, err
	}
	opts := []swarm.Option{swarm.WithConnectionGater(g), swarm.WithResourceManager(rm)}
	if own {
		opts = append(opts,
			swarm.WithUDPBlackHoleSuccessCounter(&swarm.BlackHoleSuccessCounter{N: 100, MinSuccesses: 5, Name: "UDP"}),
			swarm.WithIPv6BlackHoleSuccessCounter(&swarm.BlackHoleSuccessCounter{N: 100, MinSuccesses: 5, Name: "IPv6"}))
	} else {
		opts = append(opts, swarm.WithDialRanker(swarm.NoDelayDialRanker),
			swarm.WithUDPBlackHoleSuccessCounter(nil), swarm.WithIPv6BlackHoleSuccessCounter(nil))
	}
	sw, err := swarm.NewSwarm(id, ps, bus, opts...)
	if err != nil {
		ps.Close()
		return nil, nil, nil, fmt.Errorf("swarm: %w", err)
	}
	var qm *quicreuse.ConnManager
	stop = func() error {
		err := sw.Close()
		if qm != nil {
			err = errors.Join(err, qm.Close())
		}
		if !own {
			// The node's host closes its own peerstore; nothing else
			// closes a dial-back swarm's.
			err = errors.Join(err, ps.Close())
		}
		return err
	}
	muxers := []upgrader.StreamMuxer{{ID: yamux.ID, Muxer: yamux.DefaultTransport}}
	nt, err := noise.New(noise.ID, key, muxers)
	if err != nil {
		return nil, nil, stop, err
	}
	up, err := upgrader.New([]sec.SecureTransport{nt}, muxers, nil, rm, g)
	if err != nil {
		return nil, nil, stop, err
	}
	t, err := tcp.NewTCPTransport(up, rm, nil)
	if err != nil {
		return nil, nil, stop, err
	}
	reset, token, err := quicKeys(key)
	if err != nil {
		return nil, nil, stop, err
	}
	qm, err = quicreuse.NewConnManager(reset, token,
		quicreuse.ConnContext(func(ctx context.Context, ci *quicgo.ClientInfo) (context.Context, error) {
			// Inbound QUIC connections count against the resource manager
			// as TCP ones do.
			addr, err := quicreuse.ToQuicMultiaddr(ci.RemoteAddr, quicgo.Version1)
			if err != nil {
				addr = nil
			}
			scope, err := rm.OpenConnection(network.DirInbound, false, addr)
			if err != nil {
				return ctx, err
			}
			ctx = network.WithConnManagementScope(ctx, scope)
			context.AfterFunc(ctx, scope.Done)
			return ctx, nil
		}),
		quicreuse.VerifySourceAddress(rm.VerifySourceAddress))
	if err != nil {
		return nil, nil, stop, err
	}
	q, err := quic.NewTransport(key, qm, nil, g, rm)
	if err != nil {
		return nil, nil, stop, err
	}
	for _, tr := range []transport.Transport{t, q} {
		if err := sw.AddTransport(tr); err != nil {
			return nil, nil, stop, err
		}
	}
	return sw, up, stop, nil
}

// quicKeys derives QUIC's stateless reset and token keys from the node's
// key, so that they stay the same across restarts.
func quicKeys(key crypto.PrivKey) (reset quicgo.StatelessResetKey, token quicgo.TokenGeneratorKey, err error) {
	raw, err := key.Raw()
	if err != nil {
		return reset, token, err
	}
	if _, err := io.ReadFull(hkdf.New(sha256.New, raw, nil, []byte("grove quic stateless reset key")), reset[:]); err != nil {
		return reset, token, err
	}
	_, err = io.ReadFull(hkdf.New(sha256.New, raw, nil, []byte("grove quic token key")), token[:])
	return reset, token, err
}
