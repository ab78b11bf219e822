package tui

import (
	"context"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// patchPage shows one patch: its revisions, the reviews of the chosen
// revision, and the revision's diff with inline comments beside the lines
// they are about. It reviews the revision (accept, reject, comment, a
// comment on the line under the cursor).
type patchPage struct {
	c     *common
	id    int
	rid   string
	patch string
	w, h  int
	p     *Patch
	err   error
	rev   int // index into p.Revisions
	list  list
	rows  []string
	info  []int // diff line of each row, or -1
	diff  []diffLine
	refs  refList
	// refsAt is the row of the first reference.
	refsAt int
	// merging is the revision a merge waits on a yes for, or nil.
	merging *Revision
}

type patchMsg struct {
	p   *Patch
	err error
}

func newPatchPage(c *common, rid, id string) *patchPage {
	return &patchPage{c: c, id: c.id(), rid: rid, patch: id, rev: -1, refs: newRefList()}
}

func (p *patchPage) Init() tea.Cmd { return p.Reload() }

func (p *patchPage) Reload() tea.Cmd {
	src, rid, id := p.c.src.Patches, p.rid, p.patch
	return p.c.load(p.id, func(ctx context.Context) tea.Msg {
		pt, err := src.Patch(ctx, rid, id)
		return patchMsg{pt, err}
	})
}

func (p *patchPage) Title() string { return "patch " + shortID(p.patch) }

// Typing is true while a merge waits for its yes: every key goes to the
// page, which merges on y and takes any other key for no.
func (p *patchPage) Typing() bool { return p.merging != nil }

func (p *patchPage) SetSize(w, h int) {
	p.w, p.h = w, h
	p.list.setHeight(h)
	p.build()
}

func (p *patchPage) revision() *Revision {
	if p.p == nil || p.rev < 0 || p.rev >= len(p.p.Revisions) {
		return nil
	}
	return &p.p.Revisions[p.rev]
}

func (p *patchPage) Update(msg tea.Msg) (page, tea.Cmd) {
	k := p.c.keys
	switch msg := msg.(type) {
	case pageMsg:
		if msg.to != p.id {
			return p, nil
		}
		if m, ok := msg.msg.(patchMsg); ok {
			p.err = m.err
			if m.err == nil {
				latest := p.p == nil || p.rev == len(p.p.Revisions)-1
				p.p = m.p
				p.refs.set(m.p.Refs)
				if latest || p.rev >= len(p.p.Revisions) {
					p.rev = len(p.p.Revisions) - 1
				}
				p.diff = nil // a new load: do not keep the cursor's line
				p.build()
			}
		}
		return p, nil
	case tea.KeyMsg:
		if r := p.merging; r != nil {
			p.merging = nil
			if key.Matches(msg, k.Confirm) {
				return p, p.merge(r)
			}
			return p, status("merge cancelled")
		}
		rev := p.revision()
		switch {
		case key.Matches(msg, k.Follow):
			if p.refs.next() {
				p.build()
				p.list.cursor = p.refsAt + p.refs.focus
				p.list.scroll()
			}
			return p, nil
		case key.Matches(msg, k.Open):
			return p, p.refs.open(p.c, p.rid)
		case key.Matches(msg, k.NextItem):
			if p.p != nil && p.rev < len(p.p.Revisions)-1 {
				p.rev++
				p.build()
			}
			return p, nil
		case key.Matches(msg, k.PrevItem):
			if p.rev > 0 {
				p.rev--
				p.build()
			}
			return p, nil
		case rev == nil:
		case !p.p.May.Comment && (key.Matches(msg, k.Accept) || key.Matches(msg, k.Reject) || key.Matches(msg, k.Review) || key.Matches(msg, k.LineComment)):
			return p, showErr(errors.New(p.p.May.Why))
		case key.Matches(msg, k.Merge):
			if !p.p.May.Merge {
				return p, showErr(errors.New(p.p.May.Why))
			}
			p.merging = rev // the help bar asks
			return p, nil
		case key.Matches(msg, k.Accept):
			return p, push(newReviewForm(p.c, p.rid, p.patch, NewReview{Revision: rev.ID, Verdict: VerdictAccept}))
		case key.Matches(msg, k.Reject):
			return p, push(newReviewForm(p.c, p.rid, p.patch, NewReview{Revision: rev.ID, Verdict: VerdictReject}))
		case key.Matches(msg, k.Review):
			return p, push(newReviewForm(p.c, p.rid, p.patch, NewReview{Revision: rev.ID, Verdict: VerdictComment}))
		case key.Matches(msg, k.LineComment):
			if i := p.list.cursor; i < len(p.info) && p.info[i] >= 0 {
				l := p.diff[p.info[i]]
				if l.kind == '+' || l.kind == ' ' {
					return p, push(newReviewForm(p.c, p.rid, p.patch, NewReview{Revision: rev.ID, Verdict: VerdictComment, Path: l.path, Line: l.new}))
				}
			}
			return p, showErr(errNoLine)
		}
	}
	p.list.update(msg, k)
	return p, nil
}

// merge merges revision r as the user and reports what it did.
func (p *patchPage) merge(r *Revision) tea.Cmd {
	src, rid, id, rev, timeout := p.c.src.Patches, p.rid, p.patch, r.ID, p.c.timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		m, err := src.Merge(ctx, rid, id, rev)
		if err != nil {
			return errMsg{err}
		}
		done := "patch " + shortID(id) + " " + m.How + " into " + m.Branch + " at " + shortID(m.Commit)
		if len(m.Closed) > 0 {
			ids := make([]string, len(m.Closed))
			for i, c := range m.Closed {
				ids[i] = shortID(c)
			}
			done += "; closed " + plural(len(ids), "issue") + " it fixes: " + strings.Join(ids, ", ")
		}
		return changedMsg{done}
	}
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errNoLine = constErr("move the cursor to an added or unchanged line of the diff first")

func (p *patchPage) redraw() { p.build() }

// build lays the patch out as rows: header, revisions, reviews, diff, with
// markdown and code as far as they have been rendered (plain until then).
func (p *patchPage) build() {
	if p.p == nil || p.w == 0 {
		return
	}
	st := p.c.st
	now := p.c.now()
	pt := p.p
	var rows []string
	var info []int
	add := func(s string) {
		for _, l := range strings.Split(s, "\n") {
			rows = append(rows, l)
			info = append(info, -1)
		}
	}
	add(st.Title.Render(pt.Title) + " " + st.Dim.Render(shortID(pt.ID)))
	add(st.state(pt.State) + st.Dim.Render(" · "+pt.Author+" opened "+ago(now, pt.Created)+" · "+plural(len(pt.Revisions), "revision")))
	if len(pt.Labels) > 0 {
		add(st.Dim.Render("labels: ") + labelList(st, pt.Labels))
	}
	if (!pt.May.Comment || !pt.May.Merge && pt.State == PatchOpen) && pt.May.Why != "" {
		add(st.Dim.Render(pt.May.Why))
	}
	if len(p.refs.refs) > 0 {
		p.refsAt = len(rows)
		add(strings.Join(p.refs.lines(st), "\n"))
	}
	if body := p.c.cache.markdown(pt.Body, p.w-4); body != "" {
		add(body)
	}
	add("")
	add(st.Bold.Render("Revisions") + st.Dim.Render("  [ ] to switch"))
	for i, r := range pt.Revisions {
		mark := "  "
		if i == p.rev {
			mark = st.Focus.Render("▸ ")
		}
		line := mark + st.Dim.Render("r"+itoa(i+1)+" ") + shortID(r.ID) + st.Dim.Render(" "+shortID(r.Base)+"→"+shortID(r.Head)+" · "+r.Author+" · "+ago(now, r.Created))
		acc, rej := verdictCounts(r.Reviews)
		if acc > 0 {
			line += " " + st.Accept.Render("✔"+itoa(acc))
		}
		if rej > 0 {
			line += " " + st.Reject.Render("✘"+itoa(rej))
		}
		if r.Description != "" {
			line += st.Dim.Render(" — " + firstLine(r.Description))
		}
		add(line)
	}
	rev := p.revision()
	if rev == nil {
		p.setRows(rows, info, nil)
		return
	}
	add("")
	add(st.Bold.Render("Reviews of r" + itoa(p.rev+1)))
	notes := map[string][]note{}
	switch {
	case len(rev.Reviews) > 0:
	case pt.May.Comment:
		add(st.Dim.Render("  none yet — a to accept, x to reject, c to comment, i on a line"))
	default:
		add(st.Dim.Render("  none yet"))
	}
	for _, rv := range rev.Reviews {
		head := "  " + st.verdict(rv.Verdict) + " " + st.Bold.Render(rv.Author) + st.Dim.Render(" · "+ago(now, rv.Created))
		if len(rv.Comments) > 0 {
			head += st.Dim.Render(" · " + plural(len(rv.Comments), "inline comment"))
		}
		add(head)
		if b := p.c.cache.markdown(rv.Body, p.w-6); b != "" {
			for _, l := range strings.Split(b, "\n") {
				add("  " + l)
			}
		}
		for _, lc := range rv.Comments {
			k := anchor(lc.Path, lc.Line)
			notes[k] = append(notes[k], note{head: rv.Author + " · " + lc.Path + ":" + itoa(lc.Line), body: lc.Body})
		}
	}
	add("")
	p.diff = parseDiff(rev.Diff)
	if len(p.diff) == 0 {
		add(st.Dim.Render("  no changes"))
	}
	drows, dinfo := diffRows(st, p.c.cache, p.diff, p.w-2, notes)
	rows = append(rows, drows...)
	info = append(info, dinfo...)
	p.setRows(rows, info, p.diff)
}

// setRows replaces the rows, keeping the cursor on the diff line it was
// on (reviews above it may have grown).
func (p *patchPage) setRows(rows []string, info []int, diff []diffLine) {
	at := -1
	if c := p.list.cursor; c < len(p.info) && p.info[c] >= 0 && len(p.diff) == len(diff) {
		at = p.info[c]
	}
	p.rows, p.info, p.diff = rows, info, diff
	p.list.setLen(len(rows))
	if at >= 0 {
		for i, d := range info {
			if d == at {
				p.list.cursor = i
				p.list.scroll()
				break
			}
		}
	}
}

func verdictCounts(rs []Review) (acc, rej int) {
	latest := map[string]string{}
	for _, r := range rs {
		if r.Verdict != VerdictComment {
			latest[r.Author] = r.Verdict
		}
	}
	for _, v := range latest {
		switch v {
		case VerdictAccept:
			acc++
		case VerdictReject:
			rej++
		}
	}
	return acc, rej
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func (p *patchPage) View() string {
	st := p.c.st
	switch {
	case p.err != nil && p.p == nil:
		return " " + errorText(st, "patch "+shortID(p.patch), p.err)
	case p.p == nil:
		return st.Dim.Render("  loading patch…")
	}
	return p.list.render(st, p.w, true, func(i, w int) string { return p.rows[i] })
}

func (p *patchPage) ShortHelp() []key.Binding {
	k := p.c.keys
	if r := p.merging; r != nil {
		what := "merge r" + itoa(p.rev+1) + " (" + shortID(r.ID) + ") into the default branch"
		return []key.Binding{
			key.NewBinding(key.WithKeys(k.Confirm.Keys()...), key.WithHelp(k.Confirm.Help().Key, what)),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("any other key", "cancel")),
		}
	}
	var out []key.Binding
	if p.mayReview() {
		out = append(out, k.Accept, k.Reject, k.Review, k.LineComment)
	}
	if p.mayMerge() {
		out = append(out, k.Merge)
	}
	out = append(out, k.NextItem)
	if len(p.refs.refs) > 0 {
		out = append(out, k.Follow)
	}
	return out
}

// mayMerge says whether the help offers m: to those who may merge.
func (p *patchPage) mayMerge() bool { return p.p != nil && p.p.May.Merge }

// mayReview says whether the help offers the review keys: to those who
// may review (before the patch is read, they are offered).
func (p *patchPage) mayReview() bool { return p.p == nil || p.p.May.Comment }

func (p *patchPage) FullHelp() [][]key.Binding {
	if p.merging != nil {
		return [][]key.Binding{p.ShortHelp()}
	}
	k := p.c.keys
	var acts []key.Binding
	if p.mayReview() {
		acts = append(acts, k.Accept, k.Reject, k.Review, k.LineComment)
	}
	if p.mayMerge() {
		acts = append(acts, k.Merge)
	}
	acts = append(acts, k.NextItem, k.PrevItem, k.Follow, k.Open, k.Refresh)
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, acts}
}
