package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol/termtext"
)

// How collaborative objects are printed as text: what peers wrote (titles,
// descriptions, comments, labels, reviews) reaches a terminal through this
// file and table (output.go), and JSON through writeJSON and jsonList.
// Every string of an object passes termtext on its way out: Line for what
// is shown within a line, Text for what is shown as lines.

const timeFormat = "2006-01-02 15:04"

// showThread prints th: its title, a line of state, author, date and
// facts, its labels, assignees, ID and reactions, then more (a kind's own
// lines), its description, sections (a kind's own), and its comments as a
// thread, replies under what they answer.
func showThread(w io.Writer, th *issues.Thread, nm *cli.Names, facts []string, more, sections func()) {
	head := append([]string{stateText(th), "opened by " + nm.Of(th.Author) + " on " + th.Created.Format(timeFormat)}, facts...)
	fmt.Fprintf(w, "%s\n%s\n", termtext.Line(th.Title), strings.Join(head, " · "))
	if len(th.Labels) > 0 {
		fmt.Fprintf(w, "labels: %s\n", termtext.Line(strings.Join(th.Labels, ", ")))
	}
	if len(th.Assignees) > 0 {
		short := make([]string, len(th.Assignees))
		for i, a := range th.Assignees {
			short[i] = nm.Of(a)
		}
		fmt.Fprintf(w, "assignees: %s\n", strings.Join(short, ", "))
	}
	fmt.Fprintf(w, "id: %s\n", termtext.Line(th.ID))
	if r := reactionsLine(th.Reactions); r != "" {
		fmt.Fprintln(w, r)
	}
	if more != nil {
		more()
	}
	if th.Body != "" {
		fmt.Fprintf(w, "\n%s\n", termtext.Text(strings.TrimRight(th.Body, "\n")))
	}
	if sections != nil {
		sections()
	}
	depth := make(map[string]int, len(th.Comments))
	for _, c := range th.Comments {
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
		fmt.Fprintf(w, "\n%s── %s by %s on %s%s\n", ind, what, nm.Of(c.Author), c.Created.Format(timeFormat), edited)
		for _, line := range strings.Split(termtext.Text(strings.TrimRight(c.Body, "\n")), "\n") {
			fmt.Fprintf(w, "%s%s\n", ind, line)
		}
		if r := reactionsLine(c.Reactions); r != "" {
			fmt.Fprintf(w, "%s%s\n", ind, r)
		}
	}
}

// stateText is an object's state, with its reason when it has one.
func stateText(th *issues.Thread) string {
	if th.Reason != "" {
		return termtext.Line(th.State + " (" + th.Reason + ")")
	}
	return termtext.Line(th.State)
}

func reactionsLine(rs []issues.Reaction) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %d", termtext.Line(r.Emoji), len(r.Authors)))
	}
	return strings.Join(parts, "  ")
}

// showIssue prints an issue.
func showIssue(w io.Writer, is *issues.Issue, bl []issues.Backlink, nm *cli.Names) {
	showThread(w, &is.Thread, nm, []string{fmt.Sprintf("%d comment(s)", len(is.Comments))}, func() { showLinks(w, &is.Thread, bl, nm) }, nil)
}

// showLinks prints the patch that closed th, if one did, and the
// references other objects make to it, one a line: "mentioned in patch
// 8eb1ca1 by z6Mk…, 2026-12-04: its title".
func showLinks(w io.Writer, th *issues.Thread, bl []issues.Backlink, nm *cli.Names) {
	if c := th.ClosedBy; c != nil {
		fmt.Fprintf(w, "closed by patch %s, merged by %s on %s\n", short(c.Patch), nm.Of(c.Author), c.Created.Format(timeFormat))
	}
	for _, b := range bl {
		fmt.Fprintf(w, "mentioned in %s %s by %s, %s: %s\n", b.Type, short(b.ID), nm.Of(b.Author), b.Created.Format("2006-01-02"), termtext.Line(b.Title))
	}
}

