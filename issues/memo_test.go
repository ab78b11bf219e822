package issues

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// countingReader counts the objects read through it.
type countingReader struct {
	ObjectReader
	n int
}

func (c *countingReader) ReadObject(oid string, limit int64) (string, []byte, error) {
	c.n++
	return c.ObjectReader.ReadObject(oid, limit)
}

// loadMemo loads typ/id as Store.Load does with a cache: through the memo
// at path, writing it when the result is fresh. It returns the object and
// the objects read.
func loadMemo(t testing.TB, rd ObjectReader, rid protocol.RID, id string, tips []string, path string) (*Object, int) {
	t.Helper()
	cr := &countingReader{ObjectReader: rd}
	memo := readMemo(path, rid.String(), IssueType, id)
	obj, fresh, err := load(context.Background(), cr, rid, IssueType, id, tips, make(nidCache), memo)
	if err != nil {
		t.Fatal(err)
	}
	if fresh > 0 {
		if err := writeMemo(path, rid.String(), obj); err != nil {
			t.Fatal(err)
		}
	}
	return obj, cr.n
}

// sameObject fails unless a and b hold the same changes in the same order
// and materialize to the same issue.
func sameObject(t testing.TB, a, b *Object, rules Rules) {
	t.Helper()
	strip := func(o *Object) []Change {
		var out []Change
		for _, c := range o.Changes {
			cc := *c
			cc.commitParents = nil
			if len(cc.Actions) == 0 {
				cc.Actions = nil
			}
			out = append(out, cc)
		}
		return out
	}
	if !reflect.DeepEqual(strip(a), strip(b)) || !reflect.DeepEqual(a.Heads, b.Heads) {
		t.Fatalf("memo load differs:\n%+v\nvs\n%+v", strip(a), strip(b))
	}
	if ja, jb := materializedJSON(t, a, rules), materializedJSON(t, b, rules); !bytes.Equal(ja, jb) {
		t.Fatalf("memo load materializes differently:\n%s\nvs\n%s", ja, jb)
	}
}

// TestMemoAgreesWithLoad runs the convergence simulation's random edits
// and exchanges with a memo per peer: every load through the memo gives
// what a load from the objects alone gives, and a load whose tips did not
// move reads no object at all.
func TestMemoAgreesWithLoad(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 8
	}
	rid := testRID(t)
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		dir := t.TempDir()
		peers := simPeers(t)
		rules := Rules{Delegates: []protocol.NID{peers[1].key.NID()}}
		id := mustWrite(t, peers[0].objs, peers[0].key, rid, nil, fmt.Sprint(seed), t0, Action{Type: ActTitle, Title: "root"})
		seq := map[string]int{}
		peers[0].tips[peers[0].key.NID().String()] = simTip{id, 1}
		for range 30 + rng.IntN(30) {
			i := rng.IntN(3)
			p := peers[i]
			if rng.IntN(3) == 0 {
				p.receive(peers[rng.IntN(3)])
				continue
			}
			if len(p.tips) == 0 {
				continue
			}
			path := filepath.Join(dir, fmt.Sprint(i))
			tips := p.tipList(rng)
			got, _ := loadMemo(t, p.objs, rid, id, tips, path)
			want, err := Load(context.Background(), p.objs, rid, IssueType, id, tips)
			if err != nil {
				t.Fatal(err)
			}
			sameObject(t, got, want, rules)
			if again, reads := loadMemo(t, p.objs, rid, id, p.tipList(rng), path); reads != 0 {
				t.Fatalf("seed %d: a load on unmoved tips read %d objects", seed, reads)
			} else {
				sameObject(t, again, want, rules)
			}
			is, err := Materialize(got, rules)
			if err != nil {
				t.Fatal(err)
			}
			acts := []Action{randomAction(rng, is, peers)}
			oid := mustWrite(t, p.objs, p.key, rid, got.Heads, "", t0.Add(time.Duration(rng.IntN(1000))*time.Second), acts...)
			me := p.key.NID().String()
			seq[me]++
			p.tips[me] = simTip{oid, seq[me] + 1}
		}
	}
}

