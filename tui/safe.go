package tui

import (
	"context"

	"example.com/grove/protocol/termtext"
)

// What a source returns was written by peers and commits: titles, bodies,
// comments, labels, names, commit messages, diffs, file contents. A
// terminal acts on some of their characters (ESC sequences that set the
// window title or write the clipboard, C1 controls, bidirectional
// overrides), and lipgloss, ansi.Truncate and glamour pass them through.
// New therefore wraps the source: everything it returns is made safe
// (termtext.Line for what is drawn within a line, termtext.Text for what
// is drawn as lines) before any page sees it, copied, never changed in
// place. Three names go back to the source as keys and stay as they are:
// a branch's name, a tree entry's name and so a file's path; the code
// views draw them through termtext.Line. Errors are shown through
// safeError.

// safeSource returns src with every interface wrapped; a nil one stays
// nil (the pages check for them).
func safeSource(src Source) Source {
	out := Source{}
	if src.Projects != nil {
		out.Projects = safeProjects{src.Projects}
	}
	if src.Issues != nil {
		out.Issues = safeIssues{src.Issues}
	}
	if src.Patches != nil {
		out.Patches = safePatches{src.Patches}
	}
	if src.Code != nil {
		out.Code = safeCode{src.Code}
	}
	if src.Peers != nil {
		out.Peers = safePeers{src.Peers}
	}
	return out
}

// safeError is an error whose text is made safe to draw; it unwraps to
// the source's error, so errors.Is still finds ErrNotFound.
type safeError struct{ err error }

func (e safeError) Error() string { return termtext.Line(e.err.Error()) }
func (e safeError) Unwrap() error { return e.err }

func safeErr(err error) error {
	if err == nil {
		return nil
	}
	return safeError{err}
}

func safeLines(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = termtext.Line(s)
	}
	return out
}

type safeProjects struct{ src Projects }

func safeProject(p Project) Project {
	p.RID, p.Name, p.Description, p.DefaultBranch, p.Visibility = termtext.Line(p.RID), termtext.Line(p.Name), termtext.Line(p.Description), termtext.Line(p.DefaultBranch), termtext.Line(p.Visibility)
	p.Delegates = safeLines(p.Delegates)
	return p
}

func (s safeProjects) Projects(ctx context.Context, progress func(done, total int)) ([]Project, error) {
	ps, err := s.src.Projects(ctx, progress)
	out := make([]Project, len(ps))
	for i := range ps {
		out[i] = safeProject(ps[i])
	}
	return out, safeErr(err)
}

func (s safeProjects) Project(ctx context.Context, rid string) (Project, error) {
	p, err := s.src.Project(ctx, rid)
	return safeProject(p), safeErr(err)
}

func (s safeProjects) Stamp(ctx context.Context) (string, error) {
	st, err := s.src.Stamp(ctx)
	return st, safeErr(err)
}

type safeIssues struct{ src Issues }

func safeIssueSummary(is IssueSummary) IssueSummary {
	is.ID, is.Title, is.State, is.Reason, is.Author = termtext.Line(is.ID), termtext.Line(is.Title), termtext.Line(is.State), termtext.Line(is.Reason), termtext.Line(is.Author)
	is.Labels = safeLines(is.Labels)
	return is
}

func safeIssueSummaries(is []IssueSummary) []IssueSummary {
	if is == nil {
		return nil
	}
	out := make([]IssueSummary, len(is))
	for i := range is {
		out[i] = safeIssueSummary(is[i])
	}
	return out
}

func (s safeIssues) ListIssues(ctx context.Context, rid string, f IssueFilter, progress func(done, total int)) ([]IssueSummary, error) {
	is, err := s.src.ListIssues(ctx, rid, f, progress)
	return safeIssueSummaries(is), safeErr(err)
}

func (s safeIssues) IssuePage(ctx context.Context, rid string, f IssueFilter, limit int, progress func(done, total int)) ([]IssueSummary, int, error) {
	is, n, err := s.src.IssuePage(ctx, rid, f, limit, progress)
	return safeIssueSummaries(is), n, safeErr(err)
}

