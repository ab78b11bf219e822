package sync

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	gproto "example.com/grove/protocol"
)

// Phase is the stage a fetch is in.
type Phase string

// The phases of a fetch, in order. A fetch that fails ends with PhaseDone
// and an Err.
const (
	PhaseNegotiating Phase = "negotiating" // nothing received from the peer yet
	PhaseReceiving   Phase = "receiving"   // the peer is sending (ref advertisement and pack)
	PhaseVerifying   Phase = "verifying"   // git is done; signed refs are being checked
	PhaseDone        Phase = "done"
)

// FetchProgress is a snapshot of one fetch from one peer.
type FetchProgress struct {
	Peer    peer.ID
	Phase   Phase
	Bytes   int64 // received from the peer so far, git protocol included
	Elapsed time.Duration
	Err     error // set only with PhaseDone, when the fetch failed
}

// FetchOption changes how Fetch, Sync and Clone fetch.
type FetchOption func(*fetchOptions)

type fetchOptions struct {
	progress func(FetchProgress)
	// only, when set, narrows the fetch to one namespace.
	only *gproto.NID
	// replace, when set, lets that namespace move to a fork of the one
	// stored (repo.AcceptReplacing).
	replace *gproto.NID
	// headsFirst lets a sync skip the peers whose signed refs match its
	// own (sameHeads).
	headsFirst bool
}

// headsFirst makes a sync ask each peer for the digest of its signed refs
// before it fetches, and skip the peers that hold the same. The running
// node's syncs use it (the remote helper asks one before every fetch):
// its connections are old, while a node started for one command would
// race the heads exchange its own new connections run.
func headsFirst() FetchOption {
	return func(o *fetchOptions) { o.headsFirst = true }
}

// ReplaceFork lets each fetch move nid's namespace to what the peer holds
// even when it forked from the stored copy: its owner signed a line that
// does not descend from the one held here (after restoring an older copy,
// say), which no plain fetch would ever take. An older revision of the
// held line is still not taken.
func ReplaceFork(nid gproto.NID) FetchOption {
	return func(o *fetchOptions) { o.replace = &nid }
}

// onlyNamespace fetches only nid's namespace: the peer lists only its
// refs, and only it is verified and moved. A project not stored yet is
// fetched whole.
func onlyNamespace(nid gproto.NID) FetchOption {
	return func(o *fetchOptions) { o.only = &nid }
}

// WithProgress has each fetch call f on every phase change and, while git
// receives, about every 100 ms when the byte count moved. Calls for one
// fetch never overlap, and the last one has PhaseDone.
func WithProgress(f func(FetchProgress)) FetchOption {
	return func(o *fetchOptions) { o.progress = f }
}

// progressInterval is how often a running fetch reports its byte count.
const progressInterval = 100 * time.Millisecond

// reporter serializes one fetch's progress calls. A nil reporter does
// nothing.
type reporter struct {
	f     func(FetchProgress)
	peer  peer.ID
	start time.Time

	mu    sync.Mutex
	phase Phase
	bytes *atomic.Int64
	last  int64
	stop  chan struct{}
	done  chan struct{}
}

func newReporter(opts []FetchOption, p peer.ID) *reporter {
	var o fetchOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.progress == nil {
		return nil
	}
	return &reporter{f: o.progress, peer: p, start: time.Now()}
}

// report calls f; r.mu is held.
func (r *reporter) report(err error) {
	var b int64
	if r.bytes != nil {
		b = r.bytes.Load()
	}
	r.last = b
	r.f(FetchProgress{Peer: r.peer, Phase: r.phase, Bytes: b, Elapsed: time.Since(r.start), Err: err})
}

// setPhase moves to ph and reports it.
func (r *reporter) setPhase(ph Phase) {
	if r == nil {
		return
	}
	r.setPhaseErr(ph, nil)
}

// watch reports the counter b every progressInterval until unwatch.
func (r *reporter) watch(b *atomic.Int64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.bytes = b
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	stop, done := r.stop, r.done
	r.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			r.mu.Lock()
			if n := b.Load(); n != r.last {
				if r.phase == PhaseNegotiating {
					r.phase = PhaseReceiving
				}
				r.report(nil)
			}
			r.mu.Unlock()
		}
	}()
}

// unwatch stops the ticker started by watch and waits for it.
func (r *reporter) unwatch() {
	if r == nil {
		return
	}
	r.mu.Lock()
	stop, done := r.stop, r.done
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// finish stops the ticker and reports PhaseDone.
func (r *reporter) finish(err error) {
	if r == nil {
		return
	}
	r.unwatch()
	r.setPhaseErr(PhaseDone, err)
}

// setPhaseErr moves to ph and reports it with err.
func (r *reporter) setPhaseErr(ph Phase, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.phase = ph
	r.report(err)
}
