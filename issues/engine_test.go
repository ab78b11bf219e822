package issues

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// memObjects is an in-memory object store that names objects as git does.
type memObjects map[string]memObject

type memObject struct {
	kind string
	data []byte
}

func (m memObjects) WriteObject(kind string, data []byte) (string, error) {
	oid := gitOID(kind, data)
	m[oid] = memObject{kind, append([]byte(nil), data...)}
	return oid, nil
}

func (m memObjects) ReadObject(oid string, limit int64) (string, []byte, error) {
	o, ok := m[oid]
	if !ok {
		return "", nil, ErrNotFound
	}
	if int64(len(o.data)) > limit {
		return "", nil, errors.New("too large")
	}
	return o.kind, o.data, nil
}

func testKey(t testing.TB, seed byte) *protocol.Key {
	t.Helper()
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testRID(t testing.TB) protocol.RID {
	t.Helper()
	rid, err := protocol.RIDFromOID("1111111111111111111111111111111111111111")
	if err != nil {
		t.Fatal(err)
	}
	return rid
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func mustWrite(t testing.TB, m memObjects, k protocol.Signer, rid protocol.RID, parents []string, nonce string, now time.Time, acts ...Action) string {
	t.Helper()
	oid, err := writeChange(m, k, rid, IssueType, parents, NewChange{Actions: anyActions(acts)}, nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

func mustMaterialize(t testing.TB, m memObjects, rid protocol.RID, id string, rules Rules, tips ...string) *Issue {
	t.Helper()
	obj, err := Load(context.Background(), m, rid, IssueType, id, tips)
	if err != nil {
		t.Fatal(err)
	}
	is, err := Materialize(obj, rules)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestChangeRoundTrip(t *testing.T) {
	m := memObjects{}
	k, rid := testKey(t, 1), testRID(t)
	root := mustWrite(t, m, k, rid, nil, "n", t0, Action{Type: ActTitle, Title: "crash <on> start & more"}, Action{Type: ActBody, Body: "# Steps\n\n1. run"})
	c := mustWrite(t, m, k, rid, []string{root}, "", t0.Add(time.Minute), Action{Type: ActComment, Body: "me too"})
	obj, err := Load(context.Background(), m, rid, IssueType, root, []string{c, root, c})
	if err != nil {
		t.Fatal(err)
	}
	if len(obj.Changes) != 2 || obj.Changes[0].OID != root || obj.Changes[1].OID != c {
		t.Fatalf("changes %+v", obj.Changes)
	}
	if len(obj.Heads) != 1 || obj.Heads[0] != c {
		t.Fatalf("heads %v", obj.Heads)
	}
	is, _ := Materialize(obj, Rules{})
	if is.Title != "crash <on> start & more" || is.Body != "# Steps\n\n1. run" || len(is.Comments) != 1 || is.Comments[0].ID != c {
		t.Fatalf("issue %+v", is)
	}
	if !is.Created.Equal(t0) || !is.Updated.Equal(t0.Add(time.Minute)) {
		t.Fatalf("times %v %v", is.Created, is.Updated)
	}
	// The actions are canonical JSON, HTML left alone.
	_, tree, _ := m.ReadObject(c, 1<<20)
	if !bytes.Contains(tree, []byte("\n\ngrove.issue\n\nGrove-Signature: "+k.NID().String()+" ")) {
		t.Fatalf("commit:\n%s", tree)
	}
	// A second type cannot read the first's changes.
	if _, err := Load(context.Background(), m, rid, "grove.patch", root, []string{c}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other type: %v", err)
	}
	// Nor another project.
	other, _ := protocol.RIDFromOID("2222222222222222222222222222222222222222")
	if _, err := Load(context.Background(), m, other, IssueType, root, []string{c}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other project: %v", err)
	}
}

// TestForgedChanges: changes whose signature does not hold are ignored,
// and so is everything that reaches the root only through them.
func TestForgedChanges(t *testing.T) {
	alice, mallory := testKey(t, 1), testKey(t, 9)
	rid := testRID(t)
	rules := Rules{Delegates: []protocol.NID{alice.NID()}}
	tests := []struct {
		name  string
		forge func(m memObjects, root string) string // returns a tip
	}{
		{"signed by another key", func(m memObjects, root string) string {
			// mallory signs but claims to be alice.
			tree := mustTree(t, m, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
			sig, _ := mallory.Sign(Payload(rid, IssueType, tree, []string{root}, alice.NID(), t0.Unix()))
			oid, _ := m.WriteObject("commit", encodeCommit(IssueType, tree, []string{root}, alice.NID(), t0.Unix(), sig))
			return oid
		}},
		{"tampered actions", func(m memObjects, root string) string {
			good := mustWrite(t, m, alice, rid, []string{root}, "", t0, Action{Type: ActTitle, Title: "fine"})
			_, data, _ := m.ReadObject(good, 1<<20)
			evil := mustTree(t, m, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
			oid, _ := m.WriteObject("commit", bytes.Replace(data, data[5:45], []byte(evil), 1))
			return oid
		}},
		{"no signature", func(m memObjects, root string) string {
			tree := mustTree(t, m, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
			oid, _ := m.WriteObject("commit", []byte("tree "+tree+"\nparent "+root+"\nauthor x <x@grove> 1 +0000\ncommitter x <x@grove> 1 +0000\n\ngrove.issue\n"))
			return oid
		}},
		{"re-wrapped with another time", func(m memObjects, root string) string {
			tree := mustTree(t, m, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
			sig, _ := alice.Sign(Payload(rid, IssueType, tree, []string{root}, alice.NID(), t0.Unix()))
			oid, _ := m.WriteObject("commit", encodeCommit(IssueType, tree, []string{root}, alice.NID(), t0.Unix()+60, sig))
			return oid
		}},
		{"extra header", func(m memObjects, root string) string {
			good := mustWrite(t, m, alice, rid, []string{root}, "", t0, Action{Type: ActState, State: StateClosed, Reason: ReasonOther})
			_, data, _ := m.ReadObject(good, 1<<20)
			delete(m, good)
			oid, _ := m.WriteObject("commit", bytes.Replace(data, []byte("\n\n"), []byte("\nencoding latin1\n\n"), 1))
			return oid
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memObjects{}
			root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
			forged := tt.forge(m, root)
			// An honest change that builds only on the forgery is dropped too.
			child := mustWrite(t, m, alice, rid, []string{forged}, "", t0, Action{Type: ActLabel, Add: []string{"child"}})
			is := mustMaterialize(t, m, rid, root, rules, forged, child, root)
			if is.State != StateOpen || len(is.Labels) != 0 || is.Title != "bug" {
				t.Fatalf("forged change applied: %+v", is)
			}
		})
	}
}

func mustTree(t *testing.T, m memObjects, acts ...Action) string {
	t.Helper()
	b, err := encodeActions(anyActions(acts))
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := m.WriteObject("blob", b)
	tree, _ := m.WriteObject("tree", encodeTree(map[string]string{ActionsFile: blob}))
	return tree
}

// TestAuthorization: what a stranger may and may not do to someone else's
// issue.
func TestAuthorization(t *testing.T) {
	alice, bob, carol := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	rid := testRID(t)
	rules := Rules{Delegates: []protocol.NID{bob.NID()}} // bob is a delegate, carol a stranger
	m := memObjects{}
	root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"}, Action{Type: ActBody, Body: "text"}, Action{Type: ActLabel, Add: []string{"a"}})
	c1 := mustWrite(t, m, alice, rid, []string{root}, "", t0, Action{Type: ActComment, Body: "alice says"})
	tests := []struct {
		name  string
		who   *protocol.Key
		act   Action
		check func(is *Issue) bool // true when the action took effect
	}{
		{"stranger closes", carol, Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}, func(is *Issue) bool { return is.State == StateClosed }},
		{"stranger retitles", carol, Action{Type: ActTitle, Title: "pwned"}, func(is *Issue) bool { return is.Title == "pwned" }},
		{"stranger labels", carol, Action{Type: ActLabel, Add: []string{"spam"}, Remove: []string{"a"}}, func(is *Issue) bool { return fmt.Sprint(is.Labels) != "[a]" }},
		{"stranger assigns", carol, Action{Type: ActAssign, Add: []string{carol.NID().String()}}, func(is *Issue) bool { return len(is.Assignees) > 0 }},
		{"stranger edits the body", carol, Action{Type: ActBody, Body: "pwned"}, func(is *Issue) bool { return is.Body == "pwned" }},
		{"delegate edits the body", bob, Action{Type: ActBody, Body: "pwned"}, func(is *Issue) bool { return is.Body == "pwned" }},
		{"stranger edits a comment", carol, Action{Type: ActCommentEdit, Comment: c1, Body: "pwned"}, func(is *Issue) bool { return is.Comments[0].Body == "pwned" }},
		{"delegate edits a comment", bob, Action{Type: ActCommentEdit, Comment: c1, Body: "pwned"}, func(is *Issue) bool { return is.Comments[0].Body == "pwned" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustWrite(t, m, tt.who, rid, []string{c1}, "", t0, tt.act)
			if is := mustMaterialize(t, m, rid, root, rules, c); tt.check(is) {
				t.Fatalf("took effect: %+v", is)
			}
		})
	}
	allowed := []struct {
		name  string
		who   *protocol.Key
		act   Action
		check func(is *Issue) bool
	}{
		{"delegate closes", bob, Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}, func(is *Issue) bool { return is.State == StateClosed && is.Reason == ReasonSolved }},
		{"delegate retitles", bob, Action{Type: ActTitle, Title: "better"}, func(is *Issue) bool { return is.Title == "better" }},
		{"author labels", alice, Action{Type: ActLabel, Add: []string{"b"}}, func(is *Issue) bool { return fmt.Sprint(is.Labels) == "[a b]" }},
		{"stranger comments", carol, Action{Type: ActComment, Body: "hi", ReplyTo: c1}, func(is *Issue) bool { return len(is.Comments) == 2 && is.Comments[1].ReplyTo == c1 }},
		{"stranger reacts", carol, Action{Type: ActReact, Comment: c1, Emoji: "👍"}, func(is *Issue) bool { return len(is.Comments[0].Reactions) == 1 }},
		{"author edits own comment", alice, Action{Type: ActCommentEdit, Comment: c1, Body: "fixed"}, func(is *Issue) bool { return is.Comments[0].Body == "fixed" && is.Comments[0].Edited != nil }},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			c := mustWrite(t, m, tt.who, rid, []string{c1}, "", t0, tt.act)
			if is := mustMaterialize(t, m, rid, root, rules, c); !tt.check(is) {
				t.Fatalf("no effect: %+v", is)
			}
		})
	}
	// A private project: someone off the allow list is not heard at all.
	priv := Rules{Delegates: []protocol.NID{alice.NID()}, Allow: []protocol.NID{bob.NID()}}
	c := mustWrite(t, m, carol, rid, []string{c1}, "", t0, Action{Type: ActComment, Body: "can't see"})
	if is := mustMaterialize(t, m, rid, root, priv, c); len(is.Comments) != 1 {
		t.Fatalf("outsider's comment on a private project applied: %+v", is.Comments)
	}
}

// simPeer is one peer of the convergence test: a key, the objects it holds
// and the tips it knows of every namespace (with the owner's sequence
// number, so a newer tip replaces an older one on exchange).
type simPeer struct {
	key  *protocol.Key
	objs memObjects
	tips map[string]simTip
}

type simTip struct {
	oid string
	seq int
}

// simPeers returns the three peers of a simulation, keys 1 to 3, holding
// nothing yet.
func simPeers(t testing.TB) []*simPeer {
	var peers []*simPeer
	for i := range 3 {
		peers = append(peers, &simPeer{key: testKey(t, byte(i+1)), objs: memObjects{}, tips: map[string]simTip{}})
	}
	return peers
}

func (p *simPeer) tipList(rng *rand.Rand) []string {
	var l []string
	for _, t := range p.tips {
		l = append(l, t.oid)
	}
	sort.Strings(l)
	rng.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	return l
}

// receive copies q's objects and newer tips into p, as a fetch of q's
// namespaces would.
func (p *simPeer) receive(q *simPeer) {
	for oid, o := range q.objs {
		p.objs[oid] = o
	}
	for ns, t := range q.tips {
		if t.seq > p.tips[ns].seq {
			p.tips[ns] = t
		}
	}
}

func (p *simPeer) state(t testing.TB, rid protocol.RID, id string, rules Rules, rng *rand.Rand) (*Object, []byte) {
	t.Helper()
	obj, err := Load(context.Background(), p.objs, rid, IssueType, id, p.tipList(rng))
	if err != nil {
		t.Fatal(err)
	}
	return obj, materializedJSON(t, obj, rules)
}

// materializedJSON is obj materialized under rules, as JSON.
func materializedJSON(t testing.TB, obj *Object, rules Rules) []byte {
	t.Helper()
	is, err := Materialize(obj, rules)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(is)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomRefs are the references a random text might carry: none, or some
// of three objects.
func randomRefs(rng *rand.Rand) []string {
	objs := []string{fakeBase, fakeHead, fakeHead2}
	var out []string
	for _, o := range objs {
		if rng.IntN(3) == 0 {
			out = append(out, o)
		}
	}
	return out
}

// randomAction picks an action a peer might take given what it sees.
func randomAction(rng *rand.Rand, is *Issue, peers []*simPeer) Action {
	labels := []string{"bug", "ui", "p1", "docs"}
	pickComment := func() string {
		if len(is.Comments) == 0 {
			return ""
		}
		return is.Comments[rng.IntN(len(is.Comments))].ID
	}
	switch rng.IntN(9) {
	case 0:
		return Action{Type: ActTitle, Title: fmt.Sprintf("title %d", rng.IntN(1000))}
	case 1:
		return Action{Type: ActBody, Body: fmt.Sprintf("body %d", rng.IntN(1000)), Refs: randomRefs(rng)}
	case 2:
		if rng.IntN(2) == 0 {
			a := Action{Type: ActState, State: StateClosed, Reason: []string{ReasonSolved, ReasonOther}[rng.IntN(2)]}
			if rng.IntN(2) == 0 {
				a.Patch = fakeHead // closed by a merged patch
			}
			return a
		}
		return Action{Type: ActState, State: StateOpen}
	case 3:
		a := Action{Type: ActLabel}
		if rng.IntN(2) == 0 {
			a.Add = []string{labels[rng.IntN(len(labels))]}
		} else {
			a.Remove = []string{labels[rng.IntN(len(labels))]}
		}
		return a
	case 4:
		a := Action{Type: ActAssign}
		n := peers[rng.IntN(len(peers))].key.NID().String()
		if rng.IntN(3) == 0 {
			a.Remove = []string{n}
		} else {
			a.Add = []string{n}
		}
		return a
	case 5:
		return Action{Type: ActComment, Body: fmt.Sprintf("comment %d", rng.IntN(1000)), Refs: randomRefs(rng)}
	case 6:
		return Action{Type: ActComment, Body: fmt.Sprintf("reply %d", rng.IntN(1000)), ReplyTo: pickComment()}
	case 7:
		if c := pickComment(); c != "" {
			return Action{Type: ActCommentEdit, Comment: c, Body: fmt.Sprintf("edited %d", rng.IntN(1000))}
		}
		return Action{Type: ActComment, Body: "first"}
	default:
		return Action{Type: ActReact, Comment: pickComment(), Emoji: []string{"👍", "🎉", "👀"}[rng.IntN(3)], Undo: rng.IntN(4) == 0}
	}
}

// TestConvergence is the property test: three peers (the author, a
// delegate and a stranger) act on one issue in random interleavings and
// exchange changes in random orders. Whenever two peers hold the same
// changes they show byte-identical issues, and after a full exchange all
// three do.
func TestConvergence(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 25
	}
	rid := testRID(t)
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		peers := simPeers(t)
		rules := Rules{Delegates: []protocol.NID{peers[1].key.NID()}}
		author := peers[0]
		id := mustWrite(t, author.objs, author.key, rid, nil, fmt.Sprint(seed), t0, Action{Type: ActTitle, Title: "root"})
		seq := map[string]int{author.key.NID().String(): 1}
		author.tips[author.key.NID().String()] = simTip{id, 1}
		steps := 40 + rng.IntN(40)
		for step := range steps {
			p := peers[rng.IntN(3)]
			if rng.IntN(3) == 0 {
				p.receive(peers[rng.IntN(3)])
				continue
			}
			if len(p.tips) == 0 {
				continue // has not heard of the issue yet
			}
			obj, js := p.state(t, rid, id, rules, rng)
			var is Issue
			json.Unmarshal(js, &is)
			n := 1 + rng.IntN(2)
			acts := make([]Action, n)
			for i := range acts {
				acts[i] = randomAction(rng, &is, peers)
			}
			// Clocks disagree between peers; order must not depend on them.
			now := t0.Add(time.Duration(rng.IntN(1000)-500) * time.Second)
			oid := mustWrite(t, p.objs, p.key, rid, obj.Heads, "", now, acts...)
			me := p.key.NID().String()
			seq[me]++
			p.tips[me] = simTip{oid, seq[me]}
			_ = step
		}
		// Two peers with the same tips hold the same changes: same bytes.
		for _, p := range peers {
			if len(p.tips) == 0 {
				continue
			}
			_, a := p.state(t, rid, id, rules, rng)
			_, b := p.state(t, rid, id, rules, rng)
			if !bytes.Equal(a, b) {
				t.Fatalf("seed %d: tip order changed the result", seed)
			}
		}
		// Exchange everything in a random order, twice round.
		for range 2 {
			for _, i := range rng.Perm(3) {
				for _, j := range rng.Perm(3) {
					peers[i].receive(peers[j])
				}
			}
		}
		var want []byte
		for i, p := range peers {
			_, got := p.state(t, rid, id, rules, rng)
			if i == 0 {
				want = got
				continue
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("seed %d: peer %d differs:\n%s\nvs\n%s", seed, i, got, want)
			}
		}
	}
}
