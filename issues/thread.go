package issues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
)

// States every kind shares, and the reasons an issue is closed for.
const (
	StateOpen    = "open"
	StateClosed  = "closed"
	ReasonSolved = "solved"
	ReasonOther  = "other"
)

// Limits on the fields every kind shares; actions beyond them are skipped.
const (
	MaxTitle = protocol.MaxTitle
	MaxBody  = protocol.MaxBody
	MaxLabel = protocol.MaxLabel
	MaxEmoji = protocol.MaxEmoji
)

// Action types every kind shares. A kind adds its own (ActRevision,
// ActReview, ActMerge for patches).
const (
	ActTitle       = "title"        // Title: set the title (author, delegates)
	ActBody        = "body"         // Body: set the description (author)
	ActState       = "state"        // State, Reason: open or close (author, delegates)
	ActLabel       = "label"        // Add, Remove: labels (author, delegates)
	ActAssign      = "assign"       // Add, Remove: assignee NIDs (author, delegates)
	ActComment     = "comment"      // Body, ReplyTo: one comment per change (anyone)
	ActCommentEdit = "comment.edit" // Comment, Body: new text (the comment's author)
	ActReact       = "react"        // Comment ("" = the object), Emoji, Undo (anyone)
)

// ErrInvalid is returned for an action with a bad value.
var ErrInvalid = errors.New("invalid")

// Action is one action as stored in a change's actions.json, of any kind.
// Fields an action does not use are left empty and omitted; their order
// is the canonical encoding's.
type Action struct {
	Type     string        `json:"type"`
	Title    string        `json:"title,omitempty"`
	Body     string        `json:"body,omitempty"`
	State    string        `json:"state,omitempty"`
	Reason   string        `json:"reason,omitempty"`
	Add      []string      `json:"add,omitempty"`
	Remove   []string      `json:"remove,omitempty"`
	Base     string        `json:"base,omitempty"`
	Head     string        `json:"head,omitempty"`
	Revision string        `json:"revision,omitempty"`
	Verdict  string        `json:"verdict,omitempty"`
	Comments []LineComment `json:"comments,omitempty"`
	Comment  string        `json:"comment,omitempty"`
	ReplyTo  string        `json:"replyTo,omitempty"`
	Emoji    string        `json:"emoji,omitempty"`
	Undo     bool          `json:"undo,omitempty"`
	Commit   string        `json:"commit,omitempty"`
	// Refs are the objects the action's text mentions, as its writer
	// resolved them (links.go).
	Refs []string `json:"refs,omitempty"`
	// Patch, on a state action that closes an issue, is the merged patch
	// that closed it.
	Patch string `json:"patch,omitempty"`
}

// Thread is what every collaborative object has: a title and a
// description by an author, a state, labels, assignees, reactions and
// threaded comments. An Issue is a Thread; a Patch adds revisions, reviews
// and merges. Every peer holding the same changes (and the same identity
// document) encodes it to the same bytes.
type Thread struct {
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
	// Links are the objects this one refers to, first reference first.
	Links []Link `json:"links"`
	// ClosedBy is the merged patch that closed the object, while it stays
	// closed by it.
	ClosedBy *ClosedBy `json:"closedBy,omitempty"`
}

// Shared returns t: promoted, what every kind shares of an Issue or a
// Patch, for code that serves every kind.
func (t *Thread) Shared() *Thread { return t }

// Comment is one comment of a thread; its ID is the oid of the change that
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

// Rules say who may do what to an object: from the project's identity,
// and from the person documents of its namespaces (Store.Rules), so that
// every peer with the same signed data decides the same.
type Rules struct {
	Delegates []protocol.NID
	// Allow, when not nil, is who may see a private project besides the
	// delegates; nil means public.
	Allow []protocol.NID
	// Persons maps each NID that is or was a device of a person to the
	// person's ID (repo.People): a device acts as its person, so a
	// delegate's or an allowed person's other devices act as it, and an
	// author's other devices as the author. nil: each key is itself.
	Persons map[string]string
	// Removed are the devices removed from their persons, each with the
	// oids of its changes that its removal kept (repo.KeptRefs): a
	// change of its that none of them reaches is skipped.
	Removed map[string][]string
}

