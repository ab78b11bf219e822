package issues

import (
	"context"
	"time"

	"example.com/grove/protocol"
)

// IssueType is the type name of issues: their refs are
// refs/cobs/grove.issue/<id> and their changes are signed for it.
const IssueType = "grove.issue"

// IssueKind is the kind of issues: the actions every kind shares, and a
// reason for closing.
var IssueKind = &Kind{Type: IssueType, Noun: "issue", BodyNoun: "body", Reasons: true}

// Issue is the materialized state of an issue: a Thread and nothing more.
type Issue struct {
	Thread
}

// Materialize applies an issue's changes in order and returns its state.
// Actions the author may not take are skipped. ErrNotFound means the issue
// is not visible under the rules.
func Materialize(obj *Object, rules Rules) (*Issue, error) {
	is := &Issue{}
	if err := reduce(&is.Thread, IssueKind, obj, rules, nil); err != nil {
		return nil, err
	}
	return is, nil
}

// NewIssue is what filing an issue takes.
type NewIssue struct {
	Title     string
	Body      string
	Labels    []string
	Assignees []string
}

// Actions returns the root change's actions for n, after checking them.
func (n NewIssue) Actions() ([]Action, error) {
	acts := rootActions(n.Title, n.Body, n.Labels, n.Assignees)
	return acts, IssueKind.Check(acts...)
}

// CheckActions reports the first issue action a writer should not send:
// one whose values the reducer would skip anyway.
func CheckActions(acts ...Action) error { return IssueKind.Check(acts...) }

// CreateIssue writes the root change of a new issue in the transaction and
// returns its ID.
func (tx *Tx) CreateIssue(n NewIssue) (string, error) {
	acts, err := n.Actions()
	if err != nil {
		return "", err
	}
	if acts, err = tx.s.withRefs(acts, ""); err != nil {
		return "", err
	}
	return tx.Create(IssueType, NewChange{Actions: anyActions(acts)})
}

// AppendIssue writes a change with acts on top of parents.
func (tx *Tx) AppendIssue(id string, parents []string, acts ...Action) (string, error) {
	if err := CheckActions(acts...); err != nil {
		return "", err
	}
	acts, err := tx.s.withRefs(acts, "")
	if err != nil {
		return "", err
	}
	return tx.Append(IssueType, id, parents, NewChange{Actions: anyActions(acts)})
}

// CreateIssue files a new issue signed by s and returns its ID.
func (s *Store) CreateIssue(ctx context.Context, signer protocol.Signer, now time.Time, n NewIssue) (string, error) {
	var id string
	err := s.write(ctx, signer, now, func(tx *Tx) (err error) {
		id, err = tx.CreateIssue(n)
		return err
	})
	return id, err
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
