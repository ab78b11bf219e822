package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func newIssueCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "issue",
		Short: "File, discuss and triage issues, offline",
		Long: `Issues are signed collaborative objects stored in the project's git storage:
they work with no node running and no connection, and every peer that holds
the same changes shows the same issue. Any unique prefix of an issue or
comment ID is accepted.`,
	}
	c.AddCommand(
		newIssueNewCmd(e),
		newIssueListCmd(e),
		newIssueShowCmd(e),
		newIssueCommentCmd(e),
		newIssueEditCmd(e),
		newIssueCloseCmd(e),
		newIssueReopenCmd(e),
		newIssueLabelCmd(e),
		newIssueAssignCmd(e),
		newIssueReactCmd(e),
	)
	return c
}

func repoFlag(c *cobra.Command, p *string) {
	c.Flags().StringVarP(p, "repo", "R", "", "project `RID` (default: this working copy's)")
}

// issueSession is one command's view of a project's issues. Reading or
// changing one issue works from the refs alone; only listing opens the
// index (SQLite), so a change neither pays for opening it nor waits on
// it. The index catches up with changes when it is next opened.
type issueSession struct {
	e     *env
	r     *repo.Repo
	s     *issues.Store
	ix    *issues.Index // nil until index opens it
	rules *issues.Rules // nil until rulesOf reads them
}

func (e *env) openIssues(ctx context.Context, flagRID string) (*issueSession, error) {
	r, err := e.project(ctx, flagRID)
	if err != nil {
		return nil, err
	}
	h, err := e.home()
	if err != nil {
		return nil, err
	}
	return &issueSession{e: e, r: r, s: issues.NewCachedStore(r, h)}, nil
}

// index opens the project's issue index, brought up to date with the
// refs, showing progress when that takes a while.
func (is *issueSession) index(ctx context.Context) (*issues.Index, error) {
	if is.ix != nil {
		return is.ix, nil
	}
	h, err := is.e.home()
	if err != nil {
		return nil, err
	}
	line := is.e.progress(200 * time.Millisecond)
	var opts []issues.IndexOption
	if line.w != nil {
		opts = append(opts, issues.WithProgress(func(done, total int) {
			line.set(fmt.Sprintf("Indexing issues… %d/%d", done, total))
		}))
	}
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(h, is.r.RID), is.s, opts...)
	line.clear()
	if err != nil {
		return nil, fmt.Errorf("issue index: %w", err)
	}
	is.ix = ix
	return ix, nil
}

func (is *issueSession) Close() error {
	if is.ix == nil {
		return nil
	}
	return is.ix.Close()
}

// resolve returns the full ID of the issue prefix names, helped by the
// project's list of issue IDs in the home's cache.
func (is *issueSession) resolve(prefix string) (string, error) {
	return is.s.Resolve(issues.IssueType, prefix)
}

// rulesOf returns who may triage and see issues, from the project's
// identity.
func (is *issueSession) rulesOf(ctx context.Context) (issues.Rules, error) {
	if is.rules == nil {
		r, err := is.s.Rules(ctx)
		if err != nil {
			return issues.Rules{}, err
		}
		is.rules = &r
	}
	return *is.rules, nil
}

// load resolves prefix and materializes the issue from the git data.
func (is *issueSession) load(ctx context.Context, prefix string) (*issues.Issue, *issues.Object, issues.Rules, error) {
	id, err := is.resolve(prefix)
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	rules, err := is.rulesOf(ctx)
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	iss, obj, err := is.s.Issue(ctx, id, rules)
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	return iss, obj, rules, nil
}

