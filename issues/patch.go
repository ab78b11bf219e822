package issues

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"example.com/grove/protocol"
)

// PatchType is the type name of patches: their refs are
// refs/cobs/grove.patch/<id> and their changes are signed for it.
const PatchType = "grove.patch"

// StateMerged is the state of a patch one of whose revisions is in the
// project's canonical default branch.
const StateMerged = "merged"

// Review verdicts.
const (
	VerdictAccept  = "accept"
	VerdictReject  = "reject"
	VerdictComment = "comment"
)

// Limits on patch fields; actions beyond them are skipped.
const (
	MaxPath         = protocol.MaxPath
	MaxLineComments = protocol.MaxLineComments
)

// Action types of patches' own, besides those every kind shares.
const (
	ActRevision = "revision" // Base, Head, Body: a new revision (the patch's author)
	ActReview   = "review"   // Revision, Verdict, Body, Comments: a review (anyone)
	ActMerge    = "merge"    // Revision, Commit: a merge record (delegates)
)

// PatchAction is one patch action: an Action, which holds every kind's.
type PatchAction = Action

// PatchKind is the kind of patches: the actions every kind shares (closing
// takes no reason), revisions, reviews and merge records.
var PatchKind = &Kind{
	Type: PatchType, Noun: "patch", BodyNoun: "description",
	check:   checkPatchAction,
	written: map[string]string{ActRevision: "AddRevision", ActMerge: "MergePatch"},
}

// LineComment is a review comment anchored to lines Line..EndLine (EndLine
// 0: Line alone) of a file in the reviewed revision's head.
type LineComment struct {
	Path    string `json:"path"`
	Line    int    `json:"line"`
	EndLine int    `json:"endLine,omitempty"`
	Body    string `json:"body"`
}

// Patch is the materialized state of a patch: a Thread with revisions,
// reviews and merge records. Every peer holding the same changes, the same
// identity document and the same canonical default branch encodes it to
// the same bytes.
type Patch struct {
	Thread
	Revisions []Revision `json:"revisions"`
	Reviews   []Review   `json:"reviews"`
	// Merges are the merge records delegates wrote, in order.
	Merges []Merge `json:"merges"`
	// Merge is how the patch was merged, when State is merged.
	Merge *Merge `json:"merge,omitempty"`
}

