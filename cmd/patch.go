package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
)

// patchKind is patches as the commands see them: what every kind offers
// (cob.go), and open and update (through git push), list, show, review,
// checkout and merge.
var patchKind = &cobKind{
	Kind:    issues.PatchKind,
	thread:  threadOf(issues.MaterializePatch),
	states:  []string{issues.StateOpen, issues.StateMerged, issues.StateClosed},
	example: "3f2a", label: "needs-tests",
}

func newPatchCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "patch",
		Short: "Propose, review and merge changes, as signed collaborative objects",
		Long: `Patches are signed collaborative objects stored in the project's git storage,
like issues. A patch has revisions (a base and a head commit each), reviews
per revision (accept, reject or comment, with comments on lines of files),
discussion comments, labels, assignees, reactions and a state: open, merged
or closed.

Open one with 'git push grove HEAD:refs/patches' (or 'grove patch open'),
revise it with 'git push grove HEAD:refs/patches/ID'. A patch is merged on
every peer once one of its revisions is in the project's canonical default
branch. Any unique prefix of a patch, revision or comment ID is accepted.`,
	}
	c.AddCommand(
		newPatchOpenCmd(e),
		newPatchListCmd(e),
		newPatchShowCmd(e),
		newPatchUpdateCmd(e),
		newPatchReviewCmd(e),
		newPatchCheckoutCmd(e),
		newPatchMergeCmd(e),
	)
	c.AddCommand(sharedCmds(e, patchKind)...)
	return c
}

// patches is one command's view of a project's patches: besides what
// every kind has, what materializing a patch needs (its view: the rules
// and the canonical default branch, which decides merged).
type patches struct {
	*objects
	v *issues.PatchView // nil until view reads it
}

func openPatches(ctx context.Context, d *deps) (*patches, error) {
	objs, err := openObjects(ctx, d, patchKind)
	if err != nil {
		return nil, err
	}
	return &patches{objects: objs}, nil
}

// patch opens the project's patches and loads the one o names.
func (o *on) patch(ctx context.Context) (*patches, *issues.Patch, *issues.Object, error) {
	ps, err := openPatches(ctx, &o.deps)
	if err != nil {
		return nil, nil, nil, err
	}
	p, obj, err := ps.load(ctx, o.ID)
	return ps, p, obj, err
}

func (ps *patches) view(ctx context.Context) (issues.PatchView, error) {
	if ps.v == nil {
		v, err := ps.s.PatchView(ctx)
		if err != nil {
			return issues.PatchView{}, err
		}
		ps.v = &v
	}
	return *ps.v, nil
}