// change writes one change to the issue prefix names, after checking that
// the user may make it, and returns the change's oid. The issue is
// materialized for check and, when need is set, for build; otherwise
// build gets nil, and the change is written on the issue's verified heads
// without reading the project's identity or decoding its actions (a
// plain comment needs neither).
func (is *issueSession) change(ctx context.Context, prefix string, need bool, check func(me protocol.NID, iss *issues.Issue, rules issues.Rules) error, build func(iss *issues.Issue) ([]issues.Action, error)) (string, error) {
	key, err := is.e.key()
	if err != nil {
		return "", err
	}
	var (
		iss   *issues.Issue
		obj   *issues.Object
		rules issues.Rules
	)
	if need || check != nil {
		iss, obj, rules, err = is.load(ctx, prefix)
	} else {
		var id string
		if id, err = is.resolve(prefix); err == nil {
			obj, err = is.s.Load(ctx, issues.IssueType, id)
		}
	}
	if err != nil {
		return "", err
	}
	if check != nil {
		if err := check(key.NID(), iss, rules); err != nil {
			return "", err
		}
	}
	acts, err := build(iss)
	if err != nil {
		return "", err
	}
	oid, err := is.s.UpdateIssue(ctx, key, is.e.now(), obj, acts...)
	if err != nil {
		return "", usageIfInvalid(err)
	}
	is.e.announceChange(ctx, is.r)
	return oid, nil
}

// announceChange is called after every local change to a collaborative
// object: a running node is asked to announce the project's new signed
// refs, and one line says where it went (announceLine); with no node the
// change waits for the next sync.
func (e *env) announceChange(ctx context.Context, r *repo.Repo) {
	announceLine(ctx, e, r.RID, "saved")
}

func usageIfInvalid(err error) error {
	if errors.Is(err, issues.ErrInvalid) {
		return &UsageError{Err: err}
	}
	return err
}

// mayTriage is the check for title, state, label and assignee changes.
func mayTriage(what string) func(protocol.NID, *issues.Issue, issues.Rules) error {
	return func(me protocol.NID, iss *issues.Issue, rules issues.Rules) error {
		if !rules.CanTriage(me, iss.Author) {
			return fmt.Errorf("issue %.7s: only its author or a delegate may %s it", iss.ID, what)
		}
		return nil
	}
}

// bodyInput is --body / --body-file, or the editor.
type bodyInput struct {
	Body     string
	BodyFile string
	set      bool
}

func (b *bodyInput) flags(c *cobra.Command, what string) {
	c.Flags().StringVarP(&b.Body, "body", "b", "", what+" (markdown)")
	c.Flags().StringVarP(&b.BodyFile, "body-file", "F", "", "read the "+what+" from `FILE` (- for stdin)")
}

// read returns the body from the flags, or from $EDITOR when neither flag
// was given and stdin is a terminal. ok is false when there is none.
func (b *bodyInput) read(ctx context.Context, c *cobra.Command, e *env) (body string, ok bool, err error) {
	f := c.Flags()
	switch {
	case f.Changed("body") && f.Changed("body-file"):
		return "", false, usagef("give --body or --body-file, not both")
	case f.Changed("body"):
		return b.Body, true, nil
	case f.Changed("body-file"):
		var data []byte
		if b.BodyFile == "-" {
			data, err = io.ReadAll(io.LimitReader(e.io.In, issues.MaxBody+1))
		} else {
			data, err = os.ReadFile(b.BodyFile)
		}
		if err != nil {
			return "", false, fmt.Errorf("read body: %w", err)
		}
		return string(data), true, nil
	case e.io.InTTY:
		s, err := e.editor(ctx)
		return s, err == nil, err
	}
	return "", false, nil
}

// editor opens $VISUAL or $EDITOR on an empty file and returns what was
// written, exactly (markdown headings are not comments).
func (e *env) editor(ctx context.Context) (string, error) {
	ed := e.getenv("VISUAL")
	if ed == "" {
		ed = e.getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	f, err := os.CreateTemp("", "grove-issue-*.md")
	if err != nil {
		return "", fmt.Errorf("editor: %w", err)
	}
	f.Close()
	defer os.Remove(f.Name())
	c := exec.CommandContext(ctx, "sh", "-c", ed+` "$1"`, "sh", f.Name())
	c.Stdin, c.Stdout, c.Stderr = e.io.In, e.io.Out, e.io.Err
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("editor %s: %w", ed, err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return "", fmt.Errorf("editor: %w", err)
	}
	return string(b), nil
}

func parseNIDs(flag string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		n, err := protocol.ParseNID(s)
		if err != nil {
			return nil, usagef("--%s: %v", flag, err)
		}
		out = append(out, n.String())
	}
	return out, nil
}

