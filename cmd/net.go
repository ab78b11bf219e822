package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// noSyncEnv, set in the environment of the git that `grove clone` runs,
// tells the remote helper the project was just fetched.
const noSyncEnv = "GROVE_HELPER_NO_SYNC"

// parseRID accepts RID or grove://RID; a bad one is a usage error.
func parseRID(s string) (protocol.RID, error) {
	rid, err := protocol.ParseRID(strings.TrimPrefix(s, protocol.URLScheme))
	if err != nil {
		return rid, usagef("%v", err)
	}
	return rid, nil
}

// checkAddrs makes sure every address is a multiaddr ending in /p2p/NID.
func checkAddrs(addrs []string) error {
	for _, a := range addrs {
		if _, err := control.ParseAddr(a); err != nil {
			return usagef("%v", err)
		}
	}
	return nil
}

// rememberPeers adds addrs to the policy's peers.
func rememberPeers(h repo.Home, addrs []string) error {
	return editPolicy(h, func(pol *control.Policy) bool {
		for _, a := range addrs {
			pol.AddPeer(a)
		}
		return len(addrs) > 0
	})
}

// editPolicy loads the home's policy, lets edit change it, and saves it if
// edit says it did.
func editPolicy(h repo.Home, edit func(pol *control.Policy) (changed bool)) error {
	pol, err := control.LoadPolicy(h)
	if err != nil {
		return err
	}
	if !edit(pol) {
		return nil
	}
	return pol.Save(h)
}