// load resolves prefix and materializes the patch, merged or not.
func (ps *patches) load(ctx context.Context, prefix string) (*issues.Patch, *issues.Object, error) {
	id, err := ps.resolve(prefix)
	if err != nil {
		return nil, nil, err
	}
	v, err := ps.view(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ps.s.Patch(ctx, id, v)
}

// findRevision resolves a revision: its number (1 is the first) or a
// prefix of its ID; "" is the newest.
func findRevision(p *issues.Patch, ref string) (*issues.Revision, int, error) {
	if ref == "" {
		return p.Latest(), len(p.Revisions), nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(ref, "r")); err == nil && len(ref) < 4 {
		if n < 1 || n > len(p.Revisions) {
			return nil, 0, fmt.Errorf("patch %.7s has revisions 1 to %d, not %d", p.ID, len(p.Revisions), n)
		}
		return &p.Revisions[n-1], n, nil
	}
	ref = strings.ToLower(ref)
	found := -1
	for i := range p.Revisions {
		if strings.HasPrefix(p.Revisions[i].ID, ref) {
			if found >= 0 {
				return nil, 0, fmt.Errorf("revision %w", &issues.AmbiguousError{Prefix: ref, Matches: 2})
			}
			found = i
		}
	}
	if found < 0 {
		return nil, 0, fmt.Errorf("revision %s: %w in patch %.7s", ref, issues.ErrNotFound, p.ID)
	}
	return &p.Revisions[found], found + 1, nil
}

// --- open, update: through git push, so the commits reach the storage

// pushPatch runs git push of rev to ref from the working copy, with the
// message (if any) handed to the helper, and returns the patch and
// revision IDs the helper reports.
func pushPatch(ctx context.Context, d *deps, rev, ref, message, base string) (id, revID string, err error) {
	if _, err := d.Repo(ctx); err != nil {
		return "", "", err
	}
	remote, err := pushRemote(ctx)
	if err != nil {
		return "", "", err
	}
	h, err := d.Home()
	if err != nil {
		return "", "", err
	}
	dir, err := os.MkdirTemp("", "grove-patch-*")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dir)
	result := filepath.Join(dir, "result")
	// The helper git runs works in the home this command found.
	env := append(os.Environ(), "GROVE_HOME="+h.Dir, patchResultEnv+"="+result)
	if p, ok := d.IO.LookupEnv("GROVE_PASSPHRASE"); ok {
		env = append(env, "GROVE_PASSPHRASE="+p)
	}
	if message != "" {
		mf := filepath.Join(dir, "message")
		if err := os.WriteFile(mf, []byte(message), 0o600); err != nil {
			return "", "", err
		}
		env = append(env, patchMessageEnv+"="+mf)
	}
	args := []string{"push", "-q"}
	if base != "" {
		args = append(args, "-o", issues.PushOptionBase+base)
	}
	args = append(args, remote, rev+":"+ref)
	c := exec.CommandContext(ctx, "git", args...)
	c.Env = env
	c.Stdout, c.Stderr = d.IO.Err, d.IO.Err
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", &silentError{Code: 1}
	}
	b, err := os.ReadFile(result)
	if err != nil {
		return "", "", fmt.Errorf("git push did not report a patch: is git-remote-grove on PATH the same version as grove?")
	}
	id, revID, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	return id, revID, nil
}

// commitsTitle returns the title and description the helper would take
// from the commits of head that the base branch (the default one when
// base is empty) lacks, as the working copy's remote-tracking branch has
// it; empty when that is not known.
func commitsTitle(ctx context.Context, d *deps, base, head string) (title, body string) {
	r, err := d.Repo(ctx)
	if err != nil {
		return "", ""
	}
	if base == "" {
		doc, _, err := r.Identity(ctx)
		if err != nil {
			return "", ""
		}
		base = doc.DefaultBranch
	}
	rem, err := cli.WorkingCopy(ctx, "")
	if err != nil || !rem.URL.NID.IsZero() {
		return "", ""
	}
	out, err := repo.GitCommand(ctx, "", "log", "--reverse", "--format=%B%x00", "refs/remotes/"+rem.Name+"/"+base+".."+head).Output()
	if err != nil {
		return "", ""
	}
	return issues.SplitMessage(issues.CommitsMessage(string(out)))
}

// pushRemote returns where git push sends the working copy's commits to
// its project: the remote with the project's canonical URL, or that URL
// when the working copy has only remotes of peers' namespaces.
func pushRemote(ctx context.Context) (string, error) {
	rem, err := cli.WorkingCopy(ctx, "")
	if err != nil {
		return "", err
	}
	if !rem.URL.NID.IsZero() {
		return rem.URL.RID.URL(), nil
	}
	return rem.Name, nil
}

// pushed reports what a push to refs/patches made, patch id: with asJSON
// the patch, else line.
func pushed(ctx context.Context, o *on, asJSON bool, id, line string) error {
	if !asJSON {
		fmt.Fprintln(o.IO.Out, line)
		return nil
	}
	o.ID = id
	_, p, _, err := o.patch(ctx)
	if err != nil {
		return err
	}
	return writeJSON(o.IO.Out, p)
}

type patchOpenOptions struct {
	on
	Title optString
	Body  bodyInput
	Base  string
	Head  string
	JSON  bool
}