// TestMemoKeepsOnlyValid: a forged change and what builds only on it are
// not remembered, and stay rejected on every load.
func TestMemoKeepsOnlyValid(t *testing.T) {
	alice, mallory := testKey(t, 1), testKey(t, 9)
	rid := testRID(t)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	m := memObjects{}
	root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
	tree := mustTree(t, m, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
	sig, _ := mallory.Sign(Payload(rid, IssueType, tree, []string{root}, alice.NID(), t0.Unix()))
	forged, _ := m.WriteObject("commit", encodeCommit(IssueType, tree, []string{root}, alice.NID(), t0.Unix(), sig))
	child := mustWrite(t, m, alice, rid, []string{forged}, "", t0, Action{Type: ActLabel, Add: []string{"child"}})
	ok := mustWrite(t, m, alice, rid, []string{root}, "", t0, Action{Type: ActComment, Body: "fine"})
	path := filepath.Join(t.TempDir(), "memo")
	for round := range 2 {
		obj, reads := loadMemo(t, m, rid, root, []string{child, ok}, path)
		if len(obj.Changes) != 2 {
			t.Fatalf("round %d: %d changes, want root and the comment", round, len(obj.Changes))
		}
		// Not remembered, so read again: the forged commit (its signature
		// fails) and the child's commit, tree and actions.
		if round == 1 && reads != 4 {
			t.Fatalf("second load read %d objects, want 4", reads)
		}
		is, err := Materialize(obj, rules)
		if err != nil {
			t.Fatal(err)
		}
		if is.State != StateOpen || len(is.Labels) != 0 || len(is.Comments) != 1 {
			t.Fatalf("round %d: forged change applied: %+v", round, is)
		}
	}
	memo := readMemo(path, rid.String(), IssueType, root)
	if len(memo) != 2 || memo[forged] != nil || memo[child] != nil {
		t.Fatalf("memo holds %d changes: %v", len(memo), memo)
	}
}

// TestMemoNotTrusted: a damaged memo is ignored, one for another object is
// not read, and a memo cannot add a change the tips do not reach.
func TestMemoNotTrusted(t *testing.T) {
	alice := testKey(t, 1)
	rid := testRID(t)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	m := memObjects{}
	root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
	c1 := mustWrite(t, m, alice, rid, []string{root}, "", t0, Action{Type: ActComment, Body: "one"})
	c2 := mustWrite(t, m, alice, rid, []string{c1}, "", t0, Action{Type: ActComment, Body: "two"})
	want, err := Load(context.Background(), m, rid, IssueType, root, []string{c1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "memo")
	// A memo made at c2, then the tips say c1 (a namespace unfollowed).
	loadMemo(t, m, rid, root, []string{c2}, path)
	got, _ := loadMemo(t, m, rid, root, []string{c1}, path)
	sameObject(t, got, want, rules)

	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if readMemo(path, rid.String(), IssueType, root) == nil {
		t.Fatal("a good memo was not read")
	}
	damage := map[string][]byte{
		"flipped byte": func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(b, []byte(`"one`))
			b[i+1] = 'X'
			return b
		}(),
		"truncated": good[:len(good)-10],
		"no header": good[bytes.IndexByte(good, '\n')+1:],
		"empty":     nil,
	}
	for name, b := range damage {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if memo := readMemo(path, rid.String(), IssueType, root); memo != nil {
			t.Errorf("%s: memo read", name)
		}
		got, reads := loadMemo(t, m, rid, root, []string{c1}, path)
		sameObject(t, got, want, rules)
		if reads == 0 {
			t.Errorf("%s: load took the damaged memo", name)
		}
	}
	if memo := readMemo(path, rid.String(), IssueType, c1); memo != nil {
		t.Error("a memo was read for another object")
	}
	other, _ := protocol.RIDFromOID("2222222222222222222222222222222222222222")
	if memo := readMemo(path, other.String(), IssueType, root); memo != nil {
		t.Error("a memo was read for another project")
	}
}

// TestStoreMemo: a Store with a cache directory keeps a memo per object
// and loads the same object through it after changes by two authors.
func TestStoreMemo(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	cached := NewCachedStore(s.Repo, h)
	id, err := cached.CreateIssue(ctx, alice, t0, NewIssue{Title: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 * memoRewriteAfter {
		who := alice
		if i%2 == 1 {
			who = bob
		}
		_, obj, err := cached.Issue(ctx, id, rules)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cached.Update(ctx, IssueKind, who, t0.Add(time.Duration(i+1)*time.Minute), obj, Action{Type: ActComment, Body: fmt.Sprint("comment ", i)}); err != nil {
			t.Fatal(err)
		}
		want, err := s.Load(ctx, IssueType, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cached.Load(ctx, IssueType, id)
		if err != nil {
			t.Fatal(err)
		}
		sameObject(t, got, want, rules)
	}
	// Written once a load verified memoRewriteAfter changes, and again
	// after as many more.
	memo := readMemo(memoPath(cached.CacheDir, IssueType, id), s.Repo.RID.String(), IssueType, id)
	if len(memo) < 2*memoRewriteAfter-1 {
		t.Fatalf("memo holds %d changes, want at least %d", len(memo), 2*memoRewriteAfter-1)
	}
}
