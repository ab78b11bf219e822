package cmd

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// RemoteHelper runs git-remote-grove: git starts it as
// `git-remote-grove <remote> <url>` and talks gitremote-helpers(7) on its
// stdin and stdout. It offers only the connect capability, so git speaks
// its own pack protocol straight to git upload-pack or receive-pack on the
// storage, at native speed. Stdout belongs to git: nothing else is printed
// there.
func RemoteHelper(ctx context.Context, args []string, io IO) int {
	e := &env{io: io, now: time.Now}
	err := helperRun(ctx, e, args)
	if err != nil {
		fmt.Fprintf(io.Err, "grove: %s\n", oneLine(err))
		return 1
	}
	return 0
}

func helperRun(ctx context.Context, e *env, args []string) error {
	var rawURL string
	switch len(args) {
	case 1:
		rawURL = args[0]
	case 2:
		rawURL = args[1]
	default:
		return fmt.Errorf("git-remote-grove is run by git: use 'git clone grove://RID'")
	}
	u, err := protocol.ParseURL(rawURL)
	if err != nil {
		return err
	}
	in := bufio.NewReader(e.io.In)
	for {
		line, err := in.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read command from git: %w", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			return nil
		case line == "capabilities":
			fmt.Fprint(e.io.Out, "connect\n\n")
		case strings.HasPrefix(line, "option "):
			fmt.Fprint(e.io.Out, "unsupported\n")
		case strings.HasPrefix(line, "connect "):
			return helperConnect(ctx, e, u, strings.TrimPrefix(line, "connect "), in)
		default:
			return fmt.Errorf("unsupported remote-helper command %q", line)
		}
	}
}

// helperConnect serves one connect request: it prepares the service, tells
// git the connection is up, and joins git to the service's stdin and stdout.
func helperConnect(ctx context.Context, e *env, u protocol.URL, service string, in *bufio.Reader) error {
	if err := repo.CheckGit(ctx); err != nil {
		return err
	}
	h, err := e.home()
	if err != nil {
		return err
	}
	r, err := repo.Open(h, u.RID)
	if errors.Is(err, repo.ErrNotFound) {
		return fmt.Errorf("project %s is not in %s: clone it with 'grove clone %s'", u.RID, h.StorageDir(), u.RID)
	}
	if err != nil {
		return err
	}
	stdin := helperStdin(e.io.In, in)
	switch service {
	case "git-upload-pack":
		args := []string{"-c", "uploadpack.allowFilter=true"}
		env := []string{}
		if u.NID.IsZero() {
			args = append(args, "-c", "uploadpack.hideRefs=refs/namespaces/")
		} else {
			args = append(args, "-c", "uploadpack.hideRefs=refs/grove/", "-c", "uploadpack.hideRefs=refs/cobs/")
			env = append(env, "GIT_NAMESPACE="+u.NID.String())
		}
		// git does not tell connect helpers which protocol it wants, but it
		// reads the server's first line and accepts v2, which lists refs by
		// prefix and so scales with the refs asked for, not the refs stored.
		proto := "version=2"
		if p, ok := e.io.LookupEnv("GIT_PROTOCOL"); ok {
			proto = p
		}
		env = append(env, "GIT_PROTOCOL="+proto)
		if _, skip := e.io.LookupEnv(noSyncEnv); !skip {
			switch err := helperSync(ctx, h, u.RID); {
			case errors.Is(err, context.DeadlineExceeded):
				fmt.Fprintf(e.io.Err, "grove: your node's sync took longer than %s; git reads what local storage holds ('grove sync' waits for peers)\n", helperSyncWait)
			case err != nil:
				fmt.Fprintf(e.io.Err, "grove: %s; git reads what local storage holds\n", oneLine(netError("sync", u.RID, err, viaConnect)))
			}
		}
		helperLend(ctx, e, r)
		args = append(args, "upload-pack", "--strict", r.Path)
		fmt.Fprint(e.io.Out, "\n")
		return runService(ctx, r.Path, args, env, stdin, e.io.Out, e.io.Err)
	case "git-receive-pack":
		return helperReceive(ctx, e, r, u, stdin)
	default:
		return fmt.Errorf("service %q is not supported", service)
	}
}

