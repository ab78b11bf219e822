package tui

import (
	"context"
	"errors"
	"time"
)

// The UI reads and writes through the interfaces below; cmd implements
// them over repo, issues and the node's control socket, and tests use
// fixtures. Every method may block (disk, git, a socket): the UI calls them
// only from commands, never from Update.

// ErrNotFound is what a source returns for an ID it does not hold.
var ErrNotFound = errors.New("not found")

// Source is everything the UI reads and writes.
type Source struct {
	Projects Projects
	Issues   Issues
	Patches  Patches
	Code     Code
	Peers    Peers
}

// Projects lists the projects in local storage.
type Projects interface {
	// Projects lists the projects with their counts of open issues and
	// patches. When it must first build an issue index, it tells progress
	// (if not nil) how far it got, as Issues.ListIssues does.
	Projects(ctx context.Context, progress func(done, total int)) ([]Project, error)
	// Project returns project rid as Projects lists it, except for the
	// counts of open issues and patches, which it may leave zero: a
	// project's page shows them in its tabs and must not wait for them.
	Project(ctx context.Context, rid string) (Project, error)
	// Stamp is a cheap value that changes whenever anything the UI shows
	// may have changed (a namespace's signed refs moved, a node started or
	// stopped); the UI polls it and reloads the open view when it moves.
	Stamp(ctx context.Context) (string, error)
}

// Project is one project as listed.
type Project struct {
	RID           string
	Name          string
	Description   string
	DefaultBranch string
	Visibility    string // public or private
	Delegates     []string
	Seeding       bool
	Peers         int // namespaces held besides our own
	OpenIssues    int
	OpenPatches   int
}

// IssueFilter selects issues to list; empty fields select everything.
type IssueFilter struct {
	State  string // open, closed or "" for all
	Label  string
	Search string
}

// Issues reads and writes a project's issues.
type Issues interface {
	// ListIssues lists the issues f selects, newest first. When the
	// source must first build or bring up to date an index, it tells
	// progress (if not nil) how many issues of how many it has done, now
	// and then; progress must not block.
	ListIssues(ctx context.Context, rid string, f IssueFilter, progress func(done, total int)) ([]IssueSummary, error)
	// IssuePage lists the first limit issues f selects, in ListIssues'
	// order, and how many f selects in all: what the first screen of a
	// long list shows while ListIssues reads the rest. It builds or
	// updates the index as ListIssues does, telling progress.
	IssuePage(ctx context.Context, rid string, f IssueFilter, limit int, progress func(done, total int)) ([]IssueSummary, int, error)
	Issue(ctx context.Context, rid, id string) (*Issue, error)
	NewIssue(ctx context.Context, rid string, n NewIssue) (string, error)
	// Comment adds a comment, replying to the comment replyTo unless "".
	Comment(ctx context.Context, rid, id, replyTo, body string) error
	// SetState opens (reason "") or closes (reason solved or other) an issue.
	SetState(ctx context.Context, rid, id, state, reason string) error
	Label(ctx context.Context, rid, id string, add, remove []string) error
}

// IssueSummary is an issue as listed.
type IssueSummary struct {
	ID       string
	Title    string
	State    string
	Reason   string
	Author   string // display name: alias or short NID
	Labels   []string
	Comments int
	Created  time.Time
	Updated  time.Time
}

// Issue is one issue with its texts.
type Issue struct {
	IssueSummary
	Body      string
	Assignees []string
	Thread    []Comment
	// May is what the user may do to the issue.
	May Permissions
	// Refs are the objects the issue refers to and those that refer to it.
	Refs []Ref
}

// Permissions is what the user may do to an object. The source decides,
// by the same rules as the command line; the UI offers only that, and the
// zero value offers nothing.
type Permissions struct {
	Triage  bool // close, reopen, label
	Comment bool // comment and reply
	Merge   bool // merge a patch into the default branch
	// Why says who may do what the user may not, for the UI to show.
	Why string
}

// Comment is one comment; ReplyTo names its parent, or is "".
type Comment struct {
	ID      string
	Author  string
	Body    string
	Created time.Time
	Edited  bool
	ReplyTo string
}

// NewIssue is what filing an issue takes.
type NewIssue struct {
	Title  string
	Body   string
	Labels []string
}

