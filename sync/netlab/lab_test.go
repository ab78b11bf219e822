package netlab_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNAT runs the lab in both variants. Alice and Bob sit behind NAT
// routers, each with a node started with only the relay's address as
// bootstrap and relay. Bob clones Alice's project by RID alone: the
// provider record leads to her circuit address, so the clone goes through
// the relay. Behind cone NATs hole punching then makes a direct connection
// and Alice's push reaches Bob's node over it; behind symmetric NATs it
// cannot, the connection stays relayed, and Bob's sync fetches the push
// through the relay.
func TestNAT(t *testing.T) {
	requireLab(t)
	bin := buildGrove(t)
	t.Run("cone", func(t *testing.T) { runNAT(t, bin, "cone") })
	t.Run("symmetric", func(t *testing.T) { runNAT(t, bin, "symmetric") })
}

func runNAT(t *testing.T, bin, mode string) {
	l := newLab(t, bin, mode)
	relay := l.peer("relay", "pub")
	var relayAddr string
	for _, a := range strings.Fields(relay.grove("node", "start", "--public", "--relay-service")) {
		if strings.HasPrefix(a, "/ip4/7.7.7.10/tcp/") {
			relayAddr = a
		}
	}
	if relayAddr == "" {
		t.Fatalf("the relay lists no address on the public segment")
	}

	// Alice: a node behind her NAT, given only the relay.
	alice := l.peer("alice", "a")
	start := time.Now()
	alice.grove("node", "start", "--bootstrap", relayAddr, "--relay", relayAddr)
	st := alice.waitStatus(30*time.Second, "relay reservation", func(s status) bool { return len(s.Reservations) > 0 })
	reservation := time.Since(start)
	if st.Reachability != "private" {
		t.Errorf("alice's reachability is %q, want private", st.Reachability)
	}
	if !strings.Contains(st.Reservations[0], "/p2p-circuit/p2p/"+st.NID) {
		t.Errorf("alice's reservation %q is not a circuit address of hers", st.Reservations[0])
	}
	work := filepath.Join(alice.home, "hello")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	alice.run(work, "git", "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello from behind a NAT\n"), 0o644)
	alice.run(work, "git", "add", "hello.txt")
	alice.run(work, "git", "commit", "-q", "-m", "first")
	rid := strings.TrimSpace(alice.run(work, "grove", "init", "--name", "hello"))

	// The relay learns it is reachable from the homes' connections.
	relay.waitStatus(10*time.Second, "public reachability", func(s status) bool { return s.Reachability == "public" })

	// Bob: behind his own NAT, he knows the RID and the relay, nothing else.
	bob := l.peer("bob", "b")
	bob.grove("node", "start", "--bootstrap", relayAddr, "--relay", relayAddr)
	var via string
	var clone time.Duration
	// Alice provides her project as her node learns its circuit
	// address; a clone before the record lands finds no provider.
	for deadline := time.Now().Add(30 * time.Second); ; {
		start = time.Now()
		_, err := bob.try(bob.home, "grove", "clone", rid)
		clone = time.Since(start)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's clone by RID: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if b, err := os.ReadFile(filepath.Join(bob.home, "hello", "hello.txt")); err != nil || string(b) != "hello from behind a NAT\n" {
		t.Fatalf("bob's working copy: %q, %v", b, err)
	}
	via = bob.fetchedVia(rid)
	t.Logf("clone by RID alone went over the %s (%v)", via, clone.Round(time.Millisecond))
	// The lookup dials the provider before the fetch: between cone NATs
	// hole punching may finish in that moment, and the clone goes direct.
	if via != "relay" && (mode == "symmetric" || via != "direct") {
		t.Errorf("the first clone between %s NATs went over %q, want the relay", mode, via)
	}

	// Hole punching starts when the relayed connection opens.
	start = time.Now()
	direct := bob.waitDirect(st.NID, 20*time.Second)
	punch := time.Since(start)
	switch {
	case mode == "cone" && !direct:
		t.Fatalf("no direct connection between the cone NATs after %v: hole punching failed", punch.Round(time.Millisecond))
	case mode == "symmetric" && direct:
		t.Fatalf("a direct connection across symmetric NATs: the lab's NAT does not randomise ports")
	case direct:
		t.Logf("hole punching made a direct connection %v after the clone", punch.Round(time.Millisecond))
	default:
		t.Logf("no direct connection after %v: the connection stays relayed", punch.Round(time.Millisecond))
	}

	// Alice pushes; Bob's node gets it.
	os.WriteFile(filepath.Join(work, "hello.txt"), []byte("an update\n"), 0o644)
	alice.run(work, "git", "commit", "-q", "-a", "-m", "update")
	head := strings.TrimSpace(alice.run(work, "git", "rev-parse", "HEAD"))
	start = time.Now()
	alice.run(work, "git", "push", "-q", "grove", "main")
	ref := "refs/namespaces/" + st.NID + "/refs/heads/main"
	storage := filepath.Join(bob.home, ".grove", "storage", rid+".git")
	has := func() bool {
		out, err := exec.Command("git", "--git-dir", storage, "rev-parse", "-q", "--verify", ref).Output()
		return err == nil && strings.TrimSpace(string(out)) == head
	}
	// Over the direct connection the push travels by GossipSub; over the
	// relay alone (GossipSub refuses a relay's limited connections) by the
	// heads exchange the announcing node runs with the project's
	// connected peers.
	if !poll(20*time.Second, has) {
		t.Fatalf("alice's push did not reach bob's node in 20s (direct connection: %v)", direct)
	}
	update := time.Since(start)
	t.Logf("alice's push reached bob's node in %v, with no sync", update.Round(time.Millisecond))
	// bench/nat.sh collects this line.
	t.Logf("lab figures: mode=%s reservation_ms=%d clone_ms=%d via=%s direct=%v direct_ms=%d update_ms=%d",
		mode, reservation.Milliseconds(), clone.Milliseconds(), via, direct, punch.Milliseconds(), update.Milliseconds())
	if direct {
		return
	}

	// With no direct connection between the homes, a seed both reach
	// directly carries announcements: the relay seeds the project, and
	// Alice's next push reaches Bob's node through it, with no sync.
	relay.grove("seed", rid, "--from", st.Reservations[0])
	relay.waitStatus(10*time.Second, "seed", func(s status) bool { return len(s.Seeds) == 1 })
	os.WriteFile(filepath.Join(work, "hello.txt"), []byte("a second update\n"), 0o644)
	alice.run(work, "git", "commit", "-q", "-a", "-m", "second update")
	head = strings.TrimSpace(alice.run(work, "git", "rev-parse", "HEAD"))
	start = time.Now()
	alice.run(work, "git", "push", "-q", "grove", "main")
	if !poll(20*time.Second, has) {
		t.Fatalf("alice's push did not reach bob's node through the seed in 20s")
	}
	t.Logf("with the relay seeding the project, alice's push reached bob's node in %v", time.Since(start).Round(time.Millisecond))
}