// askNode calls ask with the home's running node, within limit, or says
// that none runs.
func askNode(ctx context.Context, h repo.Home, limit time.Duration, ask func(ctx context.Context, cl *control.Client) error) error {
	cl := runningNode(h)
	if cl == nil {
		return errNoNode
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return ask(ctx, cl)
}

// tempNode starts a node in this process, on loopback, for one command run
// with no node running; it dials addrs (or else the remembered peers) and
// returns how many answered, and with none that did, why the first failed
// (dialErr). The caller closes it. Only grove-node has d.Nodes: grove
// hands such commands to it first (Handoff).
func tempNode(ctx context.Context, d *deps, h repo.Home, addrs []string) (n Node, connected int, dialErr error, err error) {
	key, err := d.Key()
	if err != nil {
		return nil, 0, nil, err
	}
	// Given peers (--from) are the only ones dialled: the node's own
	// dials of remembered peers at start would race them to the same
	// peer over other addresses.
	given := len(addrs) > 0
	if !given {
		pol, err := control.LoadPolicy(h)
		if err != nil {
			return nil, 0, nil, err
		}
		addrs = pol.Peers
	}
	n, err = d.Nodes.Start(ctx, NodeConfig{Home: h, Key: key, NoReconnect: given, OneCommand: true})
	if err != nil {
		return nil, 0, nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(addrs))
	for i, a := range addrs {
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			errs[i] = n.Connect(dctx, a)
			if errs[i] == nil {
				mu.Lock()
				connected++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if connected == 0 {
		for _, err := range errs {
			if err != nil {
				dialErr = err
				break
			}
		}
	}
	return n, connected, dialErr, nil
}

// announceLine asks a running node to announce rid's new signed refs
// and says, in one line on stderr, to how many peers they went, or the
// command that fixes it when none heard: 'grove node start' with no node,
// 'grove connect' with no peer of the project connected. what names the
// change for the line that reports a failure ("pushed", "saved").
func announceLine(ctx context.Context, e *env, rid protocol.RID, what string) {
	h, err := e.home()
	if err != nil {
		return
	}
	cl := runningNode(h)
	if cl == nil {
		fmt.Fprintln(e.io.Err, "grove: no node running; nothing announced (start one with 'grove node start')")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := cl.AnnounceCount(ctx, rid)
	switch {
	case err != nil:
		fmt.Fprintf(e.io.Err, "grove: %s, but the node could not announce it: %s\n", what, oneLine(err))
	default:
		fmt.Fprintln(e.io.Err, "grove: "+announcedTo(n))
	}
}

// announcedTo says to how many peers an announcement went, and with none
// what connects one.
func announcedTo(n int) string {
	switch n {
	case 0:
		return "announced to no peer: none that seeds this project is connected (connect one with 'grove connect ADDRESS')"
	case 1:
		return "announced to 1 peer"
	}
	return fmt.Sprintf("announced to %d peers", n)
}

type connectOptions struct {
	on
	jsonFlag
}

func newConnectCmd(e *env) *cobra.Command {
	o := &connectOptions{}
	return o.add(o.bind(e, doc("connect MULTIADDR", "Dial a peer and remember it",
		`Remember the peer at MULTIADDR (which ends in /p2p/NID) in your policy, so
your node dials it whenever it starts, and dial it now through the running
node. Prints the peer's NID.`,
		"  grove connect /ip4/192.0.2.10/tcp/8776/p2p/12D3KooW...",
	), 1, false, func(ctx context.Context) error { return connectRun(ctx, o) }))
}

func connectRun(ctx context.Context, o *connectOptions) error {
	addr := o.Args[0]
	nid, err := control.ParseAddr(addr)
	if err != nil {
		return usagef("%v", err)
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	if err := rememberPeers(h, []string{addr}); err != nil {
		return err
	}
	err = askNode(ctx, h, 30*time.Second, func(ctx context.Context, cl *control.Client) error {
		got, err := cl.Connect(ctx, addr)
		if errors.Is(err, control.ErrUnreachable) {
			return fmt.Errorf("remembered, but %w: %s", err, hintUnreachable)
		}
		if err != nil {
			return fmt.Errorf("remembered, but %w", err)
		}
		return o.result(o.IO.Out, struct {
			NID  string `json:"nid"`
			Addr string `json:"addr"`
		}{got, addr}, func() error { _, err := fmt.Fprintln(o.IO.Out, got); return err })
	})
	if errors.Is(err, errNoNode) {
		return fmt.Errorf("remembered %s, but no node is running to dial it: start one with 'grove node start'", nid)
	}
	return err
}

type seedOptions struct {
	on
	From []string
}

func newSeedCmd(e *env) *cobra.Command {
	o := &seedOptions{}
	c := o.bind(e, doc("seed RID", "Host a project and keep it in sync",
		`Seed a project: your node serves it to peers, provides it on the DHT if
it is public, and fetches what the peers you follow announce. With --from,
a project not in local storage yet is fetched from those peers first.`,
		"  grove seed baf4bcf...\n  grove seed baf4bcf... --from /ip4/192.0.2.10/tcp/8776/p2p/12D3KooW...",
	), 1, false, func(ctx context.Context) error { return seedRun(ctx, o) })
	stringsVarP(c.Flags(), &o.From, "from", "", "a peer to fetch the project from (repeatable)")
	return c
}

func seedRun(ctx context.Context, o *seedOptions) error {
	rid, err := parseRID(o.ID)
	if err != nil {
		return err
	}
	if err := checkAddrs(o.From); err != nil {
		return err
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	if err := rememberPeers(h, o.From); err != nil {
		return err
	}
	_, err = repo.Open(h, rid)
	stored := err == nil
	if len(o.From) > 0 && !stored {
		if _, err := fetchProject(ctx, &o.deps, h, rid, o.From); err != nil {
			return err
		}
		o.info("Seeding %s", rid)
		return nil
	}
	if err := seedProject(ctx, h, rid); err != nil {
		return err
	}
	switch {
	case !stored && runningNode(h) == nil:
		o.info("Seeding %s; it is not in local storage yet: 'grove clone %s' or --from fetch it", rid, rid)
	case runningNode(h) == nil:
		o.info("Seeding %s from when your node starts ('grove node start')", rid)
	default:
		o.info("Seeding %s", rid)
	}
	return nil
}

// seedProject hosts rid: through the running node, which joins its topic
// at once, or else in the policy, which a node reads when it starts.
func seedProject(ctx context.Context, h repo.Home, rid protocol.RID) error {
	if cl := runningNode(h); cl != nil {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return cl.Seed(sctx, rid)
	}
	return editPolicy(h, func(pol *control.Policy) bool { return pol.AddSeed(rid) })
}

func newUnseedCmd(e *env) *cobra.Command {
	o := &on{}
	return o.bind(e, doc("unseed RID", "Stop hosting a project (its storage stays)", "",
		"  grove unseed baf4bcf...",
	), 1, false, func(ctx context.Context) error { return unseedRun(ctx, o) })
}

func unseedRun(ctx context.Context, o *on) error {
	rid, err := parseRID(o.ID)
	if err != nil {
		return err
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	err = askNode(ctx, h, time.Minute, func(ctx context.Context, cl *control.Client) error { return cl.Unseed(ctx, rid) })
	if errors.Is(err, errNoNode) {
		err = editPolicy(h, func(pol *control.Policy) bool { return pol.RemoveSeed(rid) })
	}
	if err != nil {
		return err
	}
	o.info("No longer seeding %s; its storage stays", rid)
	return nil
}

// fetchProject gets a project that is not stored yet, through the running
// node or a node started for the purpose, and seeds it.
func fetchProject(ctx context.Context, d *deps, h repo.Home, rid protocol.RID, from []string) (*control.FetchResult, error) {
	cl := runningNode(h)
	if cl == nil && d.Nodes == nil {
		return nil, d.Handoff(ctx, nodeProgram)
	}
	d.info("Fetching %s…", rid)
	var res *control.FetchResult
	var err error
	line := newProgress(d.IO, 0)
	if cl != nil {
		// The control socket answers once, at the end: no byte counts.
		stop := line.spin("Fetching through the running node")
		res, err = cl.Clone(ctx, rid, from)
		stop()
	} else {
		n, connected, dialErr, terr := tempNode(ctx, d, h, from)
		if terr != nil {
			return nil, terr
		}
		if len(from) > 0 && connected == 0 {
			// The peers asked for are the only ones Clone would try.
			n.Close()
			line.clear()
			return nil, netError("clone", rid, dialErr, viaFrom)
		}
		res, err = n.Clone(ctx, rid, from, line.fetchProgress())
		n.Close()
		line.clear()
	}
	if err != nil {
		return nil, netError("clone", rid, err, viaFrom)
	}
	d.info("Fetched %s from %s (%d bytes, %s)", rid, res.Peer, res.Bytes, res.Duration)
	return res, nil
}

type cloneOptions struct {
	on
	jsonFlag
	From []string
}

func newCloneCmd(e *env) *cobra.Command {
	o := &cloneOptions{}
	c := o.bind(e, doc("clone RID [DIR]", "Fetch a project from peers, seed it, and check it out",
		`Fetch the project RID from the given peers (--from), or from the peers your
node knows and the DHT; seed it; then 'git clone' it into DIR (default: the
project's name) with the remote "grove" = grove://RID. Uses the running
node, or a node started for the fetch when none runs.`,
		"  grove clone baf4bcf... --from /ip4/192.0.2.10/tcp/8776/p2p/12D3KooW...\n  grove clone baf4bcf... hello",
	), 1, false, func(ctx context.Context) error { return cloneRun(ctx, o) })
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return usagef("%s takes RID and an optional DIR", c.CommandPath())
		}
		return nil
	}
	stringsVarP(c.Flags(), &o.From, "from", "", "a peer to fetch the project from (repeatable)")
	return o.add(c)
}

// cloneJSON is what clone --json prints; Peer and Bytes are empty when
// the project was in local storage already.
type cloneJSON struct {
	RID    string `json:"rid"`
	Dir    string `json:"dir"`
	Remote string `json:"remote"`
	URL    string `json:"url"`
	Peer   string `json:"peer,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
}

func cloneRun(ctx context.Context, o *cloneOptions) error {
	dir := ""
	if len(o.Args) == 2 {
		dir = o.Args[1]
	}
	rid, err := parseRID(o.ID)
	if err != nil {
		return err
	}
	if err := checkAddrs(o.From); err != nil {
		return err
	}
	if dir != "" && !emptyDir(dir) {
		return fmt.Errorf("%s already exists and is not empty", dir)
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	r, err := repo.Open(h, rid)
	if errors.Is(err, repo.ErrNotFound) && o.Nodes == nil && runningNode(h) == nil {
		// grove-node fetches it, and runs everything below, git's version
		// check included: asking git here too would cost a process.
		return o.Handoff(ctx, nodeProgram)
	}
	if err := repo.CheckGit(ctx); err != nil {
		return err
	}
	if err := rememberPeers(h, o.From); err != nil {
		return err
	}
	out := cloneJSON{RID: rid.String(), Remote: "grove", URL: rid.URL()}
	// wc is the working copy under way; what returns before CloneInto has
	// it undone.
	var wc *repo.WorkingCopy
	defer func() {
		if wc != nil {
			wc.Discard()
		}
	}()
	switch {
	case err == nil:
		o.info("%s is in local storage already", rid)
		if err := seedRun(ctx, &seedOptions{on: on{deps: o.deps, ID: rid.String()}}); err != nil {
			return err
		}
	case errors.Is(err, repo.ErrNotFound):
		if dir != "" {
			// git init of the working copy overlaps the fetch.
			wc = repo.NewWorkingCopy(ctx, dir)
		}
		res, err := fetchProject(ctx, &o.deps, h, rid, o.From)
		if err != nil {
			return err
		}
		out.Peer, out.Bytes = res.Peer, res.Bytes
		if r, err = repo.Open(h, rid); err != nil {
			return err
		}
	default:
		return err
	}
	if dir == "" {
		doc, _, err := r.Identity(ctx)
		if err != nil {
			return err
		}
		dir = doc.Name
		if dir == "" || strings.ContainsAny(dir, `/\`) || dir == "." || dir == ".." {
			dir = rid.String()
		}
		if !emptyDir(dir) {
			return fmt.Errorf("%s already exists and is not empty: pass a directory", dir)
		}
	}
	// On a terminal git shows its progress; otherwise what it says is
	// kept for the error.
	var stderr strings.Builder
	var errw io.Writer = &stderr
	if o.IO.ErrTTY {
		errw = o.IO.Err
	}
	if wc == nil {
		wc = repo.NewWorkingCopy(ctx, dir)
	}
	err = r.CloneInto(ctx, wc, "grove", !o.IO.ErrTTY, errw)
	wc = nil // CloneInto discards it on failure
	if errors.Is(err, repo.ErrNoLend) {
		// git clones through the helper, with a copy of its own.
		if err = helperClone(ctx, rid, dir, o.IO.ErrTTY, errw); err != nil {
			return fmt.Errorf("git clone: %s", firstLine(stderr.String(), err))
		}
	}
	if err != nil {
		return err
	}
	o.info("Cloned %s into %s; remote \"grove\" = %s", rid, dir, rid.URL())
	out.Dir = dir
	return o.result(o.IO.Out, out, func() error { _, err := fmt.Fprintln(o.IO.Out, dir); return err })
}

// helperClone makes the working copy with `git clone grove://RID`
// through the remote helper, which copies the objects.
func helperClone(ctx context.Context, rid protocol.RID, dir string, tty bool, stderr io.Writer) error {
	args := []string{"clone", "-o", "grove"}
	if !tty {
		args = append(args, "--quiet")
	}
	c := repo.GitCommand(ctx, "", append(args, rid.URL(), dir)...)
	c.Env = append(c.Env, noSyncEnv+"=1")
	c.Stderr = stderr
	return c.Run()
}

func emptyDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	return errors.Is(err, os.ErrNotExist) || (err == nil && len(ents) == 0)
}

type syncOptions struct {
	on
	Fetch, Announce bool
	Timeout         time.Duration
	JSON            bool
	// Reset is a namespace that may move to a fork of the stored one.
	Reset string
}

func newSyncCmd(e *env) *cobra.Command {
	o := &syncOptions{}
	c := o.projectOrArg(e, doc("sync [RID]", "Fetch a project from peers and announce your changes",
		`Fetch the project from every connected peer (and providers found on the
DHT), then announce your own namespace to its peers. --fetch or --announce
do only that half. RID defaults to the project of the working copy.

With no node running, a node is started for the fetch and dials the peers
you remembered with 'grove connect', --bootstrap or --from; announcing
needs a running node.

--reset NID takes NID's namespace as your peers hold it even where it
forked from your copy: its owner signed a line that does not descend from
yours (after restoring an older copy of their storage, say), which no
plain sync takes. It never takes an older revision of the line you hold.`,
		"  grove sync\n  grove sync baf4bcf... --fetch --timeout 30s\n  grove sync --json",
	), func(ctx context.Context) error { return syncRun(ctx, o) })
	f := c.Flags()
	f.BoolVar(&o.Fetch, "fetch", false, "only fetch")
	f.BoolVar(&o.Announce, "announce", false, "only announce")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "give up fetching after this long")
	f.BoolVar(&o.JSON, "json", false, "print JSON")
	f.StringVar(&o.Reset, "reset", "", "take `NID`'s namespace as peers hold it, even a fork of yours")
	return c
}

type syncJSON struct {
	Fetched []*control.FetchResult `json:"fetched"`
	// Announced says a connected peer was told; AnnouncedTo how many.
	Announced   bool `json:"announced"`
	AnnouncedTo int  `json:"announcedTo"`
}

func syncRun(ctx context.Context, o *syncOptions) error {
	if o.Timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	if o.RID != "" {
		if _, err := parseRID(o.RID); err != nil {
			return err
		}
	}
	r, err := o.Repo(ctx)
	if err != nil {
		return err
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	doFetch, doAnnounce := o.Fetch, o.Announce
	if !doFetch && !doAnnounce {
		doFetch, doAnnounce = true, true
	}
	var reset *protocol.NID
	if o.Reset != "" {
		nid, err := protocol.ParseNID(o.Reset)
		if err != nil {
			return usagef("--reset: %v", err)
		}
		if !doFetch {
			return usagef("--reset needs a fetch: drop --announce")
		}
		reset = &nid
	}
	cl := runningNode(h)
	if doFetch && cl == nil && o.Nodes == nil {
		return o.Handoff(ctx, nodeProgram)
	}
	out := syncJSON{Fetched: []*control.FetchResult{}}
	var fetchErr error
	if doFetch {
		var results []*control.FetchResult
		line := newProgress(o.IO, 0)
		if cl != nil {
			fctx, cancel := context.WithTimeout(ctx, o.Timeout+10*time.Second)
			stop := line.spin("Syncing through the running node")
			if reset != nil {
				results, fetchErr = cl.SyncReplacing(fctx, r.RID, *reset, o.Timeout)
			} else {
				results, fetchErr = cl.Sync(fctx, r.RID, o.Timeout)
			}
			stop()
			cancel()
		} else {
			fctx, cancel := context.WithTimeout(ctx, o.Timeout)
			n, connected, dialErr, err := tempNode(fctx, &o.deps, h, nil)
			if err != nil {
				cancel()
				return err
			}
			if connected == 0 {
				fetchErr = control.ErrNoPeers
				if dialErr != nil {
					fetchErr = dialErr
				}
			} else {
				results, fetchErr = n.Sync(fctx, r.RID, connected, line.fetchProgress(), reset)
			}
			n.Close()
			line.clear()
			cancel()
		}
		for _, res := range results {
			if res != nil {
				out.Fetched = append(out.Fetched, res)
			}
		}
	}
	var announceErr error
	if doAnnounce {
		switch {
		case cl == nil && o.Announce:
			announceErr = fmt.Errorf("announcing needs a running node: start it with 'grove node start'")
		case cl == nil:
			o.info("No node running: fetched only, nothing announced")
		default:
			mine, err := hasOwnRefs(ctx, &o.deps, r)
			if err != nil {
				return err
			}
			if mine {
				actx, cancel := context.WithTimeout(ctx, 30*time.Second)
				out.AnnouncedTo, announceErr = cl.AnnounceCount(actx, r.RID)
				cancel()
				out.Announced = announceErr == nil && out.AnnouncedTo > 0
				if announceErr == nil {
					fmt.Fprintln(o.IO.Err, "grove: "+announcedTo(out.AnnouncedTo))
				}
			} else if o.Announce {
				announceErr = fmt.Errorf("nothing to announce: you have pushed nothing to %s", r.RID)
			}
		}
	}
	if o.JSON {
		if err := writeJSON(o.IO.Out, out); err != nil {
			return err
		}
	} else if len(out.Fetched) > 0 {
		var rows [][]string
		for _, res := range out.Fetched {
			rows = append(rows, []string{res.Peer, strconv.Itoa(len(res.Updated)), strconv.Itoa(res.Unchanged),
				strconv.Itoa(len(res.Rejected)), strconv.FormatInt(res.Bytes, 10), res.Duration, res.Error})
		}
		if err := headedTable(o.IO, []string{"PEER", "UPDATED", "UNCHANGED", "REJECTED", "BYTES", "DURATION", "ERROR"}, rows); err != nil {
			return err
		}
	}
	if fetchErr != nil {
		return netError("sync", r.RID, fetchErr, viaConnect)
	}
	return announceErr
}

// hasOwnRefs reports whether the user has a namespace in r.
func hasOwnRefs(ctx context.Context, d *deps, r *repo.Repo) (bool, error) {
	me, err := d.NID()
	if err != nil {
		return false, err
	}
	refs, err := r.NamespaceRefs(ctx, me)
	if err != nil {
		return false, err
	}
	return refs[protocol.SigrefsRef] != "", nil
}

type followOptions struct {
	on
	JSON  bool
	Alias string
}

func newFollowCmd(e *env) *cobra.Command {
	o := &followOptions{}
	c := o.bind(e, doc("follow NID", "Fetch a peer's namespace in every project you seed",
		`Follow NID: its namespace is fetched in every project you seed, besides the
delegates' and, in public projects, everyone's. --alias names it in
listings and is the default name of 'grove remote add'. With no NID, list
the peers you follow.`,
		"  grove follow 12D3KooW... --alias bob",
	), 1, false, func(ctx context.Context) error { return followRun(ctx, o) })
	c.Use = "follow [NID]"
	c.Example += "\n  grove follow --json"
	c.Args = maxArgs(1)
	inner := c.RunE
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return followsRun(o)
		}
		return inner(c, args)
	}
	c.Flags().StringVar(&o.Alias, "alias", "", "a name for the peer")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON (the list, with no NID)")
	return c
}

// followsRun lists the peers followed, with their aliases.
func followsRun(o *followOptions) error {
	if o.Alias != "" {
		return usagef("--alias names the peer to follow: give its NID")
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	pol, err := control.LoadPolicy(h)
	if err != nil {
		return err
	}
	type follow struct {
		NID   string `json:"nid"`
		Alias string `json:"alias"`
	}
	out := []follow{}
	for nid, alias := range pol.Follows {
		out = append(out, follow{nid, alias})
	}
	slices.SortFunc(out, func(a, b follow) int { return strings.Compare(a.NID, b.NID) })
	if o.JSON {
		return writeJSON(o.IO.Out, out)
	}
	rows := make([][]string, len(out))
	for i, f := range out {
		rows[i] = []string{f.NID, f.Alias}
	}
	return headedTable(o.IO, []string{"NID", "ALIAS"}, rows)
}

func followRun(ctx context.Context, o *followOptions) error {
	if o.JSON {
		return usagef("--json lists the peers you follow: give no NID")
	}
	if err := checkPlain(plainFlag{"alias", optString{o.Alias, true}}); err != nil {
		return err
	}
	err := o.editFollows(func(follows map[string]string, nid string) bool {
		follows[nid] = o.Alias
		return true
	})
	if err == nil {
		o.info("Following %s in every project you seed", o.ID)
	}
	return err
}

func newUnfollowCmd(e *env) *cobra.Command {
	o := &on{}
	return o.bind(e, doc("unfollow NID", "Stop following a peer", "",
		"  grove unfollow 12D3KooW...",
	), 1, false, func(ctx context.Context) error { return unfollowRun(ctx, o) })
}

func unfollowRun(ctx context.Context, o *on) error {
	was := false
	err := o.editFollows(func(follows map[string]string, nid string) bool {
		_, was = follows[nid]
		delete(follows, nid)
		return was
	})
	switch {
	case err != nil:
		return err
	case was:
		o.info("No longer following %s", o.ID)
	default:
		o.info("You were not following %s", o.ID)
	}
	return nil
}

// editFollows lets edit change whom the policy follows, for the NID the
// command names.
func (o *on) editFollows(edit func(follows map[string]string, nid string) bool) error {
	nid, h, err := o.peerArg()
	if err != nil {
		return err
	}
	return editPolicy(h, func(pol *control.Policy) bool { return edit(pol.Follows, nid.String()) })
}

// peerArg parses the command's NID argument and finds the home, for the
// commands about one peer (follow, block, node forget).
func (o *on) peerArg() (protocol.NID, repo.Home, error) {
	nid, err := protocol.ParseNID(o.ID)
	if err != nil {
		return protocol.NID{}, repo.Home{}, usagef("%v", err)
	}
	h, err := o.Home()
	return nid, h, err
}

func newRemoteCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "remote",
		Short: "Manage git remotes for peers' namespaces",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return usagef("%s needs a subcommand", c.CommandPath()) },
	}
	c.AddCommand(newRemoteAddCmd(e))
	return c
}

type remoteAddOptions struct {
	on
	jsonFlag
	Name string
}

func newRemoteAddCmd(e *env) *cobra.Command {
	o := &remoteAddOptions{}
	c := o.bind(e, doc("add NID", "Add a git remote for one peer's namespace of this project",
		`Add the git remote NAME = grove://RID/NID to this working copy, where RID is
the project of its "grove" remote. NAME defaults to the alias you follow NID
with, or else a short form of NID.`,
		"  grove remote add 12D3KooW... --name bob\n  git fetch bob",
	), 1, false, func(ctx context.Context) error { return remoteAddRun(ctx, o) })
	c.Flags().StringVar(&o.Name, "name", "", "the remote's name")
	return o.add(c)
}

func remoteAddRun(ctx context.Context, o *remoteAddOptions) error {
	nid, err := protocol.ParseNID(o.ID)
	if err != nil {
		return usagef("%v", err)
	}
	r, err := o.Repo(ctx)
	if err != nil {
		return err
	}
	name := o.Name
	if name == "" {
		h, err := o.Home()
		if err != nil {
			return err
		}
		pol, err := control.LoadPolicy(h)
		if err != nil {
			return err
		}
		name = pol.Follows[nid.String()]
		if name == "" {
			s := nid.String()
			name = s[:6] + "-" + s[len(s)-6:]
		}
	}
	url := protocol.URL{RID: r.RID, NID: nid}.String()
	if _, err := gitOutput(ctx, "", "remote", "add", name, url); err != nil {
		return err
	}
	o.info("Added remote %q = %s", name, url)
	return o.result(o.IO.Out, struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}{name, url}, func() error { _, err := fmt.Fprintln(o.IO.Out, name); return err })
}