func checkLabels(flag string, in []string) error {
	for _, l := range in {
		if !issues.ValidLabel(l) {
			return usagef("--%s %q: a label is 1 to %d characters, with no commas, control characters or outer spaces", flag, l, issues.MaxLabel)
		}
	}
	return nil
}

// --- new

type issueNewOptions struct {
	Repo   string
	Title  string
	Body   bodyInput
	Labels []string
	Assign []string
	JSON   bool
}

func newIssueNewCmd(e *env) *cobra.Command {
	o := &issueNewOptions{}
	c := &cobra.Command{
		Use:   "new --title T [--body B | --body-file F]",
		Short: "File an issue; prints its ID",
		Long: `File an issue in your namespace, signed by you. Prints the new issue's ID, or
the issue with --json. With neither --body nor --body-file on a terminal,
$EDITOR opens for the body.`,
		Example: `  grove issue new --title "Crash on start" --body "Steps: ..." --label bug
  grove issue new -R RID --title "Docs" --body-file notes.md`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return issueNewRun(c.Context(), c, e, o) },
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.Title, "title", "t", "", "title (required)")
	o.Body.flags(c, "body")
	stringsVarP(c.Flags(), &o.Labels, "label", "l", "add label `L` (repeatable)")
	stringsVarP(c.Flags(), &o.Assign, "assign", "a", "assign `NID` (repeatable)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the created issue as JSON")
	return c
}

func issueNewRun(ctx context.Context, c *cobra.Command, e *env, o *issueNewOptions) error {
	if !c.Flags().Changed("title") {
		return usagef("--title is required")
	}
	if !issues.ValidTitle(o.Title) {
		return usagef("--title: 1 to %d characters on one line", issues.MaxTitle)
	}
	if err := checkLabels("label", o.Labels); err != nil {
		return err
	}
	assign, err := parseNIDs("assign", o.Assign)
	if err != nil {
		return err
	}
	is, err := e.openIssues(ctx, o.Repo)
	if err != nil {
		return err
	}
	defer is.Close()
	key, err := e.key()
	if err != nil {
		return err
	}
	body, _, err := o.Body.read(ctx, c, e)
	if err != nil {
		return err
	}
	id, err := is.s.CreateIssue(ctx, key, e.now(), issues.NewIssue{Title: o.Title, Body: body, Labels: o.Labels, Assignees: assign})
	if err != nil {
		return usageIfInvalid(err)
	}
	e.announceChange(ctx, is.r)
	if o.JSON {
		rules, err := is.rulesOf(ctx)
		if err != nil {
			return err
		}
		iss, _, err := is.s.Issue(ctx, id, rules)
		if err != nil {
			return err
		}
		return writeJSON(e.io.Out, iss)
	}
	fmt.Fprintln(e.io.Out, id)
	return nil
}

// --- list

type issueListOptions struct {
	Repo   string
	State  string
	Label  string
	Author string
	Search string
	JSON   bool
}

