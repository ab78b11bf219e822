package issues

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// ErrConflict is returned when a revision does not merge cleanly.
var ErrConflict = errors.New("conflict")

// PatchHeadRef is the ref, inside its author's namespace, that holds the
// head of patch id's newest revision, so the code replicates with it.
func PatchHeadRef(id string) string { return repo.PatchHeadsPrefix + id }

// PatchView is what materializing a project's patches needs besides their
// changes: who may do what, and the canonical default branch.
type PatchView struct {
	Rules  Rules
	Branch string // the default branch's name, e.g. main
	Tip    string // its canonical commit; empty when there is none
}

// PatchView reads the rules and the canonical default branch of the
// store's project.
func (s *Store) PatchView(ctx context.Context) (PatchView, error) {
	doc, _, err := s.Repo.Identity(ctx)
	if err != nil {
		return PatchView{}, err
	}
	canon, err := s.Repo.CanonicalRefs(ctx)
	if err != nil {
		return PatchView{}, err
	}
	rules, err := s.rulesOf(ctx, doc)
	if err != nil {
		return PatchView{}, err
	}
	return PatchView{Rules: rules, Branch: doc.DefaultBranch, Tip: canon["refs/heads/"+doc.DefaultBranch]}, nil
}

// NewPatch is what opening a patch takes.
type NewPatch struct {
	Title  string
	Body   string
	Labels []string
	Base   string // the merge base of Head with the target branch
	Head   string
	// Commits are the messages of the commits Base..Head: their mentions
	// are the revision's references too.
	Commits string
}

// CreatePatch writes a new patch in the transaction: a root change with its
// title, description and labels, then a change with its first revision,
// whose parents are the root and the head (so the revision's commits travel
// with the object), and moves the signer's refs/heads/patches/<id> to the
// head. It returns the patch's ID and the revision's.
func (tx *Tx) CreatePatch(n NewPatch) (id, rev string, err error) {
	acts := rootActions(n.Title, n.Body, n.Labels, nil)
	r := Action{Type: ActRevision, Base: n.Base, Head: n.Head}
	if err := PatchKind.Check(append(acts, r)...); err != nil {
		return "", "", err
	}
	if acts, err = tx.s.withRefs(acts, ""); err != nil {
		return "", "", err
	}
	rs, err := tx.s.withRefs([]Action{r}, n.Commits)
	if err != nil {
		return "", "", err
	}
	r = rs[0]
	id, err = tx.Create(PatchType, NewChange{Actions: anyActions(acts)})
	if err != nil {
		return "", "", err
	}
	rev, err = tx.Append(PatchType, id, []string{id, n.Head}, NewChange{Actions: anyActions([]PatchAction{r})})
	if err != nil {
		return "", "", err
	}
	return id, rev, tx.move(PatchHeadRef(id), n.Head)
}

// OpenPatch opens a patch signed by signer and returns its ID and first
// revision's.
func (s *Store) OpenPatch(ctx context.Context, signer protocol.Signer, now time.Time, n NewPatch) (id, rev string, err error) {
	err = s.write(ctx, signer, now, func(tx *Tx) (err error) {
		id, rev, err = tx.CreatePatch(n)
		return err
	})
	return id, rev, err
}

// AddRevision writes a new revision of p (loaded as obj) by its author and
// moves the author's refs/heads/patches/<id> to head. commits are the
// messages of base..head, whose mentions the revision refers to too. It
// returns the revision's ID.
func (s *Store) AddRevision(ctx context.Context, signer protocol.Signer, now time.Time, obj *Object, p *Patch, base, head, description, commits string) (string, error) {
	if signer.NID().String() != p.Author {
		return "", fmt.Errorf("patch %.7s: only its author may add revisions: open your own patch instead", p.ID)
	}
	if p.Latest().Head == head {
		return "", fmt.Errorf("patch %.7s: %.7s is already its newest revision's head", p.ID, head)
	}
	a := Action{Type: ActRevision, Base: base, Head: head, Body: description}
	if err := PatchKind.Check(a); err != nil {
		return "", err
	}
	as, err := s.withRefs([]Action{a}, commits)
	if err != nil {
		return "", err
	}
	a = as[0]
	var rev string
	err = s.write(ctx, signer, now, func(tx *Tx) (err error) {
		rev, err = tx.Append(PatchType, p.ID, append(append([]string{}, obj.Heads...), head), NewChange{Actions: anyActions([]Action{a})})
		if err != nil {
			return err
		}
		return tx.move(PatchHeadRef(p.ID), head)
	})
	return rev, err
}

