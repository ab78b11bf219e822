package issues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// TestActionEncoding pins the canonical bytes of every action type: one
// Action type serves issues and patches, and each action must encode as
// it did when each kind had its own type, or the same change made by two
// versions of grove would get two oids.
func TestActionEncoding(t *testing.T) {
	acts := []Action{
		{Type: ActTitle, Title: "t"},
		{Type: ActState, State: StateClosed, Reason: ReasonSolved},
		{Type: ActLabel, Add: []string{"a"}, Remove: []string{"b"}},
		{Type: ActComment, Body: "b", ReplyTo: "r"},
		{Type: ActCommentEdit, Comment: "c", Body: "b"},
		{Type: ActReact, Comment: "c", Emoji: "x", Undo: true},
		{Type: ActRevision, Base: "b", Head: "h", Body: "d"},
		{Type: ActReview, Revision: "r", Verdict: "accept", Body: "b", Comments: []LineComment{{Path: "p", Line: 1, EndLine: 2, Body: "x"}}},
		{Type: ActMerge, Revision: "r", Commit: "c"},
		{Type: ActState, State: StateOpen},
	}
	// Made by the issue and patch action types before they were one.
	want := `[{"type":"title","title":"t"},{"type":"state","state":"closed","reason":"solved"},{"type":"label","add":["a"],"remove":["b"]},{"type":"comment","body":"b","replyTo":"r"},{"type":"comment.edit","body":"b","comment":"c"},{"type":"react","comment":"c","emoji":"x","undo":true},{"type":"revision","body":"d","base":"b","head":"h"},{"type":"review","body":"b","revision":"r","verdict":"accept","comments":[{"path":"p","line":1,"endLine":2,"body":"x"}]},{"type":"merge","revision":"r","commit":"c"},{"type":"state","state":"open"}]`
	got, err := encodeActions(anyActions(acts))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// kindCase is one kind as the shared-thread suite drives it: how to
// start an object (a patch needs a revision to exist) and materialize it.
type kindCase struct {
	kind  *Kind
	start func(t *testing.T, m memObjects, k protocol.Signer, rid protocol.RID) (id, tip string)
	get   func(t *testing.T, m memObjects, rid protocol.RID, id string, rules Rules, tip string) *Thread
}

func kindCases() []kindCase {
	write := func(t *testing.T, m memObjects, k protocol.Signer, rid protocol.RID, typ string, parents []string, nonce string, acts ...Action) string {
		t.Helper()
		oid, err := writeChange(m, k, rid, typ, parents, NewChange{Actions: anyActions(acts)}, nonce, t0)
		if err != nil {
			t.Fatal(err)
		}
		return oid
	}
	load := func(t *testing.T, m memObjects, rid protocol.RID, typ, id, tip string) *Object {
		t.Helper()
		obj, err := Load(context.Background(), m, rid, typ, id, []string{tip})
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	return []kindCase{
		{
			kind: IssueKind,
			start: func(t *testing.T, m memObjects, k protocol.Signer, rid protocol.RID) (string, string) {
				id := write(t, m, k, rid, IssueType, nil, "n", rootActions("bug", "text", []string{"a"}, nil)...)
				return id, id
			},
			get: func(t *testing.T, m memObjects, rid protocol.RID, id string, rules Rules, tip string) *Thread {
				is, err := Materialize(load(t, m, rid, IssueType, id, tip), rules)
				if err != nil {
					t.Fatal(err)
				}
				return &is.Thread
			},
		},
		{
			kind: PatchKind,
			start: func(t *testing.T, m memObjects, k protocol.Signer, rid protocol.RID) (string, string) {
				id := write(t, m, k, rid, PatchType, nil, "n", rootActions("bug", "text", []string{"a"}, nil)...)
				return id, write(t, m, k, rid, PatchType, []string{id}, "", Action{Type: ActRevision, Base: fakeBase, Head: fakeHead})
			},
			get: func(t *testing.T, m memObjects, rid protocol.RID, id string, rules Rules, tip string) *Thread {
				p, err := MaterializePatch(load(t, m, rid, PatchType, id, tip), rules)
				if err != nil {
					t.Fatal(err)
				}
				return &p.Thread
			},
		},
	}
}

// TestThreadEveryKind runs what every kind shares (comment, reply, edit,
// react, label, assign, close and reopen, who may do each) against every
// kind: one reducer serves them all.
func TestThreadEveryKind(t *testing.T) {
	alice, bob, carol := testKey(t, 1), testKey(t, 2), testKey(t, 3) // author, delegate, stranger
	rid := testRID(t)
	rules := Rules{Delegates: []protocol.NID{bob.NID()}}
	closed := Action{Type: ActState, State: StateClosed, Reason: ReasonSolved}
	tests := []struct {
		name   string
		who    *protocol.Key
		act    func(c1 string) Action
		effect func(th *Thread, c1 string) bool // true when the action took effect
		want   bool
	}{
		{"stranger closes", carol, func(string) Action { return closed }, func(th *Thread, _ string) bool { return th.State == StateClosed }, false},
		{"delegate closes", bob, func(string) Action { return closed }, func(th *Thread, _ string) bool { return th.State == StateClosed }, true},
		{"stranger retitles", carol, func(string) Action { return Action{Type: ActTitle, Title: "x"} }, func(th *Thread, _ string) bool { return th.Title == "x" }, false},
		{"delegate retitles", bob, func(string) Action { return Action{Type: ActTitle, Title: "x"} }, func(th *Thread, _ string) bool { return th.Title == "x" }, true},
		{"delegate edits the body", bob, func(string) Action { return Action{Type: ActBody, Body: "x"} }, func(th *Thread, _ string) bool { return th.Body == "x" }, false},
		{"author edits the body", alice, func(string) Action { return Action{Type: ActBody, Body: "x"} }, func(th *Thread, _ string) bool { return th.Body == "x" }, true},
		{"stranger labels", carol, func(string) Action { return Action{Type: ActLabel, Add: []string{"b"}} }, func(th *Thread, _ string) bool { return len(th.Labels) == 2 }, false},
		{"author labels", alice, func(string) Action { return Action{Type: ActLabel, Add: []string{"b"}, Remove: []string{"a"}} },
			func(th *Thread, _ string) bool { return fmt.Sprint(th.Labels) == "[b]" }, true},
		{"stranger assigns", carol, func(string) Action { return Action{Type: ActAssign, Add: []string{carol.NID().String()}} },
			func(th *Thread, _ string) bool { return len(th.Assignees) > 0 }, false},
		{"delegate assigns", bob, func(string) Action { return Action{Type: ActAssign, Add: []string{carol.NID().String()}} },
			func(th *Thread, _ string) bool { return fmt.Sprint(th.Assignees) == "["+carol.NID().String()+"]" }, true},
		{"stranger replies", carol, func(c1 string) Action { return Action{Type: ActComment, Body: "hi", ReplyTo: c1} },
			func(th *Thread, c1 string) bool { return len(th.Comments) == 2 && th.Comments[1].ReplyTo == c1 }, true},
		{"reply to no comment", carol, func(string) Action { return Action{Type: ActComment, Body: "hi", ReplyTo: fakeHead} },
			func(th *Thread, _ string) bool { return len(th.Comments) == 2 }, false},
		{"stranger edits a comment", carol, func(c1 string) Action { return Action{Type: ActCommentEdit, Comment: c1, Body: "x"} },
			func(th *Thread, _ string) bool { return th.Comments[0].Body == "x" }, false},
		{"author edits own comment", alice, func(c1 string) Action { return Action{Type: ActCommentEdit, Comment: c1, Body: "x"} },
			func(th *Thread, _ string) bool { return th.Comments[0].Body == "x" && th.Comments[0].Edited != nil }, true},
		{"stranger reacts to a comment", carol, func(c1 string) Action { return Action{Type: ActReact, Comment: c1, Emoji: "👍"} },
			func(th *Thread, _ string) bool { return len(th.Comments[0].Reactions) == 1 && len(th.Reactions) == 0 }, true},
		{"stranger reacts to the object", carol, func(string) Action { return Action{Type: ActReact, Emoji: "🎉"} },
			func(th *Thread, _ string) bool {
				return len(th.Reactions) == 1 && th.Reactions[0].Authors[0] == carol.NID().String()
			}, true},
	}
	for _, kc := range kindCases() {
		t.Run(kc.kind.Noun, func(t *testing.T) {
			m := memObjects{}
			id, tip := kc.start(t, m, alice, rid)
			c1, err := writeChange(m, alice, rid, kc.kind.Type, []string{tip}, NewChange{Actions: anyActions([]Action{{Type: ActComment, Body: "alice says"}})}, "", t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			base := kc.get(t, m, rid, id, rules, c1)
			if base.Title != "bug" || base.Body != "text" || fmt.Sprint(base.Labels) != "[a]" || len(base.Comments) != 1 || base.State != StateOpen {
				t.Fatalf("start: %+v", base)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c, err := writeChange(m, tt.who, rid, kc.kind.Type, []string{c1}, NewChange{Actions: anyActions([]Action{tt.act(c1)})}, "", t0.Add(time.Hour))
					if err != nil {
						t.Fatal(err)
					}
					th := kc.get(t, m, rid, id, rules, c)
					if got := tt.effect(th, c1); got != tt.want {
						t.Fatalf("took effect %v, want %v: %+v", got, tt.want, th)
					}
					if wantUpdated := tt.want; th.Updated.Equal(t0.Add(time.Hour)) != wantUpdated {
						t.Fatalf("updated %v after an action that took effect %v", th.Updated, tt.want)
					}
				})
			}
			// Closing then reopening: back to open, with no reason.
			cl, _ := writeChange(m, bob, rid, kc.kind.Type, []string{c1}, NewChange{Actions: anyActions([]Action{closed})}, "", t0.Add(time.Hour))
			re, _ := writeChange(m, alice, rid, kc.kind.Type, []string{cl}, NewChange{Actions: anyActions([]Action{{Type: ActState, State: StateOpen}})}, "", t0.Add(2*time.Hour))
			if th := kc.get(t, m, rid, id, rules, re); th.State != StateOpen || th.Reason != "" {
				t.Fatalf("reopened: state %q reason %q", th.State, th.Reason)
			}
		})
	}
}

// TestKindCheck: every kind checks the shared actions alike and refuses
// actions it does not have; issues refuse a close without a reason, which
// their reducer would skip.
func TestKindCheck(t *testing.T) {
	tests := []struct {
		name string
		kind *Kind
		in   Action
		ok   bool
	}{
		{"issue comment", IssueKind, Action{Type: ActComment, Body: "x"}, true},
		{"patch comment", PatchKind, Action{Type: ActComment, Body: "x"}, true},
		{"issue empty comment", IssueKind, Action{Type: ActComment, Body: " "}, false},
		{"patch empty comment", PatchKind, Action{Type: ActComment, Body: " "}, false},
		{"issue react", IssueKind, Action{Type: ActReact, Emoji: "👍"}, true},
		{"patch react", PatchKind, Action{Type: ActReact, Emoji: "👍"}, true},
		{"patch bad emoji", PatchKind, Action{Type: ActReact, Emoji: "a b"}, false},
		{"patch assign", PatchKind, Action{Type: ActAssign, Add: []string{"nobody"}}, false},
		{"issue close without reason", IssueKind, Action{Type: ActState, State: StateClosed}, false},
		{"issue close", IssueKind, Action{Type: ActState, State: StateClosed, Reason: ReasonOther}, true},
		{"patch close", PatchKind, Action{Type: ActState, State: StateClosed}, true},
		{"patch merged state", PatchKind, Action{Type: ActState, State: StateMerged}, false},
		{"issue revision", IssueKind, Action{Type: ActRevision, Base: fakeBase, Head: fakeHead}, false},
		{"patch revision", PatchKind, Action{Type: ActRevision, Base: fakeBase, Head: fakeHead}, true},
		{"patch unknown", PatchKind, Action{Type: "nope"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.kind.Check(tt.in)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Check(%+v) = %v, want ok %v", tt.in, err, tt.ok)
			}
		})
	}
}

