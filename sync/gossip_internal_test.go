package sync

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

type offer struct {
	p   peer.ID
	has bool
}

func TestWantedOffer(t *testing.T) {
	tests := []struct {
		name string
		in   []offer
		pop  int // peers taken from the queue before the last offer
		want []peer.ID
	}{
		{
			name: "in order, once each",
			in:   []offer{{"a", false}, {"b", false}, {"a", false}, {"", false}},
			want: []peer.ID{"a", "b"},
		},
		{
			name: "asked peer that now has it is asked again",
			in:   []offer{{"a", false}, {"b", false}, {"b", true}},
			pop:  2,
			want: []peer.ID{"b"},
		},
		{
			name: "asked peer that may not have it is not asked again",
			in:   []offer{{"a", false}, {"a", false}},
			pop:  1,
			want: []peer.ID{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &wanted{offered: map[peer.ID]bool{}}
			for i, o := range tt.in {
				if i == len(tt.in)-1 {
					w.queue = w.queue[min(tt.pop, len(w.queue)):]
				}
				w.offer(o.p, o.has)
			}
			if !slices.Equal(w.queue, tt.want) {
				t.Fatalf("queue %v, want %v", w.queue, tt.want)
			}
		})
	}
}

func TestWantedOfferBounded(t *testing.T) {
	w := &wanted{offered: map[peer.ID]bool{}}
	for i := range 3 * maxSources {
		w.offer(peer.ID(rune('a'+i)), true)
	}
	if len(w.queue) != maxSources {
		t.Fatalf("%d peers queued, want at most %d", len(w.queue), maxSources)
	}
}
