package cmd

import (
	"context"
	"fmt"
	"os"
	"strings"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// Environment between `grove patch open|update` and the helper it runs
// through git push: a file with the patch's message (title, blank line,
// description, as in a commit), and a file the helper writes "ID REVISION"
// to.
const (
	patchMessageEnv = "GROVE_PATCH_MESSAGE_FILE"
	patchResultEnv  = "GROVE_PATCH_RESULT_FILE"
)

// Push options the helper reads (git push -o): patch.message=TEXT (the
// first is the title, the rest paragraphs of the description, as with git
// commit -m) and patch.base=BRANCH (the branch the patch is based on and
// diffed against; the default branch otherwise).
const (
	optMessage = "patch.message="
	optBase    = "patch.base="
)

// patchURL is the URL-like reference the helper prints for a patch.
func patchURL(rid protocol.RID, id string) string {
	return rid.URL() + "/patches/" + id
}

// helperPatches turns a push's refs under refs/patches into patches: a
// push to refs/patches opens one, a push to refs/patches/ID adds a revision
// to patch ID. It runs after the push landed and the lock is released.
func helperPatches(ctx context.Context, e *env, r *repo.Repo, key protocol.Signer, pushes []repo.PatchPush, opts []string) error {
	if len(pushes) == 0 {
		return nil
	}
	var msgs []string
	baseBranch := ""
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, optMessage); ok {
			msgs = append(msgs, v)
		} else if v, ok := strings.CutPrefix(o, optBase); ok {
			baseBranch = v
		}
	}
	message := strings.Join(msgs, "\n\n")
	if f := e.getenv(patchMessageEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("patch message: %w", err)
		}
		message = string(b)
	}
	h, err := e.home()
	if err != nil {
		return err
	}
	s := issues.NewCachedStore(r, h)
	v, err := s.PatchView(ctx)
	if err != nil {
		return err
	}
	for _, pp := range pushes {
		var id, rev string
		if pp.Ref == repo.PatchOpenRef {
			id, rev, err = helperOpenPatch(ctx, e, s, v, key, pp.Head, baseBranch, message)
		} else {
			id, rev, err = helperRevisePatch(ctx, e, s, v, key, strings.TrimPrefix(pp.Ref, repo.PatchRefPrefix), pp.Head, baseBranch, message)
		}
		if err != nil {
			return err
		}
		if f := e.getenv(patchResultEnv); f != "" {
			if err := os.WriteFile(f, []byte(id+" "+rev+"\n"), 0o600); err != nil {
				return fmt.Errorf("patch result: %w", err)
			}
		}
	}
	return nil
}

// patchBase returns the base of a revision with head: its merge base with
// the canonical branch (the default one when branch is empty).
func patchBase(ctx context.Context, s *issues.Store, v issues.PatchView, branch, head string) (string, string, error) {
	tip := v.Tip
	if branch == "" {
		branch = v.Branch
	} else {
		canon, err := s.Repo.CanonicalRefs(ctx)
		if err != nil {
			return "", "", err
		}
		tip = canon["refs/heads/"+branch]
	}
	if tip == "" {
		return "", "", fmt.Errorf("the project has no branch %s to base a patch on", branch)
	}
	if ok, _ := s.Repo.IsAncestor(ctx, head, tip); ok {
		return "", "", fmt.Errorf("nothing to propose: %.7s is already in %s", head, branch)
	}
	base, err := s.MergeBase(ctx, head, tip)
	if err != nil {
		return "", "", err
	}
	if base == "" {
		return "", "", fmt.Errorf("%.7s shares no history with %s: branch off %s", head, branch, branch)
	}
	return base, branch, nil
}

func helperOpenPatch(ctx context.Context, e *env, s *issues.Store, v issues.PatchView, key protocol.Signer, head, branch, message string) (string, string, error) {
	base, _, err := patchBase(ctx, s, v, branch, head)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(message) == "" {
		if message, err = commitsMessage(ctx, s.Repo, base, head); err != nil {
			return "", "", err
		}
	}
	title, body := splitMessage(message)
	if title == "" {
		title = fmt.Sprintf("Patch %.7s", head)
	}
	id, rev, err := s.OpenPatch(ctx, key, e.now(), issues.NewPatch{Title: title, Body: body, Base: base, Head: head})
	if err != nil {
		return "", "", usageIfInvalid(err)
	}
	fmt.Fprintf(e.io.Err, "grove: opened patch %.7s (%s)\n", id, patchURL(s.Repo.RID, id))
	return id, rev, nil
}

func helperRevisePatch(ctx context.Context, e *env, s *issues.Store, v issues.PatchView, key protocol.Signer, prefix, head, branch, message string) (string, string, error) {
	id, err := s.ResolvePatch(ctx, prefix)
	if err != nil {
		return "", "", err
	}
	p, obj, err := s.Patch(ctx, id, v)
	if err != nil {
		return "", "", err
	}
	if p.State == issues.StateMerged {
		return "", "", fmt.Errorf("patch %.7s is merged already: open a new patch with 'git push grove HEAD:refs/patches'", id)
	}
	base, _, err := patchBase(ctx, s, v, branch, head)
	if err != nil {
		return "", "", err
	}
	rev, err := s.AddRevision(ctx, key, e.now(), obj, p, base, head, strings.TrimSpace(message))
	if err != nil {
		return "", "", usageIfInvalid(err)
	}
	fmt.Fprintf(e.io.Err, "grove: updated patch %.7s to revision %d, %.7s (%s)\n", id, len(p.Revisions)+1, rev, patchURL(s.Repo.RID, id))
	return id, rev, nil
}

// commitsMessage makes a patch's message from its commits: a single
// commit's message; for several, the oldest's subject and a list of all
// the subjects.
func commitsMessage(ctx context.Context, r *repo.Repo, base, head string) (string, error) {
	out, err := r.Git(ctx, nil, "log", "--reverse", "--format=%B%x00", base+".."+head)
	if err != nil {
		return "", err
	}
	var msgs []string
	for _, m := range strings.Split(string(out), "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	switch len(msgs) {
	case 0:
		return "", nil
	case 1:
		return msgs[0], nil
	}
	title, _ := splitMessage(msgs[0])
	var b strings.Builder
	b.WriteString(title + "\n\n")
	for _, m := range msgs {
		t, _ := splitMessage(m)
		b.WriteString("- " + t + "\n")
	}
	return b.String(), nil
}

// splitMessage splits a commit-style message into a title (its first line,
// cut to the longest title allowed) and a description.
func splitMessage(m string) (title, body string) {
	m = strings.TrimSpace(strings.ReplaceAll(m, "\r\n", "\n"))
	title, body, _ = strings.Cut(m, "\n")
	title = strings.TrimSpace(title)
	if len(title) > issues.MaxTitle {
		title = title[:issues.MaxTitle]
		for !issues.ValidTitle(title) && title != "" {
			title = title[:len(title)-1]
		}
	}
	return title, strings.TrimSpace(body)
}
