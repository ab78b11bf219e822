package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// publicPort is where --public listens, on TCP and QUIC.
const publicPort = 8776

// startWait bounds how long `grove node start` waits for the background
// node to answer.
const startWait = 20 * time.Second

// stopWait bounds how long `grove node stop` waits for the node to exit.
const stopWait = 15 * time.Second

// errNoNode is what commands that need a running node say without one.
var errNoNode = errors.New("no node is running: start it with 'grove node start'")

// nodeFiles are the paths of a home's node state.
type nodeFiles struct {
	dir, sock, pid, addrs, log, lock string
}

func filesOf(h repo.Home) nodeFiles {
	d := h.NodeDir()
	return nodeFiles{
		dir: d, sock: control.Path(h), pid: filepath.Join(d, "pid"),
		addrs: filepath.Join(d, "addrs"), log: filepath.Join(d, "log"), lock: filepath.Join(d, "lock"),
	}
}

// runningNode returns a client for the home's node, or nil when none runs.
func runningNode(h repo.Home) *control.Client {
	c, err := control.Dial(h)
	if err != nil {
		return nil
	}
	return c
}

func newNodeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "node",
		Short: "Run and inspect your Grove node",
		Long: `The node is the daemon that talks to other peers: it serves the projects
you seed, fetches what the peers you follow announce, and announces your
pushes. It keeps its state in $GROVE_HOME/node: the control socket, its pid,
its addresses and its log.`,
		Example: `  grove node start
  grove node status
  grove node addrs
  grove node stop`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return usagef("%s needs a subcommand", c.CommandPath()) },
	}
	c.AddCommand(newNodeStartCmd(e), newNodeStopCmd(e), newNodeStatusCmd(e), newNodeAddrsCmd(e), newNodePeersCmd(e),
		newNodeForgetCmd(e))
	return c
}

type nodeStartOptions struct {
	on
	jsonFlag
	Listen       []string
	Public       bool
	Bootstrap    []string
	Relays       []string
	RelayService bool
	MDNS         bool
	Foreground   bool
	LogLevel     string
	// Daemon is set on the node process `node start` starts in the
	// background: it runs in the foreground and prints nothing.
	Daemon bool
	// PassphraseFD is a file descriptor the background node reads the
	// key's passphrase from (0: none).
	PassphraseFD int
}

