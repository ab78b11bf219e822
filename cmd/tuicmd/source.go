package tuicmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // issues.SQLDriver: the UI lists from the index

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
	"example.com/grove/tui"
)

// adapter implements the UI's interfaces over local storage, the issue
// index and the node's control socket.
type adapter struct {
	home repo.Home
	now  func() time.Time
	key  *protocol.Key // nil: read only
}

func newAdapter(h repo.Home, now func() time.Time) *adapter {
	return &adapter{home: h, now: now}
}

func (s *adapter) source() tui.Source {
	return tui.Source{Projects: s, Issues: s, Patches: patches{s}, Code: s, Peers: s}
}

var (
	_ tui.Projects = (*adapter)(nil)
	_ tui.Issues   = (*adapter)(nil)
	_ tui.Code     = (*adapter)(nil)
	_ tui.Peers    = (*adapter)(nil)
	_ tui.Patches  = patches{}
)

func (s *adapter) open(rid string) (*repo.Repo, error) {
	id, err := protocol.ParseRID(rid)
	if err != nil {
		return nil, err
	}
	return repo.Open(s.home, id)
}

// store returns project r's object store, with the home's cache.
func (s *adapter) store(r *repo.Repo) *issues.Store { return issues.NewCachedStore(r, s.home) }

func (s *adapter) signer() (*protocol.Key, error) {
	if s.key == nil {
		return nil, fmt.Errorf("no key yet in %s: run 'grove auth' first", s.home.Dir)
	}
	return s.key, nil
}

// names maps NIDs to what the UI shows for them (cli.Names: the alias
// you follow them under, the alias of their person document, or the
// short NID), and knows who you are and whom you follow.
type names struct {
	*cli.Names
	self    string
	follows map[string]bool
}

// names reads the names project r knows (r nil: none but yours and
// those you follow).
func (s *adapter) names(ctx context.Context, r *repo.Repo) names {
	n := names{Names: cli.LoadNames(ctx, s.home, r), self: s.self(), follows: map[string]bool{}}
	if pol, err := control.LoadPolicy(s.home); err == nil {
		for nid := range pol.Follows {
			n.follows[nid] = true
		}
	}
	return n
}

// openOrNil opens project rid, or returns nil: for names, which do
// without the project's persons when it does not open.
func (s *adapter) openOrNil(rid string) *repo.Repo {
	r, err := s.open(rid)
	if err != nil {
		return nil
	}
	return r
}

// self is this home's NID, or "" when it has no key yet.
func (s *adapter) self() string {
	if nid, err := repo.PublicNID(s.home); err == nil {
		return nid.String()
	}
	return ""
}

func (n names) of(nid string) string { return n.Of(nid) }

