package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// minGit is the oldest git Grove works with: it needs transactional
// `update-ref --stdin`, protocol v2 and quarantined receive-pack.
var minGit = [3]int{2, 31, 0}

// ErrGitTooOld is returned when the installed git is older than Grove needs.
var ErrGitTooOld = errors.New("git is too old")

// GitError is a git command that failed, with what it printed.
type GitError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *GitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *GitError) Unwrap() error { return e.Err }

// repoLocalEnv are the variables (git rev-parse --local-env-vars) that would
// make a git we start act on the caller's repository instead of ours. The
// remote helper runs with GIT_DIR set by the git that started it.
var repoLocalEnv = []string{
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS",
	"GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE",
	"GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE", "GIT_INDEX_FILE",
	"GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
	"GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE", "GIT_COMMON_DIR",
	"GIT_NAMESPACE", "GIT_QUARANTINE_PATH",
}

// GitEnv returns the process environment without repository-local git
// variables, plus extra. It leaves out GROVE_PASSPHRASE too: git and what
// it runs (hooks, pagers, credential helpers) have no use for the key's
// passphrase; the one git whose remote helper signs (grove init's push)
// is given it in extra.
func GitEnv(extra ...string) []string {
	env := make([]string, 0, len(os.Environ())+len(extra))
outer:
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GROVE_PASSPHRASE" {
			continue
		}
		for _, l := range repoLocalEnv {
			if k == l || strings.HasPrefix(k, "GIT_CONFIG_KEY_") || strings.HasPrefix(k, "GIT_CONFIG_VALUE_") {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// ObjectLimitEnv is the environment that makes git refuse, as it reads a
// pack, any object that inflates to more than max bytes: GIT_ALLOC_LIMIT
// bounds each allocation, and a threshold above every size makes git
// allocate each blob (it would stream one over core.bigFileThreshold,
// unbounded). git refuses before it inflates: a pack entry and a delta
// state the size they inflate to first.
func ObjectLimitEnv(max int64) []string {
	return []string{
		"GIT_ALLOC_LIMIT=" + strconv.FormatInt(max, 10),
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.bigFileThreshold", "GIT_CONFIG_VALUE_0=" + strconv.FormatInt(1<<50, 10),
	}
}

// ErrObjectTooLarge is a pack refused because an object in it inflates
// to more than the limit it was read with (ObjectLimitEnv).
var ErrObjectTooLarge = errors.New("object over the size limit")

// ObjectOverLimit reports whether git's stderr says an object was over
// the limit of ObjectLimitEnv.
func ObjectOverLimit(stderr string) bool {
	return strings.Contains(stderr, "fatal: attempting to allocate") && strings.Contains(stderr, "over limit")
}

// GitCommand returns a git command run in dir with a clean environment.
func GitCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "git", args...)
	c.Dir = dir
	c.Env = GitEnv()
	return c
}

// runGit runs git in dir with stdin and returns its stdout.
func runGit(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	return runGitEnv(ctx, dir, nil, stdin, args...)
}

// runGitEnv is runGit with env added to git's environment.
func runGitEnv(ctx context.Context, dir string, env []string, stdin []byte, args ...string) ([]byte, error) {
	c := GitCommand(ctx, dir, args...)
	c.Env = append(c.Env, env...)
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return out.Bytes(), &GitError{Args: args, Stderr: errb.String(), Err: err}
	}
	return out.Bytes(), nil
}

// CheckGit returns ErrGitTooOld (wrapped, with the versions) when the git on
// PATH cannot run Grove, and a clear error when there is none.
func CheckGit(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "git", "version").Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("git not found on PATH: install git %d.%d or newer", minGit[0], minGit[1])
		}
		return fmt.Errorf("git version: %w", err)
	}
	v, ok := parseGitVersion(string(out))
	if !ok {
		return nil // an unusual build string; let the commands speak
	}
	for i := range v {
		if v[i] != minGit[i] {
			if v[i] < minGit[i] {
				return fmt.Errorf("%w: found %d.%d.%d, need %d.%d or newer", ErrGitTooOld, v[0], v[1], v[2], minGit[0], minGit[1])
			}
			break
		}
	}
	return nil
}

func parseGitVersion(s string) ([3]int, bool) {
	var v [3]int
	f := strings.Fields(s)
	if len(f) < 3 {
		return v, false
	}
	parts := strings.SplitN(f[2], ".", 4)
	for i := 0; i < 3 && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return v, i > 0
		}
		v[i] = n
	}
	return v, true
}
