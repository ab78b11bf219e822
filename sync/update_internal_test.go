package sync

import (
	"fmt"
	"testing"
	"time"
)

// Kept packs stay within the budget, newest kept, and a forgotten entry
// leaves no key behind.
func TestUpdatePacksTrim(t *testing.T) {
	var u updatePacks
	u.packs = map[string]*updatePack{}
	add := func(key string, size int) *updatePack {
		p := &updatePack{done: make(chan struct{}), pack: make([]byte, size)}
		close(p.done)
		u.packs[key] = p
		u.order = append(u.order, key)
		return p
	}
	for i := range 5 {
		add(fmt.Sprint(i), updatePackBudget/4)
	}
	pending := &updatePack{done: make(chan struct{})} // still being made
	u.packs["pending"] = pending
	u.order = append(u.order, "pending")
	u.trim()
	total := 0
	for _, k := range u.order {
		total += u.packs[k].size()
	}
	if total > updatePackBudget {
		t.Errorf("kept %d bytes, budget %d", total, updatePackBudget)
	}
	if _, ok := u.packs["0"]; ok {
		t.Error("the oldest pack was kept over the budget")
	}
	if _, ok := u.packs["4"]; !ok {
		t.Error("the newest pack was dropped")
	}
	if len(u.packs) != len(u.order) {
		t.Errorf("%d packs, %d keys", len(u.packs), len(u.order))
	}
	u.forget("pending", pending)
	for _, k := range u.order {
		if k == "pending" {
			t.Error("a forgotten pack's key is still listed")
		}
	}
}

// A made pack is forgotten once kept its time, and an old pack's expiry
// leaves the pack made since for the same key alone.
func TestUpdatePacksExpire(t *testing.T) {
	u := updatePacks{keep: time.Millisecond, packs: map[string]*updatePack{}}
	made := func(key string) *updatePack {
		p := &updatePack{done: make(chan struct{}), pack: make([]byte, 10)}
		close(p.done)
		u.mu.Lock()
		u.packs[key] = p
		u.order = append(u.order, key)
		u.mu.Unlock()
		return p
	}
	kept := func(key string) *updatePack {
		u.mu.Lock()
		defer u.mu.Unlock()
		return u.packs[key]
	}
	old := made("a")
	u.expire("a", old)
	deadline := time.Now().Add(10 * time.Second)
	for kept("a") != nil {
		if time.Now().After(deadline) {
			t.Fatal("a made pack was kept past its time")
		}
		time.Sleep(time.Millisecond)
	}
	// The same key made again (the first trimmed meanwhile): the first
	// pack's expiry, when it comes, leaves the second.
	old = made("b")
	u.forget("b", old)
	again := made("b")
	u.forget("b", old) // what old's timer runs
	if kept("b") != again {
		t.Error("an earlier pack's expiry forgot the pack made since")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.order) != len(u.packs) {
		t.Errorf("%d keys for %d packs", len(u.order), len(u.packs))
	}
}
