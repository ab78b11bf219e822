package sync

import (
	"context"
	"time"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// DefaultIdleMaintenance is how long a node waits with no fetch and
// nothing served before it settles its projects' storage.
const DefaultIdleMaintenance = time.Minute

// working notes that the node fetches or serves until done is called,
// which puts maintenance off until it has been idle again for
// IdleMaintenance.
func (n *Node) working() (done func()) {
	n.busy.Add(1)
	n.lastActive.Store(time.Now().UnixNano())
	return func() {
		n.lastActive.Store(time.Now().UnixNano())
		n.busy.Add(-1)
	}
}

// maintainWhenIdle settles the storage of each project the node seeds
// that needs it (repo.Repo.Settle: one pack with a bitmap, so that a
// clone it serves counts objects at once) whenever the node has been
// idle for IdleMaintenance, one project at a time, until ctx ends. A
// project that Settle left unsettled (objects no ref reaches, say) is
// not tried again until the node was busy again.
func (n *Node) maintainWhenIdle(ctx context.Context) {
	idle := n.cfg.IdleMaintenance
	if idle == 0 {
		idle = DefaultIdleMaintenance
	}
	t := time.NewTicker(max(idle/2, 10*time.Millisecond))
	defer t.Stop()
	gaveUp := map[gproto.RID]int64{} // the lastActive it was tried at
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pol, err := LoadPolicy(n.cfg.Home)
		if err != nil {
			continue
		}
		for _, s := range pol.Seeds {
			mark := n.lastActive.Load()
			if n.busy.Load() > 0 || time.Since(time.Unix(0, mark)) < idle || ctx.Err() != nil {
				break
			}
			rid, err := gproto.ParseRID(s)
			if err != nil || gaveUp[rid] == mark {
				continue
			}
			r, err := repo.Open(n.cfg.Home, rid)
			if err != nil || !r.NeedsSettling() {
				continue
			}
			start := time.Now()
			res, err := r.Settle(ctx)
			if err != nil {
				n.log.Warn("maintenance when idle", "rid", rid, "err", err)
				continue
			}
			n.log.Info("maintenance when idle", "rid", rid, "repacked", res.Repacked, "removed", res.Removed, "took", time.Since(start))
			if r.NeedsSettling() {
				gaveUp[rid] = mark
			}
		}
	}
}