func newPatchOpenCmd(e *env) *cobra.Command {
	o := &patchOpenOptions{}
	c := o.bind(e, doc("open [--title T] [--body B] [--base BRANCH] [--head REV]", "Open a patch from a commit of this working copy; prints its ID",
		`Open a patch proposing REV (default HEAD), by pushing it to refs/patches of
the grove remote: the same as 'git push grove REV:refs/patches'. The title
and description come from the commit messages unless given. The revision's
base is the merge base of REV with the default branch, or with BRANCH.`,
		`  grove patch open
  grove patch open --title "Greet by name" --body "Fixes 3f2a." --head feature`,
	), 0, false, func(ctx context.Context) error { return patchOpenRun(ctx, o) })
	c.Flags().VarP(&o.Title, "title", "t", "title (default: from the commits)")
	o.Body.flags(c, "description")
	c.Flags().StringVar(&o.Base, "base", "", "base the patch on `BRANCH` (default: the default branch)")
	c.Flags().StringVar(&o.Head, "head", "HEAD", "the commit to propose")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the created patch as JSON")
	return c
}

func patchOpenRun(ctx context.Context, o *patchOpenOptions) error {
	if err := checkTitle(o.Title); err != nil {
		return err
	}
	if !o.Title.Given && !o.Body.given() && o.IO.InTTY {
		// One editor buffer for the title and the description, starting
		// from what the commits would give.
		title, body := commitsTitle(ctx, &o.deps, o.Base, o.Head)
		title, body, err := editTitled(ctx, &o.deps, "patch", title, body)
		if err != nil {
			return err
		}
		o.Title, o.Body.Body = give(title), give(body)
	}
	var body string
	if o.Body.given() {
		if !o.Title.Given {
			return usagef("a description needs a --title")
		}
		var err error
		if body, _, err = o.Body.read(ctx, &o.deps); err != nil {
			return err
		}
	}
	message := ""
	if o.Title.Given {
		message = o.Title.Value + "\n\n" + body
	}
	id, _, err := pushPatch(ctx, &o.deps, o.Head, repo.PatchOpenAlias, message, o.Base)
	if err != nil {
		return err
	}
	return pushed(ctx, &o.on, o.JSON, id, id)
}

type patchUpdateOptions struct {
	on
	Head    string
	Message string
	JSON    bool
}

func newPatchUpdateCmd(e *env) *cobra.Command {
	o := &patchUpdateOptions{}
	c := o.bind(e, doc("update ID [--head REV] [--message M]", "Add a revision to your patch; prints the revision's ID",
		`Add a revision with head REV (default HEAD) to patch ID, by pushing it to
refs/patches/ID of the grove remote: the same as
'git push grove REV:refs/patches/ID'. Only the patch's author may.`,
		`  grove patch update 3f2a --message "Address review"`,
	), 1, false, func(ctx context.Context) error { return patchUpdateRun(ctx, o) })
	c.Flags().StringVar(&o.Head, "head", "HEAD", "the new head")
	c.Flags().StringVarP(&o.Message, "message", "m", "", "what changed in this revision")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the patch as JSON")
	return c
}

func patchUpdateRun(ctx context.Context, o *patchUpdateOptions) error {
	ps, err := openPatches(ctx, &o.deps)
	if err != nil {
		return err
	}
	if o.ID, err = ps.resolve(o.ID); err != nil {
		return err
	}
	_, rev, err := pushPatch(ctx, &o.deps, o.Head, repo.PatchRefPrefix+o.ID, o.Message, "")
	if err != nil {
		return err
	}
	return pushed(ctx, &o.on, o.JSON, o.ID, rev)
}

// --- list

type patchListOptions struct {
	on
	State, Label, Author, Review, Search string
	JSON                                 bool
}