func newIssueListCmd(e *env) *cobra.Command {
	o := &issueListOptions{}
	c := &cobra.Command{
		Use:   "list",
		Short: "List issues, newest first",
		Example: `  grove issue list
  grove issue list --state all --label bug --json
  grove issue list --search "crash start"`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return issueListRun(c.Context(), e, o) },
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.State, "state", "s", "open", "open, closed or all")
	c.Flags().StringVarP(&o.Label, "label", "l", "", "only issues with label `L`")
	c.Flags().StringVarP(&o.Author, "author", "A", "", "only issues filed by `NID`")
	c.Flags().StringVarP(&o.Search, "search", "S", "", "only issues whose title, body or comments hold every word of `Q`")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func issueListRun(ctx context.Context, e *env, o *issueListOptions) error {
	f := issues.Filter{Label: o.Label, Search: o.Search}
	switch o.State {
	case issues.StateOpen, issues.StateClosed:
		f.State = o.State
	case "all":
	default:
		return usagef("--state must be open, closed or all")
	}
	if o.Author != "" {
		n, err := protocol.ParseNID(o.Author)
		if err != nil {
			return usagef("--author: %v", err)
		}
		f.Author = n.String()
	}
	is, err := e.openIssues(ctx, o.Repo)
	if err != nil {
		return err
	}
	// The index is closed, and its lock let go, before anything is
	// printed: output into a pipe that nobody reads (grove issue list |
	// less) must not hold up every other issue command.
	each := func(fn func(n int, s *issues.Summary) error) error {
		ix, err := is.index(ctx)
		if err != nil {
			return err
		}
		err = ix.Each(ctx, f, fn)
		if cerr := is.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if o.JSON {
		// Collected first, so that the index is closed before anything
		// is written; then encoded one by one (jsonList).
		list := []issues.Summary{}
		err := each(func(n int, s *issues.Summary) error {
			c := *s
			c.Labels = append([]string{}, s.Labels...)
			c.Assignees = append([]string{}, s.Assignees...)
			list = append(list, c)
			return nil
		})
		if err != nil {
			return err
		}
		out := newJSONList(e.io.Out)
		for i := range list {
			if err := out.add(&list[i]); err != nil {
				return err
			}
		}
		return out.close()
	}
	// Rows are made as summaries are handed out, into one backing array
	// of cells: a 10,000-issue list then allocates little besides.
	var rows [][]string
	var cells []string
	short := make(map[string]string)
	dates := make(map[int]string)
	err = each(func(n int, s *issues.Summary) error {
		if rows == nil {
			rows, cells = make([][]string, 0, n), make([]string, 0, 6*n)
		}
		if _, ok := short[s.Author]; !ok {
			short[s.Author] = shortNID(s.Author)
		}
		state := s.State
		if s.Reason != "" {
			state += " (" + s.Reason + ")"
		}
		y, m, d := s.Created.Date()
		day := y*10000 + int(m)*100 + d
		if _, ok := dates[day]; !ok {
			dates[day] = s.Created.Format("2006-01-02")
		}
		c := len(cells)
		cells = append(cells, s.ID[:7], state, s.Title, strings.Join(s.Labels, ","), short[s.Author], dates[day])
		rows = append(rows, cells[c:len(cells):len(cells)])
		return nil
	})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		if e.io.ErrTTY {
			fmt.Fprintln(e.io.Err, "No issues match.")
		}
		return nil
	}
	return table(e.io.Out, rows)
}

func shortNID(s string) string {
	if n, err := protocol.ParseNID(s); err == nil {
		return n.Short()
	}
	return s
}

// --- show

type issueShowOptions struct {
	Repo string
	JSON bool
}

