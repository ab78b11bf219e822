package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func newPatchCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "patch",
		Short: "Propose, review and merge changes, as signed collaborative objects",
		Long: `Patches are signed collaborative objects stored in the project's git storage,
like issues. A patch has revisions (a base and a head commit each), reviews
per revision (accept, reject or comment, with comments on lines of files),
discussion comments, labels and a state: open, merged or closed.

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
		newPatchCommentCmd(e),
		newPatchCheckoutCmd(e),
		newPatchMergeCmd(e),
		newPatchCloseCmd(e),
		newPatchReopenCmd(e),
		newPatchEditCmd(e),
		newPatchLabelCmd(e),
	)
	return c
}

// patchSession is one command's view of a project's patches.
type patchSession struct {
	e *env
	r *repo.Repo
	s *issues.Store
	v issues.PatchView
}

func (e *env) openPatches(ctx context.Context, flagRID string) (*patchSession, error) {
	r, err := e.project(ctx, flagRID)
	if err != nil {
		return nil, err
	}
	h, err := e.home()
	if err != nil {
		return nil, err
	}
	s := issues.NewCachedStore(r, h)
	v, err := s.PatchView(ctx)
	if err != nil {
		return nil, err
	}
	return &patchSession{e: e, r: r, s: s, v: v}, nil
}

// load resolves prefix and materializes the patch.
func (ps *patchSession) load(ctx context.Context, prefix string) (*issues.Patch, *issues.Object, error) {
	id, err := ps.s.ResolvePatch(ctx, prefix)
	if err != nil {
		return nil, nil, err
	}
	return ps.s.Patch(ctx, id, ps.v)
}

// change writes one change to the patch prefix names, after check, and
// returns the change's oid.
func (ps *patchSession) change(ctx context.Context, prefix string, check func(me protocol.NID, p *issues.Patch) error, build func(p *issues.Patch) ([]issues.PatchAction, error)) (string, error) {
	key, err := ps.e.key()
	if err != nil {
		return "", err
	}
	p, obj, err := ps.load(ctx, prefix)
	if err != nil {
		return "", err
	}
	if check != nil {
		if err := check(key.NID(), p); err != nil {
			return "", err
		}
	}
	acts, err := build(p)
	if err != nil {
		return "", err
	}
	oid, err := ps.s.UpdatePatch(ctx, key, ps.e.now(), obj, acts...)
	if err != nil {
		return "", usageIfInvalid(err)
	}
	ps.e.announceChange(ctx, ps.r)
	return oid, nil
}

// mayTriagePatch is the check for title, state and label changes.
func mayTriagePatch(rules issues.Rules, what string) func(protocol.NID, *issues.Patch) error {
	return func(me protocol.NID, p *issues.Patch) error {
		if !rules.CanTriage(me, p.Author) {
			return fmt.Errorf("patch %.7s: only its author or a delegate may %s it", p.ID, what)
		}
		return nil
	}
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
func pushPatch(ctx context.Context, e *env, rev, ref, message, base string) (id, revID string, err error) {
	if _, err := e.project(ctx, ""); err != nil {
		return "", "", err
	}
	dir, err := os.MkdirTemp("", "grove-patch-*")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(dir)
	result := filepath.Join(dir, "result")
	env := append(os.Environ(), patchResultEnv+"="+result)
	if message != "" {
		mf := filepath.Join(dir, "message")
		if err := os.WriteFile(mf, []byte(message), 0o600); err != nil {
			return "", "", err
		}
		env = append(env, patchMessageEnv+"="+mf)
	}
	args := []string{"push", "-q"}
	if base != "" {
		args = append(args, "-o", optBase+base)
	}
	args = append(args, "grove", rev+":"+ref)
	c := exec.CommandContext(ctx, "git", args...)
	c.Env = env
	c.Stdout, c.Stderr = e.io.Err, e.io.Err
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", &silentError{code: 1}
	}
	b, err := os.ReadFile(result)
	if err != nil {
		return "", "", fmt.Errorf("git push did not report a patch: is git-remote-grove on PATH the same version as grove?")
	}
	id, revID, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	return id, revID, nil
}

type patchOpenOptions struct {
	Title string
	Body  bodyInput
	Base  string
	Head  string
	JSON  bool
}

func newPatchOpenCmd(e *env) *cobra.Command {
	o := &patchOpenOptions{}
	c := &cobra.Command{
		Use:   "open [--title T] [--body B] [--base BRANCH] [--head REV]",
		Short: "Open a patch from a commit of this working copy; prints its ID",
		Long: `Open a patch proposing REV (default HEAD), by pushing it to refs/patches of
