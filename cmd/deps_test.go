package cmd_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// ban is a package (or, ending in "/", every package under a path) that a
// program must not link, and why.
type ban struct {
	pkg, why string
}

// The node's network stack: libp2p's host, transports, DHT and gossip. A
// node runs in grove-node; the other programs reach it through
// sync/control, and every call would pay these packages' init.
var nodeOnly = []ban{
	{"example.com/grove/sync", "the node: it belongs to grove-node"},
	{"example.com/grove/cmd/netcmd", "grove-node's command line"},
	{"github.com/libp2p/", "libp2p: its package init would cost every call; a node runs in grove-node"},
	{"github.com/multiformats/go-multiaddr", "multiaddrs: sync/control parses the few it needs"},
	{"google.golang.org/protobuf/", "protobuf (libp2p's records): protocol and sync/control do without"},
	{"github.com/quic-go/", "the QUIC transport: it belongs to grove-node"},
	{"github.com/pion/", "WebRTC: it belongs to grove-node"},
	{"github.com/prometheus/", "the host's metrics: they belong to grove-node"},
}

// The terminal UI: bubbletea, its renderers and the screens belong to
// grove-tui, which grove tui runs; their package init costs every other
// call.
var tuiOnly = []ban{
	{"example.com/grove/tui", "the UI's screens: they belong to grove-tui"},
	{"example.com/grove/tui/", "the UI's packages: they belong to grove-tui"},
	{"example.com/grove/cmd/tuicmd", "grove-tui's wiring"},
	{"github.com/charmbracelet/bubbletea", "the UI's event loop: it belongs to grove-tui"},
	{"github.com/charmbracelet/glamour", "markdown rendering: it belongs to grove-tui"},
	{"github.com/alecthomas/chroma/", "code highlighting: it belongs to grove-tui"},
}

// What no program needs: go-git's upper layers, which repo does without
// (it uses go-git's storage and plumbing only).
var gitUpper = []ban{
	{"github.com/go-git/go-git/v5", "go-git's root package, which links every transport: repo uses its lower packages"},
	{"github.com/go-git/go-git/v5/plumbing/transport", "go-git's transports: git itself moves packs"},
	{"github.com/go-git/go-git/v5/plumbing/transport/", "go-git's transports: git itself moves packs"},
	{"github.com/go-git/go-git/v5/plumbing/object", "go-git's object package (OpenPGP, diffs, tree walks): repo encodes and parses its commits itself"},
	{"github.com/ProtonMail/go-crypto/openpgp", "OpenPGP (go-git's commit signatures)"},
}

// go-cid's go-multihash registers a dozen hash functions (blake2, blake3,
// sha3, murmur3, …) in its package init; protocol encodes the CIDs it
// needs itself. Only the node's libp2p links them.
var noMultihash = []ban{
	{"github.com/ipfs/go-cid", "go-cid, which links go-multihash: protocol encodes RIDs itself"},
	{"github.com/multiformats/go-multihash", "go-multihash, whose init registers every hash function (register/all)"},
	{"github.com/multiformats/go-multihash/", "go-multihash's hash registrations"},
}

// cobra/doc's man page renderer: blackfriday builds its tables in its
// package init, every call would pay it, and cmd/man.go writes the pages
// itself.
var noManRenderer = []ban{
	{"github.com/spf13/cobra/doc", "cobra's doc generators: cmd/man.go writes the man pages"},
	{"github.com/russross/blackfriday/v2", "markdown for cobra's man pages: its init builds tables every call would pay"},
	{"github.com/cpuguy83/go-md2man/v2/md2man", "roff for cobra's man pages: cmd/man.go writes roff itself"},
}

// HTTP: only the node's libp2p links it (its transports and metrics).
var noHTTP = []ban{{"net/http", "HTTP: nothing but libp2p's host speaks it, and its init costs every call"}}

// TestDeps keeps each program to what it needs: a linked package's init
// runs on every call, and the helper runs on every git fetch and push.
func TestDeps(t *testing.T) {
	sqlite := []ban{
		{"modernc.org/sqlite", "the issue index's SQLite: the helper never opens the index, and every fetch and push would pay its init"},
		{"modernc.org/libc", "SQLite's C library: the helper never opens the index"},
	}
	programs := []struct {
		dir  string
		bans [][]ban
	}{
		{"./grove", [][]ban{nodeOnly, tuiOnly, gitUpper, noHTTP, noMultihash, noManRenderer}},
		{"./git-remote-grove", [][]ban{nodeOnly, tuiOnly, gitUpper, noHTTP, noMultihash, noManRenderer, sqlite}},
		{"./grove-tui", [][]ban{nodeOnly, gitUpper, noHTTP, noMultihash, noManRenderer}},
		{"./grove-node", [][]ban{tuiOnly, gitUpper}},
	}
	for _, p := range programs {
		out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, p.dir).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p.dir, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "example.com/grove/repo") {
			t.Fatalf("go list %s does not list example.com/grove/repo:\n%s", p.dir, out)
		}
		for _, d := range deps {
			for _, b := range slices.Concat(p.bans...) {
				if d == b.pkg || strings.HasSuffix(b.pkg, "/") && strings.HasPrefix(d, b.pkg) {
					t.Errorf("%s links %s (%s)", p.dir, d, b.why)
				}
			}
		}
	}
}