// Revision is one version of a patch; its ID is the oid of the change that
// added it.
type Revision struct {
	ID          string    `json:"id"`
	Author      string    `json:"author"`
	Base        string    `json:"base"`
	Head        string    `json:"head"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	// Merged is set when the head (or a merge record's commit for this
	// revision) is in the canonical default branch.
	Merged bool `json:"merged"`
}

// Review is one reviewer's verdict on a revision; its ID is the oid of the
// change that holds it, signed by Author.
type Review struct {
	ID       string        `json:"id"`
	Revision string        `json:"revision"`
	Author   string        `json:"author"`
	Verdict  string        `json:"verdict"`
	Body     string        `json:"body"`
	Comments []LineComment `json:"comments"`
	Created  time.Time     `json:"created"`
}

// Merge records that a revision went into the default branch.
type Merge struct {
	Revision string `json:"revision"`
	// Commit is the default branch's commit that holds the revision: the
	// merge commit, or the head itself for a fast-forward. Empty when the
	// merge was only detected.
	Commit string `json:"commit,omitempty"`
	// Author is the delegate who recorded it; empty when it was detected.
	Author  string     `json:"author,omitempty"`
	Created *time.Time `json:"created,omitempty"`
}

// Latest returns the patch's newest revision.
func (p *Patch) Latest() *Revision { return &p.Revisions[len(p.Revisions)-1] }

// RevisionIndex returns the position of revision id, or -1.
func (p *Patch) RevisionIndex(id string) int {
	for i := range p.Revisions {
		if p.Revisions[i].ID == id {
			return i
		}
	}
	return -1
}

// Verdicts returns, for revision id, each reviewer's latest accept or
// reject, keyed by NID.
func (p *Patch) Verdicts(id string) map[string]string {
	out := make(map[string]string)
	for _, r := range p.Reviews {
		if r.Revision == id && r.Verdict != VerdictComment {
			out[r.Author] = r.Verdict
		}
	}
	return out
}

// ValidPath reports whether a review comment may be anchored to path.
func ValidPath(p string) bool {
	return p != "" && len(p) <= MaxPath && utf8.ValidString(p) && !strings.HasPrefix(p, "/") &&
		!strings.ContainsAny(p, "\x00\n\r")
}

func validVerdict(v string) bool {
	return v == VerdictAccept || v == VerdictReject || v == VerdictComment
}

func validLineComment(c LineComment) bool {
	return ValidPath(c.Path) && c.Line >= 1 && (c.EndLine == 0 || c.EndLine >= c.Line) && validComment(c.Body)
}

func validReview(a PatchAction) bool {
	if !validVerdict(a.Verdict) || !validBody(a.Body) || len(a.Comments) > MaxLineComments {
		return false
	}
	for _, c := range a.Comments {
		if !validLineComment(c) {
			return false
		}
	}
	// A comment-only review says something.
	return a.Verdict != VerdictComment || strings.TrimSpace(a.Body) != "" || len(a.Comments) > 0
}

// MaterializePatch applies a patch's changes in order and returns its
// state: open or closed (ResolveMerged decides merged). Actions the author
// may not take are skipped. ErrNotFound means the patch is not visible
// under the rules or has no valid revision.
func MaterializePatch(obj *Object, rules Rules) (*Patch, error) {
	p := &Patch{}
	revs := make(map[string]bool)
	err := reduce(&p.Thread, PatchKind, obj, rules, func(s step, a Action) (one, changed bool) {
		ch := s.ch
		switch a.Type {
		case ActRevision:
			if s.one || s.who != p.Author || !protocol.ValidOID(a.Base) || !protocol.ValidOID(a.Head) || !validBody(a.Body) {
				return false, false
			}
			p.Revisions = append(p.Revisions, Revision{ID: ch.OID, Author: p.Author, Base: a.Base, Head: a.Head, Description: a.Body, Created: ch.Time})
			revs[ch.OID] = true
			return true, true
		case ActReview:
			if s.one || !revs[a.Revision] || !validReview(a) {
				return false, false
			}
			cs := append([]LineComment{}, a.Comments...)
			p.Reviews = append(p.Reviews, Review{ID: ch.OID, Revision: a.Revision, Author: s.who, Verdict: a.Verdict, Body: a.Body, Comments: cs, Created: ch.Time})
			return true, true
		case ActMerge:
			if !rules.IsDelegate(ch.Author) || !revs[a.Revision] || !protocol.ValidOID(a.Commit) {
				return false, false
			}
			t := ch.Time
			p.Merges = append(p.Merges, Merge{Revision: a.Revision, Commit: a.Commit, Author: s.who, Created: &t})
			return false, true
		}
		return false, false
	})
	if err != nil {
		return nil, err
	}
	if len(p.Revisions) == 0 {
		return nil, fmt.Errorf("patch %s: %w", obj.ID, ErrNotFound)
	}
	if p.Reviews == nil {
		p.Reviews = []Review{}
	}
	if p.Merges == nil {
		p.Merges = []Merge{}
	}
	return p, nil
}

// ResolveMerged marks p merged when the head of one of its revisions, or
// the commit of a delegate's merge record, is reachable from tip, the
// canonical default branch; reachable(a, b) reports whether a is an
// ancestor of b. It is how every peer sees a merge, however the commits
// reached the branch.
func ResolveMerged(p *Patch, tip string, reachable func(a, b string) bool) {
	if tip == "" {
		return
	}
	recorded := make(map[string]Merge) // revision → first record whose commit is in
	for _, m := range p.Merges {
		if _, ok := recorded[m.Revision]; !ok && reachable(m.Commit, tip) {
			recorded[m.Revision] = m
		}
	}
	// The newest revision in the branch is the one merged: an older one's
	// head is in it too when a newer one built on it.
	for i := len(p.Revisions) - 1; i >= 0; i-- {
		r := &p.Revisions[i]
		m, ok := recorded[r.ID]
		if !ok && reachable(r.Head, tip) {
			m, ok = Merge{Revision: r.ID}, true
			for _, rec := range p.Merges {
				if rec.Revision == r.ID {
					m = rec
					break
				}
			}
		}
		if ok {
			r.Merged = true
			p.Merge = &m
			p.State = StateMerged
			return
		}
	}
}

// CheckPatchActions reports the first patch action a writer should not
// send: one whose values the reducer would skip anyway.
func CheckPatchActions(acts ...PatchAction) error { return PatchKind.Check(acts...) }

// checkPatchAction checks an action of patches' own.
func checkPatchAction(a Action) error {
	switch a.Type {
	case ActRevision:
		if !protocol.ValidOID(a.Base) || !protocol.ValidOID(a.Head) {
			return fmt.Errorf("%w revision: base and head must be commit IDs", ErrInvalid)
		}
		if !validBody(a.Body) {
			return fmt.Errorf("%w revision description: over %d bytes or not UTF-8", ErrInvalid, MaxBody)
		}
	case ActReview:
		for _, c := range a.Comments {
			if !validLineComment(c) {
				return fmt.Errorf("%w review comment on %q line %d: a relative path, a line from 1, and some text", ErrInvalid, c.Path, c.Line)
			}
		}
		if !validReview(a) {
			return fmt.Errorf("%w review: a verdict (accept, reject, comment) and, for a comment, some text", ErrInvalid)
		}
	case ActMerge:
		if !protocol.ValidOID(a.Commit) {
			return fmt.Errorf("%w merge: commit must be a commit ID", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w patch action type %q", ErrInvalid, a.Type)
	}
	return nil
}
