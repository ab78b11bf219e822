package tuicmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/tui"
)

// patches implements tui.Patches over the issues package's patch store.
type patches struct{ *adapter }

// patchStore opens project rid's store and reads its patch view.
func (s patches) patchStore(ctx context.Context, rid string) (*issues.Store, issues.PatchView, error) {
	r, err := s.open(rid)
	if err != nil {
		return nil, issues.PatchView{}, err
	}
	st := s.store(r)
	v, err := st.PatchView(ctx)
	if err != nil {
		return nil, issues.PatchView{}, err
	}
	return st, v, nil
}

// loaded is one patch as load reads it.
type loaded struct {
	st  *issues.Store
	v   issues.PatchView
	p   *issues.Patch
	obj *issues.Object
}

// load resolves id (a full ID or a prefix) and materializes the patch.
func (s patches) load(ctx context.Context, rid, id string) (loaded, error) {
	st, v, err := s.patchStore(ctx, rid)
	if err != nil {
		return loaded{}, err
	}
	full, err := st.ResolvePatch(ctx, id)
	if err == nil {
		var p *issues.Patch
		var obj *issues.Object
		if p, obj, err = st.Patch(ctx, full, v); err == nil {
			return loaded{st: st, v: v, p: p, obj: obj}, nil
		}
	}
	if errors.Is(err, issues.ErrNotFound) {
		return loaded{}, fmt.Errorf("patch %s: %w", id, tui.ErrNotFound)
	}
	return loaded{}, err
}

func patchSummary(n names, p *issues.Patch) tui.PatchSummary {
	ps := tui.PatchSummary{
		ID: p.ID, Title: p.Title, State: p.State, Author: n.of(p.Author),
		Labels: p.Labels, Revisions: len(p.Revisions), Created: p.Created, Updated: p.Updated,
	}
	for _, v := range p.Verdicts(p.Latest().ID) {
		switch v {
		case issues.VerdictAccept:
			ps.Accepted++
		case issues.VerdictReject:
			ps.Rejected++
		}
	}
	return ps
}

