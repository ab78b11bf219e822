package sync

import (
	"fmt"
	"testing"
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