// RulesOf returns the rules an identity document sets, with every key
// standing for itself (Store.Rules adds the persons).
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

// who is whom NID n acts as: its person's ID, or n.
func (r Rules) who(n string) string {
	if p, ok := r.Persons[n]; ok {
		return p
	}
	return n
}

// in reports whether n is one of l or a device of the person one of l is.
func (r Rules) in(l []protocol.NID, n protocol.NID) bool {
	if has(l, n) {
		return true
	}
	p, ok := r.Persons[n.String()]
	if !ok {
		return false
	}
	for _, x := range l {
		if r.Persons[x.String()] == p {
			return true
		}
	}
	return false
}

// IsDelegate reports whether n acts as a delegate: it is one, or a device
// of a delegate's person. A removed device is one only for what it did
// before its removal (reduce skips the rest).
func (r Rules) IsDelegate(n protocol.NID) bool { return r.in(r.Delegates, n) }

// Same reports whether NID n is author (a NID) or a device of author's
// person.
func (r Rules) Same(n string, author string) bool {
	return n == author || r.who(n) == r.who(author)
}

// IsRemoved reports whether n is a device removed from its person: it may
// write nothing any peer with the removal takes.
func (r Rules) IsRemoved(n protocol.NID) bool {
	_, ok := r.Removed[n.String()]
	return ok
}

// CanSee reports whether n may see (and so comment on) the project.
func (r Rules) CanSee(n protocol.NID) bool {
	return r.Allow == nil || r.in(r.Delegates, n) || r.in(r.Allow, n)
}

// CanTriage reports whether n may set the title, state, labels and
// assignees of an object by author.
func (r Rules) CanTriage(n protocol.NID, author string) bool {
	return r.Same(n.String(), author) || r.IsDelegate(n)
}

// kept returns the changes of obj that a removed device's removal kept:
// those its kept oids reach in obj.
func (r Rules) kept(obj *Object, dev string) map[string]bool {
	byOID := make(map[string]*Change, len(obj.Changes))
	for _, ch := range obj.Changes {
		byOID[ch.OID] = ch
	}
	out := map[string]bool{}
	stack := slices.Clone(r.Removed[dev])
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		ch := byOID[o]
		if ch == nil || out[o] {
			continue
		}
		out[o] = true
		stack = append(stack, ch.Parents...)
	}
	return out
}

// counted returns a function that reports whether a change of obj counts
// under r: not one a removed device signed after its removal.
func (r Rules) counted(obj *Object) func(*Change) bool {
	if len(r.Removed) == 0 {
		return func(*Change) bool { return true }
	}
	sets := map[string]map[string]bool{}
	return func(ch *Change) bool {
		dev := ch.Author.String()
		if _, ok := r.Removed[dev]; !ok {
			return true
		}
		if sets[dev] == nil {
			sets[dev] = r.kept(obj, dev)
		}
		return sets[dev][ch.OID]
	}
}

// ErrNotAllowed is returned for a change its author may not make: the
// rules would skip it in every peer's view, so it is not written.
var ErrNotAllowed = errors.New("not allowed")

// NotAllowedError names an action the user may not take on an object and
// who may; it wraps ErrNotAllowed.
type NotAllowedError struct {
	Noun, ID string // the object
	Who      string // who may: "its author or a delegate"
	What     string // what: "close it"
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("%s %.7s: only %s may %s", e.Noun, e.ID, e.Who, e.What)
}

func (e *NotAllowedError) Unwrap() error { return ErrNotAllowed }