func newNodeStartCmd(e *env) *cobra.Command {
	o := &nodeStartOptions{}
	c := o.bind(e, doc("start", "Start the node in the background and print its addresses",
		`Start your node. By default it runs in the background, listens on loopback
addresses only, and dials nothing it was not told about: peers given by
--bootstrap or remembered by 'grove connect', relays, and the DHT peers they
lead to. --public listens on all interfaces on port 8776 (TCP and QUIC).
--mdns finds peers on the local network.

Behind a NAT, --relay ADDR (a node started with --relay-service) reserves
a slot on that relay at once and advertises the node through it; peers
reach it there, and hole punching turns their relayed connections into
direct ones where the NATs allow. With --relay and no --listen the node
listens on all interfaces, on ports the system picks, so that hole
punching can work. 'grove node status' shows reachability and reservations.

It writes its addresses to $GROVE_HOME/node/addrs and logs JSON to
$GROVE_HOME/node/log. --foreground runs it in this process until
interrupted.`,
		`  grove node start
  grove node start --public --bootstrap /ip4/203.0.113.7/tcp/8776/p2p/12D3KooW...
  grove node start --bootstrap ADDR --relay ADDR     # behind a NAT
  grove node start --foreground --log-level debug`,
	), 0, false, func(ctx context.Context) error { return nodeStartRun(ctx, o) })
	f := c.Flags()
	stringsVarP(f, &o.Listen, "listen", "", "a multiaddr to listen on (repeatable; default: loopback TCP and QUIC)")
	f.BoolVar(&o.Public, "public", false, fmt.Sprintf("listen on all interfaces on port %d", publicPort))
	stringsVarP(f, &o.Bootstrap, "bootstrap", "", "a peer to dial at start, remembered (repeatable)")
	stringsVarP(f, &o.Relays, "relay", "", "a circuit relay to reserve a slot on (repeatable)")
	f.BoolVar(&o.RelayService, "relay-service", false, "relay connections for other peers")
	f.BoolVar(&o.MDNS, "mdns", false, "discover peers on the local network")
	f.BoolVar(&o.Foreground, "foreground", false, "run in this process until interrupted")
	f.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.BoolVar(&o.Daemon, "daemon", false, "")
	f.IntVar(&o.PassphraseFD, "passphrase-fd", 0, "")
	f.MarkHidden("daemon")
	f.MarkHidden("passphrase-fd")
	return o.add(c)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, usagef("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func nodeStartRun(ctx context.Context, o *nodeStartOptions) error {
	if o.Nodes == nil {
		return o.Handoff(ctx, nodeProgram)
	}
	level, err := parseLevel(o.LogLevel)
	if err != nil {
		return err
	}
	for _, a := range slices.Concat(o.Bootstrap, o.Relays) {
		if _, err := control.ParseAddr(a); err != nil {
			return usagef("%v", err)
		}
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	if runningNode(h) != nil {
		return alreadyRunning(h)
	}
	d := &o.deps
	if o.PassphraseFD > 0 {
		if d, err = withPassphraseFrom(d, o.PassphraseFD); err != nil {
			return err
		}
	}
	// The key is unlocked here, so a wrong passphrase is reported before
	// anything goes to the background.
	key, pass, err := loadKey(d)
	if err != nil {
		return err
	}
	if o.Foreground || o.Daemon {
		return runNode(ctx, d, h, key, o, level)
	}
	return startBackground(ctx, d, h, o, pass)
}

func alreadyRunning(h repo.Home) error {
	if pid := readPID(h); pid > 0 {
		return fmt.Errorf("a node is already running (pid %d): 'grove node stop' ends it", pid)
	}
	return errors.New("a node is already running: 'grove node stop' ends it")
}

// loadKey unlocks the user's key and returns the passphrase it took, if
// any, for a background node.
func loadKey(d *deps) (*protocol.Key, []byte, error) {
	var pass []byte
	h, err := d.Home()
	if err != nil {
		return nil, nil, err
	}
	k, err := repo.LoadKey(h, func() ([]byte, error) {
		p, err := d.Passphrase()
		pass = p
		return p, err
	})
	switch {
	case errors.Is(err, repo.ErrNoKey):
		return nil, nil, fmt.Errorf("no key yet in %s: run 'grove auth' first", h.Dir)
	case errors.Is(err, repo.ErrPassphrase):
		return nil, nil, fmt.Errorf("cannot unlock your key: wrong or missing passphrase (set GROVE_PASSPHRASE in scripts)")
	case err != nil:
		return nil, nil, err
	}
	return k, pass, nil
}

// withPassphraseFrom returns d with the passphrase (and GROVE_PASSPHRASE)
// read from file descriptor fd.
func withPassphraseFrom(d *deps, fd int) (*deps, error) {
	f := os.NewFile(uintptr(fd), "passphrase")
	if f == nil {
		return nil, fmt.Errorf("passphrase fd %d: not open", fd)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	d2 := *d
	look := d.IO.LookupEnv
	d2.IO.LookupEnv = func(k string) (string, bool) {
		if k == "GROVE_PASSPHRASE" {
			return string(b), true
		}
		return look(k)
	}
	d2.Passphrase = func() ([]byte, error) { return b, nil }
	return &d2, nil
}

// startBackground starts this program again as a detached node and waits,
// bounded, until it answers on the control socket.
func startBackground(ctx context.Context, d *deps, h repo.Home, o *nodeStartOptions, pass []byte) error {
	fs := filesOf(h)
	if err := os.MkdirAll(fs.dir, 0o700); err != nil {
		return fmt.Errorf("node directory: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find grove's executable: %w", err)
	}
	args := []string{"node", "start", "--daemon", "--log-level", o.LogLevel}
	for _, a := range o.Listen {
		args = append(args, "--listen", a)
	}
	for _, a := range o.Bootstrap {
		args = append(args, "--bootstrap", a)
	}
	for _, a := range o.Relays {
		args = append(args, "--relay", a)
	}
	if o.Public {
		args = append(args, "--public")
	}
	if o.RelayService {
		args = append(args, "--relay-service")
	}
	if o.MDNS {
		args = append(args, "--mdns")
	}
	logf, err := os.OpenFile(fs.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("node log: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	c := exec.Command(exe, args...)
	c.Dir = "/"
	// The daemon outlives this command: a profile it wrote at its end
	// would overwrite this command's (GROVE_CPUPROFILE, StartProfile).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GROVE_CPUPROFILE=") {
			c.Env = append(c.Env, kv)
		}
	}
	c.Stdin, c.Stdout, c.Stderr = devnull, logf, logf
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if pass != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r.Close()
		c.ExtraFiles = []*os.File{r}
		c.Args = append(c.Args, "--passphrase-fd", "3")
		// A passphrase fits the pipe's buffer: this does not block.
		_, err = w.Write(pass)
		w.Close()
		if err != nil {
			return fmt.Errorf("pass the passphrase: %w", err)
		}
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.NewTimer(startWait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			c.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case err := <-exited:
			return fmt.Errorf("the node exited (%v): %s", err, lastLogLine(fs.log))
		case <-deadline.C:
			c.Process.Signal(syscall.SIGTERM)
			return fmt.Errorf("the node did not answer within %v: see %s", startWait, fs.log)
		case <-tick.C:
		}
		cl := runningNode(h)
		if cl == nil {
			continue
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		addrs, err := cl.Addrs(actx)
		cancel()
		if err != nil {
			return fmt.Errorf("the node started but does not answer: %w", err)
		}
		if err := printAddrs(d.IO.Out, &o.jsonFlag, addrs); err != nil {
			return err
		}
		if d.IO.ErrTTY {
			fmt.Fprintf(d.IO.Err, "Node started (pid %d); log in %s\n", c.Process.Pid, fs.log)
		}
		return nil
	}
}

// lastLogLine returns the message of the log's last line, for errors.
func lastLogLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	l := lines[len(lines)-1]
	if len(l) > 300 {
		l = l[:300]
	}
	return l
}

// runNode runs the node in this process until ctx is done, a signal
// arrives or a client asks it to stop.
func runNode(ctx context.Context, d *deps, h repo.Home, key *protocol.Key, o *nodeStartOptions, level slog.Level) error {
	// A node cleans up on SIGTERM and SIGINT whoever started it.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := filesOf(h)
	if err := os.MkdirAll(fs.dir, 0o700); err != nil {
		return fmt.Errorf("node directory: %w", err)
	}
	if err := os.Chmod(fs.dir, 0o700); err != nil {
		return fmt.Errorf("node directory: %w", err)
	}
	lock, err := os.OpenFile(fs.lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("node lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return alreadyRunning(h)
	}
	logf, err := os.OpenFile(fs.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("node log: %w", err)
	}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: level}))

	pol, err := control.LoadPolicy(h)
	if err != nil {
		return err
	}
	if len(o.Bootstrap) > 0 {
		for _, a := range o.Bootstrap {
			pol.AddPeer(a)
		}
		if err := pol.Save(h); err != nil {
			return err
		}
	}
	listen := o.Listen
	if o.Public {
		for _, ip := range []string{"/ip4/0.0.0.0", "/ip6/::"} {
			listen = append(listen, fmt.Sprintf("%s/tcp/%d", ip, publicPort), fmt.Sprintf("%s/udp/%d/quic-v1", ip, publicPort))
		}
	}
	if len(listen) == 0 && len(o.Relays) > 0 {
		// Behind a NAT, hole punching dials from the ports the node
		// listens on, on the interface its router reaches.
		listen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}
	}
	n, err := d.Nodes.Start(ctx, NodeConfig{
		Home: h, Key: key, Listen: listen, Bootstrap: o.Bootstrap, Relays: o.Relays,
		RelayService: o.RelayService, MDNS: o.MDNS, Log: log,
	})
	if err != nil {
		log.Error("node failed to start", "err", err)
		return err
	}
	// Stop in order: the node, then its files; the pid file goes last, so
	// its absence means the node is gone.
	defer func() {
		n.Close()
		os.Remove(fs.addrs)
		os.Remove(fs.pid)
	}()
	// The address and pid files and the printed addresses say the node is
	// up, so they come once its control socket listens: a command run
	// after them reaches it.
	ready := func() error {
		addrs := strings.Join(n.Addrs(), "\n") + "\n"
		if err := repo.WriteFileAtomic(fs.addrs, []byte(addrs), 0o600); err != nil {
			return err
		}
		if err := repo.WriteFileAtomic(fs.pid, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
			return err
		}
		if o.Daemon {
			return nil
		}
		if err := printAddrs(d.IO.Out, &o.jsonFlag, n.Addrs()); err != nil {
			return err
		}
		if d.IO.ErrTTY {
			fmt.Fprintln(d.IO.Err, "Node running; Ctrl-C stops it")
		}
		return nil
	}
	// The node itself dials, behind, the peers it remembers (policy and
	// peer book), so a dead one does not hold it up.
	if err := n.Serve(ctx, fs.sock, ready); err != nil {
		log.Error("control socket", "err", err)
		return err
	}
	log.Info("node stopping")
	return nil
}