// Patch states.
const (
	PatchOpen   = "open"
	PatchMerged = "merged"
	PatchClosed = "closed"
)

// Review verdicts.
const (
	VerdictAccept  = "accept"
	VerdictReject  = "reject"
	VerdictComment = "comment"
)

// Patches reads a project's patches, records reviews and merges.
type Patches interface {
	// ListPatches lists patches in state ("" for all).
	ListPatches(ctx context.Context, rid, state string) ([]PatchSummary, error)
	Patch(ctx context.Context, rid, id string) (*Patch, error)
	Review(ctx context.Context, rid, id string, r NewReview) error
	// Merge merges revision rev of patch id into the project's default
	// branch as the user, as grove patch merge does; the source refuses
	// what Patch.May does not allow.
	Merge(ctx context.Context, rid, id, rev string) (Merged, error)
}

// Merged is what a merge did.
type Merged struct {
	Branch string   // the default branch
	Commit string   // its new tip
	How    string   // fast-forwarded, merged or recorded as merged
	Closed []string // the issues the patch fixes, which the merge closed
}

// PatchSummary is a patch as listed.
type PatchSummary struct {
	ID        string
	Title     string
	State     string
	Author    string
	Labels    []string
	Revisions int
	Accepted  int // reviewers whose latest verdict on the latest revision accepts
	Rejected  int
	Created   time.Time
	Updated   time.Time
}

// Patch is one patch with its revisions and reviews.
type Patch struct {
	PatchSummary
	Body      string
	Revisions []Revision
	// Refs are the objects the patch refers to and those that refer to it.
	Refs []Ref
	// May is what the user may do to the patch (Merge; reviews are open
	// to all who see it).
	May Permissions
}

// Revision is one version of a patch: a base, a head and its diff.
type Revision struct {
	ID          string
	Author      string
	Base        string
	Head        string
	Description string
	Created     time.Time
	Diff        string // unified diff from Base to Head
	Reviews     []Review
}

// Review is one reviewer's verdict on a revision, with inline comments.
type Review struct {
	ID       string
	Author   string
	Verdict  string
	Body     string
	Created  time.Time
	Comments []LineComment
}

// LineComment is a review comment anchored to a line of a file in the
// revision's head.
type LineComment struct {
	Path string
	Line int
	Body string
}

// NewReview is what reviewing a revision takes. Path and Line, when set,
// anchor Body to a line.
type NewReview struct {
	Revision string
	Verdict  string
	Body     string
	Path     string
	Line     int
}

// Code reads a project's git data.
type Code interface {
	Branches(ctx context.Context, rid string) ([]Branch, error)
	// Tree lists the directory path ("" for the root) at rev.
	Tree(ctx context.Context, rid, rev, path string) ([]TreeEntry, error)
	File(ctx context.Context, rid, rev, path string) (*File, error)
	Log(ctx context.Context, rid, rev string, limit int) ([]Commit, error)
	// Show returns one commit with its diff against its first parent.
	Show(ctx context.Context, rid, oid string) (*Commit, error)
}

// Branch is a canonical branch.
type Branch struct {
	Name    string
	Head    string
	Default bool
}

// TreeEntry is one entry of a directory.
type TreeEntry struct {
	Name string
	Dir  bool
	Size int64
}

// File is a file's content at a revision.
type File struct {
	Path   string
	Size   int64
	Binary bool
	Text   string // possibly cut at a limit
	Cut    bool
}

// Commit is one commit; Diff is filled only by Show.
type Commit struct {
	OID     string
	Author  string
	Time    time.Time
	Subject string
	Body    string
	Diff    string
}

// Peers reports who a project syncs with and what the node does.
type Peers interface {
	Peers(ctx context.Context, rid string) ([]Peer, error)
	Node(ctx context.Context) (NodeState, error)
}

// Peer is one namespace held in a project.
type Peer struct {
	NID      string
	Alias    string
	You      bool
	Delegate bool
	Followed bool
	Refs     int
	Updated  time.Time // when its signed refs last moved
}

// NodeState is the state of the local node.
type NodeState struct {
	Running bool
	NID     string
	Addrs   []string
	Peers   int // connected peers
	Seeds   int
	Started time.Time
}