// Projects lists local storage with counts from each issue index.
func (s *adapter) Projects(ctx context.Context, progress func(done, total int)) ([]tui.Project, error) {
	rids, err := repo.List(s.home)
	if err != nil {
		return nil, err
	}
	pol, err := control.LoadPolicy(s.home)
	if err != nil {
		return nil, err
	}
	self := s.self()
	out := []tui.Project{}
	for _, rid := range rids {
		r, err := repo.Open(s.home, rid)
		if err != nil {
			return nil, err
		}
		p, err := s.project(ctx, r, pol, self)
		if err != nil {
			return nil, err
		}
		// Both counts from one open of the index, counted in SQLite: no
		// row is read or decoded.
		err = s.withIndex(ctx, r, progress, func(ix *issues.Index) error {
			_, n, err := ix.Page(ctx, issues.Filter{State: issues.StateOpen}, 0, 0)
			if err != nil {
				return err
			}
			p.OpenIssues = n
			if _, n, err := ix.Page(ctx, issues.Filter{Type: issues.PatchType, State: tui.PatchOpen}, 0, 0); err == nil {
				p.OpenPatches = n
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// Project is one project without its counts, which cost a pass over its
// issue index and its patches.
func (s *adapter) Project(ctx context.Context, rid string) (tui.Project, error) {
	r, err := s.open(rid)
	if errors.Is(err, repo.ErrNotFound) {
		return tui.Project{}, fmt.Errorf("project %s: %w", rid, tui.ErrNotFound)
	}
	if err != nil {
		return tui.Project{}, err
	}
	pol, err := control.LoadPolicy(s.home)
	if err != nil {
		return tui.Project{}, err
	}
	return s.project(ctx, r, pol, s.self())
}

// project describes r from its identity, the policy and its namespaces.
func (s *adapter) project(ctx context.Context, r *repo.Repo, pol *control.Policy, self string) (tui.Project, error) {
	doc, _, err := r.Identity(ctx)
	if err != nil {
		return tui.Project{}, fmt.Errorf("project %s: %w", r.RID, err)
	}
	p := tui.Project{
		RID: r.RID.String(), Name: doc.Name, Description: doc.Description,
		DefaultBranch: doc.DefaultBranch, Visibility: doc.Visibility.Type,
		Seeding: pol.Seeding(r.RID),
	}
	for _, d := range doc.Delegates {
		p.Delegates = append(p.Delegates, d.String())
	}
	if nss, err := r.RefFiles().Namespaces(); err == nil {
		for _, ns := range nss {
			if ns != self {
				p.Peers++
			}
		}
	}
	return p, nil
}

// Stamp hashes every namespace's signed refs in every project, the policy
// and whether a node answers: whatever moves, the UI reloads.
func (s *adapter) Stamp(ctx context.Context) (string, error) {
	rids, err := repo.List(s.home)
	if err != nil {
		return "", err
	}
	h := fnv.New64a()
	for _, rid := range rids {
		r, err := repo.Open(s.home, rid)
		if err != nil {
			continue
		}
		f := r.RefFiles()
		nss, err := f.Namespaces()
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, rid)
		for _, ns := range nss {
			sr, _ := f.Get("refs/namespaces/" + ns + "/" + protocol.SigrefsRef)
			fmt.Fprintln(h, ns, sr)
		}
	}
	if fi, err := os.Stat(filepath.Join(s.home.Dir, "policy.json")); err == nil {
		fmt.Fprintln(h, fi.ModTime().UnixNano())
	}
	fmt.Fprintln(h, nodeAnswers(s.home))
	return strconv.FormatUint(h.Sum64(), 16), nil
}

// withIndex opens project r's issue index (bringing it up to date), runs
// f and closes it again: the index is locked while open, and the CLI must
// be able to write while the UI is up.
// progress, if not nil, hears how a rebuild goes.
func (s *adapter) withIndex(ctx context.Context, r *repo.Repo, progress func(done, total int), f func(*issues.Index) error) error {
	var opts []issues.IndexOption
	if progress != nil {
		opts = append(opts, issues.WithProgress(progress))
	}
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(s.home, r.RID), s.store(r), opts...)
	if err != nil {
		return fmt.Errorf("issue index: %w", err)
	}
	defer ix.Close()
	return f(ix)
}

func (s *adapter) ListIssues(ctx context.Context, rid string, f tui.IssueFilter, progress func(done, total int)) ([]tui.IssueSummary, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	out := []tui.IssueSummary{}
	err = s.withIndex(ctx, r, progress, func(ix *issues.Index) error {
		conv := s.converter(ctx, r)
		return ix.Each(ctx, issues.Filter{State: f.State, Label: f.Label, Search: f.Search}, func(n int, is *issues.Summary) error {
			if len(out) == 0 {
				out = make([]tui.IssueSummary, 0, n)
			}
			out = append(out, conv(is))
			return nil
		})
	})
	return out, err
}

// IssuePage reads only the page from the index, and the count.
func (s *adapter) IssuePage(ctx context.Context, rid string, f tui.IssueFilter, limit int, progress func(done, total int)) ([]tui.IssueSummary, int, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, 0, err
	}
	var out []tui.IssueSummary
	var total int
	err = s.withIndex(ctx, r, progress, func(ix *issues.Index) error {
		l, n, err := ix.Page(ctx, issues.Filter{State: f.State, Label: f.Label, Search: f.Search}, 0, limit)
		out, total = s.summaries(ctx, r, l), n
		return err
	})
	return out, total, err
}

// summaries converts the index's summaries for the UI.
func (s *adapter) summaries(ctx context.Context, r *repo.Repo, l []issues.Summary) []tui.IssueSummary {
	conv := s.converter(ctx, r)
	out := make([]tui.IssueSummary, len(l))
	for i := range l {
		out[i] = conv(&l[i])
	}
	return out
}

// converter returns a function that converts the index's summaries for
// the UI (Index.Each's strings and slices outlive its call, so they are
// kept, not copied).
func (s *adapter) converter(ctx context.Context, r *repo.Repo) func(*issues.Summary) tui.IssueSummary {
	n := s.names(ctx, r)
	// A few authors write most issues: name each once.
	authors := make(map[string]string)
	return func(is *issues.Summary) tui.IssueSummary {
		a, ok := authors[is.Author]
		if !ok {
			a = n.of(is.Author)
			authors[is.Author] = a
		}
		return tui.IssueSummary{
			ID: is.ID, Title: is.Title, State: is.State, Reason: is.Reason,
			Author: a, Labels: is.Labels, Comments: is.CommentCount,
			Created: is.Created, Updated: is.Updated,
		}
	}
}

// issue resolves id and loads the issue, its object and the rules.
func (s *adapter) issue(ctx context.Context, rid, id string) (*issues.Store, *issues.Issue, *issues.Object, issues.Rules, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, nil, nil, issues.Rules{}, err
	}
	st := s.store(r)
	var full string
	var rules issues.Rules
	err = s.withIndex(ctx, r, nil, func(ix *issues.Index) error {
		if full, err = ix.Resolve(ctx, id); err != nil {
			return err
		}
		rules, err = ix.Rules(ctx)
		return err
	})
	if err != nil {
		return nil, nil, nil, issues.Rules{}, err
	}
	is, obj, err := st.Issue(ctx, full, rules)
	return st, is, obj, rules, err
}

func (s *adapter) Issue(ctx context.Context, rid, id string) (*tui.Issue, error) {
	_, is, _, rules, err := s.issue(ctx, rid, id)
	if err != nil {
		return nil, err
	}
	n := s.names(ctx, s.openOrNil(rid))
	out := &tui.Issue{
		IssueSummary: tui.IssueSummary{
			ID: is.ID, Title: is.Title, State: is.State, Reason: is.Reason, Author: n.of(is.Author),
			Labels: is.Labels, Comments: len(is.Comments), Created: is.Created, Updated: is.Updated,
		},
		Body: is.Body,
		May:  s.may(rules, &is.Thread),
	}
	for _, a := range is.Assignees {
		out.Assignees = append(out.Assignees, n.of(a))
	}
	for _, c := range is.Comments {
		out.Thread = append(out.Thread, tui.Comment{
			ID: c.ID, Author: n.of(c.Author), Body: c.Body, Created: c.Created,
			Edited: c.Edited != nil, ReplyTo: c.ReplyTo,
		})
	}
	if r, err := s.open(rid); err == nil {
		out.Refs = s.refs(ctx, r, &is.Thread, n)
	}
	return out, nil
}

// refs are the objects th refers to that the index holds, then those
// that refer to it, from the index. They decorate a page: when the index
// cannot be read the page shows none rather than failing.
func (s *adapter) refs(ctx context.Context, r *repo.Repo, th *issues.Thread, n names) []tui.Ref {
	var out []tui.Ref
	err := s.withIndex(ctx, r, nil, func(ix *issues.Index) error {
		for _, l := range th.Links {
			kind, title, ok, err := ix.Describe(ctx, l.ID)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, tui.Ref{Kind: kind, ID: l.ID, Title: title, Author: n.of(l.Author)})
			}
		}
		bl, err := ix.Backlinks(ctx, th.ID)
		for _, b := range bl {
			out = append(out, tui.Ref{Kind: b.Type, ID: b.ID, Title: b.Title, Back: true, Author: n.of(b.Author)})
		}
		return err
	})
	if err != nil {
		return nil
	}
	return out
}

