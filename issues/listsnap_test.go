package issues

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// listed collects what EachListed hands out.
func listed(t *testing.T, s *Store, path string, f Filter) ([]Summary, bool) {
	t.Helper()
	return collect(t, func(fn func(int, *Summary) error) (bool, error) { return EachListed(path, s, f, fn) })
}

// catchUpListed collects what CatchUpListed hands out.
func catchUpListed(t *testing.T, s *Store, path string, f Filter) ([]Summary, bool) {
	t.Helper()
	return collect(t, func(fn func(int, *Summary) error) (bool, error) {
		return CatchUpListed(context.Background(), path, s, f, fn)
	})
}

// collect copies out every summary each hands out; a nil list means each
// did not answer.
func collect(t *testing.T, each func(fn func(int, *Summary) error) (bool, error)) ([]Summary, bool) {
	t.Helper()
	var out []Summary
	ok, err := each(func(n int, sum *Summary) error {
		c := *sum
		c.Labels = append([]string{}, sum.Labels...)
		c.Assignees = append([]string{}, sum.Assignees...)
		out = append(out, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok && out == nil {
		out = []Summary{}
	}
	return out, ok
}

// TestListSnapshot: the snapshot the index writes lists what the index
// lists, under every filter but a search, through random changes by three
// keys; it is passed over as soon as the refs move past it, and when it
// does not parse.
func TestListSnapshot(t *testing.T) {
	ctx := context.Background()
	keys := []*protocol.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	s, h := newProject(t, keys[0])
	path := ListPath(h, s.Repo.RID)
	filters := []Filter{{}, {State: StateOpen}, {State: StateClosed}, {Label: "bug"}, {Label: "ui", State: StateOpen}, {Author: keys[1].NID().String()}}
	rng := rand.New(rand.NewPCG(4, 2))
	var ids []string
	now := t0
	for round := range 6 {
		for range 8 {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Second) // ties in time, ordered by ID
			k := keys[rng.IntN(len(keys))]
			if len(ids) == 0 || rng.IntN(3) == 0 {
				id, err := s.CreateIssue(ctx, k, now, NewIssue{Title: fmt.Sprint("issue ", len(ids)), Labels: []string{"bug", "ui"}[:rng.IntN(3)]})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
				continue
			}
			obj, err := s.Load(ctx, IssueType, ids[rng.IntN(len(ids))])
			if err != nil {
				t.Fatal(err)
			}
			acts := [][]Action{
				{{Type: ActComment, Body: "hm"}},
				{{Type: ActState, State: StateClosed, Reason: "solved"}},
				{{Type: ActState, State: StateOpen}},
				{{Type: ActLabel, Add: []string{"ui"}, Remove: []string{"bug"}}},
			}[rng.IntN(4)]
			if _, err := s.UpdateIssue(ctx, keys[0], now, obj, acts...); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := listed(t, s, path, Filter{}); ok && round > 0 {
			t.Fatalf("round %d: a snapshot older than the refs was used", round)
		}
		ix, err := OpenIndex(ctx, IndexPath(h, s.Repo.RID), s)
		if err != nil {
			t.Fatal(err)
		}
		// After the first round the snapshot is patched from the last
		// one; the index's own reading must agree with it.
		if round > 0 && (ix.listed == nil || ix.patched != 1) {
			t.Fatalf("round %d: the snapshot was not patched (%d) or its rows not kept", round, ix.patched)
		}
		kept := ix.listed
		for _, f := range filters {
			ix.listed = nil // from SQLite
			want, err := ix.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			ix.listed = kept // from the rows kept
			if fromKept, err := ix.List(ctx, f); err != nil {
				t.Fatal(err)
			} else if k, w := mustJSON(t, fromKept), mustJSON(t, want); k != w {
				t.Fatalf("round %d, %+v: the kept rows list\n%s\nthe index\n%s", round, f, k, w)
			}
			got, ok := listed(t, s, path, f)
			if !ok {
				t.Fatalf("round %d, %+v: no snapshot after the index was opened", round, f)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Fatalf("round %d, %+v: the snapshot lists\n%s\nthe index\n%s", round, f, g, w)
			}
		}
		if _, ok := listed(t, s, path, Filter{Search: "issue"}); ok {
			t.Fatal("a search was answered from the snapshot")
		}
		ix.Close()
	}

	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"truncated", good[:len(good)-3]},
		{"a row cut short", append(append([]byte(nil), good...), "99:x"...)},
		{"a row that does not decode", append(append([]byte(nil), good...), "3:abc"...)},
		{"another count", []byte("grove issue list 1 999999" + string(good[len("grove issue list 1 ")+len(fmt.Sprint(len(ids))):]))},
		{"empty", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			called := false
			ok, err := EachListed(path, s, Filter{}, func(int, *Summary) error { called = true; return nil })
			if ok || err != nil || called {
				t.Fatalf("used a damaged snapshot: ok %v, err %v, fn called %v", ok, err, called)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestListCatchUp: a listing brings the snapshot forward over changes to
// issues by itself, with no index open, and then lists, and leaves on
// disk, exactly what the index lists and would write; it leaves the
// snapshot to the index when a namespace appears, when too many issues
// moved, when the snapshot does not parse, and for a search.
func TestListCatchUp(t *testing.T) {
	ctx := context.Background()
	keys := []*protocol.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	s, h := newProject(t, keys[0])
	path := ListPath(h, s.Repo.RID)
	filters := []Filter{{}, {State: StateOpen}, {State: StateClosed}, {Label: "bug"}, {Author: keys[2].NID().String()}}
	rng := rand.New(rand.NewPCG(7, 3))
	now := t0
	var ids []string
	create := func(k *protocol.Key) {
		t.Helper()
		now = now.Add(time.Duration(rng.IntN(3)) * time.Second)
		id, err := s.CreateIssue(ctx, k, now, NewIssue{Title: fmt.Sprint("issue ", len(ids)), Labels: []string{"bug", "ui"}[:rng.IntN(3)]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, k := range keys { // every namespace there from the start
		create(k)
	}
	ix := mustOpenIndex(t, s, h)
	ix.Close()

	for round := range 8 {
		for range 1 + rng.IntN(6) {
			k := keys[rng.IntN(len(keys))]
			if rng.IntN(4) == 0 {
				create(k)
				continue
			}
			obj, err := s.Load(ctx, IssueType, ids[rng.IntN(len(ids))])
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
			acts := [][]Action{
				{{Type: ActComment, Body: "hm"}},
				{{Type: ActState, State: StateClosed, Reason: "solved"}},
				{{Type: ActState, State: StateOpen}},
				{{Type: ActLabel, Add: []string{"ui"}, Remove: []string{"bug"}}},
				{{Type: ActTitle, Title: fmt.Sprint("retitled in round ", round)}},
			}[rng.IntN(5)]
			// A stranger's close or retitle has no effect: the row must
			// say so too.
			if _, err := s.UpdateIssue(ctx, k, now, obj, acts...); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := listed(t, s, path, Filter{}); ok {
			t.Fatalf("round %d: the snapshot is at the refs before any catch-up", round)
		}
		got := make([][]Summary, len(filters))
		for i, f := range filters {
			var ok bool
			if got[i], ok = catchUpListed(t, s, path, f); !ok {
				t.Fatalf("round %d, %+v: not caught up", round, f)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := readNamespaces(s)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, ok := snapshotRows(data, snapshotState(cur))
		if !ok {
			t.Fatalf("round %d: the snapshot written is not of the refs' state", round)
		}
		ix := mustOpenIndex(t, s, h)
		want, err := ix.sortedRows(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, onDisk), mustJSON(t, want); g != w {
			t.Fatalf("round %d: the snapshot caught up holds\n%s\nthe index\n%s", round, g, w)
		}
		for i, f := range filters {
			ix.listed = nil
			want, err := ix.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got[i]), mustJSON(t, want); g != w {
				t.Fatalf("round %d, %+v: caught up, the listing is\n%s\nthe index's\n%s", round, f, g, w)
			}
		}
		ix.Close()
	}

	t.Run("search", func(t *testing.T) {
		if _, ok := catchUpListed(t, s, path, Filter{Search: "issue"}); ok {
			t.Fatal("a search was answered without the index")
		}
	})
	t.Run("a new namespace", func(t *testing.T) {
		create(testKey(t, 4))
		if _, ok := catchUpListed(t, s, path, Filter{}); ok {
			t.Fatal("caught up over a namespace the snapshot does not have")
		}
		mustOpenIndex(t, s, h).Close()
	})
	t.Run("too many issues", func(t *testing.T) {
		for range maxCaughtUp + 1 {
			create(keys[0])
		}
		if _, ok := catchUpListed(t, s, path, Filter{}); ok {
			t.Fatalf("caught up over more than %d issues", maxCaughtUp)
		}
		mustOpenIndex(t, s, h).Close()
	})
	t.Run("a snapshot that does not parse", func(t *testing.T) {
		create(keys[1])
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][]byte{good[:len(good)-3], append(append([]byte(nil), good...), "3:abc"...)} {
			if err := os.WriteFile(path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, ok := catchUpListed(t, s, path, Filter{}); ok {
				t.Fatal("caught up from a damaged snapshot")
			}
		}
	})
}