// Allowed returns a *NotAllowedError for the first of acts that n may not
// take on th, an object of kind k, under rules; nil when reduce would apply
// them all as far as who may is concerned. It is the one check the command
// line and the terminal UI make before they write, so that neither signs a
// change every peer ignores. A kind's own actions (revisions, reviews,
// merges) are checked where they are written.
func (k *Kind) Allowed(rules Rules, n protocol.NID, th *Thread, acts ...Action) error {
	deny := func(who, what string) error {
		return &NotAllowedError{Noun: k.Noun, ID: th.ID, Who: who, What: what}
	}
	triage := rules.CanTriage(n, th.Author)
	for _, a := range acts {
		if rules.IsRemoved(n) {
			return deny("current devices", "change it: this device was removed from its person")
		}
		if !rules.CanSee(n) {
			return deny("those it is shared with", "change it")
		}
		switch a.Type {
		case ActTitle:
			if !triage {
				return deny("its author or a delegate", "retitle it")
			}
		case ActBody:
			if !rules.Same(n.String(), th.Author) {
				return deny("its author", "edit its "+k.BodyNoun)
			}
		case ActState:
			what := "close it"
			if a.State == StateOpen {
				what = "reopen it"
			}
			if !triage {
				return deny("its author or a delegate", what)
			}
		case ActLabel:
			if !triage {
				return deny("its author or a delegate", "label it")
			}
		case ActAssign:
			if !triage {
				return deny("its author or a delegate", "assign it")
			}
		case ActCommentEdit:
			for _, c := range th.Comments {
				if c.ID == a.Comment && !rules.Same(n.String(), c.Author) {
					return deny("the comment's author", fmt.Sprintf("edit comment %.7s", c.ID))
				}
			}
		}
	}
	return nil
}

// Permissions is what a user may do to one object, for a user interface to
// offer only that.
type Permissions struct {
	// Triage: set the title, state, labels and assignees.
	Triage bool
	// Edit: change the description.
	Edit bool
	// Comment: comment, reply and react.
	Comment bool
}

// PermissionsOf returns what n may do to th under rules: what Allowed
// lets through.
func PermissionsOf(rules Rules, n protocol.NID, th *Thread) Permissions {
	see := rules.CanSee(n) && !rules.IsRemoved(n)
	return Permissions{
		Triage:  see && rules.CanTriage(n, th.Author),
		Edit:    see && rules.Same(n.String(), th.Author),
		Comment: see,
	}
}

// ValidTitle reports whether t may be an object's title.
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

func validNID(s string) bool {
	_, err := protocol.ParseNID(s)
	return err == nil
}

// Kind is one type of collaborative object: its type name and how the
// actions of its own, besides the shared ones, are checked. Its reducer
// hands them to reduce.
type Kind struct {
	// Type names the kind in refs (refs/cobs/<Type>/<id>) and in the
	// payload every change signs.
	Type string
	// Noun and BodyNoun name an object of the kind and its description in
	// messages.
	Noun, BodyNoun string
	// Reasons says that closing takes a reason (solved or other).
	Reasons bool
	// check checks an action of the kind's own; nil refuses them all.
	check func(Action) error
	// written are the kind's own actions that Update does not write: they
	// come with more than a change (a revision moves a branch).
	written map[string]string
}

// Check reports the first action a writer should not send: one whose
// values the reducer would skip anyway, or a title, label or reaction
// holding a character a terminal acts on (termtext.Safe). The reducer
// takes those from others, and every view makes them safe to show.
func (k *Kind) Check(acts ...Action) error {
	for _, a := range acts {
		if err := k.check1(a); err != nil {
			return err
		}
	}
	return nil
}

