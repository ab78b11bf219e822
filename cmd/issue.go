package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
)

// issueKind is issues as the commands see them: what every kind offers
// (cob.go), and new, list (through the index) and show.
var issueKind = &cobKind{
	Kind:    issues.IssueKind,
	thread:  threadOf(issues.Materialize),
	states:  []string{issues.StateOpen, issues.StateClosed},
	lazy:    true,
	example: "3f2a", label: "bug",
}

func newIssueCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "issue",
		Short: "File, discuss and triage issues, offline",
		Long: `Issues are signed collaborative objects stored in the project's git storage:
they work with no node running and no connection, and every peer that holds
the same changes shows the same issue. Any unique prefix of an issue or
comment ID is accepted.`,
	}
	c.AddCommand(newIssueNewCmd(e), newIssueListCmd(e), newIssueShowCmd(e))
	c.AddCommand(sharedCmds(e, issueKind)...)
	return c
}

// --- new

type issueNewOptions struct {
	on
	Title  optString
	Body   bodyInput
	Labels []string
	Assign []string
	JSON   bool
}

func newIssueNewCmd(e *env) *cobra.Command {
	o := &issueNewOptions{}
	c := o.project(e, doc("new --title T [--body B | --body-file F]", "File an issue; prints its ID",
		`File an issue in your namespace, signed by you. Prints the new issue's ID, or
the issue with --json. With neither --body nor --body-file on a terminal,
$EDITOR opens one buffer for the title (the first line, --title's when
given) and the body (below it); an empty title aborts. Without a terminal
--title is required.`,
		`  grove issue new --title "Crash on start" --body "Steps: ..." --label bug
  grove issue new -R RID --title "Docs" --body-file notes.md`,
	), func(ctx context.Context) error { return issueNewRun(ctx, o) })
	c.Flags().VarP(&o.Title, "title", "t", "title (required without a terminal)")
	o.Body.flags(c, "body")
	stringsVarP(c.Flags(), &o.Labels, "label", "l", "add label `L` (repeatable)")
	stringsVarP(c.Flags(), &o.Assign, "assign", "a", "assign `NID` (repeatable)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the created issue as JSON")
	return c
}