// readPID returns the pid in the home's node/pid file, or 0.
func readPID(h repo.Home) int {
	b, err := os.ReadFile(filesOf(h).pid)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// alive reports whether process pid runs; a zombie (exited, not yet
// reaped by its parent) does not.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ...": the state follows the last ')'.
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

func newNodeStopCmd(e *env) *cobra.Command {
	o := &on{}
	return o.bind(e, doc("stop", "Stop the running node and wait until it is gone", "",
		"  grove node stop",
	), 0, false, func(ctx context.Context) error { return nodeStopRun(ctx, o) })
}

func nodeStopRun(ctx context.Context, o *on) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	cl := runningNode(h)
	if cl == nil {
		return errNoNode
	}
	pid := readPID(h)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = cl.Stop(sctx)
	cancel()
	if err != nil && pid > 0 {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	if !waitGone(ctx, h, pid, stopWait) {
		if pid > 0 {
			syscall.Kill(pid, syscall.SIGTERM)
			if waitGone(ctx, h, pid, 5*time.Second) {
				return nil
			}
		}
		return fmt.Errorf("the node did not stop within %v: see %s", stopWait, filesOf(h).log)
	}
	o.info("Node stopped")
	return nil
}

// waitGone waits, bounded, until the node has removed its pid file and
// its process is gone.
func waitGone(ctx context.Context, h repo.Home, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := os.Stat(filesOf(h).pid); errors.Is(err, os.ErrNotExist) && runningNode(h) == nil {
			// The pid file goes last; the exit follows at once.
			for end := time.Now().Add(2 * time.Second); alive(pid) && time.Now().Before(end); {
				time.Sleep(20 * time.Millisecond)
			}
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

type nodeStatusJSON struct {
	State   string     `json:"state"`
	PID     int        `json:"pid,omitempty"`
	NID     string     `json:"nid,omitempty"`
	Addrs   []string   `json:"addrs,omitempty"`
	Peers   *int       `json:"peers,omitempty"`
	Seeds   []string   `json:"seeds,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	// Reachability is public, private or unknown; Reservations are the
	// node's addresses through relays.
	Reachability string   `json:"reachability,omitempty"`
	Reservations []string `json:"reservations,omitempty"`
	// Projects are the seeded projects with their connected seeders and
	// the last exchange with each.
	Projects []control.ProjectStatus `json:"projects,omitempty"`
	// Goroutines is how many the node runs (bench/soak.sh watches it).
	Goroutines int `json:"goroutines,omitempty"`
}

func newNodeStatusCmd(e *env) *cobra.Command {
	o := &jsonOptions{}
	return o.flags(o.bind(e, doc("status", "Say whether the node runs, and with which addresses, peers, seeds, reachability and relays",
		`Say whether the node runs and, if it does: its pid, NID, start time,
addresses, reachability and relay reservations, how many peers are
connected, and for each project it seeds the connected peers that seed it
too, with when the node last exchanged the project with each.`,
		"  grove node status\n  grove node status --json | jq -r .state",
	), 0, false, func(ctx context.Context) error { return nodeStatusRun(ctx, o) }))
}

func nodeStatusRun(ctx context.Context, o *jsonOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	s := nodeStatusJSON{State: "stopped"}
	err = askNode(ctx, h, 10*time.Second, func(ctx context.Context, cl *control.Client) error {
		st, err := cl.Status(ctx)
		if err != nil {
			return err
		}
		s = nodeStatusJSON{State: "running", PID: st.PID, NID: st.NID, Addrs: st.Addrs,
			Peers: &st.Peers, Seeds: st.Seeds, Started: &st.Started,
			Reachability: st.Reachability, Reservations: st.Reservations, Projects: st.Projects, Goroutines: st.Goroutines}
		return nil
	})
	if err != nil && !errors.Is(err, errNoNode) {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Out, s)
	}
	rows := [][]string{{"Node", s.State}}
	if s.State == "running" {
		rows = append(rows,
			[]string{"PID", strconv.Itoa(s.PID)},
			[]string{"NID", s.NID},
			[]string{"Started", s.Started.Format(time.RFC3339)},
			[]string{"Peers", strconv.Itoa(*s.Peers)},
			[]string{"Seeds", strconv.Itoa(len(s.Seeds))})
		for _, a := range s.Addrs {
			rows = append(rows, []string{"Address", a})
		}
		rows = append(rows, []string{"Reachability", s.Reachability})
		for _, a := range s.Reservations {
			rows = append(rows, []string{"Relay", a})
		}
		for _, p := range s.Projects {
			rows = append(rows, []string{"Project", fmt.Sprintf("%s  %d connected seeder(s)", p.RID, len(p.Seeders))})
			for _, sd := range p.Seeders {
				last := "never"
				if !sd.LastExchange.IsZero() {
					last = sd.LastExchange.Format(time.RFC3339)
				}
				rows = append(rows, []string{"  Seeder", sd.NID + "  last exchange " + last})
			}
		}
	}
	return table(o.IO.Out, rows)
}

// printAddrs prints a node's addresses, one a line or, with --json, as a
// JSON array.
func printAddrs(w io.Writer, j *jsonFlag, addrs []string) error {
	if addrs == nil {
		addrs = []string{}
	}
	return j.result(w, addrs, func() error {
		for _, a := range addrs {
			if _, err := fmt.Fprintln(w, a); err != nil {
				return err
			}
		}
		return nil
	})
}

type nodeAddrsOptions struct {
	on
	jsonFlag
}

func newNodeAddrsCmd(e *env) *cobra.Command {
	o := &nodeAddrsOptions{}
	return o.add(o.bind(e, doc("addrs", "Print the node's addresses, one per line, each ending in /p2p/NID", "",
		"  grove node addrs\n  grove connect $(grove node addrs | head -1)",
	), 0, false, func(ctx context.Context) error { return nodeAddrsRun(ctx, o) }))
}

func nodeAddrsRun(ctx context.Context, o *nodeAddrsOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	return askNode(ctx, h, 10*time.Second, func(ctx context.Context, cl *control.Client) error {
		addrs, err := cl.Addrs(ctx)
		if err != nil {
			return err
		}
		return printAddrs(o.IO.Out, &o.jsonFlag, addrs)
	})
}

func newNodePeersCmd(e *env) *cobra.Command {
	o := &jsonOptions{}
	return o.flags(o.bind(e, doc("peers", "List the peers the node is connected to", "",
		"  grove node peers\n  grove node peers --json | jq -r '.[].nid'",
	), 0, false, func(ctx context.Context) error { return nodePeersRun(ctx, o) }))
}

func nodePeersRun(ctx context.Context, o *jsonOptions) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	var peers []control.PeerInfo
	if err := askNode(ctx, h, 10*time.Second, func(ctx context.Context, cl *control.Client) (err error) {
		peers, err = cl.Peers(ctx)
		return err
	}); err != nil {
		return err
	}
	if peers == nil {
		peers = []control.PeerInfo{}
	}
	// Names from the person documents of every local project and the
	// aliases you follow peers under (cli.Names).
	nm := cli.LoadNames(ctx, h)
	if o.JSON {
		type named struct {
			control.PeerInfo
			Name string `json:"name,omitempty"`
		}
		out := make([]named, len(peers))
		for i, p := range peers {
			out[i] = named{p, nameIfAny(nm, p.NID)}
		}
		return writeJSON(o.IO.Out, out)
	}
	rows := [][]string{}
	for _, p := range peers {
		alias := nameIfAny(nm, p.NID)
		addr := ""
		if len(p.Addrs) > 0 {
			addr = p.Addrs[0]
		}
		rows = append(rows, []string{p.NID, alias, addr})
	}
	if len(rows) == 0 {
		if o.IO.ErrTTY {
			fmt.Fprintln(o.IO.Err, "No peers connected")
		}
		return nil
	}
	return headedTable(o.IO, []string{"NID", "NAME", "ADDRESS"}, rows)
}

func newNodeForgetCmd(e *env) *cobra.Command {
	o := &on{}
	return o.bind(e, doc("forget NID", "Forget a peer: no longer dial it at start",
		`Drop the peer NID from your node's memory: the addresses 'grove connect',
--bootstrap and --from remembered for it (policy.json) and what the node
learned of it ($GROVE_HOME/peers.json: where it was reachable, which
projects you exchanged). A running node also disconnects it. The peer is
remembered again if it connects and you exchange a project; to refuse it,
use 'grove block NID'.`,
		"  grove node forget 12D3KooW...",
	), 1, false, func(ctx context.Context) error { return nodeForgetRun(ctx, o) })
}

func nodeForgetRun(ctx context.Context, o *on) error {
	nid, h, err := o.peerArg()
	if err != nil {
		return err
	}
	known, err := forgetPeer(ctx, h, nid)
	if err != nil {
		return err
	}
	if known {
		o.info("Forgot %s", nid)
	} else {
		o.info("%s was not remembered", nid)
	}
	return nil
}

// forgetPeer drops nid through the running node, or else from the policy
// and the peer book on disk; it reports whether nid was remembered.
func forgetPeer(ctx context.Context, h repo.Home, nid protocol.NID) (bool, error) {
	if cl := runningNode(h); cl != nil {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return cl.Forget(fctx, nid)
	}
	pol, err := control.LoadPolicy(h)
	if err != nil {
		return false, err
	}
	book, err := control.LoadBook(h)
	if err != nil {
		return false, err
	}
	inPolicy := pol.RemovePeersOf(nid.String())
	if inPolicy {
		if err := pol.Save(h); err != nil {
			return false, err
		}
	}
	inBook := book.Forget(nid.String())
	if inBook {
		if err := book.Save(h); err != nil {
			return false, err
		}
	}
	return inPolicy || inBook, nil
}