func (k *Kind) check1(a Action) error {
	if len(a.Refs) > MaxRefs {
		return fmt.Errorf("%w refs: over %d", ErrInvalid, MaxRefs)
	}
	for _, r := range a.Refs {
		if !protocol.ValidOID(r) {
			return fmt.Errorf("%w ref %q: not an object ID", ErrInvalid, r)
		}
	}
	if a.Patch != "" && (a.Type != ActState || a.State != StateClosed || !protocol.ValidOID(a.Patch)) {
		return fmt.Errorf("%w closing patch %q: a patch ID on a close", ErrInvalid, a.Patch)
	}
	switch a.Type {
	case ActTitle:
		if !ValidTitle(a.Title) || !termtext.Safe(a.Title) {
			return fmt.Errorf("%w title: 1 to %d characters on one line, without control characters", ErrInvalid, MaxTitle)
		}
	case ActBody:
		if !validBody(a.Body) {
			return fmt.Errorf("%w %s: over %d bytes or not UTF-8", ErrInvalid, k.BodyNoun, MaxBody)
		}
	case ActState:
		if _, _, ok := k.state(a); !ok {
			return fmt.Errorf("%w state %q, reason %q", ErrInvalid, a.State, a.Reason)
		}
	case ActLabel:
		for _, l := range a.Add {
			if !ValidLabel(l) || !termtext.Safe(l) {
				return fmt.Errorf("%w label %q: 1 to %d characters, no commas, control characters or outer spaces", ErrInvalid, l, MaxLabel)
			}
		}
	case ActAssign:
		for _, n := range a.Add {
			if !validNID(n) {
				return fmt.Errorf("%w assignee %q: not a node ID", ErrInvalid, n)
			}
		}
	case ActComment, ActCommentEdit:
		if !validComment(a.Body) {
			return fmt.Errorf("%w comment: empty, over %d bytes or not UTF-8", ErrInvalid, MaxBody)
		}
	case ActReact:
		if !ValidEmoji(a.Emoji) || !termtext.Safe(a.Emoji) {
			return fmt.Errorf("%w reaction %q", ErrInvalid, a.Emoji)
		}
	default:
		if k.check == nil {
			return fmt.Errorf("%w %s action type %q", ErrInvalid, k.Noun, a.Type)
		}
		return k.check(a)
	}
	return nil
}

// state returns the state and reason a state action sets, and whether it
// is one the kind has: open, or closed (for a solved or other reason when
// the kind's closing takes one).
func (k *Kind) state(a Action) (state, reason string, ok bool) {
	switch {
	case !k.Reasons && (a.State == StateOpen || a.State == StateClosed):
		return a.State, "", true
	case a.State == StateOpen && a.Reason == "":
		return StateOpen, "", true
	case a.State == StateClosed && (a.Reason == ReasonSolved || a.Reason == ReasonOther):
		return StateClosed, a.Reason, true
	}
	return "", "", false
}

// rootActions are the actions of a root change that sets what every kind
// shares: a title, and a description, labels and assignees when given.
func rootActions(title, body string, labels, assignees []string) []Action {
	acts := []Action{{Type: ActTitle, Title: title}}
	if body != "" {
		acts = append(acts, Action{Type: ActBody, Body: body})
	}
	if len(labels) > 0 {
		acts = append(acts, Action{Type: ActLabel, Add: labels})
	}
	if len(assignees) > 0 {
		acts = append(acts, Action{Type: ActAssign, Add: assignees})
	}
	return acts
}

// Update writes a change with acts to obj, an object of kind k, on top of
// its heads, and returns the change's oid.
func (s *Store) Update(ctx context.Context, k *Kind, signer protocol.Signer, now time.Time, obj *Object, acts ...Action) (string, error) {
	for _, a := range acts {
		if how, ok := k.written[a.Type]; ok {
			return "", fmt.Errorf("%w: use %s for %s", ErrInvalid, how, a.Type)
		}
	}
	if err := k.Check(acts...); err != nil {
		return "", err
	}
	acts, err := s.withRefs(acts, "")
	if err != nil {
		return "", err
	}
	var oid string
	err = s.write(ctx, signer, now, func(tx *Tx) (err error) {
		oid, err = tx.Append(k.Type, obj.ID, obj.Heads, NewChange{Actions: anyActions(acts)})
		return err
	})
	return oid, err
}

func anyActions(acts []Action) []any {
	out := make([]any, len(acts))
	for i := range acts {
		out[i] = acts[i]
	}
	return out
}

// step is one change as reduce applies it.
type step struct {
	ch      *Change
	who     string // the change's author
	triage  bool   // who may set the title, state, labels and assignees
	author  bool   // who is the object's author
	one     bool   // the change's one comment (or revision, review) is taken
	changed bool   // the change changed the object
}

// ownFunc applies an action of a kind's own in change s, and reports
// whether it took the change's one comment, revision or review and
// whether it changed the object.
type ownFunc func(s step, a Action) (one, changed bool)