the grove remote: the same as 'git push grove REV:refs/patches'. The title
and description come from the commit messages unless given. The revision's
base is the merge base of REV with the default branch, or with BRANCH.`,
		Example: `  grove patch open
  grove patch open --title "Greet by name" --body "Fixes 3f2a." --head feature`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return patchOpenRun(c.Context(), c, e, o) },
	}
	c.Flags().StringVarP(&o.Title, "title", "t", "", "title (default: from the commits)")
	o.Body.flags(c, "description")
	c.Flags().StringVar(&o.Base, "base", "", "base the patch on `BRANCH` (default: the default branch)")
	c.Flags().StringVar(&o.Head, "head", "HEAD", "the commit to propose")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the created patch as JSON")
	return c
}

func patchOpenRun(ctx context.Context, c *cobra.Command, e *env, o *patchOpenOptions) error {
	titled := c.Flags().Changed("title")
	if titled && !issues.ValidTitle(o.Title) {
		return usagef("--title: 1 to %d characters on one line", issues.MaxTitle)
	}
	var body string
	if c.Flags().Changed("body") || c.Flags().Changed("body-file") {
		if !titled {
			return usagef("a description needs a --title")
		}
		var err error
		if body, _, err = o.Body.read(ctx, c, e); err != nil {
			return err
		}
	}
	message := ""
	if titled {
		message = o.Title + "\n\n" + body
	}
	id, _, err := pushPatch(ctx, e, o.Head, patchOpenAlias, message, o.Base)
	if err != nil {
		return err
	}
	if o.JSON {
		return showPatchJSON(ctx, e, id)
	}
	fmt.Fprintln(e.io.Out, id)
	return nil
}

func showPatchJSON(ctx context.Context, e *env, id string) error {
	ps, err := e.openPatches(ctx, "")
	if err != nil {
		return err
	}
	p, _, err := ps.s.Patch(ctx, id, ps.v)
	if err != nil {
		return err
	}
	return writeJSON(e.io.Out, p)
}

type patchUpdateOptions struct {
	Head    string
	Message string
	JSON    bool
}

func newPatchUpdateCmd(e *env) *cobra.Command {
	o := &patchUpdateOptions{}
	c := &cobra.Command{
		Use:   "update ID [--head REV] [--message M]",
		Short: "Add a revision to your patch; prints the revision's ID",
		Long: `Add a revision with head REV (default HEAD) to patch ID, by pushing it to
refs/patches/ID of the grove remote: the same as
'git push grove REV:refs/patches/ID'. Only the patch's author may.`,
		Example: `  grove patch update 3f2a --message "Address review"`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			ps, err := e.openPatches(ctx, "")
			if err != nil {
				return err
			}
			id, err := ps.s.ResolvePatch(ctx, args[0])
			if err != nil {
				return err
			}
			_, rev, err := pushPatch(ctx, e, o.Head, repo.PatchRefPrefix+id, o.Message, "")
			if err != nil {
				return err
			}
			if o.JSON {
				return showPatchJSON(ctx, e, id)
			}
			fmt.Fprintln(e.io.Out, rev)
			return nil
		},
	}
	c.Flags().StringVar(&o.Head, "head", "HEAD", "the new head")
	c.Flags().StringVarP(&o.Message, "message", "m", "", "what changed in this revision")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the patch as JSON")
	return c
}