func newPatchListCmd(e *env) *cobra.Command {
	o := &patchListOptions{}
	c := o.project(e, doc("list [--state open|merged|closed|all] [--label L] [--author NID] [--review accepted|rejected|none] [--search Q]", "List patches, newest first", "",
		"  grove patch list\n  grove patch list --state all --json\n  grove patch list --review accepted --label ready\n  grove patch list --search \"timeout retry\"",
	), func(ctx context.Context) error { return patchListRun(ctx, o) })
	f := c.Flags()
	f.StringVarP(&o.State, "state", "s", "open", "open, merged, closed or all")
	f.StringVarP(&o.Label, "label", "l", "", "only patches with label `L`")
	f.StringVarP(&o.Author, "author", "A", "", "only patches opened by `NID`")
	f.StringVar(&o.Review, "review", "", "only patches whose newest revision is accepted (and not rejected), rejected, or has no verdict (none)")
	f.StringVarP(&o.Search, "search", "S", "", "only patches whose title, descriptions, comments or reviews hold every word of `Q`")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func patchListRun(ctx context.Context, o *patchListOptions) error {
	state, err := listState(patchKind, o.State)
	if err != nil {
		return err
	}
	f := issues.Filter{Type: issues.PatchType, State: state, Label: o.Label, Search: o.Search}
	switch o.Review {
	case "", issues.ReviewAccepted, issues.ReviewRejected, issues.ReviewNone:
		f.Review = o.Review
	default:
		return usagef("--review must be accepted, rejected or none")
	}
	if o.Author != "" {
		n, err := protocol.ParseNID(o.Author)
		if err != nil {
			return usagef("--author: %v", err)
		}
		f.Author = n.String()
	}
	ps, err := openPatches(ctx, &o.deps)
	if err != nil {
		return err
	}
	// From the index, closed before anything is printed (as issue list).
	var docs []json.RawMessage
	var rows [][]string
	var skipped []issues.Skipped
	var nm *cli.Names
	short := map[string]string{} // author → nm.Of: a project has few
	err = withIndex(ctx, &o.deps, ps.objects, func(ix *issues.Index) error {
		nm = ps.namesIn(ctx, ix)
		var err error
		if o.JSON {
			docs, err = ix.PatchDocs(ctx, f)
		} else {
			err = ix.EachPatch(ctx, f, func(n int, p *issues.PatchSummary) error {
				a, ok := short[p.Author]
				if !ok {
					a = nm.Of(p.Author)
					short[p.Author] = a
				}
				rows = append(rows, patchSummaryRow(p, a))
				return nil
			})
		}
		if err != nil {
			return err
		}
		skipped, err = ix.Skipped(ctx, issues.PatchType)
		return err
	})
	if err != nil {
		return err
	}
	warnSkipped(o.IO, skipped)
	for i := range docs {
		if docs[i], err = withNames(docs[i], nm); err != nil {
			return err
		}
	}
	return writeList(o.IO, "patches", o.JSON, docs, []string{"ID", "STATE", "TITLE", "REVISION", "REVIEWS", "AUTHOR", "CREATED"}, rows)
}

// --- show

// shownPatch is a patch as show --json prints it: with the references
// other objects make to it.
type shownPatch struct {
	*issues.Patch
	Backlinks []issues.Backlink `json:"backlinks"`
}

type patchShowOptions struct {
	on
	JSON, Diff      bool
	Revision, Range string
}

func newPatchShowCmd(e *env) *cobra.Command {
	o := &patchShowOptions{}
	c := o.object(e, doc("show ID [--json] [--diff [--revision R | --range R1..R2]]", "Show a patch: revisions, reviews and comments, and its diff",
		`Show a patch. With --diff, also the diff of its newest revision (or of
revision R) against its base; with --range R1..R2, the diff between the
heads of two revisions. R is a revision number (1 is the first) or a prefix
of its ID.`,
		"  grove patch show 3f2a\n  grove patch show 3f2a --diff\n  grove patch show 3f2a --range 1..2\n  grove patch show 3f2a --json",
	), func(ctx context.Context) error { return patchShowRun(ctx, o) })
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.Flags().BoolVar(&o.Diff, "diff", false, "show the revision's diff against its base")
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision to diff (default: the newest)")
	c.Flags().StringVar(&o.Range, "range", "", "diff revision `R1..R2`'s heads")
	return c
}

func patchShowRun(ctx context.Context, o *patchShowOptions) error {
	if o.Range != "" && o.Revision != "" {
		return usagef("give --revision or --range, not both")
	}
	ps, p, _, err := o.patch(ctx)
	if err != nil {
		return err
	}
	from, to, err := diffRange(p, o)
	if err != nil {
		return err
	}
	bl, err := backlinks(ctx, &o.deps, ps.objects, p.ID)
	if err != nil {
		return err
	}
	nm := ps.names(ctx)
	var diff *diffJSON
	if to != "" {
		out, err := ps.r.Git(ctx, nil, "diff", "--no-color", "--no-ext-diff", from, to)
		if err != nil {
			return fmt.Errorf("diff %.7s..%.7s: %w (are the patch's commits in local storage? sync first)", from, to, err)
		}
		diff = &diffJSON{From: from, To: to, Text: string(out)}
	}
	if o.JSON {
		named := newPatchJSON(p, nm)
		return writeJSON(o.IO.Out, struct {
			shownPatch
			AuthorName string            `json:"authorName,omitempty"`
			Names      map[string]string `json:"names"`
			Persons    map[string]string `json:"persons"`
			Diff       *diffJSON         `json:"diff,omitempty"`
		}{shownPatch{p, bl}, named.AuthorName, nm.Map(append(named.nids, backlinkNIDs(bl)...)...), nm.Persons(append(named.nids, backlinkNIDs(bl)...)...), diff})
	}
	showPatch(o.IO.Out, p, bl, nm)
	if diff == nil {
		return nil
	}
	// The diff is of the peer's commits (paths, lines): shown safe, like
	// the rest; 'git diff' in the storage gives the bytes. On a terminal
	// it is coloured, the colours added after.
	text := termtext.Text(diff.Text)
	if o.colour() {
		text = colourDiff(text)
	}
	fmt.Fprintf(o.IO.Out, "\n── diff %.7s..%.7s\n%s", from, to, text)
	return nil
}

// diffJSON is the diff patch show --diff prints, in its JSON: the two
// commits and git's unified diff between them.
type diffJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// diffRange returns the commits whose diff show prints: none without
// --diff, --revision or --range.
func diffRange(p *issues.Patch, o *patchShowOptions) (from, to string, err error) {
	switch {
	case o.Range != "":
		a, b, ok := strings.Cut(o.Range, "..")
		if !ok || a == "" || b == "" {
			return "", "", usagef("--range: want R1..R2, e.g. 1..2")
		}
		ra, _, err := findRevision(p, a)
		if err != nil {
			return "", "", err
		}
		rb, _, err := findRevision(p, b)
		if err != nil {
			return "", "", err
		}
		return ra.Head, rb.Head, nil
	case o.Diff || o.Revision != "":
		r, _, err := findRevision(p, o.Revision)
		if err != nil {
			return "", "", err
		}
		return r.Base, r.Head, nil
	}
	return "", "", nil
}

// --- review

type patchReviewOptions struct {
	on
	jsonFlag
	Revision                string
	Accept, Reject, Comment bool
	Body                    bodyInput
	File                    string
	Line, EndLine           int
}

func newPatchReviewCmd(e *env) *cobra.Command {
	o := &patchReviewOptions{}
	c := o.object(e, doc("review ID [--revision R] (--accept | --reject | --comment) [--body B] [--file PATH --line N [--end-line M]]", "Review a revision of a patch; prints the review's ID",
		`Review the newest revision of a patch (or revision R): accept it, reject it,
or only comment. With --file and --line the body is a comment on that line
(or lines N to M) of the file in the revision's head. Reviews are signed and
anyone who may see the project may review.`,
		`  grove patch review 3f2a --accept --body "LGTM"
  grove patch review 3f2a --comment --file hello.go --line 7 --body "Use os.Getenv once"`,
	), func(ctx context.Context) error { return patchReviewRun(ctx, o) })
	f := c.Flags()
	f.StringVarP(&o.Revision, "revision", "r", "", "the revision `R` to review (number or ID prefix; default: the newest)")
	f.BoolVar(&o.Accept, "accept", false, "accept the revision")
	f.BoolVar(&o.Reject, "reject", false, "reject the revision")
	f.BoolVar(&o.Comment, "comment", false, "comment without a verdict")
	o.Body.flags(c, "review")
	f.StringVar(&o.File, "file", "", "anchor the body to `PATH` in the revision's head")
	f.IntVar(&o.Line, "line", 0, "anchor the body to line `N` of --file")
	f.IntVar(&o.EndLine, "end-line", 0, "end the anchored range at line `M`")
	return o.add(c)
}

func patchReviewRun(ctx context.Context, o *patchReviewOptions) error {
	verdict := ""
	n := 0
	for v, set := range map[string]bool{issues.VerdictAccept: o.Accept, issues.VerdictReject: o.Reject, issues.VerdictComment: o.Comment} {
		if set {
			verdict, n = v, n+1
		}
	}
	if n != 1 {
		return usagef("give one of --accept, --reject or --comment")
	}
	if (o.File == "") != (o.Line == 0) {
		return usagef("--file and --line go together")
	}
	if o.Line < 0 || (o.EndLine != 0 && o.EndLine < o.Line) {
		return usagef("--line counts from 1 and --end-line is not before it")
	}
	if o.File != "" && !issues.ValidPath(o.File) {
		return usagef("--file: a path relative to the project's root")
	}
	body, _, err := o.Body.read(ctx, &o.deps)
	if err != nil {
		return err
	}
	if o.File != "" && strings.TrimSpace(body) == "" {
		return usagef("a comment on a line needs a --body")
	}
	if verdict == issues.VerdictComment && strings.TrimSpace(body) == "" {
		return usagef("a comment needs a --body")
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	ps, p, obj, err := o.patch(ctx)
	if err != nil {
		return err
	}
	r, _, err := findRevision(p, o.Revision)
	if err != nil {
		return err
	}
	act := issues.Action{Type: issues.ActReview, Revision: r.ID, Verdict: verdict, Body: body}
	if o.File != "" {
		if err := checkLines(ctx, ps.r, r.Head, o.File, max(o.Line, o.EndLine)); err != nil {
			return err
		}
		act.Body = ""
		act.Comments = []issues.LineComment{{Path: o.File, Line: o.Line, EndLine: o.EndLine, Body: body}}
	}
	oid, err := ps.write(ctx, key, obj, act)
	if err != nil {
		return err
	}
	return o.result(o.IO.Out, idJSON{ID: oid}, func() error { _, err := fmt.Fprintln(o.IO.Out, oid); return err })
}

// checkLines checks that path exists in commit and has at least line lines.
func checkLines(ctx context.Context, r *repo.Repo, commit, path string, line int) error {
	data, err := r.Git(ctx, nil, "cat-file", "blob", commit+":"+path)
	if err != nil {
		return usagef("--file %s: not a file in the revision's head %.7s", path, commit)
	}
	lines := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		lines++
	}
	if line > lines {
		return usagef("--line %d: %s has %d line(s) in the revision's head", line, path, lines)
	}
	return nil
}

// --- checkout

// revisionOptions are the options of a command on one revision of a
// patch.
type revisionOptions struct {
	on
	jsonFlag
	Revision string
}

func newPatchCheckoutCmd(e *env) *cobra.Command {
	o := &revisionOptions{}
	c := o.bind(e, doc("checkout ID [--revision R]", "Check out a patch's newest revision (or R) as branch patch/<short-id>", "",
		`  grove patch checkout 3f2a
  grove patch checkout 3f2a --revision 1`,
	), 1, false, func(ctx context.Context) error { return patchCheckoutRun(ctx, o) })
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision `R` (number or ID prefix; default: the newest)")
	return o.add(c)
}

func patchCheckoutRun(ctx context.Context, o *revisionOptions) error {
	ps, p, _, err := o.patch(ctx)
	if err != nil {
		return err
	}
	r, n, err := findRevision(p, o.Revision)
	if err != nil {
		return err
	}
	if !ps.r.HasObject(r.Head) {
		return fmt.Errorf("patch %.7s: the head %.7s of revision %d is not in local storage: sync first", p.ID, r.Head, n)
	}
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Stdout, cmd.Stderr = o.IO.Err, o.IO.Err
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("git %s: %w", args[0], err)
		}
		return nil
	}
	if err := git("fetch", "-q", ps.r.RID.URL(), r.Head); err != nil {
		return err
	}
	branch := "patch/" + p.ID[:7]
	if err := git("checkout", "-q", "-B", branch, r.Head); err != nil {
		return err
	}
	return o.result(o.IO.Out, struct {
		Branch   string `json:"branch"`
		Revision int    `json:"revision"`
		Head     string `json:"head"`
	}{branch, n, r.Head}, func() error {
		_, err := fmt.Fprintf(o.IO.Out, "Switched to branch %s at revision %d (%.7s)\n", branch, n, r.Head)
		return err
	})
}