func (s safeIssues) Issue(ctx context.Context, rid, id string) (*Issue, error) {
	is, err := s.src.Issue(ctx, rid, id)
	if is == nil {
		return nil, safeErr(err)
	}
	out := *is
	out.IssueSummary = safeIssueSummary(is.IssueSummary)
	out.Body = termtext.Text(is.Body)
	out.Assignees = safeLines(is.Assignees)
	out.Refs = safeRefs(is.Refs)
	if is.Thread != nil {
		out.Thread = make([]Comment, len(is.Thread))
		for i, c := range is.Thread {
			c.ID, c.Author, c.ReplyTo, c.Body = termtext.Line(c.ID), termtext.Line(c.Author), termtext.Line(c.ReplyTo), termtext.Text(c.Body)
			out.Thread[i] = c
		}
	}
	return &out, safeErr(err)
}

func (s safeIssues) NewIssue(ctx context.Context, rid string, n NewIssue) (string, error) {
	id, err := s.src.NewIssue(ctx, rid, n)
	return termtext.Line(id), safeErr(err)
}

func (s safeIssues) Comment(ctx context.Context, rid, id, replyTo, body string) error {
	return safeErr(s.src.Comment(ctx, rid, id, replyTo, body))
}

func (s safeIssues) SetState(ctx context.Context, rid, id, state, reason string) error {
	return safeErr(s.src.SetState(ctx, rid, id, state, reason))
}

func (s safeIssues) Label(ctx context.Context, rid, id string, add, remove []string) error {
	return safeErr(s.src.Label(ctx, rid, id, add, remove))
}

// safeRefs makes references safe to draw: a title is a peer's text.
func safeRefs(rs []Ref) []Ref {
	if rs == nil {
		return nil
	}
	out := make([]Ref, len(rs))
	for i, r := range rs {
		r.Kind, r.ID, r.Title, r.Author = termtext.Line(r.Kind), termtext.Line(r.ID), termtext.Line(r.Title), termtext.Line(r.Author)
		out[i] = r
	}
	return out
}

type safePatches struct{ src Patches }

func safePatchSummary(p PatchSummary) PatchSummary {
	p.ID, p.Title, p.State, p.Author = termtext.Line(p.ID), termtext.Line(p.Title), termtext.Line(p.State), termtext.Line(p.Author)
	p.Labels = safeLines(p.Labels)
	return p
}

func (s safePatches) ListPatches(ctx context.Context, rid, state string) ([]PatchSummary, error) {
	ps, err := s.src.ListPatches(ctx, rid, state)
	if ps == nil {
		return nil, safeErr(err)
	}
	out := make([]PatchSummary, len(ps))
	for i := range ps {
		out[i] = safePatchSummary(ps[i])
	}
	return out, safeErr(err)
}

func (s safePatches) Patch(ctx context.Context, rid, id string) (*Patch, error) {
	p, err := s.src.Patch(ctx, rid, id)
	if p == nil {
		return nil, safeErr(err)
	}
	out := *p
	out.PatchSummary = safePatchSummary(p.PatchSummary)
	out.Body = termtext.Text(p.Body)
	out.Refs = safeRefs(p.Refs)
	out.May.Why = termtext.Line(p.May.Why)
	if p.Revisions != nil {
		out.Revisions = make([]Revision, len(p.Revisions))
		for i, r := range p.Revisions {
			r.ID, r.Author, r.Base, r.Head = termtext.Line(r.ID), termtext.Line(r.Author), termtext.Line(r.Base), termtext.Line(r.Head)
			r.Description, r.Diff = termtext.Text(r.Description), termtext.Text(r.Diff)
			if r.Reviews != nil {
				rvs := make([]Review, len(r.Reviews))
				for j, rv := range r.Reviews {
					rv.ID, rv.Author, rv.Verdict, rv.Body = termtext.Line(rv.ID), termtext.Line(rv.Author), termtext.Line(rv.Verdict), termtext.Text(rv.Body)
					if rv.Comments != nil {
						lcs := make([]LineComment, len(rv.Comments))
						for k, lc := range rv.Comments {
							lc.Path, lc.Body = termtext.Line(lc.Path), termtext.Text(lc.Body)
							lcs[k] = lc
						}
						rv.Comments = lcs
					}
					rvs[j] = rv
				}
				r.Reviews = rvs
			}
			out.Revisions[i] = r
		}
	}
	return &out, safeErr(err)
}