// listCells makes the cells of a listed summary that are not its own
// strings, each distinct one once: a few authors, states and days repeat
// over thousands of rows.
type listCells struct {
	names   *cli.Names
	authors map[string]string    // NID → name (cli.Names)
	states  map[[2]string]string // state, reason → "state (reason)"
	days    map[int]string       // yyyymmdd → its text

	lastNID, lastName string // the last author asked for
	lastSec           int64  // the last time asked for, and its day
	lastDay           string
}

func newListCells(names *cli.Names) *listCells {
	return &listCells{names: names, authors: map[string]string{}, states: map[[2]string]string{}, days: map[int]string{}}
}

// author is the name s's author goes by.
func (c *listCells) author(s *issues.Summary) string {
	if s.Author == c.lastNID && c.lastName != "" {
		return c.lastName // one author often files many in a row
	}
	a, ok := c.authors[s.Author]
	if !ok {
		a = c.names.Of(s.Author)
		c.authors[s.Author] = a
	}
	c.lastNID, c.lastName = s.Author, a
	return a
}

// state is s's state, with its reason when it has one.
func (c *listCells) state(s *issues.Summary) string {
	if s.Reason == "" {
		return s.State
	}
	k := [2]string{s.State, s.Reason}
	st, ok := c.states[k]
	if !ok {
		st = s.State + " (" + s.Reason + ")"
		c.states[k] = st
	}
	return st
}

// day is the day s was created.
func (c *listCells) day(s *issues.Summary) string {
	sec := s.Created.Unix()
	if sec == c.lastSec && c.lastDay != "" {
		return c.lastDay // a list is in order of creation
	}
	y, m, d := s.Created.Date()
	k := y*10000 + int(m)*100 + d
	t, ok := c.days[k]
	if !ok {
		t = s.Created.Format("2006-01-02")
		c.days[k] = t
	}
	c.lastSec, c.lastDay = sec, t
	return t
}

// showPatch prints a patch: what every kind shows, its merge, and each
// revision with its reviews.
func showPatch(w io.Writer, p *issues.Patch, bl []issues.Backlink, nm *cli.Names) {
	more := func() {
		showLinks(w, &p.Thread, bl, nm)
		if p.Merge == nil {
			return
		}
		by := ""
		if p.Merge.Author != "" {
			by = " by " + nm.Of(p.Merge.Author)
		}
		at := ""
		if p.Merge.Commit != "" {
			at = " at " + short(p.Merge.Commit)
		}
		fmt.Fprintf(w, "merged: revision %s%s%s\n", termtext.Line(short(p.Merge.Revision)), termtext.Line(at), by)
	}
	revisions := func() {
		for i, r := range p.Revisions {
			merged := ""
			if r.Merged {
				merged = " (merged)"
			}
			fmt.Fprintf(w, "\n── revision %d %s on %s%s\n", i+1, termtext.Line(short(r.ID)+": "+short(r.Base)+".."+short(r.Head)), r.Created.Format(timeFormat), merged)
			if r.Description != "" {
				fmt.Fprintf(w, "%s\n", termtext.Text(strings.TrimRight(r.Description, "\n")))
			}
			for _, rv := range p.Reviews {
				if rv.Revision == r.ID {
					showReview(w, &rv, nm)
				}
			}
		}
	}
	showThread(w, &p.Thread, nm, []string{plural(len(p.Revisions), "revision"), verdictSummary(p)}, more, revisions)
}

func showReview(w io.Writer, rv *issues.Review, nm *cli.Names) {
	fmt.Fprintf(w, "   review %s by %s: %s on %s\n", termtext.Line(short(rv.ID)), nm.Of(rv.Author), termtext.Line(rv.Verdict), rv.Created.Format(timeFormat))
	for _, line := range nonEmptyLines(rv.Body) {
		fmt.Fprintf(w, "     %s\n", line)
	}
	for _, lc := range rv.Comments {
		where := fmt.Sprintf("%s:%d", termtext.Line(lc.Path), lc.Line)
		if lc.EndLine > lc.Line {
			where += fmt.Sprintf("-%d", lc.EndLine)
		}
		fmt.Fprintf(w, "     %s\n", where)
		for _, line := range nonEmptyLines(lc.Body) {
			fmt.Fprintf(w, "       %s\n", line)
		}
	}
}