// requireLab skips unless this process may build network namespaces.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("lab: skipped in -short mode (it builds grove and runs nodes in network namespaces)")
	}
	if os.Geteuid() != 0 {
		t.Skip("lab: needs root to build network namespaces (ip netns, iptables); CI runs it as root")
	}
	for _, tool := range []string{"ip", "iptables", "git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("lab: needs %s on PATH (.ci/run installs iptables)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "bash", "netlab.sh", "check", labID()).CombinedOutput(); err != nil {
		t.Skipf("lab: this machine cannot build network namespaces with NAT (%v): %s", err, bytes.TrimSpace(out))
	}
}

// labID names one lab run: unique enough that parallel runs do not meet.
func labID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return "g" + hex.EncodeToString(b)
}

// buildGrove builds grove's programs into a temporary directory, or
// returns $GROVE_LAB_BIN, where bench/nat.sh built them once for many
// runs.
func buildGrove(t *testing.T) string {
	if dir := os.Getenv("GROVE_LAB_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	// All of cmd: grove runs its other programs from next to itself.
	c := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "../../cmd/...")
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("build grove: %v\n%s", err, out)
	}
	return dir
}

// lab is one run of netlab.sh, torn down when the test ends, passed or
// failed.
type lab struct {
	t      *testing.T
	id     string
	bin    string
	script string
}

func newLab(t *testing.T, bin, mode string) *lab {
	script, err := filepath.Abs("netlab.sh")
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, id: labID(), bin: bin, script: script}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script, "up", l.id, mode).CombinedOutput()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "bash", script, "down", l.id).CombinedOutput(); err != nil {
			t.Errorf("tear down lab %s: %v\n%s", l.id, err, out)
		}
	})
	if err != nil {
		t.Fatalf("build lab %s: %v\n%s", l.id, err, out)
	}
	return l
}

// peer is one person in the lab: a home directory, a key, a namespace.
type peer struct {
	l    *lab
	name string
	ns   string
	home string
}