// reduce applies obj's changes in order to t, the part of an object of
// kind k that every kind shares, and hands the kind's own actions to own
// (nil: there are none). Actions the author may not take are skipped.
// ErrNotFound means the object is not visible under the rules.
func reduce(t *Thread, k *Kind, obj *Object, rules Rules, own ownFunc) error {
	root := obj.Root()
	counted := rules.counted(obj)
	if !rules.CanSee(root.Author) || !counted(root) {
		return fmt.Errorf("%s %s: %w", k.Noun, obj.ID, ErrNotFound)
	}
	*t = Thread{
		ID: obj.ID, State: StateOpen, Author: root.Author.String(),
		Created: root.Time, Updated: root.Time,
	}
	labels := make(map[string]bool)
	assignees := make(map[string]bool)
	var comments []*Comment
	byID := make(map[string]*Comment)
	linked := make(map[string]bool)
	reacts := make(map[string]map[string]map[string]bool) // target → emoji → NID
	// One action variable for all: decoding into it moves it to the heap.
	var a Action
	for _, ch := range obj.Changes {
		if !rules.CanSee(ch.Author) || !counted(ch) {
			continue
		}
		s := step{ch: ch, who: ch.Author.String(), triage: rules.CanTriage(ch.Author, t.Author)}
		s.author = rules.Same(s.who, t.Author)
		for _, raw := range ch.Actions {
			a = Action{}
			if json.Unmarshal(raw, &a) != nil {
				continue
			}
			switch a.Type {
			case ActTitle:
				if s.triage && ValidTitle(a.Title) {
					t.Title, s.changed = a.Title, true
				}
			case ActBody:
				if s.author && validBody(a.Body) {
					t.Body, s.changed = a.Body, true
					addLinks(t, linked, ch, s.who, &a, ch.OID)
				}
			case ActState:
				if state, reason, ok := k.state(a); ok && s.triage {
					t.State, t.Reason, s.changed = state, reason, true
					t.ClosedBy = nil
					if state == StateClosed && protocol.ValidOID(a.Patch) {
						t.ClosedBy = &ClosedBy{Patch: a.Patch, Author: s.who, Created: ch.Time}
					}
				}
			case ActLabel:
				if s.triage {
					s.changed = applySet(labels, a, ValidLabel) || s.changed
				}
			case ActAssign:
				if s.triage {
					s.changed = applySet(assignees, a, validNID) || s.changed
				}
			case ActComment:
				if s.one || !validComment(a.Body) || (a.ReplyTo != "" && byID[a.ReplyTo] == nil) {
					continue
				}
				c := &Comment{ID: ch.OID, Author: s.who, Body: a.Body, Created: ch.Time, ReplyTo: a.ReplyTo}
				comments = append(comments, c)
				byID[c.ID] = c
				s.one, s.changed = true, true
				addLinks(t, linked, ch, s.who, &a, ch.OID)
			case ActCommentEdit:
				c := byID[a.Comment]
				if c == nil || !rules.Same(s.who, c.Author) || !validComment(a.Body) {
					continue
				}
				when := ch.Time
				c.Body, c.Edited, s.changed = a.Body, &when, true
				addLinks(t, linked, ch, s.who, &a, c.ID)
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
					delete(m[a.Emoji], s.who)
				} else {
					m[a.Emoji][s.who] = true
				}
				s.changed = true
			default:
				if own != nil {
					one, changed := own(s, a)
					s.one, s.changed = s.one || one, s.changed || changed
					if one {
						// The change's one revision or review.
						addLinks(t, linked, ch, s.who, &a, ch.OID)
					}
				}
			}
		}
		if s.changed && ch.Time.After(t.Updated) {
			t.Updated = ch.Time
		}
	}
	if t.Links == nil {
		t.Links = []Link{}
	}
	t.Labels = sortedKeys(labels)
	t.Assignees = sortedKeys(assignees)
	t.Reactions = reactionList(reacts[""])
	t.Comments = make([]Comment, 0, len(comments))
	for _, c := range comments {
		c.Reactions = reactionList(reacts[c.ID])
		t.Comments = append(t.Comments, *c)
	}
	return nil
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
