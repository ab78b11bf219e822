package issues

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// Placeholders in seeds, replaced by what the fuzzed bytes make.
const (
	fuzzTree = "{TREE}" // the oid of the fuzzed (or seed) tree
	fuzzRoot = "{ROOT}" // the object's root change
	fuzzSig  = "{SIG}"  // the author's signature of what the commit names
)

// fuzzActions is where a tree names the actions blob: 20 bytes replaced
// by the blob's raw oid.
var fuzzActions = strings.Repeat("\xfe", 20)

// FuzzChangeCommit loads an issue with one more change, a commit of
// arbitrary bytes over a valid tree; where the commit says fuzzSig, its
// author's signature of the fields parseCommit reads goes in. The load
// never fails (the root is valid), and a change it takes is in its one
// encoding and signed by its author.
func FuzzChangeCommit(f *testing.F) {
	alice := testKey(f, 1)
	rid := testRID(f)
	m := memObjects{}
	root := mustWrite(f, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
	c := mustWrite(f, m, alice, rid, []string{root}, "", t0.Add(time.Minute), Action{Type: ActComment, Body: "me too"})
	_, raw, _ := m.ReadObject(c, maxCommitSize)
	rc, err := parseCommit(c, raw)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := strings.ReplaceAll(string(raw), rc.tree, fuzzTree)
	tmpl = strings.ReplaceAll(tmpl, root, fuzzRoot)
	tmpl = strings.ReplaceAll(tmpl, base64.RawStdEncoding.EncodeToString(rc.sig), fuzzSig)
	for _, s := range []string{
		tmpl,
		string(raw),
		strings.Replace(tmpl, "\n\n", "\nencoding latin1\n\n", 1),
		strings.Replace(tmpl, " +0000\n", " +0100\n", 1),
		strings.Replace(tmpl, "parent "+fuzzRoot+"\n", "parent "+fuzzRoot+"\nparent "+fuzzRoot+"\n", 1),
		strings.Replace(tmpl, "parent "+fuzzRoot+"\n", "", 1),
		strings.Replace(tmpl, IssueType, PatchType, 1),
		strings.Replace(tmpl, fuzzSig+"\n", fuzzSig+"\n\n", 1),
		strings.Replace(tmpl, strconv.FormatInt(t0.Add(time.Minute).Unix(), 10), "99999999999999", 2),
		strings.Replace(tmpl, strconv.FormatInt(t0.Add(time.Minute).Unix(), 10), "-1", 2),
		strings.ReplaceAll(tmpl, alice.NID().String(), testKey(f, 2).NID().String()),
		strings.Replace(tmpl, fuzzTree, strings.ToUpper(rc.tree), 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, commit string) {
		m := memObjects{}
		root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
		tree := mustTree(t, m, Action{Type: ActComment, Body: "me too"})
		commit = strings.ReplaceAll(commit, fuzzTree, tree)
		commit = strings.ReplaceAll(commit, fuzzRoot, root)
		if strings.Contains(commit, fuzzSig) {
			rc, err := parseCommit("", []byte(strings.ReplaceAll(commit, fuzzSig, "")))
			if err != nil || rc.author != alice.NID().String() {
				return
			}
			sig, err := alice.Sign(Payload(rid, rc.typ, rc.tree, rc.parents, alice.NID(), rc.unix))
			if err != nil {
				t.Fatal(err)
			}
			commit = strings.ReplaceAll(commit, fuzzSig, base64.RawStdEncoding.EncodeToString(sig))
		}
		oid, _ := m.WriteObject("commit", []byte(commit))
		obj, err := Load(context.Background(), m, rid, IssueType, root, []string{oid, root})
		if err != nil {
			t.Fatalf("Load with %q: %v", commit, err)
		}
		for _, ch := range obj.Changes {
			if ch.OID != oid {
				continue
			}
			checkCanonical(t, rid, commit, tree, ch)
		}
		is, err := Materialize(obj, Rules{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(is); err != nil {
			t.Fatalf("issue of %q: %v", commit, err)
		}
	})
}

// checkCanonical checks that change ch, loaded from commit over tree, is
// in the one encoding of what its author signed, read here without
// parseCommit.
func checkCanonical(t *testing.T, rid protocol.RID, commit, tree string, ch *Change) {
	t.Helper()
	a := ch.Author.String()
	_, after, _ := strings.Cut(commit, "\nauthor "+a+" <"+a+"@grove> ")
	unix, err := strconv.ParseInt(strings.TrimSuffix(strings.SplitN(after, "\n", 2)[0], " +0000"), 10, 64)
	if err != nil {
		t.Fatalf("took %q: no time: %v", commit, err)
	}
	i := strings.LastIndex(commit, " ")
	sig, err := base64.RawStdEncoding.DecodeString(strings.TrimSuffix(commit[i+1:], "\n"))
	if err != nil {
		t.Fatalf("took %q: no signature: %v", commit, err)
	}
	if want := encodeCommit(IssueType, tree, ch.commitParents, ch.Author, unix, sig); string(want) != commit {
		t.Fatalf("took a change not in its one encoding:\n%q\nwant\n%q", commit, want)
	}
	if !ch.Author.Verify(Payload(rid, IssueType, tree, ch.commitParents, ch.Author, unix), sig) {
		t.Fatalf("took %q with a bad signature", commit)
	}
	if !ch.Time.Equal(changeTime(unix)) {
		t.Fatalf("change of %q dated %v", commit, ch.Time)
	}
}

// FuzzChangeTree loads an issue with one more change, signed by its
// author, whose tree and actions blob are arbitrary bytes (fuzzActions in
// the tree names the blob): the load never fails, and the change, when
// taken, holds the blob's actions if they are a JSON array within the
// limits, or none.
func FuzzChangeTree(f *testing.F) {
	seedActs := func(acts ...Action) []byte {
		b, err := encodeActions(anyActions(acts))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	entry := func(mode, name, oid string) string { return mode + " " + name + "\x00" + oid }
	one := entry("100644", ActionsFile, fuzzActions)
	f.Add([]byte(one), seedActs(Action{Type: ActComment, Body: "me too"}))
	f.Add([]byte(one), seedActs(Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}, Action{Type: ActLabel, Add: []string{"bug"}}))
	f.Add([]byte(entry("100644", "a.png", strings.Repeat("\x01", 20))+one), seedActs(Action{Type: ActTitle, Title: "t"}))
	f.Add([]byte(one+entry("100644", ActionsFile, strings.Repeat("\x01", 20))), seedActs(Action{Type: ActTitle, Title: "t"}))
	f.Add([]byte(entry("40000", "dir", strings.Repeat("\x01", 20))+one), seedActs(Action{Type: ActTitle, Title: "t"}))
	f.Add([]byte(entry("100644", "", fuzzActions)), seedActs(Action{Type: ActTitle, Title: "t"}))
	f.Add([]byte(one[:len(one)-5]), seedActs(Action{Type: ActTitle, Title: "t"}))
	f.Add([]byte(one), []byte(`{"type":"title","title":"not an array"}`))
	f.Add([]byte(one), []byte(`[{"type":"title","title":"x"},]`))
	f.Add([]byte(one), []byte(`[]`))
	f.Add([]byte(""), []byte(`[]`))
	alice := testKey(f, 1)
	rid := testRID(f)
	f.Fuzz(func(t *testing.T, tree, actions []byte) {
		m := memObjects{}
		root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"})
		blob, _ := m.WriteObject("blob", actions)
		tree = bytes.ReplaceAll(tree, []byte(fuzzActions), []byte(rawOID(blob)))
		top, _ := m.WriteObject("tree", tree)
		unix := t0.Add(time.Minute).Unix()
		sig, err := alice.Sign(Payload(rid, IssueType, top, []string{root}, alice.NID(), unix))
		if err != nil {
			t.Fatal(err)
		}
		oid, _ := m.WriteObject("commit", encodeCommit(IssueType, top, []string{root}, alice.NID(), unix, sig))
		obj, err := Load(context.Background(), m, rid, IssueType, root, []string{oid, root})
		if err != nil {
			t.Fatalf("Load with tree %q: %v", tree, err)
		}
		for _, ch := range obj.Changes {
			if ch.OID != oid {
				continue
			}
			var want []json.RawMessage
			if json.Unmarshal(actions, &want) != nil || len(want) > MaxActions {
				want = nil
			}
			if !reflect.DeepEqual(ch.Actions, want) {
				t.Fatalf("actions %q read as %q", actions, ch.Actions)
			}
		}
		is, err := Materialize(obj, Rules{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(is); err != nil {
			t.Fatalf("issue: %v", err)
		}
	})
}

// rawOID is the 20 bytes of a hex oid, as a tree entry holds it.
func rawOID(oid string) string {
	var b [20]byte
	for i := range b {
		n, _ := strconv.ParseUint(oid[2*i:2*i+2], 16, 8)
		b[i] = byte(n)
	}
	return string(b[:])
}

// FuzzMaterializeIssue applies a change of arbitrary actions (a JSON
// array; "C1" stands for the first comment's ID, "ROOT" for the issue's),
// signed at any time by the issue's author, a delegate or a stranger: the
// issue still materializes to a valid state that encodes, the same every
// time, and what the signer may not change stays as it was.
func FuzzMaterializeIssue(f *testing.F) {
	for _, acts := range [][]Action{
		{{Type: ActTitle, Title: "new title"}},
		{{Type: ActBody, Body: "new body"}},
		{{Type: ActState, State: StateClosed, Reason: ReasonSolved}},
		{{Type: ActState, State: StateOpen}},
		{{Type: ActLabel, Add: []string{"bug", "ui"}, Remove: []string{"old"}}},
		{{Type: ActAssign, Add: []string{testKey(f, 2).NID().String()}}},
		{{Type: ActComment, Body: "reply", ReplyTo: "C1"}},
		{{Type: ActCommentEdit, Comment: "C1", Body: "edited"}},
		{{Type: ActReact, Comment: "C1", Emoji: "🎉"}, {Type: ActReact, Emoji: "👍", Undo: true}},
		{{Type: ActComment, Body: "a"}, {Type: ActComment, Body: "b"}},
		{{Type: ActTitle, Title: "\x1b]0;pwned\x07"}, {Type: ActLabel, Add: []string{" x", "a,b", "\x7f"}}},
	} {
		b, err := encodeActions(anyActions(acts))
		if err != nil {
			f.Fatal(err)
		}
		for _, who := range []uint8{0, 1, 2} {
			f.Add(b, who, t0.Add(time.Hour).Unix())
		}
	}
	f.Add([]byte(`[{"type":"comment","body":"late"}]`), uint8(2), int64(99999999999999))
	f.Add([]byte(`[{"type":"title","title":"early"}]`), uint8(0), int64(-1))
	f.Add([]byte(`[{"type":"react","comment":"nope","emoji":"x"},{"type":"label","add":[1]}]`), uint8(1), int64(0))
	f.Add([]byte(`[null,1,"x",{}]`), uint8(0), t0.Unix())
	alice, bob, carol := testKey(f, 1), testKey(f, 2), testKey(f, 3) // author, delegate, stranger
	keys := []*protocol.Key{alice, bob, carol}
	rid := testRID(f)
	rules := Rules{Delegates: []protocol.NID{bob.NID()}}
	f.Fuzz(func(t *testing.T, b []byte, who uint8, unix int64) {
		var raw []json.RawMessage
		if json.Unmarshal(b, &raw) != nil || len(raw) == 0 || len(raw) > MaxActions {
			return
		}
		m := memObjects{}
		root := mustWrite(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "bug"}, Action{Type: ActBody, Body: "text"},
			Action{Type: ActLabel, Add: []string{"old"}})
		c1 := mustWrite(t, m, bob, rid, []string{root}, "", t0.Add(time.Minute), Action{Type: ActComment, Body: "first"})
		acts := make([]any, len(raw))
		for i, a := range raw {
			a = bytes.ReplaceAll(a, []byte(`"C1"`), []byte(`"`+c1+`"`))
			acts[i] = json.RawMessage(bytes.ReplaceAll(a, []byte(`"ROOT"`), []byte(`"`+root+`"`)))
		}
		k := keys[int(who)%len(keys)]
		tip, err := writeChange(m, k, rid, IssueType, []string{c1}, NewChange{Actions: acts}, "", time.Unix(unix, 0))
		if err != nil {
			return
		}
		before := mustMaterialize(t, m, rid, root, rules, c1)
		obj, err := Load(context.Background(), m, rid, IssueType, root, []string{tip})
		if err != nil {
			t.Fatal(err)
		}
		is, err := Materialize(obj, rules)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := json.Marshal(is)
		if err != nil {
			t.Fatalf("issue after %s: %v", b, err)
		}
		again, _ := Materialize(obj, rules)
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
			t.Fatalf("materialized twice:\n%s\n%s", enc, enc2)
		}
		checkIssue(t, is)
		if k == carol && (is.Title != before.Title || is.State != before.State || !reflect.DeepEqual(is.Labels, before.Labels) ||
			!reflect.DeepEqual(is.Assignees, before.Assignees)) {
			t.Fatalf("a stranger triaged with %s: %+v", b, is)
		}
		if k != alice && is.Body != before.Body {
			t.Fatalf("%s changed the author's body with %s", k.NID(), b)
		}
		for i, c := range before.Comments {
			if c.Author != k.NID().String() && (i >= len(is.Comments) || is.Comments[i].Body != c.Body) {
				t.Fatalf("%s edited another's comment with %s", k.NID(), b)
			}
		}
	})
}

// checkIssue checks that a materialized issue holds only valid values.
func checkIssue(t *testing.T, is *Issue) {
	t.Helper()
	if !ValidTitle(is.Title) {
		t.Fatalf("title %q", is.Title)
	}
	switch {
	case is.State == StateOpen && is.Reason == "":
	case is.State == StateClosed && (is.Reason == ReasonSolved || is.Reason == ReasonOther):
	default:
		t.Fatalf("state %q, reason %q", is.State, is.Reason)
	}
	for _, l := range is.Labels {
		if !ValidLabel(l) {
			t.Fatalf("label %q", l)
		}
	}
	for _, a := range is.Assignees {
		if !validNID(a) {
			t.Fatalf("assignee %q", a)
		}
	}
	if is.Updated.Before(is.Created) {
		t.Fatalf("updated %v before created %v", is.Updated, is.Created)
	}
	seen := map[string]bool{}
	for _, c := range is.Comments {
		if seen[c.ID] || !validComment(c.Body) || c.ReplyTo != "" && !seen[c.ReplyTo] {
			t.Fatalf("comment %+v", c)
		}
		seen[c.ID] = true
		checkReactions(t, c.Reactions)
	}
	checkReactions(t, is.Reactions)
}

func checkReactions(t *testing.T, rs []Reaction) {
	t.Helper()
	for _, r := range rs {
		if !ValidEmoji(r.Emoji) || len(r.Authors) == 0 {
			t.Fatalf("reaction %+v", r)
		}
	}
}