func (s safePatches) Review(ctx context.Context, rid, id string, r NewReview) error {
	return safeErr(s.src.Review(ctx, rid, id, r))
}

func (s safePatches) Merge(ctx context.Context, rid, id, rev string) (Merged, error) {
	m, err := s.src.Merge(ctx, rid, id, rev)
	m.Branch, m.Commit, m.How = termtext.Line(m.Branch), termtext.Line(m.Commit), termtext.Line(m.How)
	m.Closed = safeLines(m.Closed)
	return m, safeErr(err)
}

type safeCode struct{ src Code }

// Branches keeps each branch's name, which the code tab asks for again.
func (s safeCode) Branches(ctx context.Context, rid string) ([]Branch, error) {
	bs, err := s.src.Branches(ctx, rid)
	if bs == nil {
		return nil, safeErr(err)
	}
	out := make([]Branch, len(bs))
	for i, b := range bs {
		b.Head = termtext.Line(b.Head)
		out[i] = b
	}
	return out, safeErr(err)
}

// Tree keeps each entry's name, which makes the path the code tab asks
// for next.
func (s safeCode) Tree(ctx context.Context, rid, rev, path string) ([]TreeEntry, error) {
	es, err := s.src.Tree(ctx, rid, rev, path)
	return es, safeErr(err)
}

func (s safeCode) File(ctx context.Context, rid, rev, path string) (*File, error) {
	f, err := s.src.File(ctx, rid, rev, path)
	if f == nil {
		return nil, safeErr(err)
	}
	out := *f
	out.Path, out.Text = termtext.Line(f.Path), termtext.Text(f.Text)
	return &out, safeErr(err)
}

func safeCommit(c Commit) Commit {
	c.OID, c.Author, c.Subject = termtext.Line(c.OID), termtext.Line(c.Author), termtext.Line(c.Subject)
	c.Body, c.Diff = termtext.Text(c.Body), termtext.Text(c.Diff)
	return c
}

func (s safeCode) Log(ctx context.Context, rid, rev string, limit int) ([]Commit, error) {
	cs, err := s.src.Log(ctx, rid, rev, limit)
	if cs == nil {
		return nil, safeErr(err)
	}
	out := make([]Commit, len(cs))
	for i := range cs {
		out[i] = safeCommit(cs[i])
	}
	return out, safeErr(err)
}

func (s safeCode) Show(ctx context.Context, rid, oid string) (*Commit, error) {
	c, err := s.src.Show(ctx, rid, oid)
	if c == nil {
		return nil, safeErr(err)
	}
	out := safeCommit(*c)
	return &out, safeErr(err)
}

type safePeers struct{ src Peers }

func (s safePeers) Peers(ctx context.Context, rid string) ([]Peer, error) {
	ps, err := s.src.Peers(ctx, rid)
	if ps == nil {
		return nil, safeErr(err)
	}
	out := make([]Peer, len(ps))
	for i, p := range ps {
		p.NID, p.Alias = termtext.Line(p.NID), termtext.Line(p.Alias)
		out[i] = p
	}
	return out, safeErr(err)
}

func (s safePeers) Node(ctx context.Context) (NodeState, error) {
	n, err := s.src.Node(ctx)
	n.NID, n.Addrs = termtext.Line(n.NID), safeLines(n.Addrs)
	return n, safeErr(err)
}