// Patch loads patch id and materializes it under v, merged or not.
func (s *Store) Patch(ctx context.Context, id string, v PatchView) (*Patch, *Object, error) {
	obj, err := s.Load(ctx, PatchType, id)
	if err != nil {
		return nil, nil, fmt.Errorf("patch %.7s: %w", id, ErrNotFound)
	}
	p, err := MaterializePatch(obj, v.Rules)
	if err != nil {
		return nil, nil, fmt.Errorf("patch %.7s: %w", id, ErrNotFound)
	}
	ResolveMerged(p, v.Tip, s.reachable(ctx))
	return p, obj, nil
}

// reachable returns an ancestry test over the store's commits with a
// cache; a commit that is missing is not reachable.
func (s *Store) reachable(ctx context.Context) func(a, b string) bool {
	memo := make(map[[2]string]bool)
	return func(a, b string) bool {
		k := [2]string{a, b}
		if v, ok := memo[k]; ok {
			return v
		}
		ok, err := s.Repo.IsAncestor(ctx, a, b)
		v := err == nil && ok
		memo[k] = v
		return v
	}
}

// PatchIDs returns the IDs of every patch any namespace holds, sorted.
func (s *Store) PatchIDs(ctx context.Context) ([]string, error) {
	names, err := s.Repo.RefFiles().Names("refs/namespaces/*/" + RefPrefix(PatchType))
	if err != nil {
		return nil, err
	}
	mid := "/" + RefPrefix(PatchType)
	seen := make(map[string]bool)
	for _, n := range names {
		if i := strings.Index(n, mid); i >= 0 {
			if id := n[i+len(mid):]; protocol.ValidOID(id) {
				seen[id] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// ResolvePatch returns the full ID of the patch prefix names.
func (s *Store) ResolvePatch(ctx context.Context, prefix string) (string, error) {
	return s.Resolve(PatchType, prefix)
}

// Patches materializes every visible patch in state (open, merged, closed,
// or "" for all), newest first. A patch that fails to load or materialize
// (over a limit, corrupt) is left out and returned in skipped.
func (s *Store) Patches(ctx context.Context, v PatchView, state string) (list []*Patch, skipped []Skipped, err error) {
	ids, err := s.PatchIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	reach := s.reachable(ctx)
	var out []*Patch
	for _, id := range ids {
		obj, err := s.Load(ctx, PatchType, id)
		var p *Patch
		if err == nil {
			p, err = MaterializePatch(obj, v.Rules)
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errors.Is(err, ErrNotFound):
			continue
		default:
			skipped = append(skipped, Skipped{Type: PatchType, ID: id, Err: err.Error()})
			continue
		}
		ResolveMerged(p, v.Tip, reach)
		if state == "" || p.State == state {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, skipped, nil
}

// MergeBase returns the best common ancestor of two commits, or "" when
// they share no history.
func (s *Store) MergeBase(ctx context.Context, a, b string) (string, error) {
	out, err := s.Repo.Git(ctx, nil, "merge-base", a, b)
	if err != nil {
		var ge *repo.GitError
		if errors.As(err, &ge) && strings.TrimSpace(string(out)) == "" && ge.Stderr == "" {
			return "", nil // exit 1, nothing printed: no common ancestor
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// MergeResult is what MergePatch did.
type MergeResult struct {
	Commit      string // the branch's new commit
	FastForward bool   // the branch moved to the head itself
	Already     bool   // the head was in the branch already
	// Closed are the issues the merge closed: those the patch says it
	// fixes, closes or resolves (CloseFixed).
	Closed []string
}

// How says in a word or three what the merge did to the branch:
// "fast-forwarded", "merged" (a merge commit) or "recorded as merged".
func (r MergeResult) How() string {
	switch {
	case r.FastForward:
		return "fast-forwarded"
	case r.Already:
		return "recorded as merged"
	}
	return "merged"
}

// MayMerge returns nil when n may merge p under rules, else why not: only
// a delegate merges (a *NotAllowedError), and a patch merges once. It is
// the check MergePatch makes, for a user interface to offer merging only
// where it would be taken.
func MayMerge(rules Rules, n protocol.NID, p *Patch) error {
	if !rules.IsDelegate(n) || rules.IsRemoved(n) {
		return &NotAllowedError{Noun: PatchKind.Noun, ID: p.ID, Who: "a delegate", What: "merge"}
	}
	if p.State == StateMerged {
		return fmt.Errorf("patch %.7s is merged already", p.ID)
	}
	return nil
}

// CommitterIdent returns git's committer identity ("Name <email>", as
// git var reads it in the current directory), or "" when git has none:
// what MergePatch takes to name a merge commit's author.
func CommitterIdent(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "var", "GIT_COMMITTER_IDENT").Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndex(s, ">"); i > 0 {
		return s[:i+1]
	}
	return ""
}

// MergePatch merges revision rev of p (loaded as obj) into the signer's
// default branch (v.Branch, starting from the canonical one when the
// signer's is behind it): a fast-forward when possible, else a merge
// commit by ident ("Name <email>", CommitterIdent) made from git
// merge-tree. The branch move and the merge record land in one namespace
// update. Only delegates may merge, and a patch once (MayMerge); a
// conflict is ErrConflict.
func (s *Store) MergePatch(ctx context.Context, signer protocol.Signer, now time.Time, v PatchView, obj *Object, p *Patch, rev, ident string) (MergeResult, error) {
	var res MergeResult
	if err := MayMerge(v.Rules, signer.NID(), p); err != nil {
		return res, err
	}
	i := p.RevisionIndex(rev)
	if i < 0 {
		return res, fmt.Errorf("patch %.7s: revision %.7s: %w", p.ID, rev, ErrNotFound)
	}
	head := p.Revisions[i].Head
	if !s.Repo.HasObject(head) {
		return res, fmt.Errorf("patch %.7s: the head %.7s of its revision is not in local storage: sync first", p.ID, head)
	}
	branch := "refs/heads/" + v.Branch
	mine, err := s.Repo.RefFiles().Get(repo.NamespacePrefix(signer.NID()) + branch)
	if err != nil {
		return res, err
	}
	start := mine
	if v.Tip != "" && (mine == "" || s.reachable(ctx)(mine, v.Tip)) {
		start = v.Tip
	}
	reach := s.reachable(ctx)
	switch {
	case start == "":
		res.Commit, res.FastForward = head, true
	case reach(head, start):
		res.Commit, res.Already = start, true
	case reach(start, head):
		res.Commit, res.FastForward = head, true
	default:
		tree, err := s.mergeTree(ctx, start, head)
		if errors.Is(err, ErrConflict) {
			return res, fmt.Errorf("patch %.7s does not merge cleanly into %s: %w", p.ID, v.Branch, err)
		}
		if err != nil {
			return res, fmt.Errorf("patch %.7s: %w", p.ID, err)
		}
		msg := fmt.Sprintf("Merge patch %.7s: %s\n\nPatch: %s\nRevision: %s\n", p.ID, p.Title, p.ID, rev)
		if res.Commit, err = s.writeMergeCommit(tree, []string{start, head}, ident, signer.NID(), now, msg); err != nil {
			return res, err
		}
	}
	mergedAt := res.Commit
	if res.Already || res.FastForward {
		mergedAt = head
	}
	tx := s.Begin(signer, now)
	a := PatchAction{Type: ActMerge, Revision: rev, Commit: mergedAt}
	if _, err := tx.Append(PatchType, p.ID, obj.Heads, NewChange{Actions: anyActions([]PatchAction{a})}); err != nil {
		return res, err
	}
	if res.Commit != mine {
		if err := tx.move(branch, res.Commit); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	closed, err := s.CloseFixed(ctx, signer, now, p.ID, rev)
	if err != nil {
		return res, fmt.Errorf("patch %.7s is merged, but closing the issues it fixes failed (close them by hand): %w", p.ID, err)
	}
	res.Closed = closed
	return res, nil
}

// CloseFixed closes, in one change each signed by signer, the issues that
// patch id's revision rev says it fixes, closes or resolves (in the
// patch's description, the revision's or its commits' messages), once the
// patch is merged into the canonical default branch: each close names the
// patch. rev "" is the revision the branch merged. An issue already closed, or that signer may not close, is left
// as it is. It returns the issues it closed.
func (s *Store) CloseFixed(ctx context.Context, signer protocol.Signer, now time.Time, id, rev string) ([]string, error) {
	v, err := s.PatchView(ctx)
	if err != nil {
		return nil, err
	}
	p, _, err := s.Patch(ctx, id, v)
	if err != nil {
		return nil, err
	}
	if rev == "" && p.Merge != nil {
		rev = p.Merge.Revision
	}
	i := p.RevisionIndex(rev)
	if p.State != StateMerged || i < 0 {
		return nil, nil // not in the canonical branch (yet): nothing is fixed
	}
	r := p.Revisions[i]
	texts := []string{p.Body, r.Description}
	if msgs, err := s.CommitMessages(ctx, r.Base, r.Head); err == nil {
		texts = append(texts, msgs...)
	}
	ids, err := s.ClosingIssues(ctx, texts...)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	tx := s.Begin(signer, now)
	var closed []string
	for _, iid := range ids {
		is, obj, err := s.Issue(ctx, iid, v.Rules)
		if err != nil {
			continue // not visible here: nothing to close
		}
		if is.State == StateClosed || !v.Rules.CanTriage(signer.NID(), is.Author) {
			continue
		}
		a := Action{Type: ActState, State: StateClosed, Reason: ReasonSolved, Patch: p.ID}
		if _, err := tx.AppendIssue(iid, obj.Heads, a); err != nil {
			return nil, err
		}
		closed = append(closed, iid)
	}
	return closed, tx.Commit(ctx)
}

// mergeTree merges two commits' trees without a working tree and returns
// the result's tree.
func (s *Store) mergeTree(ctx context.Context, ours, theirs string) (string, error) {
	out, err := s.Repo.Git(ctx, nil, "merge-tree", "--write-tree", "--no-messages", "--name-only", ours, theirs)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil {
		var ge *repo.GitError
		if errors.As(err, &ge) && len(lines) > 1 && protocol.ValidOID(lines[0]) {
			return "", fmt.Errorf("%w in %s: rebase the patch and push a new revision", ErrConflict, strings.Join(lines[1:], ", "))
		}
		return "", err
	}
	if !protocol.ValidOID(lines[0]) {
		return "", fmt.Errorf("git merge-tree printed %q", lines[0])
	}
	return lines[0], nil
}

// writeMergeCommit stores a merge commit by ident (or the NID when ident is
// empty) and returns its oid.
func (s *Store) writeMergeCommit(tree string, parents []string, ident string, nid protocol.NID, now time.Time, msg string) (string, error) {
	if strings.TrimSpace(ident) == "" || strings.ContainsAny(ident, "\n\x00") {
		ident = fmt.Sprintf("%s <%s@grove>", nid, nid)
	}
	_, off := now.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	who := fmt.Sprintf("%s %d %c%02d%02d", ident, now.Unix(), sign, off/3600, off%3600/60)
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author %s\ncommitter %s\n\n%s", who, who, msg)
	return s.Repo.WriteObject("commit", []byte(b.String()))
}

// MergedBy returns the patches whose newest revision's head is among
// commits: those a move of the default branch over commits (git rev-list
// old..new) merged. It reads the patch head refs of every namespace.
func (s *Store) MergedBy(commits []string) ([]string, error) {
	in := make(map[string]bool, len(commits))
	for _, c := range commits {
		in[c] = true
	}
	refs, err := s.Repo.RefFiles().List("refs/namespaces/*/" + repo.PatchHeadsPrefix)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var out []string
	for name, oid := range refs {
		i := strings.LastIndex(name, "/")
		if id := name[i+1:]; in[oid] && protocol.ValidOID(id) && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}
