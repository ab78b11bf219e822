package issues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"example.com/grove/protocol"
)

// IssueType is the type name of issues: their refs are
// refs/cobs/grove.issue/<id> and their changes are signed for it.
const IssueType = "grove.issue"

// Issue states and close reasons.
const (
	StateOpen    = "open"
	StateClosed  = "closed"
	ReasonSolved = "solved"
	ReasonOther  = "other"
)

// Limits on issue fields; actions beyond them are skipped.
const (
	MaxTitle = 1024
	MaxBody  = 256 << 10
	MaxLabel = 100
	MaxEmoji = 64
)

// Action types of issues.
const (
	ActTitle       = "title"        // Title: set the title (author, delegates)
	ActBody        = "body"         // Body: set the description (author)
	ActState       = "state"        // State, Reason: open or close (author, delegates)
	ActLabel       = "label"        // Add, Remove: labels (author, delegates)
	ActAssign      = "assign"       // Add, Remove: assignee NIDs (author, delegates)
	ActComment     = "comment"      // Body, ReplyTo: one comment per change (anyone)
	ActCommentEdit = "comment.edit" // Comment, Body: new text (the comment's author)
	ActReact       = "react"        // Comment ("" = the issue), Emoji, Undo (anyone)
)

// Action is one issue action as stored in a change's actions.json. Fields
// not used by a type are left empty and omitted.
type Action struct {
	Type    string   `json:"type"`
	Title   string   `json:"title,omitempty"`
	Body    string   `json:"body,omitempty"`
	State   string   `json:"state,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Add     []string `json:"add,omitempty"`
	Remove  []string `json:"remove,omitempty"`
	Comment string   `json:"comment,omitempty"`
	ReplyTo string   `json:"replyTo,omitempty"`
	Emoji   string   `json:"emoji,omitempty"`
	Undo    bool     `json:"undo,omitempty"`
}

// Issue is the materialized state of an issue. Every peer holding the same
// changes (and the same identity document) encodes it to the same bytes.
type Issue struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	Author    string     `json:"author"`
	Labels    []string   `json:"labels"`
	Assignees []string   `json:"assignees"`
	Reactions []Reaction `json:"reactions"`
	Comments  []Comment  `json:"comments"`
	Created   time.Time  `json:"created"`
	Updated   time.Time  `json:"updated"`
}

// Comment is one comment of an issue; its ID is the oid of the change that
// holds it.
type Comment struct {
	ID        string     `json:"id"`
	Author    string     `json:"author"`
	Body      string     `json:"body"`
	Created   time.Time  `json:"created"`
	Edited    *time.Time `json:"edited,omitempty"`
	ReplyTo   string     `json:"replyTo,omitempty"`
	Reactions []Reaction `json:"reactions"`
}

// Reaction is one emoji and who reacted with it.
type Reaction struct {
	Emoji   string   `json:"emoji"`
	Authors []string `json:"authors"`
}

// Rules say who may do what to an issue: from the project's identity.
type Rules struct {
	Delegates []protocol.NID
	// Allow, when not nil, is who may see a private project besides the
	// delegates; nil means public.
	Allow []protocol.NID
}

// RulesOf returns the rules an identity document sets.
func RulesOf(doc *protocol.Identity) Rules {
	r := Rules{Delegates: doc.Delegates}
	if doc.Visibility.Type == protocol.Private {
		r.Allow = append([]protocol.NID{}, doc.Visibility.Allow...)
	}
	return r
}

func has(l []protocol.NID, n protocol.NID) bool {
	for _, x := range l {
		if x.Equal(n) {
			return true
		}
	}
	return false
}

// CanSee reports whether n may see (and so comment on) the project.
func (r Rules) CanSee(n protocol.NID) bool {
	return r.Allow == nil || has(r.Delegates, n) || has(r.Allow, n)
}

// CanTriage reports whether n may set the title, state, labels and
// assignees of an issue by author.
func (r Rules) CanTriage(n protocol.NID, author string) bool {
	return n.String() == author || has(r.Delegates, n)
}

// ValidTitle reports whether t may be an issue's title.
func ValidTitle(t string) bool {
	return strings.TrimSpace(t) != "" && len(t) <= MaxTitle && !strings.ContainsAny(t, "\r\n") && utf8.ValidString(t)
}

// ValidLabel reports whether l may be a label.
func ValidLabel(l string) bool {
	if l == "" || len(l) > MaxLabel || strings.TrimSpace(l) != l || !utf8.ValidString(l) || strings.Contains(l, ",") {
		return false
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ValidEmoji reports whether e may be a reaction.
func ValidEmoji(e string) bool {
	return e != "" && len(e) <= MaxEmoji && utf8.ValidString(e) && !strings.ContainsAny(e, " \t\r\n,")
}

func validBody(b string) bool { return len(b) <= MaxBody && utf8.ValidString(b) }

func validComment(b string) bool { return strings.TrimSpace(b) != "" && validBody(b) }

// Materialize applies an issue's changes in order and returns its state.
// Actions the author may not take are skipped. ErrNotFound means the issue
// is not visible under the rules.
func Materialize(obj *Object, rules Rules) (*Issue, error) {
	root := obj.Root()
	if !rules.CanSee(root.Author) {
		return nil, fmt.Errorf("issue %s: %w", obj.ID, ErrNotFound)
	}
	is := &Issue{
		ID: obj.ID, State: StateOpen, Author: root.Author.String(),
		Created: root.Time, Updated: root.Time,
	}
	labels := make(map[string]bool)
	assignees := make(map[string]bool)
	var comments []*Comment
	byID := make(map[string]*Comment)
	reacts := make(map[string]map[string]map[string]bool) // target → emoji → NID
	for _, ch := range obj.Changes {
		who := ch.Author
		if !rules.CanSee(who) {
			continue
		}
		whoS := who.String()
		triage := rules.CanTriage(who, is.Author)
		changed, commented := false, false
		for _, raw := range ch.Actions {
			var a Action
			if json.Unmarshal(raw, &a) != nil {
				continue
			}
			switch a.Type {
			case ActTitle:
				if triage && ValidTitle(a.Title) {
					is.Title, changed = a.Title, true
				}
			case ActBody:
				if whoS == is.Author && validBody(a.Body) {
					is.Body, changed = a.Body, true
				}
			case ActState:
				if !triage {
					continue
				}
				switch {
				case a.State == StateOpen && a.Reason == "":
					is.State, is.Reason, changed = StateOpen, "", true
				case a.State == StateClosed && (a.Reason == ReasonSolved || a.Reason == ReasonOther):
					is.State, is.Reason, changed = StateClosed, a.Reason, true
				}
			case ActLabel:
				if triage {
					changed = applySet(labels, a, ValidLabel) || changed
				}
			case ActAssign:
				if triage {
					changed = applySet(assignees, a, validNID) || changed
				}
			case ActComment:
				if commented || !validComment(a.Body) {
					continue
				}
				if a.ReplyTo != "" && byID[a.ReplyTo] == nil {
					continue
				}
				c := &Comment{ID: ch.OID, Author: whoS, Body: a.Body, Created: ch.Time, ReplyTo: a.ReplyTo}
				comments = append(comments, c)
				byID[c.ID] = c
				commented, changed = true, true
			case ActCommentEdit:
				c := byID[a.Comment]
				if c == nil || c.Author != whoS || !validComment(a.Body) {
					continue
				}
				t := ch.Time
				c.Body, c.Edited, changed = a.Body, &t, true
			case ActReact:
				if (a.Comment != "" && byID[a.Comment] == nil) || !ValidEmoji(a.Emoji) {
					continue
				}
				m := reacts[a.Comment]
				if m == nil {
					m = make(map[string]map[string]bool)
					reacts[a.Comment] = m
				}
				if m[a.Emoji] == nil {
					m[a.Emoji] = make(map[string]bool)
				}
				if a.Undo {
					delete(m[a.Emoji], whoS)
				} else {
					m[a.Emoji][whoS] = true
				}
				changed = true
			}
		}
		if changed && ch.Time.After(is.Updated) {
			is.Updated = ch.Time
		}
	}
	is.Labels = sortedKeys(labels)
	is.Assignees = sortedKeys(assignees)
	is.Reactions = reactionList(reacts[""])
	is.Comments = make([]Comment, 0, len(comments))
	for _, c := range comments {
		c.Reactions = reactionList(reacts[c.ID])
		is.Comments = append(is.Comments, *c)
	}
	return is, nil
}

func validNID(s string) bool {
	_, err := protocol.ParseNID(s)
	return err == nil
}

// applySet applies an add/remove action to a set: adds first, then
// removes, so a change that does both leaves the item out.
func applySet(set map[string]bool, a Action, valid func(string) bool) bool {
	changed := false
	for _, x := range a.Add {
		if valid(x) {
			set[x], changed = true, true
		}
	}
	for _, x := range a.Remove {
		if set[x] {
			delete(set, x)
			changed = true
		}
	}
	return changed
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func reactionList(m map[string]map[string]bool) []Reaction {
	out := []Reaction{}
	for e, who := range m {
		if len(who) > 0 {
			out = append(out, Reaction{Emoji: e, Authors: sortedKeys(who)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Emoji < out[j].Emoji })
	return out
}

// NewIssue is what filing an issue takes.
type NewIssue struct {
	Title     string
	Body      string
	Labels    []string
	Assignees []string
}

// ErrInvalid is returned for an action with a bad value.
var ErrInvalid = errors.New("invalid")

// Actions returns the root change's actions for n, after checking them.
func (n NewIssue) Actions() ([]Action, error) {
	if !ValidTitle(n.Title) {
		return nil, fmt.Errorf("%w title: 1 to %d characters on one line", ErrInvalid, MaxTitle)
	}
	if !validBody(n.Body) {
		return nil, fmt.Errorf("%w body: over %d bytes or not UTF-8", ErrInvalid, MaxBody)
	}
	acts := []Action{{Type: ActTitle, Title: n.Title}}
	if n.Body != "" {
		acts = append(acts, Action{Type: ActBody, Body: n.Body})
	}
	if len(n.Labels) > 0 {
		acts = append(acts, Action{Type: ActLabel, Add: n.Labels})
	}
	if len(n.Assignees) > 0 {
		acts = append(acts, Action{Type: ActAssign, Add: n.Assignees})
	}
	return acts, CheckActions(acts...)
}

// CheckActions reports the first action a writer should not send: one
// whose values the reducer would skip anyway.
func CheckActions(acts ...Action) error {
	for _, a := range acts {
		switch a.Type {
		case ActTitle:
			if !ValidTitle(a.Title) {
				return fmt.Errorf("%w title: 1 to %d characters on one line", ErrInvalid, MaxTitle)
			}
		case ActBody:
			if !validBody(a.Body) {
				return fmt.Errorf("%w body: over %d bytes or not UTF-8", ErrInvalid, MaxBody)
			}
		case ActComment, ActCommentEdit:
			if !validComment(a.Body) {
				return fmt.Errorf("%w comment: empty, over %d bytes or not UTF-8", ErrInvalid, MaxBody)
			}
		case ActLabel:
			for _, l := range a.Add {
				if !ValidLabel(l) {
					return fmt.Errorf("%w label %q: 1 to %d characters, no commas, control characters or outer spaces", ErrInvalid, l, MaxLabel)
				}
			}
		case ActAssign:
			for _, n := range a.Add {
				if !validNID(n) {
					return fmt.Errorf("%w assignee %q: not a node ID", ErrInvalid, n)
				}
			}
		case ActReact:
			if !ValidEmoji(a.Emoji) {
				return fmt.Errorf("%w reaction %q", ErrInvalid, a.Emoji)
			}
		case ActState:
		default:
			return fmt.Errorf("%w action type %q", ErrInvalid, a.Type)
		}
	}
	return nil
}

func anyActions(acts []Action) []any {
	out := make([]any, len(acts))
	for i := range acts {
		out[i] = acts[i]
	}
	return out
}

// CreateIssue writes the root change of a new issue in the transaction and
// returns its ID.
func (tx *Tx) CreateIssue(n NewIssue) (string, error) {
	acts, err := n.Actions()
	if err != nil {
		return "", err
	}
	return tx.Create(IssueType, NewChange{Actions: anyActions(acts)})
}

// AppendIssue writes a change with acts on top of parents.
func (tx *Tx) AppendIssue(id string, parents []string, acts ...Action) (string, error) {
	if err := CheckActions(acts...); err != nil {
		return "", err
	}
	return tx.Append(IssueType, id, parents, NewChange{Actions: anyActions(acts)})
}

// CreateIssue files a new issue signed by s and returns its ID.
func (s *Store) CreateIssue(ctx context.Context, signer protocol.Signer, now time.Time, n NewIssue) (string, error) {
	tx := s.Begin(signer, now)
	id, err := tx.CreateIssue(n)
	if err != nil {
		return "", err
	}
	return id, tx.Commit(ctx)
}

// UpdateIssue writes a change with acts on top of obj's heads and returns
// the change's oid.
func (s *Store) UpdateIssue(ctx context.Context, signer protocol.Signer, now time.Time, obj *Object, acts ...Action) (string, error) {
	tx := s.Begin(signer, now)
	oid, err := tx.AppendIssue(obj.ID, obj.Heads, acts...)
	if err != nil {
		return "", err
	}
	return oid, tx.Commit(ctx)
}

// Issue loads and materializes issue id.
func (s *Store) Issue(ctx context.Context, id string, rules Rules) (*Issue, *Object, error) {
	obj, err := s.Load(ctx, IssueType, id)
	if err != nil {
		return nil, nil, err
	}
	is, err := Materialize(obj, rules)
	return is, obj, err
}