// TestPatchJSONShape: a patch encodes what every kind shares under the
// same names as an issue, then its own fields.
func TestPatchJSONShape(t *testing.T) {
	m := memObjects{}
	rid, alice := testRID(t), testKey(t, 1)
	id := writePatchChange(t, m, alice, rid, nil, "n", t0, Action{Type: ActTitle, Title: "fix"})
	rev := writePatchChange(t, m, alice, rid, []string{id}, "", t0, Action{Type: ActRevision, Base: fakeBase, Head: fakeHead})
	b, err := json.Marshal(materializePatch(t, m, rid, id, Rules{}, rev))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "title", "body", "state", "author", "labels", "assignees", "reactions", "comments", "created", "updated", "revisions", "reviews", "merges"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	for _, k := range []string{"reason", "merge"} {
		if _, ok := got[k]; ok {
			t.Errorf("%q in %s", k, b)
		}
	}
}

// TestAllowed checks the one permission check writers make against what
// reduce applies: each action by each user.
func TestAllowed(t *testing.T) {
	author, delegate, stranger, outsider := testKey(t, 1).NID(), testKey(t, 2).NID(), testKey(t, 3).NID(), testKey(t, 4).NID()
	th := &Thread{ID: "3f2a1b7c9d", Author: author.String(), Comments: []Comment{{ID: "c1c1c1c1", Author: stranger.String()}}}
	public := Rules{Delegates: []protocol.NID{delegate}}
	private := Rules{Delegates: []protocol.NID{delegate}, Allow: []protocol.NID{author, stranger}}
	for _, tc := range []struct {
		name    string
		rules   Rules
		who     protocol.NID
		act     Action
		wantErr string // "" for allowed
	}{
		{"author closes", public, author, Action{Type: ActState, State: StateClosed}, ""},
		{"delegate labels", public, delegate, Action{Type: ActLabel, Add: []string{"x"}}, ""},
		{"stranger closes", public, stranger, Action{Type: ActState, State: StateClosed}, "issue 3f2a1b7: only its author or a delegate may close it"},
		{"stranger reopens", public, stranger, Action{Type: ActState, State: StateOpen}, "issue 3f2a1b7: only its author or a delegate may reopen it"},
		{"stranger labels", public, stranger, Action{Type: ActLabel, Add: []string{"x"}}, "issue 3f2a1b7: only its author or a delegate may label it"},
		{"stranger assigns", public, stranger, Action{Type: ActAssign, Add: []string{"x"}}, "issue 3f2a1b7: only its author or a delegate may assign it"},
		{"stranger retitles", public, stranger, Action{Type: ActTitle, Title: "x"}, "issue 3f2a1b7: only its author or a delegate may retitle it"},
		{"delegate edits body", public, delegate, Action{Type: ActBody, Body: "x"}, "issue 3f2a1b7: only its author may edit its body"},
		{"stranger comments", public, stranger, Action{Type: ActComment, Body: "x"}, ""},
		{"stranger edits own comment", public, stranger, Action{Type: ActCommentEdit, Comment: "c1c1c1c1", Body: "y"}, ""},
		{"author edits stranger's comment", public, author, Action{Type: ActCommentEdit, Comment: "c1c1c1c1", Body: "y"}, "issue 3f2a1b7: only the comment's author may edit comment c1c1c1c"},
		{"outsider comments on private", private, outsider, Action{Type: ActComment, Body: "x"}, "issue 3f2a1b7: only those it is shared with may change it"},
		{"allowed stranger comments on private", private, stranger, Action{Type: ActComment, Body: "x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := IssueKind.Allowed(tc.rules, tc.who, th, tc.act)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrNotAllowed)):
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			p := PermissionsOf(tc.rules, tc.who, th)
			switch tc.act.Type {
			case ActState, ActLabel, ActAssign, ActTitle:
				if p.Triage != (tc.wantErr == "") {
					t.Errorf("PermissionsOf = %+v", p)
				}
			case ActComment:
				if p.Comment != (tc.wantErr == "") {
					t.Errorf("PermissionsOf = %+v", p)
				}
			}
		})
	}
}