func (s *adapter) NewIssue(ctx context.Context, rid string, ni tui.NewIssue) (string, error) {
	k, err := s.signer()
	if err != nil {
		return "", err
	}
	r, err := s.open(rid)
	if err != nil {
		return "", err
	}
	id, err := s.store(r).CreateIssue(ctx, k, s.now(), issues.NewIssue{Title: ni.Title, Body: ni.Body, Labels: ni.Labels})
	if err != nil {
		return "", err
	}
	cli.Announce(ctx, s.home, r.RID)
	return id, nil
}

// may is what the user may do to th: what issues.Kind.Allowed, the
// check update makes, lets through.
func (s *adapter) may(rules issues.Rules, th *issues.Thread) tui.Permissions {
	if s.key == nil {
		return tui.Permissions{Why: "no key yet: run 'grove auth' to write"}
	}
	p := issues.PermissionsOf(rules, s.key.NID(), th)
	out := tui.Permissions{Triage: p.Triage, Comment: p.Comment}
	switch {
	case !p.Comment:
		out.Why = "this private project is not shared with you"
	case !p.Triage:
		out.Why = "only its author or a delegate may close, reopen or label it"
	}
	return out
}

// update appends actions to issue id as the user, if the rules let the
// user take them: a change every peer would skip is not written.
func (s *adapter) update(ctx context.Context, rid, id string, acts ...issues.Action) error {
	k, err := s.signer()
	if err != nil {
		return err
	}
	st, is, obj, rules, err := s.issue(ctx, rid, id)
	if err != nil {
		return err
	}
	if err := issues.IssueKind.Allowed(rules, k.NID(), &is.Thread, acts...); err != nil {
		return err
	}
	if _, err := st.Update(ctx, issues.IssueKind, k, s.now(), obj, acts...); err != nil {
		return err
	}
	cli.Announce(ctx, s.home, st.Repo.RID)
	return nil
}