func issueNewRun(ctx context.Context, o *issueNewOptions) error {
	edit := o.IO.InTTY && !o.Body.given()
	if !o.Title.Given && !edit {
		return usagef("--title is required (on a terminal, leave out --title and --body to write both in $EDITOR)")
	}
	if err := checkTitle(o.Title); err != nil {
		return err
	}
	if err := checkLabels("label", o.Labels); err != nil {
		return err
	}
	assign, err := parseNIDs("assign", o.Assign)
	if err != nil {
		return err
	}
	objs, err := openObjects(ctx, &o.deps, issueKind)
	if err != nil {
		return err
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	title, body := o.Title.Value, ""
	if edit {
		title, body, err = editTitled(ctx, &o.deps, "issue", title, "")
	} else {
		body, _, err = o.Body.read(ctx, &o.deps)
	}
	if err != nil {
		return err
	}
	id, err := objs.s.CreateIssue(ctx, key, o.Now(), issues.NewIssue{Title: title, Body: body, Labels: o.Labels, Assignees: assign})
	if err != nil {
		return usageIfInvalid(err)
	}
	o.Announce(ctx, objs.r.RID)
	if o.JSON {
		rules, err := objs.rulesOf(ctx)
		if err != nil {
			return err
		}
		iss, _, err := objs.s.Issue(ctx, id, rules)
		if err != nil {
			return err
		}
		return writeJSON(o.IO.Out, iss)
	}
	fmt.Fprintln(o.IO.Out, id)
	return nil
}

// --- list

type issueListOptions struct {
	on
	State, Label, Author, Search string
	JSON                         bool
}

func newIssueListCmd(e *env) *cobra.Command {
	o := &issueListOptions{}
	c := o.project(e, doc("list", "List issues, newest first", "",
		`  grove issue list
  grove issue list --state all --label bug --json
  grove issue list --search "crash start"`,
	), func(ctx context.Context) error { return issueListRun(ctx, o) })
	f := c.Flags()
	f.StringVarP(&o.State, "state", "s", "open", "open, closed or all")
	f.StringVarP(&o.Label, "label", "l", "", "only issues with label `L`")
	f.StringVarP(&o.Author, "author", "A", "", "only issues filed by `NID`")
	f.StringVarP(&o.Search, "search", "S", "", "only issues whose title, body or comments hold every word of `Q`")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func issueListRun(ctx context.Context, o *issueListOptions) error {
	state, err := listState(issueKind, o.State)
	if err != nil {
		return err
	}
	f := issues.Filter{State: state, Label: o.Label, Search: o.Search}
	if o.Author != "" {
		n, err := protocol.ParseNID(o.Author)
		if err != nil {
			return usagef("--author: %v", err)
		}
		f.Author = n.String()
	}
	objs, err := openObjects(ctx, &o.deps, issueKind)
	if err != nil {
		return err
	}
	// The index is closed, and its lock let go, before anything is
	// printed: output into a pipe that nobody reads (grove issue list |
	// less) must not hold up every other issue command. The listing
	// holds the encoded rows; each summary is decoded as it is printed.
	l, err := listIssues(ctx, &o.deps, objs, f)
	if err != nil {
		return err
	}
	if l.Len() == 0 {
		return writeList[any](o.IO, "issues", o.JSON, nil, nil, nil)
	}
	names := objs.names(ctx) // read by listIssues
	if o.JSON {
		// Every row is decoded once before the first is printed, as the
		// table's first pass does: a damaged index fails the list before
		// any of it is written, not halfway through the JSON.
		if err := l.Each(func(*issues.Summary) error { return nil }); err != nil {
			return err
		}
		out := newJSONList(o.IO.Out)
		err := l.Each(func(s *issues.Summary) error {
			return out.add(&summaryJSON{Summary: s, AuthorName: nameIfAny(names, s.Author), AuthorPerson: personIfAny(names, s.Author)})
		})
		if err != nil {
			return err
		}
		return out.close()
	}
	return issueTable(o.IO, l, names)
}

// issueTable prints the issues of l as a table, under a header row when
// stdout is a terminal.
func issueTable(io IO, l *issues.Listing, names *cli.Names) error {
	c := newListCells(names)
	t := newStreamTable(io.Out, 6)
	for t.pass() {
		if io.OutTTY {
			for _, h := range []string{"ID", "STATE", "TITLE", "LABELS", "AUTHOR", "CREATED"} {
				t.cell(h)
			}
			t.end()
		}
		err := l.Each(func(s *issues.Summary) error {
			t.cell(s.ID[:7])
			t.cell(c.state(s))
			t.cell(s.Title)
			t.cellJoin(s.Labels, ",")
			t.cell(c.author(s))
			t.cell(c.day(s))
			t.end()
			return nil
		})
		if err != nil {
			return err
		}
	}
	return t.flush()
}

// listIssues returns the issues f matches, from the project's issue
// index, brought up to date with the refs first (showing progress when
// that takes a while), and closes the index. Each issue the index leaves
// out (it does not load: over a limit, corrupt) gets a line on stderr.
func listIssues(ctx context.Context, d *deps, objs *objects, f issues.Filter) (*issues.Listing, error) {
	var l *issues.Listing
	var skipped []issues.Skipped
	err := withIndex(ctx, d, objs, func(ix *issues.Index) error {
		objs.namesIn(ctx, ix)
		var err error
		if l, err = ix.Listing(ctx, f); err != nil {
			return err
		}
		skipped, err = ix.Skipped(ctx, issues.IssueType)
		return err
	})
	warnSkipped(d.IO, skipped) // with the index let go, as the list is
	return l, err
}

// backlinks returns the references other objects make to object id, from
// the project's index.
func backlinks(ctx context.Context, d *deps, objs *objects, id string) ([]issues.Backlink, error) {
	var out []issues.Backlink
	err := withIndex(ctx, d, objs, func(ix *issues.Index) (err error) {
		objs.namesIn(ctx, ix) // for what shows them
		out, err = ix.Backlinks(ctx, id)
		return err
	})
	return out, err
}

// withIndex runs fn on the project's index of issues and patches, brought
// up to date with the refs first (showing progress when that takes a
// while), and closes the index.
func withIndex(ctx context.Context, d *deps, objs *objects, fn func(ix *issues.Index) error) error {
	h, err := d.Home()
	if err != nil {
		return err
	}
	line := newProgress(d.IO, 200*time.Millisecond)
	var opts []issues.IndexOption
	if line.w != nil {
		opts = append(opts, issues.WithProgress(func(done, total int) {
			line.set(fmt.Sprintf("Indexing issues and patches… %d/%d", done, total))
		}))
	}
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(h, objs.r.RID), objs.s, opts...)
	line.clear()
	if err != nil {
		return fmt.Errorf("issue index: %w", err)
	}
	err = fn(ix)
	if cerr := ix.Close(); err == nil {
		err = cerr
	}
	return err
}

// --- show

func newIssueShowCmd(e *env) *cobra.Command {
	o := &jsonOptions{}
	return o.flags(o.object(e, doc("show ID", "Show an issue with its comments", "",
		"  grove issue show 3f2a1b0\n  grove issue show 3f2a --json",
	), func(ctx context.Context) error { return issueShowRun(ctx, o) }))
}

// shownIssue is an issue as show --json prints it: with the references
// other objects make to it.
type shownIssue struct {
	*issues.Issue
	Backlinks []issues.Backlink `json:"backlinks"`
}

func issueShowRun(ctx context.Context, o *jsonOptions) error {
	objs, err := openObjects(ctx, &o.deps, issueKind)
	if err != nil {
		return err
	}
	th, _, _, err := objs.load(ctx, o.ID)
	if err != nil {
		return err
	}
	bl, err := backlinks(ctx, &o.deps, objs, th.ID)
	if err != nil {
		return err
	}
	is := &issues.Issue{Thread: *th}
	nm := objs.names(ctx)
	if o.JSON {
		nids := append(threadNIDs(th), backlinkNIDs(bl)...)
		return writeJSON(o.IO.Out, threadJSON{shownIssue{is, bl}, nameIfAny(nm, is.Author), nm.Map(nids...), nm.Persons(nids...)})
	}
	showIssue(o.IO.Out, is, bl, nm)
	return nil
}