func (l *lab) peer(name, ns string) *peer {
	p := &peer{l: l, name: name, ns: l.id + "-" + ns, home: filepath.Join(l.t.TempDir(), name)}
	if err := os.MkdirAll(p.home, 0o755); err != nil {
		l.t.Fatal(err)
	}
	p.grove("auth", "--alias", name)
	l.t.Cleanup(func() {
		// The lab's tear down ends what is left; stopping first keeps
		// the node's log whole for a failure's report.
		p.try(p.home, "grove", "node", "stop")
		if l.t.Failed() {
			if b, err := os.ReadFile(filepath.Join(p.home, ".grove", "node", "log")); err == nil {
				l.t.Logf("%s's node log:\n%s", name, b)
			}
		}
	})
	return p
}

func (p *peer) env() []string {
	env := []string{
		"PATH=" + p.l.bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + p.home,
		"GROVE_HOME=" + filepath.Join(p.home, ".grove"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(p.home, ".gitconfig"),
		"GIT_AUTHOR_NAME=" + p.name, "GIT_AUTHOR_EMAIL=" + p.name + "@example.com",
		"GIT_COMMITTER_NAME=" + p.name, "GIT_COMMITTER_EMAIL=" + p.name + "@example.com",
		"GIT_TERMINAL_PROMPT=0",
	}
	// libp2p's own logging, to debug a run: GOLOG_LOG_LEVEL=error,p2p-holepunch=debug
	if v := os.Getenv("GOLOG_LOG_LEVEL"); v != "" {
		env = append(env, "GOLOG_LOG_LEVEL="+v)
	}
	return env
}

// try runs a program in the peer's namespace, in dir, bounded in time,
// and returns its stdout.
func (p *peer) try(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", p.ns}, args...)...)
	c.Dir, c.Env = dir, p.env()
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %s: %v: %s", p.name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (p *peer) run(dir string, args ...string) string {
	p.l.t.Helper()
	out, err := p.try(dir, args...)
	if err != nil {
		p.l.t.Fatal(err)
	}
	return out
}

func (p *peer) grove(args ...string) string {
	p.l.t.Helper()
	return p.run(p.home, append([]string{"grove"}, args...)...)
}

type status struct {
	NID          string   `json:"nid"`
	Seeds        []string `json:"seeds"`
	Reachability string   `json:"reachability"`
	Reservations []string `json:"reservations"`
}

func (p *peer) status() status {
	p.l.t.Helper()
	var s status
	if err := json.Unmarshal([]byte(p.grove("node", "status", "--json")), &s); err != nil {
		p.l.t.Fatalf("%s: node status --json: %v", p.name, err)
	}
	return s
}

// waitStatus polls the node's status until ok, at most d.
func (p *peer) waitStatus(d time.Duration, what string, ok func(status) bool) status {
	p.l.t.Helper()
	var s status
	if !poll(d, func() bool { s = p.status(); return ok(s) }) {
		p.l.t.Fatalf("%s's node has no %s after %v: %+v", p.name, what, d, s)
	}
	return s
}

// waitDirect waits, at most d, until the peer's node has a connection to
// nid that does not go through a relay.
func (p *peer) waitDirect(nid string, d time.Duration) bool {
	p.l.t.Helper()
	return poll(d, func() bool {
		var peers []struct {
			NID   string   `json:"nid"`
			Addrs []string `json:"addrs"`
		}
		if err := json.Unmarshal([]byte(p.grove("node", "peers", "--json")), &peers); err != nil {
			p.l.t.Fatalf("%s: node peers --json: %v", p.name, err)
		}
		for _, q := range peers {
			for _, a := range q.Addrs {
				if q.NID == nid && !strings.Contains(a, "/p2p-circuit") {
					return true
				}
			}
		}
		return false
	})
}

// fetchedVia reads the node's log for how its last fetch of rid reached
// the peer: "relay" or "direct".
func (p *peer) fetchedVia(rid string) string {
	p.l.t.Helper()
	f, err := os.Open(filepath.Join(p.home, ".grove", "node", "log"))
	if err != nil {
		p.l.t.Fatal(err)
	}
	defer f.Close()
	via := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Msg, RID, Via string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "fetched" && rec.RID == rid {
			via = rec.Via
		}
	}
	if via == "" {
		p.l.t.Fatalf("%s's node log has no fetch of %s", p.name, rid)
	}
	return via
}

// poll calls ok every 100 ms until it holds, at most d.
func poll(d time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if ok() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