func newIssueShowCmd(e *env) *cobra.Command {
	o := &issueShowOptions{}
	c := &cobra.Command{
		Use:     "show ID",
		Short:   "Show an issue with its comments",
		Example: "  grove issue show 3f2a1b0\n  grove issue show 3f2a --json",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return issueShowRun(c.Context(), e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func issueShowRun(ctx context.Context, e *env, o *issueShowOptions, prefix string) error {
	is, err := e.openIssues(ctx, o.Repo)
	if err != nil {
		return err
	}
	defer is.Close()
	iss, _, _, err := is.load(ctx, prefix)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(e.io.Out, iss)
	}
	w := e.io.Out
	state := iss.State
	if iss.Reason != "" {
		state += " (" + iss.Reason + ")"
	}
	fmt.Fprintf(w, "%s\n%s · opened by %s on %s · %d comment(s)\n", iss.Title, state, shortNID(iss.Author), iss.Created.Format("2006-01-02 15:04"), len(iss.Comments))
	if len(iss.Labels) > 0 {
		fmt.Fprintf(w, "labels: %s\n", strings.Join(iss.Labels, ", "))
	}
	if len(iss.Assignees) > 0 {
		short := make([]string, len(iss.Assignees))
		for i, a := range iss.Assignees {
			short[i] = shortNID(a)
		}
		fmt.Fprintf(w, "assignees: %s\n", strings.Join(short, ", "))
	}
	fmt.Fprintf(w, "id: %s\n", iss.ID)
	if r := reactionsLine(iss.Reactions); r != "" {
		fmt.Fprintln(w, r)
	}
	if iss.Body != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(iss.Body, "\n"))
	}
	depth := make(map[string]int, len(iss.Comments))
	for _, c := range iss.Comments {
		d := 0
		if c.ReplyTo != "" {
			d = depth[c.ReplyTo] + 1
		}
		depth[c.ID] = d
		ind := strings.Repeat("    ", min(d, 8))
		what := "comment " + c.ID[:7]
		if c.ReplyTo != "" {
			what = "reply " + c.ID[:7] + " to " + c.ReplyTo[:7]
		}
		edited := ""
		if c.Edited != nil {
			edited = " (edited)"
		}
		fmt.Fprintf(w, "\n%s── %s by %s on %s%s\n", ind, what, shortNID(c.Author), c.Created.Format("2006-01-02 15:04"), edited)
		for _, line := range strings.Split(strings.TrimRight(c.Body, "\n"), "\n") {
			fmt.Fprintf(w, "%s%s\n", ind, line)
		}
		if r := reactionsLine(c.Reactions); r != "" {
			fmt.Fprintf(w, "%s%s\n", ind, r)
		}
	}
	return nil
}

func reactionsLine(rs []issues.Reaction) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %d", r.Emoji, len(r.Authors)))
	}
	return strings.Join(parts, "  ")
}

// findComment resolves a comment ID prefix within an issue.
func findComment(iss *issues.Issue, prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	var found []string
	for _, c := range iss.Comments {
		if strings.HasPrefix(c.ID, prefix) {
			found = append(found, c.ID)
		}
	}
	switch {
	case prefix == "" || len(found) == 0:
		return "", fmt.Errorf("comment %s: %w in issue %.7s", prefix, issues.ErrNotFound, iss.ID)
	case len(found) > 1:
		return "", fmt.Errorf("comment %w", &issues.AmbiguousError{Prefix: prefix, Matches: len(found)})
	}
	return found[0], nil
}

// --- comment

type issueCommentOptions struct {
	Repo    string
	Body    bodyInput
	ReplyTo string
}