// ListPatches lists the patches in state (open, merged, closed or "" for
// all), newest first.
func (s patches) ListPatches(ctx context.Context, rid, state string) ([]tui.PatchSummary, error) {
	switch state {
	case "", tui.PatchOpen, tui.PatchMerged, tui.PatchClosed:
	default:
		return nil, fmt.Errorf("no patch state %q", state)
	}
	r, err := s.open(rid)
	if err != nil {
		return nil, err
	}
	// From the index, as issues are (what does not load is left out).
	n := s.names(ctx, r)
	out := []tui.PatchSummary{}
	err = s.withIndex(ctx, r, nil, func(ix *issues.Index) error {
		return ix.EachPatch(ctx, issues.Filter{State: state}, func(_ int, p *issues.PatchSummary) error {
			out = append(out, tui.PatchSummary{
				ID: p.ID, Title: p.Title, State: p.State, Author: n.of(p.Author),
				Labels: append([]string{}, p.Labels...), Revisions: p.Revisions,
				Accepted: p.Accepted, Rejected: p.Rejected, Created: p.Created, Updated: p.Updated,
			})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Patch returns a patch with each revision's diff against its base and the
// reviews of each revision.
func (s patches) Patch(ctx context.Context, rid, id string) (*tui.Patch, error) {
	l, err := s.load(ctx, rid, id)
	if err != nil {
		return nil, err
	}
	st, p := l.st, l.p
	n := s.names(ctx, st.Repo)
	out := &tui.Patch{PatchSummary: patchSummary(n, p), Body: p.Body, Refs: s.refs(ctx, st.Repo, &p.Thread, n), May: s.mayPatch(l)}
	for _, rv := range p.Revisions {
		tr := tui.Revision{
			ID: rv.ID, Author: n.of(rv.Author), Base: rv.Base, Head: rv.Head,
			Description: rv.Description, Created: rv.Created,
		}
		diff, err := st.Repo.Git(ctx, nil, "diff", "--no-color", "--no-ext-diff", rv.Base, rv.Head, "--")
		if err == nil {
			tr.Diff = string(diff)
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		} // else the revision's commits are not synced yet: show the rest

		for _, r := range p.Reviews {
			if r.Revision != rv.ID {
				continue
			}
			trv := tui.Review{ID: r.ID, Author: n.of(r.Author), Verdict: r.Verdict, Body: r.Body, Created: r.Created}
			for _, c := range r.Comments {
				trv.Comments = append(trv.Comments, tui.LineComment{Path: c.Path, Line: c.Line, Body: c.Body})
			}
			tr.Reviews = append(tr.Reviews, trv)
		}
		out.Revisions = append(out.Revisions, tr)
	}
	return out, nil
}

// Review signs a review of a revision of patch id (its newest when
// r.Revision is "") as the user and announces it. With Path and Line set,
// the body is a comment on that line of the revision's head.
func (s patches) Review(ctx context.Context, rid, id string, r tui.NewReview) error {
	k, err := s.signer()
	if err != nil {
		return err
	}
	l, err := s.load(ctx, rid, id)
	if err != nil {
		return err
	}
	st, p, obj := l.st, l.p, l.obj
	rev, err := findRevision(p, r.Revision)
	if err != nil {
		return err
	}
	verdict := r.Verdict
	if verdict == "" {
		verdict = issues.VerdictComment
	}
	a := issues.PatchAction{Type: issues.ActReview, Revision: rev.ID, Verdict: verdict, Body: r.Body}
	if r.Path != "" || r.Line != 0 {
		if !issues.ValidPath(r.Path) || r.Line < 1 {
			return fmt.Errorf("a line comment needs a file of the revision and a line from 1")
		}
		if strings.TrimSpace(r.Body) == "" {
			return errors.New("a comment on a line needs some text")
		}
		if _, err := st.Repo.Git(ctx, nil, "cat-file", "-e", rev.Head+":"+r.Path); err != nil {
			return fmt.Errorf("%s is not a file in the revision's head %.7s", r.Path, rev.Head)
		}
		a.Body = ""
		a.Comments = []issues.LineComment{{Path: r.Path, Line: r.Line, Body: r.Body}}
	}
	if verdict == issues.VerdictComment && strings.TrimSpace(r.Body) == "" {
		return errors.New("a comment needs some text")
	}
	if _, err := st.Update(ctx, issues.PatchKind, k, s.now(), obj, a); err != nil {
		return err
	}
	cli.Announce(ctx, s.home, st.Repo.RID)
	return nil
}

// mayPatch is what the user may do to a loaded patch: review it where
// they see the project, merge it where issues.MayMerge, the check
// MergePatch makes, lets them.
func (s patches) mayPatch(l loaded) tui.Permissions {
	if s.key == nil {
		return tui.Permissions{Why: "no key yet: run 'grove auth' to write"}
	}
	out := tui.Permissions{Comment: l.v.Rules.CanSee(s.key.NID())}
	err := issues.MayMerge(l.v.Rules, s.key.NID(), l.p)
	switch {
	case !out.Comment:
		out.Why = "this private project is not shared with you"
	case err != nil:
		out.Why = err.Error()
	default:
		out.Merge = true
	}
	return out
}

// Merge merges revision rev (a full ID or a prefix; the newest when "")
// of patch id into the default branch as the user, by the code grove
// patch merge runs (issues.Store.MergePatch, which refuses what MayMerge
// does), and announces it.
func (s patches) Merge(ctx context.Context, rid, id, rev string) (tui.Merged, error) {
	k, err := s.signer()
	if err != nil {
		return tui.Merged{}, err
	}
	l, err := s.load(ctx, rid, id)
	if err != nil {
		return tui.Merged{}, err
	}
	r, err := findRevision(l.p, rev)
	if err != nil {
		return tui.Merged{}, err
	}
	res, err := l.st.MergePatch(ctx, k, s.now(), l.v, l.obj, l.p, r.ID, issues.CommitterIdent(ctx))
	if err != nil {
		return tui.Merged{}, err
	}
	cli.Announce(ctx, s.home, l.st.Repo.RID)
	return tui.Merged{Branch: l.v.Branch, Commit: res.Commit, How: res.How(), Closed: res.Closed}, nil
}

// findRevision returns p's revision whose ID starts with prefix, its
// newest for "".
func findRevision(p *issues.Patch, prefix string) (*issues.Revision, error) {
	if prefix == "" {
		return p.Latest(), nil
	}
	var rev *issues.Revision
	for i := range p.Revisions {
		if strings.HasPrefix(p.Revisions[i].ID, strings.ToLower(prefix)) {
			if rev != nil {
				return nil, fmt.Errorf("patch %.7s: revision %s is ambiguous", p.ID, prefix)
			}
			rev = &p.Revisions[i]
		}
	}
	if rev == nil {
		return nil, fmt.Errorf("patch %.7s: revision %s: %w", p.ID, prefix, tui.ErrNotFound)
	}
	return rev, nil
}
