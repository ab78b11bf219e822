// Package cli holds what Grove's programs share below their main: streams,
// the home, the key, the project a command acts on, exit codes. Package cmd
// (grove, git-remote-grove) and package tuicmd (grove-tui) both use it, so
// that grove does not link the terminal UI.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// IO is what a program reads and writes, injected so tests can capture it.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// LookupEnv reads the environment (os.LookupEnv in production).
	LookupEnv func(string) (string, bool)
	// InTTY, OutTTY and ErrTTY say whether each stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
}

// Stdio returns the process's standard streams and environment.
func Stdio() IO {
	isTTY := func(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		LookupEnv: os.LookupEnv,
		InTTY:     isTTY(os.Stdin), OutTTY: isTTY(os.Stdout), ErrTTY: isTTY(os.Stderr),
	}
}

// Env is what every command shares: streams and a clock.
type Env struct {
	IO  IO
	Now func() time.Time
}

// Getenv returns the environment variable k, or "".
func (e *Env) Getenv(k string) string {
	v, _ := e.IO.LookupEnv(k)
	return v
}

// Home returns $GROVE_HOME, or ~/.grove.
func (e *Env) Home() (repo.Home, error) {
	if d := e.Getenv("GROVE_HOME"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return repo.Home{}, fmt.Errorf("GROVE_HOME: %w", err)
		}
		return repo.Home{Dir: abs}, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return repo.Home{}, fmt.Errorf("no home directory: set GROVE_HOME")
	}
	return repo.Home{Dir: filepath.Join(h, ".grove")}, nil
}

// Passphrase returns GROVE_PASSPHRASE, or asks on the terminal.
func (e *Env) Passphrase() ([]byte, error) {
	if p, ok := e.IO.LookupEnv("GROVE_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: set GROVE_PASSPHRASE to unlock the key", repo.ErrPassphrase)
	}
	defer tty.Close()
	fmt.Fprint(tty, "Passphrase: ")
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return p, nil
}

// NoKeyError says that a home holds no key yet; it wraps repo.ErrNoKey.
type NoKeyError struct{ Dir string }

func (e *NoKeyError) Error() string {
	return fmt.Sprintf("no key yet in %s: run 'grove auth' first", e.Dir)
}

func (e *NoKeyError) Unwrap() error { return repo.ErrNoKey }

// Key loads the user's signing key.
func (e *Env) Key() (*protocol.Key, error) {
	h, err := e.Home()
	if err != nil {
		return nil, err
	}
	k, err := repo.LoadKey(h, e.Passphrase)
	switch {
	case errors.Is(err, repo.ErrNoKey):
		return nil, &NoKeyError{Dir: h.Dir}
	case errors.Is(err, repo.ErrPassphrase):
		return nil, fmt.Errorf("cannot unlock your key: wrong or missing passphrase (set GROVE_PASSPHRASE in scripts)")
	}
	return k, err
}

// Project opens the project named by flagRID (--repo), or else the one
// the working copy's Grove remote points at (WorkingCopy).
func (e *Env) Project(ctx context.Context, flagRID string) (*repo.Repo, error) {
	h, err := e.Home()
	if err != nil {
		return nil, err
	}
	var rid protocol.RID
	if flagRID != "" {
		rid, err = protocol.ParseRID(strings.TrimPrefix(flagRID, protocol.URLScheme))
		if err != nil {
			return nil, Usagef("%v", err)
		}
	} else {
		rem, err := WorkingCopy(ctx, "")
		if err != nil {
			return nil, err
		}
		rid = rem.URL.RID
	}
	r, err := repo.Open(h, rid)
	if errors.Is(err, repo.ErrNotFound) {
		return nil, fmt.Errorf("project %s is not in local storage: clone it with 'grove clone %s'", rid, rid)
	}
	return r, err
}

// ErrNotWorkingCopy is returned by WorkingCopy for a directory none of
// whose git remotes has a grove:// URL.
var ErrNotWorkingCopy = errors.New("not in a Grove working copy (no remote with a grove:// URL)")

// Remote is a git remote whose URL is a grove:// URL.
type Remote struct {
	Name string
	URL  protocol.URL
}