// --- list

type patchListOptions struct {
	Repo  string
	State string
	JSON  bool
}

func newPatchListCmd(e *env) *cobra.Command {
	o := &patchListOptions{}
	c := &cobra.Command{
		Use:     "list [--state open|merged|closed|all]",
		Short:   "List patches, newest first",
		Example: "  grove patch list\n  grove patch list --state all --json",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			state := o.State
			switch state {
			case issues.StateOpen, issues.StateMerged, issues.StateClosed:
			case "all":
				state = ""
			default:
				return usagef("--state must be open, merged, closed or all")
			}
			ps, err := e.openPatches(ctx, o.Repo)
			if err != nil {
				return err
			}
			list, err := ps.s.Patches(ctx, ps.v, state)
			if err != nil {
				return err
			}
			if o.JSON {
				if list == nil {
					list = []*issues.Patch{}
				}
				return writeJSON(e.io.Out, list)
			}
			if len(list) == 0 {
				if e.io.ErrTTY {
					fmt.Fprintln(e.io.Err, "No patches match.")
				}
				return nil
			}
			rows := make([][]string, 0, len(list))
			for _, p := range list {
				rows = append(rows, []string{p.ID[:7], p.State, p.Title, fmt.Sprintf("r%d", len(p.Revisions)), verdictSummary(p), shortNID(p.Author), p.Created.Format("2006-01-02")})
			}
			return table(e.io.Out, rows)
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.State, "state", "s", "open", "open, merged, closed or all")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

// verdictSummary counts the newest revision's accepts and rejects, in
// words: "+1 -0" would read as a diff stat.
func verdictSummary(p *issues.Patch) string {
	acc, rej := 0, 0
	for _, v := range p.Verdicts(p.Latest().ID) {
		if v == issues.VerdictAccept {
			acc++
		} else {
			rej++
		}
	}
	switch {
	case acc == 0 && rej == 0:
		return "no verdicts"
	case rej == 0:
		return fmt.Sprintf("%d accepted", acc)
	case acc == 0:
		return fmt.Sprintf("%d rejected", rej)
	}
	return fmt.Sprintf("%d accepted, %d rejected", acc, rej)
}

// plural returns "1 revision" or "n revisions".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// --- show

type patchShowOptions struct {
	Repo     string
	JSON     bool
	Diff     bool
	Revision string
	Range    string
}

func newPatchShowCmd(e *env) *cobra.Command {
	o := &patchShowOptions{}
	c := &cobra.Command{
		Use:   "show ID [--json] [--diff [--revision R | --range R1..R2]]",
		Short: "Show a patch: revisions, reviews and comments, and its diff",
		Long: `Show a patch. With --diff, also the diff of its newest revision (or of
revision R) against its base; with --range R1..R2, the diff between the
heads of two revisions. R is a revision number (1 is the first) or a prefix
of its ID.`,
		Example: "  grove patch show 3f2a\n  grove patch show 3f2a --diff\n  grove patch show 3f2a --range 1..2\n  grove patch show 3f2a --json",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return patchShowRun(c.Context(), e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.Flags().BoolVar(&o.Diff, "diff", false, "show the revision's diff against its base")
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision to diff (default: the newest)")
	c.Flags().StringVar(&o.Range, "range", "", "diff revision `R1..R2`'s heads")
	return c
}

func patchShowRun(ctx context.Context, e *env, o *patchShowOptions, prefix string) error {
	if o.Range != "" && o.Revision != "" {
		return usagef("give --revision or --range, not both")
	}
	ps, err := e.openPatches(ctx, o.Repo)
	if err != nil {
		return err
	}
	p, _, err := ps.load(ctx, prefix)
	if err != nil {
		return err
	}
	var from, to string
	if o.Diff || o.Range != "" || o.Revision != "" {
		if o.Range != "" {
			a, b, ok := strings.Cut(o.Range, "..")
			if !ok || a == "" || b == "" {
				return usagef("--range: want R1..R2, e.g. 1..2")
			}
			ra, _, err := findRevision(p, a)
			if err != nil {
				return err
			}
			rb, _, err := findRevision(p, b)
			if err != nil {
				return err
			}
			from, to = ra.Head, rb.Head
		} else {
			r, _, err := findRevision(p, o.Revision)
			if err != nil {
				return err
			}
			from, to = r.Base, r.Head
		}
	}
	if o.JSON {
		return writeJSON(e.io.Out, p)
	}
	printPatch(e, p)
	if to != "" {
		diff, err := ps.r.Git(ctx, nil, "diff", "--no-color", "--no-ext-diff", from, to)
		if err != nil {
			return fmt.Errorf("diff %.7s..%.7s: %w (are the patch's commits in local storage? sync first)", from, to, err)
		}
		fmt.Fprintf(e.io.Out, "\n── diff %.7s..%.7s\n%s", from, to, diff)
	}
	return nil
}

func printPatch(e *env, p *issues.Patch) {
	w := e.io.Out
	fmt.Fprintf(w, "%s\n%s · opened by %s on %s · %s · %s\n", p.Title, p.State, shortNID(p.Author), p.Created.Format("2006-01-02 15:04"), plural(len(p.Revisions), "revision"), verdictSummary(p))
	if len(p.Labels) > 0 {
		fmt.Fprintf(w, "labels: %s\n", strings.Join(p.Labels, ", "))
	}
	fmt.Fprintf(w, "id: %s\n", p.ID)
	if p.Merge != nil {
		by := ""
		if p.Merge.Author != "" {
			by = " by " + shortNID(p.Merge.Author)
		}
		at := ""
		if p.Merge.Commit != "" {
			at = " at " + p.Merge.Commit[:7]
		}
		fmt.Fprintf(w, "merged: revision %.7s%s%s\n", p.Merge.Revision, at, by)
	}
	if p.Body != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(p.Body, "\n"))
	}
	for i, r := range p.Revisions {
		merged := ""
		if r.Merged {
			merged = " (merged)"
		}
		fmt.Fprintf(w, "\n── revision %d %.7s: %.7s..%.7s on %s%s\n", i+1, r.ID, r.Base, r.Head, r.Created.Format("2006-01-02 15:04"), merged)
		if r.Description != "" {
			fmt.Fprintf(w, "%s\n", strings.TrimRight(r.Description, "\n"))
		}
		for _, rv := range p.Reviews {
			if rv.Revision != r.ID {
				continue
			}
			fmt.Fprintf(w, "   review %.7s by %s: %s on %s\n", rv.ID, shortNID(rv.Author), rv.Verdict, rv.Created.Format("2006-01-02 15:04"))
			for _, line := range nonEmptyLines(rv.Body) {
				fmt.Fprintf(w, "     %s\n", line)
			}
			for _, lc := range rv.Comments {
				where := fmt.Sprintf("%s:%d", lc.Path, lc.Line)
				if lc.EndLine > lc.Line {
					where += fmt.Sprintf("-%d", lc.EndLine)
				}
				fmt.Fprintf(w, "     %s\n", where)
				for _, line := range nonEmptyLines(lc.Body) {
					fmt.Fprintf(w, "       %s\n", line)
				}
			}
		}
	}
	for _, c := range p.Comments {
		what := "comment " + c.ID[:7]
		if c.ReplyTo != "" {
			what = "reply " + c.ID[:7] + " to " + c.ReplyTo[:7]
		}
		edited := ""
		if c.Edited != nil {
			edited = " (edited)"
		}
		fmt.Fprintf(w, "\n── %s by %s on %s%s\n%s\n", what, shortNID(c.Author), c.Created.Format("2006-01-02 15:04"), edited, strings.TrimRight(c.Body, "\n"))
	}
}

func nonEmptyLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// --- review

type patchReviewOptions struct {
	Repo     string
	Revision string
	Accept   bool
	Reject   bool
	Comment  bool
	Body     bodyInput
	File     string
	Line     int
	EndLine  int
}

func newPatchReviewCmd(e *env) *cobra.Command {
	o := &patchReviewOptions{}
	c := &cobra.Command{
		Use:   "review ID [--revision R] (--accept | --reject | --comment) [--body B] [--file PATH --line N [--end-line M]]",
		Short: "Review a revision of a patch; prints the review's ID",
		Long: `Review the newest revision of a patch (or revision R): accept it, reject it,
or only comment. With --file and --line the body is a comment on that line
(or lines N to M) of the file in the revision's head. Reviews are signed and
anyone who may see the project may review.`,
		Example: `  grove patch review 3f2a --accept --body "LGTM"
  grove patch review 3f2a --comment --file hello.go --line 7 --body "Use os.Getenv once"`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return patchReviewRun(c.Context(), c, e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision `R` to review (number or ID prefix; default: the newest)")
	c.Flags().BoolVar(&o.Accept, "accept", false, "accept the revision")
	c.Flags().BoolVar(&o.Reject, "reject", false, "reject the revision")
	c.Flags().BoolVar(&o.Comment, "comment", false, "comment without a verdict")
	o.Body.flags(c, "review")
	c.Flags().StringVar(&o.File, "file", "", "anchor the body to `PATH` in the revision's head")
	c.Flags().IntVar(&o.Line, "line", 0, "anchor the body to line `N` of --file")
	c.Flags().IntVar(&o.EndLine, "end-line", 0, "end the anchored range at line `M`")
	return c
}

func patchReviewRun(ctx context.Context, c *cobra.Command, e *env, o *patchReviewOptions, prefix string) error {
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
	ps, err := e.openPatches(ctx, o.Repo)
	if err != nil {
		return err
	}
	body, _, err := o.Body.read(ctx, c, e)
	if err != nil {
		return err
	}
	if o.File != "" && strings.TrimSpace(body) == "" {
		return usagef("a comment on a line needs a --body")
	}
	if verdict == issues.VerdictComment && strings.TrimSpace(body) == "" {
		return usagef("a comment needs a --body")
	}
	oid, err := ps.change(ctx, prefix, nil, func(p *issues.Patch) ([]issues.PatchAction, error) {
		r, _, err := findRevision(p, o.Revision)
		if err != nil {
			return nil, err
		}
		a := issues.PatchAction{Type: issues.ActReview, Revision: r.ID, Verdict: verdict, Body: body}
		if o.File != "" {
			if err := checkLines(ctx, ps.r, r.Head, o.File, max(o.Line, o.EndLine)); err != nil {
				return nil, err
			}
			a.Body = ""
			a.Comments = []issues.LineComment{{Path: o.File, Line: o.Line, EndLine: o.EndLine, Body: body}}
		}
		return []issues.PatchAction{a}, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.io.Out, oid)
	return nil
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

// --- comment

type patchCommentOptions struct {
	Repo    string
	Body    bodyInput
	ReplyTo string
}

func newPatchCommentCmd(e *env) *cobra.Command {
	o := &patchCommentOptions{}
	c := &cobra.Command{
		Use:     "comment ID --body B [--reply-to COMMENT_ID]",
		Short:   "Comment on a patch's discussion; prints the comment's ID",
		Example: "  grove patch comment 3f2a --body \"Could this also cover tags?\"",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			ps, err := e.openPatches(ctx, o.Repo)
			if err != nil {
				return err
			}
			body, ok, err := o.Body.read(ctx, c, e)
			if err != nil {
				return err
			}
			if !ok || strings.TrimSpace(body) == "" {
				return usagef("give the comment with --body or --body-file")
			}
			oid, err := ps.change(ctx, args[0], nil, func(p *issues.Patch) ([]issues.PatchAction, error) {
				a := issues.PatchAction{Type: issues.ActComment, Body: body}
				if o.ReplyTo != "" {
					id, err := findComment(&issues.Issue{Thread: p.Thread}, o.ReplyTo)
					if err != nil {
						return nil, err
					}
					a.ReplyTo = id
				}
				return []issues.PatchAction{a}, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(e.io.Out, oid)
			return nil
		},
	}
	repoFlag(c, &o.Repo)
	o.Body.flags(c, "comment")
	c.Flags().StringVar(&o.ReplyTo, "reply-to", "", "reply to comment `COMMENT_ID` (a prefix is enough)")
	return c
}

// --- checkout

type patchCheckoutOptions struct {
	Revision string
}

func newPatchCheckoutCmd(e *env) *cobra.Command {
	o := &patchCheckoutOptions{}
	c := &cobra.Command{
		Use:   "checkout ID [--revision R]",
		Short: "Check out a patch's newest revision (or R) as branch patch/<short-id>",
		Example: `  grove patch checkout 3f2a
  grove patch checkout 3f2a --revision 1`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			ps, err := e.openPatches(ctx, "")
			if err != nil {
				return err
			}
			p, _, err := ps.load(ctx, args[0])
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
				cmd.Stdout, cmd.Stderr = e.io.Err, e.io.Err
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
			fmt.Fprintf(e.io.Out, "Switched to branch %s at revision %d (%.7s)\n", branch, n, r.Head)
			return nil
		},
	}
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision `R` (number or ID prefix; default: the newest)")
	return c
}

// --- merge

type patchMergeOptions struct {
	Repo     string
	Revision string
}

func newPatchMergeCmd(e *env) *cobra.Command {
	o := &patchMergeOptions{}
	c := &cobra.Command{
		Use:   "merge ID [--revision R]",
		Short: "Merge a patch into the default branch and push (delegates)",
		Long: `Merge the newest revision of a patch (or revision R) into your default
branch, starting from the canonical one: a fast-forward when possible, else
a merge commit. Your branch and the merge record are written in one signed
update, announced to a running node. Only delegates may merge.`,
		Example: "  grove patch merge 3f2a",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return patchMergeRun(c.Context(), e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.Revision, "revision", "r", "", "the revision `R` to merge (default: the newest)")
	return c
}

func patchMergeRun(ctx context.Context, e *env, o *patchMergeOptions, prefix string) error {
	ps, err := e.openPatches(ctx, o.Repo)
	if err != nil {
		return err
	}
	key, err := e.key()
	if err != nil {
		return err
	}
	p, obj, err := ps.load(ctx, prefix)
	if err != nil {
		return err
	}
	if p.State == issues.StateMerged {
		return fmt.Errorf("patch %.7s is merged already", p.ID)
	}
	r, _, err := findRevision(p, o.Revision)
	if err != nil {
		return err
	}
	ident := ""
	if out, err := exec.CommandContext(ctx, "git", "var", "GIT_COMMITTER_IDENT").Output(); err == nil {
		s := strings.TrimSpace(string(out))
		if i := strings.LastIndex(s, ">"); i > 0 {
			ident = s[:i+1]
		}
	}
	res, err := ps.s.MergePatch(ctx, key, e.now(), ps.v, obj, p, r.ID, ident)
	if errors.Is(err, issues.ErrConflict) {
		return fmt.Errorf("patch %.7s does not merge cleanly into %s: %w", p.ID, ps.v.Branch, err)
	}
	if err != nil {
		return err
	}
	e.announceChange(ctx, ps.r)
	how := "merged"
	switch {
	case res.FastForward:
		how = "fast-forwarded"
	case res.Already:
		how = "recorded as merged"
	}
	fmt.Fprintf(e.io.Out, "patch %.7s %s into %s at %.7s\n", p.ID, how, ps.v.Branch, res.Commit)
	// Bring the working copy's view of the remote up to date.
	if o.Repo == "" {
		cmd := exec.CommandContext(ctx, "git", "fetch", "-q", "grove")
		cmd.Env = append(os.Environ(), noSyncEnv+"=1")
		if cmd.Run() == nil && e.io.ErrTTY {
			fmt.Fprintf(e.io.Err, "Run 'git pull grove %s' to update your %s.\n", ps.v.Branch, ps.v.Branch)
		}
	}
	return nil
}

// --- close, reopen, edit, label

func newPatchCloseCmd(e *env) *cobra.Command {
	return newPatchStateCmd(e, "close", "Close a patch without merging it (author or delegates)", issues.StateClosed)
}

func newPatchReopenCmd(e *env) *cobra.Command {
	return newPatchStateCmd(e, "reopen", "Reopen a closed patch (author or delegates)", issues.StateOpen)
}

// newPatchStateCmd is close and reopen: the same command but for the state.
func newPatchStateCmd(e *env, verb, short, state string) *cobra.Command {
	var rid string
	c := &cobra.Command{
		Use:     verb + " ID",
		Short:   short,
		Example: "  grove patch " + verb + " 3f2a",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return patchTriageRun(c.Context(), e, rid, args[0], verb, issues.PatchAction{Type: issues.ActState, State: state})
		},
	}
	repoFlag(c, &rid)
	return c
}

func patchTriageRun(ctx context.Context, e *env, rid, prefix, verb string, acts ...issues.PatchAction) error {
	ps, err := e.openPatches(ctx, rid)
	if err != nil {
		return err
	}
	_, err = ps.change(ctx, prefix, mayTriagePatch(ps.v.Rules, verb), func(*issues.Patch) ([]issues.PatchAction, error) {
		return acts, nil
	})
	return err
}

type patchEditOptions struct {
	Repo  string
	Title string
	Body  bodyInput
}

func newPatchEditCmd(e *env) *cobra.Command {
	o := &patchEditOptions{}
	c := &cobra.Command{
		Use:     "edit ID [--title T] [--body B | --body-file F]",
		Short:   "Change a patch's title (author or delegates) or description (author)",
		Example: `  grove patch edit 3f2a --title "Greet the reader by name"`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			titled := c.Flags().Changed("title")
			if titled && !issues.ValidTitle(o.Title) {
				return usagef("--title: 1 to %d characters on one line", issues.MaxTitle)
			}
			ps, err := e.openPatches(ctx, o.Repo)
			if err != nil {
				return err
			}
			var body string
			bodied := false
			if !titled || c.Flags().Changed("body") || c.Flags().Changed("body-file") {
				if body, bodied, err = o.Body.read(ctx, c, e); err != nil {
					return err
				}
			}
			if !titled && !bodied {
				return usagef("nothing to change: give --title, --body or --body-file")
			}
			check := func(me protocol.NID, p *issues.Patch) error {
				if titled {
					if err := mayTriagePatch(ps.v.Rules, "retitle")(me, p); err != nil {
						return err
					}
				}
				if bodied && me.String() != p.Author {
					return fmt.Errorf("patch %.7s: only its author may edit its description", p.ID)
				}
				return nil
			}
			_, err = ps.change(ctx, args[0], check, func(*issues.Patch) ([]issues.PatchAction, error) {
				var acts []issues.PatchAction
				if titled {
					acts = append(acts, issues.PatchAction{Type: issues.ActTitle, Title: o.Title})
				}
				if bodied {
					acts = append(acts, issues.PatchAction{Type: issues.ActBody, Body: body})
				}
				return acts, nil
			})
			return err
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.Title, "title", "t", "", "new title")
	o.Body.flags(c, "description")
	return c
}

func newPatchLabelCmd(e *env) *cobra.Command {
	return newLabelCmd("grove patch label 3f2a --add needs-tests",
		func(ctx context.Context, rid, id string, add, remove []string) error {
			return patchTriageRun(ctx, e, rid, id, "label", issues.PatchAction{Type: issues.ActLabel, Add: add, Remove: remove})
		})
}
