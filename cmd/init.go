package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

type initOptions struct {
	on
	jsonFlag
	Name, Description, DefaultBranch string
	Private                          bool
	Allow                            []string
}

func newInitCmd(e *env) *cobra.Command {
	o := &initOptions{}
	c := o.bind(e, doc("init", "Make this git working copy a Grove project",
		`Create a Grove project from the git working copy you are in: write its
identity document (with you as the delegate), store it under
$GROVE_HOME/storage/<RID>.git, add the remote "grove" = grove://RID and push
the default branch there. Prints the RID.`,
		`  grove init
  grove init --name hello --description "Says hello" --default-branch trunk
  grove init --private --allow 12D3KooW...`,
	), 0, false, func(ctx context.Context) error { return initRun(ctx, o) })
	o.add(c)
	f := c.Flags()
	f.StringVar(&o.Name, "name", "", "project name (default: the directory's name)")
	f.StringVar(&o.Description, "description", "", "one-line description")
	f.StringVar(&o.DefaultBranch, "default-branch", "", "default branch (default: the current branch)")
	f.BoolVar(&o.Private, "private", false, "share only with the NIDs given by --allow")
	stringsVarP(f, &o.Allow, "allow", "", "a NID that may see a private project (repeatable)")
	return c
}

func initRun(ctx context.Context, o *initOptions) error {
	if len(o.Allow) > 0 && !o.Private {
		return usagef("--allow needs --private")
	}
	if err := repo.CheckGit(ctx); err != nil {
		return err
	}
	top, err := gitOutput(ctx, "", "rev-parse", "--show-toplevel")
	if err != nil {
		return fmt.Errorf("not in a git working copy: run 'git init' and commit first")
	}
	if rem, err := cli.WorkingCopy(ctx, top); !errors.Is(err, cli.ErrNotWorkingCopy) {
		if err != nil {
			return err
		}
		return fmt.Errorf("this working copy is already Grove project %s (remote %q): use 'grove issue' and 'grove patch' here as they are; to make a new project from it, 'git remote remove %s' first", rem.URL.RID, rem.Name, rem.Name)
	}
	branch := o.DefaultBranch
	if branch == "" {
		branch, err = gitOutput(ctx, top, "symbolic-ref", "--short", "HEAD")
		if err != nil {
			return fmt.Errorf("HEAD is detached: pass --default-branch")
		}
	}
	if _, err := gitOutput(ctx, top, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch+"^{commit}"); err != nil {
		return fmt.Errorf("branch %q has no commits: commit something first or pass --default-branch", branch)
	}
	if _, err := exec.LookPath("git-remote-grove"); err != nil {
		return fmt.Errorf("git-remote-grove is not on PATH: run 'go install ./cmd/...' and add $(go env GOPATH)/bin to PATH")
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(top)
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	doc := &protocol.Identity{
		Name:          name,
		Description:   o.Description,
		DefaultBranch: branch,
		Delegates:     []protocol.NID{key.NID()},
		Threshold:     1,
		Visibility:    protocol.Visibility{Type: protocol.Public},
	}
	if o.Private {
		doc.Visibility.Type = protocol.Private
		for _, a := range o.Allow {
			n, err := protocol.ParseNID(a)
			if err != nil {
				return usagef("--allow: %v", err)
			}
			doc.Visibility.Allow = append(doc.Visibility.Allow, n)
		}
	}
	if err := checkPlain(plainFlag{"name", optString{name, true}}, plainFlag{"description", optString{o.Description, true}}, plainFlag{"default-branch", optString{branch, true}}); err != nil {
		return err
	}
	doc.Normalize()
	if err := doc.Validate(); err != nil {
		return usagef("%v", err)
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	r, err := repo.Create(ctx, h, key, doc, o.Now())
	if err != nil {
		return err
	}
	// From here on, undo everything if a step fails: no half-made project.
	undo := func() {
		repo.GitCommand(context.Background(), top, "remote", "remove", "grove").Run()
		os.RemoveAll(r.Path)
	}
	if _, err := gitOutput(ctx, top, "remote", "add", "grove", r.RID.URL()); err != nil {
		undo()
		return err
	}
	push := repo.GitCommand(ctx, top, "push", "--quiet", "--set-upstream", "grove", "refs/heads/"+branch+":refs/heads/"+branch)
	if p, ok := o.IO.LookupEnv("GROVE_PASSPHRASE"); ok {
		push.Env = append(push.Env, "GROVE_PASSPHRASE="+p) // the helper signs the push
	}
	var stderr strings.Builder
	push.Stderr = &stderr
	// A big repository takes seconds: on a terminal, a line says what
	// runs (git's own progress would come with the helper's notes).
	stop := newProgress(o.IO, 300*time.Millisecond).spin("Pushing " + branch + " into the new project's storage")
	err = push.Run()
	stop()
	if err != nil {
		undo()
		return fmt.Errorf("push %s to the new project: %s", branch, firstLine(stderr.String(), err))
	}
	// The project's creator hosts it: a running node joins its topic now
	// (so what peers push and file reaches it), and a node started later
	// joins it at start.
	if err := seedProject(ctx, h, r.RID); err != nil {
		fmt.Fprintf(o.IO.Err, "grove: created %s, but could not seed it: %s (run 'grove seed %s')\n", r.RID, oneLine(err), r.RID)
	}
	if err := o.result(o.IO.Out, initJSON{RID: r.RID.String(), URL: r.RID.URL(), Remote: "grove", Name: name, DefaultBranch: branch},
		func() error { _, err := fmt.Fprintln(o.IO.Out, r.RID); return err }); err != nil {
		return err
	}
	if o.IO.ErrTTY {
		fmt.Fprintf(o.IO.Err, "Initialized %s with remote \"grove\" = %s\n", name, r.RID.URL())
	}
	return nil
}

// gitOutput runs git in dir and returns its trimmed stdout.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	c := repo.GitCommand(ctx, dir, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %s", args[0], firstLine(stderr.String(), err))
	}
	return strings.TrimSpace(string(out)), nil
}

func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "fatal: ")
		l = strings.TrimPrefix(l, "error: ")
		if l != "" {
			return l
		}
	}
	return err.Error()
}

// initJSON is what init --json prints.
type initJSON struct {
	RID           string `json:"rid"`
	URL           string `json:"url"`
	Remote        string `json:"remote"`
	Name          string `json:"name"`
	DefaultBranch string `json:"defaultBranch"`
}