func helperReceive(ctx context.Context, e *env, r *repo.Repo, u protocol.URL, stdin io.Reader) error {
	me, err := e.nid()
	if err != nil {
		return err
	}
	if !u.NID.IsZero() && !u.NID.Equal(me) {
		return fmt.Errorf("%s is read-only: push to %s to write your own namespace", u, r.RID.URL())
	}
	key, err := e.key()
	if err != nil {
		return err
	}
	p, err := r.BeginPush(ctx, me)
	if err != nil {
		return err
	}
	defer p.Close()
	var env []string
	if v, ok := e.io.LookupEnv("GIT_PROTOCOL"); ok {
		env = append(env, "GIT_PROTOCOL="+v)
	}
	fmt.Fprint(e.io.Out, "\n")
	// The default branch before the push, to see which patches it merges.
	before, _ := issues.NewStore(r).PatchView(ctx)
	var perr error       // the first patch that failed
	patchLanded := false // a patch opened or revised
	ups, err := p.Receive(ctx, repo.ReceivePack{In: stdin, Out: e.io.Out, Err: e.io.Err, Env: env, Signer: key, Now: e.now()},
		func(ctx context.Context, pushed []repo.PatchPush, opts []string) map[string]error {
			failed, err := helperPatches(ctx, e, r, key, pushed, opts)
			perr = err
			patchLanded = patchLanded || len(failed) < len(pushed)
			return failed
		})
	if err != nil {
		return fmt.Errorf("push landed nowhere: %w", err)
	}
	if len(ups) == 0 && !patchLanded {
		// Nothing moved (git refused the pack, say a full disk, and has
		// said why): nothing to announce either.
		return perr
	}
	helperWhereLanded(ctx, e, r, me, ups)
	helperCloseFixed(ctx, e, r, key, before)
	helperAnnounce(ctx, e, r.RID)
	return perr
}

// maxMergedCommits bounds the commits of a push that are looked at for the
// patches it merged.
const maxMergedCommits = 10_000

// helperCloseFixed closes the issues that the patches a push merged say
// they fix, when the push moved the canonical default branch on from
// before's tip (a delegate merged by plain git): as grove patch merge
// does, in changes signed by the pusher that name each patch.
func helperCloseFixed(ctx context.Context, e *env, r *repo.Repo, key protocol.Signer, before issues.PatchView) {
	h, err := e.home()
	if err != nil {
		return
	}
	st := issues.NewCachedStore(r, h)
	after, err := st.PatchView(ctx)
	if err != nil || before.Tip == "" || after.Tip == before.Tip || after.Branch != before.Branch {
		return
	}
	out, err := r.Git(ctx, nil, "rev-list", fmt.Sprintf("--max-count=%d", maxMergedCommits), before.Tip+".."+after.Tip)
	if err != nil {
		return
	}
	ids, err := st.MergedBy(strings.Fields(string(out)))
	if err != nil {
		return
	}
	for _, id := range ids {
		closed, err := st.CloseFixed(ctx, key, e.now(), id, "")
		if err != nil {
			fmt.Fprintf(e.io.Err, "grove: patch %.7s is merged, but closing the issues it fixes failed (close them by hand): %v\n", id, err)
			continue
		}
		for _, c := range closed {
			fmt.Fprintf(e.io.Err, "grove: closed issue %.7s, which patch %.7s fixes\n", c, id)
		}
	}
}

// helperWhereLanded says, of each branch or tag a push moved in the
// user's namespace that the project's canonical ref does not follow (the
// user is not a delegate, or not enough of them have it yet), where it
// landed and where the canonical ref stands: git reports the ref pushed,
// and the next fetch of grove://RID moves the remote-tracking ref back.
func helperWhereLanded(ctx context.Context, e *env, r *repo.Repo, me protocol.NID, ups []repo.RefUpdate) {
	canon, err := r.CanonicalRefs(ctx)
	if err != nil {
		return
	}
	mine := protocol.URL{RID: r.RID, NID: me}
	for _, u := range ups {
		name := strings.TrimPrefix(u.Name, "refs/namespaces/"+me.String()+"/")
		short, branch := strings.CutPrefix(name, "refs/heads/")
		if !branch {
			var tag bool
			if short, tag = strings.CutPrefix(name, "refs/tags/"); !tag {
				continue
			}
		}
		if u.New == "" || strings.HasPrefix(name, "refs/heads/patches/") || canon[name] == u.New {
			continue
		}
		where := fmt.Sprintf("the project has no canonical %s yet: delegates make it", short)
		if c := canon[name]; c != "" {
			where = fmt.Sprintf("the canonical %s stays at %.7s until delegates move it", short, c)
		}
		fmt.Fprintf(e.io.Err, "grove: %s updated your namespace (%s); %s\n", short, mine, where)
	}
}