// short is an ID's first 7 bytes, as git shows an oid.
func short(id string) string { return id[:min(len(id), 7)] }

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
	return verdictText(acc, rej)
}

// patchSummaryRow is a listed patch's row (table makes its cells safe),
// with its author shown as author.
func patchSummaryRow(p *issues.PatchSummary, author string) []string {
	return []string{p.ID[:7], p.State, p.Title, fmt.Sprintf("r%d", p.Revisions), verdictText(p.Accepted, p.Rejected), author, p.Created.Format("2006-01-02")}
}

// verdictText says acc accepts and rej rejects in words.
func verdictText(acc, rej int) string {
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

// plural returns "1 revision" or "n revisions" ("n patches").
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ch") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// nonEmptyLines splits s, made safe (termtext.Text), into lines, without
// the empty ones at its end.
func nonEmptyLines(s string) []string {
	s = termtext.Text(strings.TrimRight(s, "\n"))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// warnSkipped says on stderr, one line each, which objects a listing left
// out because they do not load (over a limit, corrupt): the rest of the
// project is listed as ever.
func warnSkipped(io IO, skipped []issues.Skipped) {
	for _, sk := range skipped {
		fmt.Fprintf(io.Err, "grove: skipped %s\n", termtext.Line(sk.String()))
	}
}

// writeList prints what a list command found: with asJSON the items as a
// JSON array, else rows as a table, under a header row when stdout is a
// terminal (piped, the rows alone, for scripts), or, when there are none
// and stderr is a terminal, a line saying that no plural match.
func writeList[T any](io IO, plural string, asJSON bool, items []T, header []string, rows [][]string) error {
	if asJSON {
		out := newJSONList(io.Out)
		for i := range items {
			if err := out.add(&items[i]); err != nil {
				return err
			}
		}
		return out.close()
	}
	if len(rows) == 0 {
		if io.ErrTTY {
			fmt.Fprintf(io.Err, "No %s match.\n", plural)
		}
		return nil
	}
	return headedTable(io, header, rows)
}

// In JSON, the names of the people an object names go next to their
// NIDs, which stay: authorName beside author, and names, every NID of the
// object that has a name (cli.Names.Of), by NID. Names are for reading:
// scripts that decide anything go by the NIDs. A NID that is a device of
// a person has the person's ID beside it too: authorPerson, and persons
// (NID → person ID), so that a script can tell one author on two devices.

// summaryJSON is an issue list's item.
type summaryJSON struct {
	*issues.Summary
	AuthorName   string `json:"authorName,omitempty"`
	AuthorPerson string `json:"authorPerson,omitempty"`
}

// threadJSON is an issue's JSON in show.
type threadJSON struct {
	shownIssue
	AuthorName string            `json:"authorName,omitempty"`
	Names      map[string]string `json:"names"`
	Persons    map[string]string `json:"persons"`
}

// personIfAny is the ID of the person nid is a device of, or "".
func personIfAny(nm *cli.Names, nid string) string {
	if p := nm.Person(nid); p != nid {
		return p
	}
	return ""
}

// patchJSON is a patch's names for its JSON; nids are the NIDs it names.
type patchJSON struct {
	*issues.Patch
	AuthorName string            `json:"authorName,omitempty"`
	Names      map[string]string `json:"names"`
	nids       []string
}

// withNames adds authorName and names to doc, the JSON object of a patch
// as the index keeps it, after its other fields.
//
// Only the fields that name someone are decoded (patchNIDs), into a patch
// whose other fields stay empty: decoding whole documents (bodies, times,
// links) was most of a 10,000-patch list --json.
func withNames(doc json.RawMessage, nm *cli.Names) (json.RawMessage, error) {
	var n patchNIDs
	if err := json.Unmarshal(doc, &n); err != nil {
		return nil, fmt.Errorf("patch in the index: %w", err)
	}
	p := n.patch()
	pj := newPatchJSON(p, nm)
	// commentCount as issue list has it.
	extra, err := json.Marshal(struct {
		CommentCount int               `json:"commentCount"`
		AuthorName   string            `json:"authorName,omitempty"`
		AuthorPerson string            `json:"authorPerson,omitempty"`
		Names        map[string]string `json:"names"`
		Persons      map[string]string `json:"persons"`
	}{len(p.Comments), pj.AuthorName, personIfAny(nm, p.Author), pj.Names, nm.Persons(pj.nids...)})
	if err != nil {
		return nil, err
	}
	d := bytes.TrimSpace(doc)
	if len(d) < 2 || d[0] != '{' || d[len(d)-1] != '}' {
		return nil, fmt.Errorf("patch in the index is not a JSON object")
	}
	out := make([]byte, 0, len(d)+len(extra))
	out = append(out, d[:len(d)-1]...)
	if len(bytes.TrimSpace(d[1:len(d)-1])) > 0 {
		out = append(out, ',')
	}
	return append(out, extra[1:]...), nil
}

// patchNIDs is what withNames decodes of a patch's JSON: the fields
// newPatchJSON reads NIDs from, by the same names as issues.Patch.
type patchNIDs struct {
	Author    string                    `json:"author"`
	Assignees []string                  `json:"assignees"`
	ClosedBy  *issues.ClosedBy          `json:"closedBy"`
	Reactions []issues.Reaction         `json:"reactions"`
	Comments  []commentNIDs             `json:"comments"`
	Revisions []struct{ Author string } `json:"revisions"`
	Reviews   []struct{ Author string } `json:"reviews"`
	Merges    []struct{ Author string } `json:"merges"`
}

type commentNIDs struct {
	Author    string            `json:"author"`
	Reactions []issues.Reaction `json:"reactions"`
}

// patch returns a patch that holds n's NIDs where issues.Patch holds them.
func (n *patchNIDs) patch() *issues.Patch {
	p := &issues.Patch{}
	p.Author, p.Assignees, p.ClosedBy, p.Reactions = n.Author, n.Assignees, n.ClosedBy, n.Reactions
	p.Comments = make([]issues.Comment, len(n.Comments))
	for i, c := range n.Comments {
		p.Comments[i].Author, p.Comments[i].Reactions = c.Author, c.Reactions
	}
	p.Revisions = make([]issues.Revision, len(n.Revisions))
	for i, r := range n.Revisions {
		p.Revisions[i].Author = r.Author
	}
	p.Reviews = make([]issues.Review, len(n.Reviews))
	for i, r := range n.Reviews {
		p.Reviews[i].Author = r.Author
	}
	p.Merges = make([]issues.Merge, len(n.Merges))
	for i, m := range n.Merges {
		p.Merges[i].Author = m.Author
	}
	return p
}

func newPatchJSON(p *issues.Patch, nm *cli.Names) patchJSON {
	nids := threadNIDs(&p.Thread)
	for _, r := range p.Revisions {
		nids = append(nids, r.Author)
	}
	for _, r := range p.Reviews {
		nids = append(nids, r.Author)
	}
	for _, m := range p.Merges {
		nids = append(nids, m.Author)
	}
	return patchJSON{Patch: p, AuthorName: nameIfAny(nm, p.Author), Names: nm.Map(nids...), nids: nids}
}

// backlinkNIDs lists the authors of the references to an object.
func backlinkNIDs(bl []issues.Backlink) []string {
	var nids []string
	for _, b := range bl {
		nids = append(nids, b.Author)
	}
	return nids
}

// nameIfAny is what nm shows for nid when nid has an alias, else "".
func nameIfAny(nm *cli.Names, nid string) string {
	if nm.Alias(nid) == "" {
		return ""
	}
	return nm.Of(nid)
}

// threadNIDs lists the NIDs a thread names: its author, assignees, and
// the authors of its comments and reactions.
func threadNIDs(th *issues.Thread) []string {
	nids := append([]string{th.Author}, th.Assignees...)
	if th.ClosedBy != nil {
		nids = append(nids, th.ClosedBy.Author)
	}
	for _, r := range th.Reactions {
		nids = append(nids, r.Authors...)
	}
	for _, c := range th.Comments {
		nids = append(nids, c.Author)
		for _, r := range c.Reactions {
			nids = append(nids, r.Authors...)
		}
	}
	return nids
}