// --- merge

func newPatchMergeCmd(e *env) *cobra.Command {
	o := &revisionOptions{}
	c := o.object(e, doc("merge ID [--revision R]", "Merge a patch into the default branch and push (delegates)",
		`Merge the newest revision of a patch (or revision R) into your default
branch, starting from the canonical one: a fast-forward when possible, else
a merge commit. Your branch and the merge record are written in one signed
update, announced to a running node. Only delegates may merge.`,
		"  grove patch merge 3f2a",
	), func(ctx context.Context) error { return patchMergeRun(ctx, o) })
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision `R` to merge (default: the newest)")
	return o.add(c)
}

func patchMergeRun(ctx context.Context, o *revisionOptions) error {
	key, err := o.Key()
	if err != nil {
		return err
	}
	ps, p, obj, err := o.patch(ctx)
	if err != nil {
		return err
	}
	r, _, err := findRevision(p, o.Revision)
	if err != nil {
		return err
	}
	v, err := ps.view(ctx)
	if err != nil {
		return err
	}
	res, err := ps.s.MergePatch(ctx, key, o.Now(), v, obj, p, r.ID, issues.CommitterIdent(ctx))
	if err != nil {
		return err
	}
	o.Announce(ctx, ps.r.RID)
	branch := termtext.Line(v.Branch) // the project's identity names it
	closed := append([]string{}, res.Closed...)
	if err := o.result(o.IO.Out, struct {
		ID     string   `json:"id"`
		How    string   `json:"how"`
		Branch string   `json:"branch"`
		Commit string   `json:"commit"`
		Closed []string `json:"closed"`
	}{p.ID, res.How(), v.Branch, res.Commit, closed}, func() error {
		fmt.Fprintf(o.IO.Out, "patch %.7s %s into %s at %.7s\n", p.ID, res.How(), branch, res.Commit)
		for _, id := range res.Closed {
			fmt.Fprintf(o.IO.Out, "closed issue %.7s, which it fixes\n", id)
		}
		return nil
	}); err != nil {
		return err
	}
	// Bring the working copy's view of the remote up to date.
	if rem, err := cli.WorkingCopy(ctx, ""); o.RID == "" && err == nil && rem.URL.NID.IsZero() {
		cmd := exec.CommandContext(ctx, "git", "fetch", "-q", rem.Name)
		cmd.Env = append(os.Environ(), noSyncEnv+"=1")
		if cmd.Run() == nil && o.IO.ErrTTY {
			fmt.Fprintf(o.IO.Err, "Run 'git pull %s %s' to update your %s.\n", rem.Name, branch, branch)
		}
	}
	return nil
}
