package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"example.com/grove/protocol"
)

// ErrNoLend is returned by CloneInto when the storage cannot lend its
// objects (its lock stayed busy): nothing was made, and the caller clones
// through the remote helper instead, with a copy of its own.
var ErrNoLend = errors.New("storage cannot lend its objects now")

// CloneInto makes dir a working copy of the project, as `git clone
// --shared` of the storage under the URL grove://RID would, with the
// remote named remote: it borrows the storage's objects (LendTo), its
// remote-tracking branches and tags are the storage's canonical ones,
// and its default branch, tracking the remote's, is checked out.
//
// git clone would start git upload-pack to list the storage's refs (a
// second git and a shell), which costs more than the rest of the clone
// when a project has thousands of branches: those refs are read here,
// and git does only what it does best, `git init` and the checkout.
// What the checkout prints goes to stderr; quiet makes it print nothing
// on success.
//
// On failure dir is left as it was found: removed if CloneInto made it,
// emptied if it was an empty directory.
func (r *Repo) CloneInto(ctx context.Context, dir, remote string, quiet bool, stderr io.Writer) (err error) {
	if protocol.CheckRefName("refs/remotes/"+remote) != nil || strings.ContainsAny(remote, "/\"\\") {
		return fmt.Errorf("%q is not a remote name", remote)
	}
	existed := true
	if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
		existed = false
	}
	defer func() {
		if err != nil {
			removeJunk(dir, existed)
		}
	}()
	branch, err := r.headBranch()
	if err != nil {
		return err
	}
	canon, err := r.CanonicalRefs(ctx)
	if err != nil {
		return err
	}
	init := []string{"init", "-q"}
	if branch != "" {
		init = append(init, "--initial-branch="+branch)
	}
	if _, err := runGit(ctx, "", nil, append(init, dir)...); err != nil {
		return err
	}
	gitDir := filepath.Join(dir, ".git")
	lent, err := r.LendTo(ctx, gitDir)
	if err != nil || !lent {
		return errors.Join(ErrNoLend, err)
	}
	if err := appendRemote(gitDir, remote, r.RID.URL()); err != nil {
		return err
	}
	if err := writeTrackingRefs(gitDir, remote, canon); err != nil {
		return err
	}
	tracking := "refs/remotes/" + remote + "/" + branch
	if branch == "" || canon["refs/heads/"+branch] == "" {
		// git clone's words: it checks nothing out either.
		msg := "warning: You appear to have cloned an empty repository."
		for name := range canon {
			if strings.HasPrefix(name, "refs/heads/") {
				msg = "warning: remote HEAD refers to nonexistent ref, unable to checkout"
				break
			}
		}
		fmt.Fprintln(stderr, msg)
		return nil
	}
	if err := writeSymref(filepath.Join(gitDir, "refs", "remotes", remote, "HEAD"), "ref: "+tracking+"\n"); err != nil {
		return err
	}
	// -f: without it, git 2.39's checkout from an unborn branch reports
	// an object it could not read and still exits 0; the working tree is
	// new, so forcing loses nothing.
	args := []string{"checkout", "-f", "-B", branch, "--track", tracking}
	if quiet {
		args = append(args, "--quiet")
	}
	c := GitCommand(ctx, dir, args...)
	// The reflog says where the working copy came from, as git clone's.
	c.Env = append(c.Env, "GIT_REFLOG_ACTION=clone: from "+r.RID.URL())
	var errb strings.Builder
	c.Stderr = io.MultiWriter(stderr, &errb)
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("git checkout: %s", lastLine(errb.String(), err))
	}
	return nil
}

// headBranch is the branch the storage's HEAD names ("" if it names none).
func (r *Repo) headBranch() (string, error) {
	b, err := os.ReadFile(filepath.Join(r.Path, "HEAD"))
	if err != nil {
		return "", fmt.Errorf("read storage HEAD: %w", err)
	}
	name, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: refs/heads/")
	if !ok {
		return "", nil
	}
	return name, nil
}

// appendRemote adds remote's section to the config git init wrote, as git
// clone writes it (no git process: the file is new and the working
// copy's alone).
func appendRemote(gitDir, remote, url string) error {
	f, err := os.OpenFile(filepath.Join(gitDir, "config"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("working copy config: %w", err)
	}
	_, err = fmt.Fprintf(f, "[remote \"%s\"]\n\turl = %s\n\tfetch = +refs/heads/*:refs/remotes/%s/*\n", remote, url, remote)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("working copy config: %w", err)
	}
	return nil
}

// writeTrackingRefs writes the working copy's refs as one packed-refs
// file, as git clone does: each canonical branch as remote's
// remote-tracking branch, each tag as itself (notes stay in the storage,
// as git clone leaves them).
func writeTrackingRefs(gitDir, remote string, canon map[string]string) error {
	type ref struct{ name, oid string }
	refs := make([]ref, 0, len(canon))
	for name, oid := range canon {
		if b, ok := strings.CutPrefix(name, "refs/heads/"); ok {
			refs = append(refs, ref{"refs/remotes/" + remote + "/" + b, oid})
		} else if strings.HasPrefix(name, "refs/tags/") {
			refs = append(refs, ref{name, oid})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	// Sorted, so git reads it without sorting; not peeled, so git peels
	// a tag itself when it needs to.
	b.WriteString("# pack-refs with: sorted \n")
	for _, r := range refs {
		b.WriteString(r.oid + " " + r.name + "\n")
	}
	return WriteFileAtomic(filepath.Join(gitDir, "packed-refs"), []byte(b.String()), 0o644)
}

// removeJunk undoes a failed CloneInto: dir goes if it was made, else
// what was made in it.
func removeJunk(dir string, existed bool) {
	if !existed {
		os.RemoveAll(dir)
		return
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// lastLine is the last non-empty line of git's stderr, or err.
func lastLine(stderr string, err error) string {
	s := strings.TrimSpace(stderr)
	if s == "" {
		return err.Error()
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimPrefix(s, "fatal: ")
}