// TestTestBinaryDeps keeps the UI out of this package's test binary: it is
// every program the scripts run (script_test.go), each paying its package
// init, and chroma's and glamour's are tens of milliseconds a run.
func TestTestBinaryDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -test -deps .: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, b := range tuiOnly {
			if d == b.pkg || strings.HasSuffix(b.pkg, "/") && strings.HasPrefix(d, b.pkg) {
				t.Errorf("cmd's test binary links %s (%s)", d, b.why)
			}
		}
	}
}

// layers are Grove's packages below the programs and what each must not
// import, and why: imports point down (cmd → tui, sync → issues → repo →
// protocol), and each layer keeps out what only a layer above it needs.
var layers = []struct {
	pkg  string
	bans []ban
	// grove lists the Grove packages it may import; nil is any.
	grove []string
	// stdOnly says it may import the standard library only.
	stdOnly bool
}{
	{pkg: "example.com/grove/protocol", grove: []string{},
		bans: []ban{{"testing", "test code in binaries"}}},
	{pkg: "example.com/grove/protocol/termtext", stdOnly: true, grove: []string{},
		bans: []ban{{"testing", "test code in binaries"}}},
	{pkg: "example.com/grove/repo", bans: []ban{
		{"testing", "test code in binaries"},
		{"example.com/grove/cmd", "imports point down"},
		{"example.com/grove/issues", "collaborative objects are built on storage, not the other way round"},
		{"example.com/grove/sync", "storage never dials: the node moves objects in and out through repo"},
		{"example.com/grove/sync/control", "storage does not talk to a running node"},
		{"example.com/grove/tui", "imports point down"},
		{"github.com/libp2p/go-libp2p", "the libp2p host belongs to the node (grove-node)"},
		{"modernc.org/sqlite", "the index is issues'; storage is git's files"},
		{"github.com/charmbracelet/bubbletea", "storage draws nothing"},
	}},
	{pkg: "example.com/grove/issues", bans: []ban{
		{"testing", "test code in binaries"},
		{"example.com/grove/cmd", "imports point down"},
		{"example.com/grove/sync", "issues never dials; objects travel as refs"},
		{"example.com/grove/tui", "imports point down"},
		{"github.com/libp2p/go-libp2p/p2p/net/swarm", "issues never dials"},
	}},
	{pkg: "example.com/grove/sync/control", bans: slices.Concat(nodeOnly, []ban{
		{"testing", "test code in binaries"},
		{"example.com/grove/cmd", "imports point down"},
		{"example.com/grove/issues", "control knows nothing of issues"},
	})},
	// "testing" is not banned for sync: go-libp2p-kad-dht imports it itself.
	{pkg: "example.com/grove/sync", bans: slices.Concat(tuiOnly, []ban{
		{"example.com/grove/cmd", "imports point down"},
		{"github.com/spf13/cobra", "flags and commands are cmd's; the node takes a Config"},
		{"modernc.org/sqlite", "the node replicates refs and never opens the issue index"},
		{"github.com/go-git/go-git/v5", "go-git's root package links every transport; git itself serves and fetches packs"},
	})},
	// tui draws what a Source gives it (cmd/tuicmd wires storage, the
	// index and the node to it), so it can be tested with a fake source.
	{pkg: "example.com/grove/tui", grove: []string{"example.com/grove/protocol/termtext"}, bans: []ban{
		{"testing", "test code in binaries"},
		{"modernc.org/sqlite", "the index is reached through the Source"},
		{"github.com/libp2p/go-libp2p", "the node is reached through the Source"},
	}},
}

// TestLayerDeps keeps each layer to its imports (the table above).
func TestLayerDeps(t *testing.T) {
	args := []string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}
	for _, l := range layers {
		args = append(args, l.pkg)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	std, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	isStd := map[string]bool{}
	for _, p := range strings.Fields(string(std)) {
		isStd[p] = true
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(layers) {
		t.Fatalf("go list printed %d packages, want %d:\n%s", len(lines), len(layers), out)
	}
	for i, l := range layers {
		deps := strings.Fields(lines[i])[1:]
		for _, d := range deps {
			for _, b := range l.bans {
				if d == b.pkg || strings.HasSuffix(b.pkg, "/") && strings.HasPrefix(d, b.pkg) {
					t.Errorf("%s imports %s (%s)", l.pkg, d, b.why)
				}
			}
			if l.grove != nil && strings.HasPrefix(d, "example.com/grove/") && !slices.Contains(l.grove, d) {
				t.Errorf("%s imports %s: it may import only %q of Grove's packages", l.pkg, d, l.grove)
			}
			if l.stdOnly && !isStd[d] && !strings.HasPrefix(d, "internal/") && !strings.HasPrefix(d, "vendor/") {
				t.Errorf("%s imports %s: only the standard library, so that every package may import it", l.pkg, d)
			}
		}
	}
}