func (s *adapter) Comment(ctx context.Context, rid, id, replyTo, body string) error {
	return s.update(ctx, rid, id, issues.Action{Type: issues.ActComment, Body: body, ReplyTo: replyTo})
}

func (s *adapter) SetState(ctx context.Context, rid, id, state, reason string) error {
	return s.update(ctx, rid, id, issues.Action{Type: issues.ActState, State: state, Reason: reason})
}

func (s *adapter) Label(ctx context.Context, rid, id string, add, remove []string) error {
	return s.update(ctx, rid, id, issues.Action{Type: issues.ActLabel, Add: add, Remove: remove})
}

// Code reads canonical branches with git.

func (s *adapter) Branches(ctx context.Context, rid string) ([]tui.Branch, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	doc, _, err := r.Identity(ctx)
	if err != nil {
		return nil, err
	}
	refs, err := r.CanonicalRefs(ctx)
	if err != nil {
		return nil, err
	}
	var out []tui.Branch
	for name, oid := range refs {
		if b, ok := strings.CutPrefix(name, "refs/heads/"); ok {
			out = append(out, tui.Branch{Name: b, Head: oid, Default: b == doc.DefaultBranch})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// treeish names path at rev for git ("rev:path").
func treeish(rev, path string) string {
	return rev + ":" + strings.Trim(path, "/")
}

func (s *adapter) Tree(ctx context.Context, rid, rev, path string) ([]tui.TreeEntry, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	out, err := r.Git(ctx, nil, "ls-tree", "-z", "-l", treeish(rev, path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, tui.ErrNotFound)
	}
	var dirs, files []tui.TreeEntry
	for _, rec := range strings.Split(string(out), "\x00") {
		meta, name, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta) // mode type oid size
		if len(f) < 4 {
			continue
		}
		switch f[1] {
		case "tree":
			dirs = append(dirs, tui.TreeEntry{Name: name, Dir: true})
		case "blob":
			size, _ := strconv.ParseInt(f[3], 10, 64)
			files = append(files, tui.TreeEntry{Name: name, Size: size})
		}
	}
	return append(dirs, files...), nil
}

// maxFileShown is how much of a file the UI reads.
const maxFileShown = 1 << 20

func (s *adapter) File(ctx context.Context, rid, rev, path string) (*tui.File, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	obj := treeish(rev, path)
	sz, err := r.Git(ctx, nil, "cat-file", "-s", obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, tui.ErrNotFound)
	}
	size, _ := strconv.ParseInt(strings.TrimSpace(string(sz)), 10, 64)
	f := &tui.File{Path: path, Size: size}
	if size > maxFileShown {
		f.Cut = true
		// Read only the head of a big file.
		c := repo.GitCommand(ctx, r.Path, "cat-file", "blob", obj)
		pipe, err := c.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := c.Start(); err != nil {
			return nil, err
		}
		buf := make([]byte, maxFileShown)
		n, _ := io.ReadFull(pipe, buf)
		c.Process.Kill()
		c.Wait()
		return withText(f, buf[:n]), nil
	}
	data, err := r.Git(ctx, nil, "cat-file", "blob", obj)
	if err != nil {
		return nil, err
	}
	return withText(f, data), nil
}

func withText(f *tui.File, data []byte) *tui.File {
	head := data[:min(len(data), 8000)]
	if bytes.IndexByte(head, 0) >= 0 {
		f.Binary = true
		return f
	}
	f.Text = string(data)
	return f
}

// logFormat ends every field with a NUL, which git never prints inside
// one (a message stops at its first NUL), so no author or message can
// split or hide a commit of the log.
const logFormat = "%H%x00%an%x00%at%x00%s%x00%b%x00"

func parseLog(out []byte) []tui.Commit {
	var cs []tui.Commit
	f := strings.Split(string(out), "\x00")
	for ; len(f) > 5; f = f[5:] {
		at, _ := strconv.ParseInt(f[2], 10, 64)
		cs = append(cs, tui.Commit{OID: strings.TrimLeft(f[0], "\n"), Author: f[1], Time: time.Unix(at, 0), Subject: f[3], Body: strings.TrimSpace(f[4])})
	}
	return cs
}

func (s *adapter) Log(ctx context.Context, rid, rev string, limit int) ([]tui.Commit, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	out, err := r.Git(ctx, nil, "log", "--format="+logFormat, "-n", strconv.Itoa(limit), rev, "--")
	if err != nil {
		return nil, err
	}
	return parseLog(out), nil
}

func (s *adapter) Show(ctx context.Context, rid, oid string) (*tui.Commit, error) {
	if !protocol.ValidOID(oid) {
		return nil, fmt.Errorf("commit %s: %w", oid, tui.ErrNotFound)
	}
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	out, err := r.Git(ctx, nil, "log", "-1", "--format="+logFormat, oid)
	if err != nil {
		return nil, err
	}
	cs := parseLog(out)
	if len(cs) == 0 {
		return nil, fmt.Errorf("commit %s: %w", oid, tui.ErrNotFound)
	}
	diff, err := r.Git(ctx, nil, "show", "--no-color", "--format=", "--diff-merges=first-parent", "--patch", oid)
	if err != nil {
		return nil, err
	}
	c := cs[0]
	c.Diff = string(diff)
	return &c, nil
}

// Peers lists the namespaces held in a project.
func (s *adapter) Peers(ctx context.Context, rid string) ([]tui.Peer, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	doc, _, err := r.Identity(ctx)
	if err != nil {
		return nil, err
	}
	out, err := r.Git(ctx, nil, "for-each-ref", "--format=%(refname) %(committerdate:unix)", "refs/namespaces/")
	if err != nil {
		return nil, err
	}
	n := s.names(ctx, r)
	byNID := map[string]*tui.Peer{}
	for _, line := range strings.Split(string(out), "\n") {
		ref, at, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		ns, name, ok := strings.Cut(strings.TrimPrefix(ref, "refs/namespaces/"), "/")
		if !ok {
			continue
		}
		nid, err := protocol.ParseNID(ns)
		if err != nil {
			continue
		}
		p := byNID[ns]
		if p == nil {
			p = &tui.Peer{NID: ns, Alias: n.Alias(ns), You: ns == n.self, Delegate: doc.IsDelegate(nid), Followed: n.follows[ns]}
			byNID[ns] = p
		}
		p.Refs++
		if name == protocol.SigrefsRef {
			if t, err := strconv.ParseInt(at, 10, 64); err == nil {
				p.Updated = time.Unix(t, 0)
			}
		}
	}
	peers := make([]tui.Peer, 0, len(byNID))
	for _, p := range byNID {
		peers = append(peers, *p)
	}
	sort.Slice(peers, func(i, j int) bool {
		if peers[i].You != peers[j].You {
			return peers[i].You
		}
		if peers[i].Delegate != peers[j].Delegate {
			return peers[i].Delegate
		}
		return peers[i].Updated.After(peers[j].Updated)
	})
	return peers, nil
}

// Node asks a running node for its state over the control socket.
func (s *adapter) Node(ctx context.Context) (tui.NodeState, error) {
	c, err := control.Dial(s.home)
	if errors.Is(err, control.ErrNotRunning) {
		return tui.NodeState{}, nil
	}
	if err != nil {
		return tui.NodeState{}, err
	}
	st, err := c.Status(ctx)
	if errors.Is(err, control.ErrNotRunning) {
		return tui.NodeState{}, nil
	}
	if err != nil {
		return tui.NodeState{}, err
	}
	return tui.NodeState{Running: true, NID: st.NID, Addrs: st.Addrs, Peers: st.Peers, Seeds: len(st.Seeds), Started: st.Started}, nil
}

// nodeAnswers reports whether something listens on h's control socket.
func nodeAnswers(h repo.Home) bool {
	c, err := net.DialTimeout("unix", control.Path(h), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