func newIssueCommentCmd(e *env) *cobra.Command {
	o := &issueCommentOptions{}
	c := &cobra.Command{
		Use:   "comment ID (--body B | --body-file F) [--reply-to COMMENT_ID]",
		Short: "Comment on an issue, or reply to a comment; prints the comment's ID",
		Example: `  grove issue comment 3f2a --body "Fixed in main"
  grove issue comment 3f2a --reply-to 9c1d --body-file -`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return issueCommentRun(c.Context(), c, e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	o.Body.flags(c, "comment")
	c.Flags().StringVar(&o.ReplyTo, "reply-to", "", "reply to comment `COMMENT_ID` (a prefix is enough)")
	return c
}

func issueCommentRun(ctx context.Context, c *cobra.Command, e *env, o *issueCommentOptions, prefix string) error {
	is, err := e.openIssues(ctx, o.Repo)
	if err != nil {
		return err
	}
	defer is.Close()
	body, ok, err := o.Body.read(ctx, c, e)
	if err != nil {
		return err
	}
	if !ok {
		return usagef("give the comment with --body or --body-file")
	}
	if strings.TrimSpace(body) == "" {
		return usagef("empty comment: nothing to send")
	}
	oid, err := is.change(ctx, prefix, o.ReplyTo != "", nil, func(iss *issues.Issue) ([]issues.Action, error) {
		a := issues.Action{Type: issues.ActComment, Body: body}
		if o.ReplyTo != "" {
			id, err := findComment(iss, o.ReplyTo)
			if err != nil {
				return nil, err
			}
			a.ReplyTo = id
		}
		return []issues.Action{a}, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.io.Out, oid)
	return nil
}

// --- edit

type issueEditOptions struct {
	Repo  string
	Title string
	Body  bodyInput
}

func newIssueEditCmd(e *env) *cobra.Command {
	o := &issueEditOptions{}
	c := &cobra.Command{
		Use:   "edit ID [--title T] [--body B | --body-file F]",
		Short: "Change an issue's title (author or delegates) or body (author)",
		Example: `  grove issue edit 3f2a --title "Crash on start with empty config"
  grove issue edit 3f2a --body-file new.md`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return issueEditRun(c.Context(), c, e, o, args[0])
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVarP(&o.Title, "title", "t", "", "new title")
	o.Body.flags(c, "body")
	return c
}

func issueEditRun(ctx context.Context, c *cobra.Command, e *env, o *issueEditOptions, prefix string) error {
	titled := c.Flags().Changed("title")
	if titled && !issues.ValidTitle(o.Title) {
		return usagef("--title: 1 to %d characters on one line", issues.MaxTitle)
	}
	is, err := e.openIssues(ctx, o.Repo)
	if err != nil {
		return err
	}
	defer is.Close()
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
	check := func(me protocol.NID, iss *issues.Issue, rules issues.Rules) error {
		if titled {
			if err := mayTriage("retitle")(me, iss, rules); err != nil {
				return err
			}
		}
		if bodied && me.String() != iss.Author {
			return fmt.Errorf("issue %.7s: only its author may edit its body", iss.ID)
		}
		return nil
	}
	_, err = is.change(ctx, prefix, true, check, func(*issues.Issue) ([]issues.Action, error) {
		var acts []issues.Action
		if titled {
			acts = append(acts, issues.Action{Type: issues.ActTitle, Title: o.Title})
		}
		if bodied {
			acts = append(acts, issues.Action{Type: issues.ActBody, Body: body})
		}
		return acts, nil
	})
	return err
}

// --- close, reopen

type issueStateOptions struct {
	Repo   string
	Reason string
}

func newIssueCloseCmd(e *env) *cobra.Command {
	o := &issueStateOptions{}
	c := &cobra.Command{
		Use:     "close ID [--reason solved|other]",
		Short:   "Close an issue (author or delegates)",
		Example: "  grove issue close 3f2a\n  grove issue close 3f2a --reason other",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Reason != issues.ReasonSolved && o.Reason != issues.ReasonOther {
				return usagef("--reason must be solved or other")
			}
			return issueStateRun(c.Context(), e, o.Repo, args[0], "close", issues.Action{Type: issues.ActState, State: issues.StateClosed, Reason: o.Reason})
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVar(&o.Reason, "reason", issues.ReasonSolved, "solved or other")
	return c
}

func newIssueReopenCmd(e *env) *cobra.Command {
	o := &issueStateOptions{}
	c := &cobra.Command{
		Use:     "reopen ID",
		Short:   "Reopen a closed issue (author or delegates)",
		Example: "  grove issue reopen 3f2a",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return issueStateRun(c.Context(), e, o.Repo, args[0], "reopen", issues.Action{Type: issues.ActState, State: issues.StateOpen})
		},
	}
	repoFlag(c, &o.Repo)
	return c
}

func issueStateRun(ctx context.Context, e *env, rid, prefix, verb string, a issues.Action) error {
	is, err := e.openIssues(ctx, rid)
	if err != nil {
		return err
	}
	defer is.Close()
	_, err = is.change(ctx, prefix, true, mayTriage(verb), func(*issues.Issue) ([]issues.Action, error) {
		return []issues.Action{a}, nil
	})
	return err
}

// --- label, assign

// setOptions are the flags of commands that add to and remove from a set
// (labels, assignees) of an issue or a patch.
type setOptions struct {
	Repo   string
	Add    []string
	Remove []string
}

func newIssueLabelCmd(e *env) *cobra.Command {
	return newLabelCmd("grove issue label 3f2a --add bug --add ui --remove triage",
		func(ctx context.Context, rid, id string, add, remove []string) error {
			return issueStateRun(ctx, e, rid, id, "label", issues.Action{Type: issues.ActLabel, Add: add, Remove: remove})
		})
}

// newLabelCmd is the label command of issues and patches: flags, checks
// and usage are the same; apply changes the object.
func newLabelCmd(example string, apply func(ctx context.Context, rid, id string, add, remove []string) error) *cobra.Command {
	o := &setOptions{}
	c := &cobra.Command{
		Use:     "label ID [--add L]... [--remove L]...",
		Short:   "Add or remove labels (author or delegates)",
		Example: "  " + example,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(o.Add)+len(o.Remove) == 0 {
				return usagef("nothing to change: give --add or --remove")
			}
			if err := checkLabels("add", o.Add); err != nil {
				return err
			}
			return apply(c.Context(), o.Repo, args[0], o.Add, o.Remove)
		},
	}
	repoFlag(c, &o.Repo)
	stringsVarP(c.Flags(), &o.Add, "add", "", "add label `L` (repeatable)")
	stringsVarP(c.Flags(), &o.Remove, "remove", "", "remove label `L` (repeatable)")
	return c
}

func newIssueAssignCmd(e *env) *cobra.Command {
	o := &setOptions{}
	c := &cobra.Command{
		Use:     "assign ID [--add NID]... [--remove NID]...",
		Short:   "Add or remove assignees (author or delegates)",
		Example: "  grove issue assign 3f2a --add 12D3KooW...",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(o.Add)+len(o.Remove) == 0 {
				return usagef("nothing to change: give --add or --remove")
			}
			add, err := parseNIDs("add", o.Add)
			if err != nil {
				return err
			}
			rm, err := parseNIDs("remove", o.Remove)
			if err != nil {
				return err
			}
			return issueStateRun(c.Context(), e, o.Repo, args[0], "assign", issues.Action{Type: issues.ActAssign, Add: add, Remove: rm})
		},
	}
	repoFlag(c, &o.Repo)
	stringsVarP(c.Flags(), &o.Add, "add", "", "assign `NID` (repeatable)")
	stringsVarP(c.Flags(), &o.Remove, "remove", "", "unassign `NID` (repeatable)")
	return c
}

// --- react

type issueReactOptions struct {
	Repo    string
	Comment string
	Undo    bool
}

func newIssueReactCmd(e *env) *cobra.Command {
	o := &issueReactOptions{}
	c := &cobra.Command{
		Use:     "react ID [--comment COMMENT_ID] EMOJI",
		Short:   "React to an issue or one of its comments",
		Example: "  grove issue react 3f2a 👍\n  grove issue react 3f2a --comment 9c1d 🎉\n  grove issue react 3f2a --undo 👍",
		Args:    exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			emoji := args[1]
			if !issues.ValidEmoji(emoji) {
				return usagef("reaction %q: 1 to %d bytes with no spaces or commas", emoji, issues.MaxEmoji)
			}
			is, err := e.openIssues(c.Context(), o.Repo)
			if err != nil {
				return err
			}
			defer is.Close()
			_, err = is.change(c.Context(), args[0], true, nil, func(iss *issues.Issue) ([]issues.Action, error) {
				a := issues.Action{Type: issues.ActReact, Emoji: emoji, Undo: o.Undo}
				if o.Comment != "" {
					id, err := findComment(iss, o.Comment)
					if err != nil {
						return nil, err
					}
					a.Comment = id
				}
				return []issues.Action{a}, nil
			})
			return err
		},
	}
	repoFlag(c, &o.Repo)
	c.Flags().StringVar(&o.Comment, "comment", "", "react to comment `COMMENT_ID` instead of the issue")
	c.Flags().BoolVar(&o.Undo, "undo", false, "take the reaction back")
	return c
}