// Environment between `grove patch open|update` and the helper it runs
// through git push: a file with the patch's message (title, blank line,
// description, as in a commit), and a file the helper writes "ID REVISION"
// to.
const (
	patchMessageEnv = "GROVE_PATCH_MESSAGE_FILE"
	patchResultEnv  = "GROVE_PATCH_RESULT_FILE"
)

// helperPatches opens or revises the patches a push named
// (issues.Store.ReceivePatches), says which, and returns why each ref
// that failed did, and the first such error.
func helperPatches(ctx context.Context, e *env, r *repo.Repo, key protocol.Signer, pushed []repo.PatchPush, opts []string) (map[string]error, error) {
	message := ""
	if f := e.getenv(patchMessageEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return failAll(pushed, fmt.Errorf("patch message: %w", err))
		}
		message = string(b)
	}
	h, err := e.home()
	if err != nil {
		return failAll(pushed, err)
	}
	failed := make(map[string]error)
	var first error
	for _, res := range issues.NewCachedStore(r, h).ReceivePatches(ctx, key, e.now(), pushed, opts, message) {
		if res.Err == nil && res.Opened() {
			fmt.Fprintf(e.io.Err, "grove: opened patch %.7s (%s)\n", res.ID, patchURL(r.RID, res.ID))
		} else if res.Err == nil {
			fmt.Fprintf(e.io.Err, "grove: updated patch %.7s to revision %d, %.7s (%s)\n", res.ID, res.N, res.Revision, patchURL(r.RID, res.ID))
		}
		if f := e.getenv(patchResultEnv); f != "" && res.Err == nil {
			if err := os.WriteFile(f, []byte(res.ID+" "+res.Revision+"\n"), 0o600); err != nil {
				res.Err = fmt.Errorf("patch result: %w", err)
			}
		}
		if res.Err != nil {
			failed[res.Ref] = res.Err
			first = cmp.Or(first, res.Err)
		}
	}
	return failed, first
}

// failAll fails every ref of pushed with err.
func failAll(pushed []repo.PatchPush, err error) (map[string]error, error) {
	failed := make(map[string]error, len(pushed))
	for _, pp := range pushed {
		failed[pp.Ref] = err
	}
	return failed, err
}

// patchURL is the URL-like reference the helper prints for a patch.
func patchURL(rid protocol.RID, id string) string {
	return rid.URL() + "/patches/" + id
}

// helperLend makes the repository git fetches into (GIT_DIR) borrow the
// storage's objects when it has none yet, as in a clone, so git finds
// every object it wants already there and transfers none
// (repo.Repo.LendTo). When that cannot be done git transfers them as
// usual.
func helperLend(ctx context.Context, e *env, r *repo.Repo) {
	dir, ok := e.io.LookupEnv("GIT_DIR")
	if !ok || dir == "" {
		return
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, repo.LendWait)
	defer cancel()
	r.LendTo(ctx, dir)
}

// helperSyncWait bounds how long a fetch waits for the node to sync first.
const helperSyncWait = 3 * time.Second

// helperSync asks a running node to fetch rid from its peers before git
// reads the storage; failures and a missing node only mean git reads what
// is there. It returns why the node's sync failed, nil with no node.
func helperSync(ctx context.Context, h repo.Home, rid protocol.RID) error {
	cl := runningNode(h)
	if cl == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, helperSyncWait+time.Second)
	defer cancel()
	_, err := cl.Sync(ctx, rid, helperSyncWait)
	return err
}

// helperAnnounce asks a running node to announce a push and says where
// it went (announceLine).
func helperAnnounce(ctx context.Context, e *env, rid protocol.RID) {
	announceLine(ctx, e, rid, "pushed")
}

// service returns the git subcommand in args, for messages.
func service(args []string) string {
	for _, a := range args {
		if strings.HasSuffix(a, "-pack") {
			return a
		}
	}
	return args[0]
}

// helperStdin returns what the service should read: the process's stdin
// itself when the command reader holds nothing git sent ahead (git waits
// for our reply, so it never does), which lets the service read git
// directly and end cleanly.
func helperStdin(raw io.Reader, in *bufio.Reader) io.Reader {
	if f, ok := raw.(*os.File); ok && in.Buffered() == 0 {
		return f
	}
	return in
}

func runService(ctx context.Context, dir string, args, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := exec.CommandContext(ctx, "git", args...)
	c.Dir = dir
	c.Env = repo.GitEnv(env...)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	c.WaitDelay = time.Second
	if err := c.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("git %s: %w", service(args), err)
	}
	return nil
}
