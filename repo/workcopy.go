package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"example.com/grove/protocol"
)

// ErrNoLend is returned by CloneInto when the storage cannot lend its
// objects (its lock stayed busy): nothing was made, and the caller clones
// through the remote helper instead, with a copy of its own.
var ErrNoLend = errors.New("storage cannot lend its objects now")

// LendWait bounds how long a working copy being made waits for the
// storage's lock to mark its objects kept (KeepObjects) before it is made
// with a copy of its own instead.
const LendWait = 10 * time.Second

// A WorkingCopy is a working copy being made: `git init` of its directory
// runs from NewWorkingCopy on, so that git's start and its template copy
// overlap the fetch of the project, and CloneInto fills it once the
// project is stored.
type WorkingCopy struct {
	dir     string
	existed bool // dir was there (empty) before
	done    chan struct{}
	err     error
}

// initialBranch is the branch git init starts a working copy on, before
// CloneInto knows the project's default branch.
const initialBranch = "main"

// NewWorkingCopy starts `git init` of dir, which must be empty or absent.
// The caller calls CloneInto or, if the clone goes no further, Discard.
func NewWorkingCopy(ctx context.Context, dir string) *WorkingCopy {
	_, err := os.Stat(dir)
	w := &WorkingCopy{dir: dir, existed: !errors.Is(err, fs.ErrNotExist), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		_, w.err = runGit(ctx, "", nil, "init", "-q", "--initial-branch="+initialBranch, dir)
	}()
	return w
}

// Discard waits for git init and leaves the directory as it was found:
// removed if NewWorkingCopy made it, emptied if it was an empty directory.
func (w *WorkingCopy) Discard() {
	<-w.done
	if !w.existed {
		os.RemoveAll(w.dir)
		return
	}
	ents, _ := os.ReadDir(w.dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(w.dir, e.Name()))
	}
}

// CloneInto makes w a working copy of the project, as `git clone
// --shared` of the storage under the URL grove://RID would, with the
// remote named remote: it borrows the storage's objects (as LendTo), its
// remote-tracking branches and tags are the storage's canonical ones,
// and its default branch, tracking the remote's, is checked out.
//
// git clone would start git upload-pack to list the storage's refs (a
// second git and a shell), which costs more than the rest of the clone
// when a project has thousands of branches: those refs are read here,
// and git does only what it does best, `git init` and the checkout. The
// files written here are new, in a repository no one else uses yet: they
// are not synced one by one as a storage's are.
// What the checkout prints goes to stderr; quiet makes it print nothing
// on success. On failure w is discarded.
func (r *Repo) CloneInto(ctx context.Context, w *WorkingCopy, remote string, quiet bool, stderr io.Writer) (err error) {
	defer func() {
		if err != nil {
			w.Discard()
		}
	}()
	if protocol.CheckRefName("refs/remotes/"+remote) != nil || strings.ContainsAny(remote, "/\"\\") {
		return fmt.Errorf("%q is not a remote name", remote)
	}
	branch, err := r.headBranch()
	if err != nil {
		return err
	}
	canon, err := r.CanonicalRefs(ctx)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, LendWait)
	err = r.KeepObjects(kctx)
	cancel()
	if err != nil {
		return errors.Join(ErrNoLend, err)
	}
	objects, err := r.ObjectsDir()
	if err != nil {
		return err
	}
	if <-w.done; w.err != nil {
		return w.err
	}
	gitDir := filepath.Join(w.dir, ".git")
	if branch != "" && branch != initialBranch {
		if err := writeNew(filepath.Join(gitDir, "HEAD"), "ref: refs/heads/"+branch+"\n"); err != nil {
			return err
		}
	}
	if err := writeNew(filepath.Join(gitDir, "objects", "info", "alternates"), objects+"\n"); err != nil {
		return err
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
	if err := writeNew(filepath.Join(gitDir, "refs", "remotes", remote, "HEAD"), "ref: "+tracking+"\n"); err != nil {
		return err
	}
	// -f: without it, git 2.39's checkout from an unborn branch reports
	// an object it could not read and still exits 0; the working tree is
	// new, so forcing loses nothing.
	args := []string{"checkout", "-f", "-B", branch, "--track", tracking}
	if quiet {
		args = append(args, "--quiet")
	}
	c := GitCommand(ctx, w.dir, args...)
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

// writeNew writes a file of a working copy being made (no sync, no
// temporary name: nothing reads it yet).
func writeNew(path, data string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("working copy: %w", err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		return fmt.Errorf("working copy: %w", err)
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
// as git clone leaves them). Not peeled: git peels a tag when it needs to.
func writeTrackingRefs(gitDir, remote string, canon map[string]string) error {
	refs := make(map[string]string, len(canon))
	for name, oid := range canon {
		if b, ok := strings.CutPrefix(name, "refs/heads/"); ok {
			refs["refs/remotes/"+remote+"/"+b] = oid
		} else if strings.HasPrefix(name, "refs/tags/") {
			refs[name] = oid
		}
	}
	return writeNew(filepath.Join(gitDir, "packed-refs"), string(packedRefs(refs)))
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
