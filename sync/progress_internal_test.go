package sync

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestProgressReporterTicks(t *testing.T) {
	calls := make(chan FetchProgress, 100)
	r := newReporter([]FetchOption{WithProgress(func(p FetchProgress) { calls <- p })}, "peer")
	r.setPhase(PhaseNegotiating)
	var b atomic.Int64
	r.watch(&b)
	b.Store(10)
	deadline := time.After(5 * time.Second)
	var got []FetchProgress
	for len(got) < 3 {
		select {
		case p := <-calls:
			got = append(got, p)
			if p.Phase == PhaseReceiving {
				b.Add(10) // the next tick has something new
			}
		case <-deadline:
			t.Fatalf("timed out; got %+v", got)
		}
	}
	boom := errors.New("boom")
	r.finish(boom)
	// finish waited for the ticker: nothing comes after done.
	var last FetchProgress
	for len(calls) > 0 {
		last = <-calls
		got = append(got, last)
	}
	if last.Phase != PhaseDone || !errors.Is(last.Err, boom) {
		t.Fatalf("last %+v, want done with boom", last)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Bytes <= got[i-1].Bytes && got[i].Phase == PhaseReceiving {
			t.Errorf("receiving report %d did not grow: %+v", i, got)
		}
	}
	if got[0].Phase != PhaseNegotiating || got[1].Phase != PhaseReceiving || got[1].Bytes < 10 {
		t.Errorf("got %+v", got)
	}
}

func TestProgressNilReporter(t *testing.T) {
	r := newReporter(nil, "peer")
	if r != nil {
		t.Fatal("reporter without a callback")
	}
	var b atomic.Int64
	r.setPhase(PhaseNegotiating)
	r.watch(&b)
	r.unwatch()
	r.finish(nil)
}