// WorkingCopy returns the remote through which the git working copy in
// dir ("" for the current directory) reaches its Grove project. Any
// remote with a grove:// URL makes a Grove working copy, whatever its name
// (git clone grove://RID names it "origin"). Of several, a project's
// canonical refs (grove://RID) come before one peer's (grove://RID/NID),
// and the remote named "grove" before "origin" before the others; remotes
// naming two projects are an error unless one of them is "grove".
// Outside any git repository it answers without running git.
func WorkingCopy(ctx context.Context, dir string) (Remote, error) {
	if !inGitRepository(dir) {
		return Remote{}, fmt.Errorf("%w: pass --repo RID, or run 'grove init' in a git working copy to make it a project", ErrNotWorkingCopy)
	}
	out, err := repo.GitCommand(ctx, dir, "config", "--get-regexp", `^remote\..*\.url$`).Output()
	if err != nil && ctx.Err() != nil {
		return Remote{}, ctx.Err()
	}
	// git config exits 1 when nothing matches, outside a repository too.
	var rems []Remote
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		key, val, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(val, protocol.URLScheme) {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(key, "remote."), ".url")
		u, err := protocol.ParseURL(val)
		if err != nil {
			return Remote{}, fmt.Errorf("remote %q: %w", name, err)
		}
		rems = append(rems, Remote{Name: name, URL: u})
	}
	if len(rems) == 0 {
		return Remote{}, fmt.Errorf("%w: pass --repo RID, or run 'grove init' to make this git working copy a project", ErrNotWorkingCopy)
	}
	rank := func(r Remote) int {
		n := 0
		if !r.URL.NID.IsZero() {
			n += 3
		}
		switch r.Name {
		case "grove":
		case "origin":
			n++
		default:
			n += 2
		}
		return n
	}
	best := rems[0]
	for _, r := range rems[1:] {
		if rank(r) < rank(best) {
			best = r
		}
	}
	if best.Name != "grove" {
		for _, r := range rems {
			if r.URL.RID != best.URL.RID {
				return Remote{}, fmt.Errorf("remotes %q and %q are two Grove projects: pass --repo RID", best.Name, r.Name)
			}
		}
	}
	return best, nil
}

// inGitRepository reports whether git, started in dir ("" for the current
// directory), could find a repository there: dir or one of its parents
// holds a .git (a directory, or the file of a linked worktree or
// submodule) or is a git directory itself (HEAD, objects and refs, as a
// bare repository or inside .git). It may say true where git finds none
// (git also stops at GIT_CEILING_DIRECTORIES and file-system boundaries),
// never the reverse, so a false spares starting git, which costs a
// process start on every grove tui opened outside a working copy.
// Repository-local variables such as GIT_DIR are not passed to the git
// WorkingCopy runs (repo.GitEnv), so they do not count here either.
func inGitRepository(dir string) bool {
	d, err := filepath.Abs(dir)
	if err != nil {
		return true
	}
	// git walks up the physical path (getcwd), d may be a logical one
	// ($PWD, through a symbolic link): walk both.
	phys, err := filepath.EvalSymlinks(d)
	if err != nil {
		return true
	}
	return gitDirAbove(d) || phys != d && gitDirAbove(phys)
}

// gitDirAbove reports whether d or one of its parents holds .git or is a
// git directory.
func gitDirAbove(d string) bool {
	for {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return true
		}
		if isGitDir(d) {
			return true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return false
		}
		d = parent
	}
}

// isGitDir reports whether d looks like a git directory: a HEAD file and
// objects and refs directories.
func isGitDir(d string) bool {
	if fi, err := os.Stat(filepath.Join(d, "HEAD")); err != nil || fi.IsDir() {
		return false
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(d, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// Announce asks a running node, if any, to tell peers about a change to
// project rid; with none the change waits in storage for the next sync.
func Announce(ctx context.Context, h repo.Home, rid protocol.RID) {
	if c, err := control.Dial(h); err == nil {
		c.Announce(ctx, rid)
	}
}

// UsageError is a mistake in how a command was called; it exits 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef formats a UsageError.
func Usagef(format string, a ...any) error { return &UsageError{Err: fmt.Errorf(format, a...)} }

// ExitError is an error that was reported already (by a program the
// command was handed to); it only sets the exit code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// ExitCode is Grove's one table from errors to exit codes. It prints err
// as one line on stderr, where the code needs one, and returns:
//
//	nil           0
//	*ExitError    its Code, with nothing printed: it was reported already
//	*UsageError   2, then a line pointing at help, the command that shows
//	              how to call this one
//	anything else 1
func ExitCode(err error, stderr io.Writer, help string) int {
	var exit *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, new(*UsageError)):
		fmt.Fprintf(stderr, "grove: %s\nsee '%s'\n", OneLine(err), help)
		return 2
	default:
		fmt.Fprintf(stderr, "grove: %s\n", OneLine(err))
		return 1
	}
}

// OneLine returns the first line of err's message, made safe to print
// (termtext.Line): errors quote titles, labels, ref names and paths that
// peers wrote. A full disk (or quota) gets what to do at the end.
func OneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if diskFull(err, s) && !strings.HasSuffix(s, hintDiskFull) {
		s += ": " + hintDiskFull
	}
	return termtext.Line(s)
}

const hintDiskFull = "make room on that disk and try again"

// diskFull reports whether err, whose first line is msg, is a full disk
// or quota: as an errno, or in the words of git or a node across the
// control socket, which carry only the text.
func diskFull(err error, msg string) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	l := strings.ToLower(msg)
	return strings.Contains(l, "no space left on device") || strings.Contains(l, "disk quota exceeded")
}
