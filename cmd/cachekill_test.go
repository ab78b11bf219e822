package cmd_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKilledCacheWritesLeaveCacheSound kills grove (SIGKILL) while it
// writes each of the issue caches (cache/RID): the SQLite index (a listing
// that builds it from nothing), the memos (cobs/TYPE/ID, written by a load
// that verified enough changes) and the ID list (grove.issue.ids, written
// by a command that resolves an ID prefix). Kills fall at random points of
// the command, or, for the memos and the ID list, right when the file's
// temporary copy is written. After each, with what the kill left in the
// cache, the listing and the issues' JSON are what a fresh cache gives;
// at the end the cache rebuilds from nothing to the same, the storage
// fscks clean, and the next change completes.
func TestKilledCacheWritesLeaveCacheSound(t *testing.T) {
	p := newPeer(t)
	dir, rid := p.project()
	// Issues with enough changes (a memo is written from 8 verified
	// changes on) to make memos and give the index some rows.
	var ids []string
	for i := range 3 {
		id := p.run(dir, "grove", "issue", "new", "--title", fmt.Sprintf("issue %d", i), "--body", strings.Repeat("body text ", 50))
		ids = append(ids, id)
	}
	for i := range 12 {
		p.run(dir, "grove", "issue", "comment", ids[min(i/10, 1)], "--body", fmt.Sprintf("comment %d", i))
	}
	cache := filepath.Join(p.home(), "cache", rid)
	memos := filepath.Join(cache, "cobs", "grove.issue")
	fresh := func() {
		if err := os.RemoveAll(cache); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() string {
		var b strings.Builder
		b.WriteString(p.run(dir, "grove", "issue", "list", "--state", "all", "--json"))
		for _, id := range ids {
			b.WriteString(p.run(dir, "grove", "issue", "show", id, "--json"))
		}
		return b.String()
	}
	fresh()
	want := snapshot()

	runs := 50
	if testing.Short() {
		runs = 5
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for _, c := range []struct {
		what  string
		args  []string
		reset func() // the cache state before the command
		watch string // a directory whose writes trigger kills
		match string // the event that triggers a kill
	}{
		{"index", []string{"issue", "list", "--state", "all"}, fresh, "", ""},
		{"memo", []string{"issue", "show", ids[0]}, func() {
			os.RemoveAll(memos)
			os.MkdirAll(memos, 0o700)
		}, memos, "closed " + ids[0] + ".tmp"},
		{"ids", []string{"issue", "show", ids[2][:7]}, func() {
			os.Remove(filepath.Join(cache, "grove.issue.ids"))
			os.Remove(filepath.Join(cache, "grove.issue.ids.heads"))
			os.MkdirAll(cache, 0o700)
		}, cache, "closed grove.issue.ids.tmp"},
	} {
		// How long the command takes from that state, so that kills
		// spread over it: the shortest of three runs, so that one run
		// slowed by a busy machine does not put most kills past the end.
		full := time.Duration(1<<63 - 1)
		for range 3 {
			c.reset()
			start := time.Now()
			p.run(dir, "grove", c.args...)
			full = min(full, time.Since(start))
		}
		killed, triggered := 0, 0
		for i := range runs {
			c.reset()
			k := &kill{delay: time.Duration(rng.Int64N(int64(full)))}
			k.what = fmt.Sprintf("after %v", k.delay)
			if c.watch != "" && i%2 == 0 {
				if k.w = watchDirs(t, c.watch); k.w != nil {
					extra := time.Duration(rng.Int64N(int64(200 * time.Microsecond)))
					k.trigger = afterEvent(k.w, c.match, 1, extra)
					k.delay = 10 * full
					k.what = fmt.Sprintf("%v after %q", extra, c.match)
				}
			}
			_, wasKilled, byTrigger := p.runKilledAfter(dir, k.delay, k.trigger, false, "grove", c.args...)
			k.stop()
			if wasKilled {
				killed++
			}
			if byTrigger {
				triggered++
			}
			if got := snapshot(); got != want {
				t.Fatalf("%s run %d (killed=%v, %s): after the kill grove reads the cache as\n%.2000s\nwant\n%.2000s", c.what, i, wasKilled, k.what, got, want)
			}
		}
		if killed == 0 {
			t.Fatalf("%s: no command of %d was killed before it finished (a whole one takes %v)", c.what, runs, full)
		}
		if c.watch != "" && triggered == 0 && watchDirs(t, c.watch) != nil {
			t.Fatalf("%s: no command of %d was killed at %q", c.what, runs, c.match)
		}
		t.Logf("%s: %d of %d commands killed, %d of them as the file was written", c.what, killed, runs, triggered)
	}

	fresh()
	if got := snapshot(); got != want {
		t.Fatalf("the cache rebuilt from nothing reads\n%.2000s\nwant\n%.2000s", got, want)
	}
	p.run(p.storage(rid), "git", "fsck", "--no-progress", "--no-dangling")
	p.run(dir, "grove", "issue", "comment", ids[0], "--body", "after the kills")
	if show := p.run(dir, "grove", "issue", "show", ids[0]); !strings.Contains(show, "after the kills") {
		t.Fatalf("the last comment is not shown:\n%s", show)
	}
}
