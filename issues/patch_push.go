package issues

import (
	"context"
	"fmt"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
)

// Push options (git push -o) that a push opening or revising a patch
// takes: patch.message=TEXT (the first is the title, the rest paragraphs
// of the description, as with git commit -m) and patch.base=BRANCH (the
// branch the patch is based on and diffed against; the default branch
// otherwise).
const (
	PushOptionMessage = "patch.message="
	PushOptionBase    = "patch.base="
)

// PatchPushed is what ReceivePatches did with one pushed ref.
type PatchPushed struct {
	Ref string // as the push named it: repo.PatchOpenRef or refs/patches/<id prefix>
	// ID is the patch; Revision its new revision, whose number is N (1
	// for a patch the push opened).
	ID, Revision string
	N            int
	Err          error // why no patch was opened or revised
}

// Opened reports whether the push opened the patch.
func (p *PatchPushed) Opened() bool { return p.N == 1 }

// ReceivePatches turns a push's refs under refs/patches, whose commits
// are in the storage, into patches signed by signer: a push to
// repo.PatchOpenRef opens one, a push to refs/patches/<id prefix> adds a
// revision to that patch. opts are the push's options; message, when not
// empty, is the message instead of theirs (title, blank line,
// description). Each ref gets its own result; one that fails leaves the
// others be.
func (s *Store) ReceivePatches(ctx context.Context, signer protocol.Signer, now time.Time, pushed []repo.PatchPush, opts []string, message string) []PatchPushed {
	var msgs []string
	branch := ""
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, PushOptionMessage); ok {
			msgs = append(msgs, v)
		} else if v, ok := strings.CutPrefix(o, PushOptionBase); ok {
			branch = v
		}
	}
	if message == "" {
		message = strings.Join(msgs, "\n\n")
	}
	out := make([]PatchPushed, 0, len(pushed))
	v, verr := s.PatchView(ctx)
	for _, pp := range pushed {
		res := PatchPushed{Ref: pp.Ref, Err: verr}
		if verr == nil && pp.Ref == repo.PatchOpenRef {
			res.ID, res.Revision, res.Err = s.openPushed(ctx, signer, now, v, pp.Head, branch, message)
			res.N = 1
		} else if verr == nil {
			res.ID, res.Revision, res.N, res.Err = s.revisePushed(ctx, signer, now, v, strings.TrimPrefix(pp.Ref, repo.PatchRefPrefix), pp.Head, branch, message)
		}
		out = append(out, res)
	}
	return out
}

// openPushed opens a patch proposing head.
func (s *Store) openPushed(ctx context.Context, signer protocol.Signer, now time.Time, v PatchView, head, branch, message string) (id, rev string, err error) {
	base, err := s.patchBase(ctx, v, branch, head)
	if err != nil {
		return "", "", err
	}
	msgs, err := s.CommitMessages(ctx, base, head)
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(message) == "" {
		message = commitsMessage(msgs)
	}
	title, body := SplitMessage(message)
	if title == "" {
		title = fmt.Sprintf("Patch %.7s", head)
	}
	return s.OpenPatch(ctx, signer, now, NewPatch{Title: title, Body: body, Base: base, Head: head, Commits: strings.Join(msgs, "\n\n")})
}

// revisePushed adds head as a revision of the patch prefix names.
func (s *Store) revisePushed(ctx context.Context, signer protocol.Signer, now time.Time, v PatchView, prefix, head, branch, message string) (id, rev string, n int, err error) {
	if id, err = s.ResolvePatch(ctx, prefix); err != nil {
		return "", "", 0, err
	}
	p, obj, err := s.Patch(ctx, id, v)
	if err != nil {
		return "", "", 0, err
	}
	if p.State == StateMerged {
		return "", "", 0, fmt.Errorf("patch %.7s is merged already: open a new patch with 'git push grove HEAD:refs/patches'", id)
	}
	base, err := s.patchBase(ctx, v, branch, head)
	if err != nil {
		return "", "", 0, err
	}
	msgs, err := s.CommitMessages(ctx, base, head)
	if err != nil {
		return "", "", 0, err
	}
	rev, err = s.AddRevision(ctx, signer, now, obj, p, base, head, strings.TrimSpace(message), strings.Join(msgs, "\n\n"))
	return id, rev, len(p.Revisions) + 1, err
}

// patchBase returns the base of a revision with head: its merge base with
// the canonical branch (the default one when branch is empty).
func (s *Store) patchBase(ctx context.Context, v PatchView, branch, head string) (string, error) {
	tip := v.Tip
	if branch == "" {
		branch = v.Branch
	} else {
		canon, err := s.Repo.CanonicalRefs(ctx)
		if err != nil {
			return "", err
		}
		tip = canon["refs/heads/"+branch]
	}
	if tip == "" {
		return "", fmt.Errorf("the project has no branch %s to base a patch on", branch)
	}
	if ok, _ := s.Repo.IsAncestor(ctx, head, tip); ok {
		return "", fmt.Errorf("nothing to propose: %.7s is already in %s", head, branch)
	}
	base, err := s.MergeBase(ctx, head, tip)
	if err != nil {
		return "", err
	}
	if base == "" {
		return "", fmt.Errorf("%.7s shares no history with %s: branch off %s", head, branch, branch)
	}
	return base, nil
}

// maxCommitMessages bounds the commits whose messages a revision reads.
const maxCommitMessages = 1000

// CommitMessages returns the messages of the commits base..head in the
// storage, oldest first, at most maxCommitMessages of them.
func (s *Store) CommitMessages(ctx context.Context, base, head string) ([]string, error) {
	out, err := s.Repo.Git(ctx, nil, "log", "--reverse", "--format=%B%x00", fmt.Sprintf("--max-count=%d", maxCommitMessages), base+".."+head)
	if err != nil {
		return nil, err
	}
	return logMessages(string(out)), nil
}

// logMessages splits the output of git log --format=%B%x00 into its
// messages, trimmed, leaving out empty ones.
func logMessages(log string) []string {
	var msgs []string
	for _, m := range strings.Split(log, "\x00") {
		if m = strings.TrimSpace(m); m != "" {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// CommitsMessage makes a patch's message from the output of git log
// --reverse --format=%B%x00 over its commits: a single commit's message;
// for several, the oldest's subject and a list of all the subjects.
func CommitsMessage(log string) string { return commitsMessage(logMessages(log)) }

// commitsMessage makes a patch's message from its commits' messages, as
// CommitsMessage does.
func commitsMessage(msgs []string) string {
	switch len(msgs) {
	case 0:
		return ""
	case 1:
		return msgs[0]
	}
	title, _ := SplitMessage(msgs[0])
	var b strings.Builder
	b.WriteString(title + "\n\n")
	for _, m := range msgs {
		t, _ := SplitMessage(m)
		b.WriteString("- " + t + "\n")
	}
	return b.String()
}

// SplitMessage splits a commit-style message into a title (its first line,
// with what a terminal would act on shown visibly, as termtext.Line does,
// cut to the longest title allowed) and a description.
func SplitMessage(m string) (title, body string) {
	m = strings.TrimSpace(strings.ReplaceAll(m, "\r\n", "\n"))
	title, body, _ = strings.Cut(m, "\n")
	title = strings.TrimSpace(termtext.Line(title))
	if len(title) > MaxTitle {
		title = title[:MaxTitle]
		for !ValidTitle(title) && title != "" {
			title = title[:len(title)-1]
		}
	}
	return title, strings.TrimSpace(body)
}
