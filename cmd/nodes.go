package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// nodeProgram is the program that can run a libp2p node in its own process
// (cmd/grove-node). grove runs it for the commands that need one, so that
// grove and git-remote-grove do not link libp2p and start fast.
const nodeProgram = "grove-node"

// Nodes starts libp2p nodes in this process. grove has none: a command that
// needs a node of its own (node start; clone, seed --from and sync when no
// node runs) runs grove-node with the same arguments instead, and there
// package netcmd provides Nodes.
type Nodes interface {
	Start(ctx context.Context, cfg NodeConfig) (Node, error)
}

// NodeConfig is what a node starts with.
type NodeConfig struct {
	Home repo.Home
	Key  *protocol.Key
	// Listen are multiaddrs to listen on; empty means loopback only.
	Listen []string
	// Bootstrap are peers to dial at start; Relays are circuit relays to
	// reserve a slot on.
	Bootstrap, Relays []string
	// RelayService relays for others; MDNS finds peers on the local network.
	RelayService, MDNS bool
	// NoReconnect: the node does not dial remembered peers at start; the
	// command dials the peers it was given (tempNode with --from).
	NoReconnect bool
	// OneCommand: the node fetches only what the command asks (no
	// announcements taken, no catching up), so the command's result says
	// what it brought.
	OneCommand bool
	// Log is the node's log; nil discards it.
	Log *slog.Logger
}

// Node is a libp2p node running in this process.
type Node interface {
	// Addrs returns the node's dialable addresses, each ending in /p2p/NID.
	Addrs() []string
	// Connect dials addr, a multiaddr ending in /p2p/NID.
	Connect(ctx context.Context, addr string) error
	// Clone gets project rid from the peers at from (or the peers it
	// finds) and seeds it. A non-nil progress gets a status line for the
	// fetch, and "" when it ends.
	Clone(ctx context.Context, rid protocol.RID, from []string, progress func(string)) (*control.FetchResult, error)
	// Sync fetches rid from up to max connected peers and providers. A
	// non-nil reset lets that namespace move to a fork of the one stored.
	Sync(ctx context.Context, rid protocol.RID, max int, progress func(string), reset *protocol.NID) ([]*control.FetchResult, error)
	// Serve answers the control socket at path until ctx is done or a
	// client asks the node to stop; a non-nil ready runs once the socket
	// listens.
	Serve(ctx context.Context, path string, ready func() error) error
	Close() error
}

// GroveNode runs grove-node: grove's command line with args, where nodes
// start the libp2p nodes that commands need in process.
func GroveNode(ctx context.Context, args []string, io IO, nodes Nodes) int {
	return run(ctx, &env{io: io, now: time.Now, args: args, nodes: nodes})
}

// runProgram hands this command line, arguments and all, to another of
// Grove's programs (grove-node), which has in process what
// grove leaves out. On this process's own streams the program replaces
// grove; on others (a test calling Grove) it runs as a child. Either way
// the caller must stop: the error it returns carries the program's exit
// code, 0 included.
func (e *env) runProgram(ctx context.Context, name string) error {
	path, err := findProgram(name)
	if err != nil {
		return err
	}
	return execProgram(ctx, e.io, path, append([]string{name}, e.args...))
}

// findProgram looks for one of Grove's programs next to the running one,
// then on PATH.
func findProgram(name string) (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed next to grove: run 'go install ./cmd/...'", name)
}

// execProgram replaces this process with the program at path, so that the
// terminal, signals and the exit code are its own; the environment goes
// through whole. Streams that are not this process's own cannot be handed
// over: the program then runs as a child on them, an interrupt of ctx
// reaches it as one, and its exit code comes back as a silentError.
func execProgram(ctx context.Context, io IO, path string, argv []string) error {
	if isStdio(io) {
		// A profiling timer outlives exec, and the new program would die
		// of its first tick before it could handle it (GROVE_CPUPROFILE).
		pprof.StopCPUProfile()
		err := syscall.Exec(path, argv, os.Environ())
		return fmt.Errorf("run %s: %w", path, err)
	}
	c := exec.CommandContext(ctx, path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = io.In, io.Out, io.Err
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
	c.WaitDelay = stopWait
	err := c.Run()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return &silentError{Code: max(ee.ExitCode(), 1)} // -1: killed by a signal
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", path, err)
	}
	return &silentError{Code: 0}
}

// isStdio reports whether io's streams are this process's standard ones,
// which an exec'd program inherits.
func isStdio(io IO) bool {
	for fd, s := range []any{io.In, io.Out, io.Err} {
		f, ok := s.(*os.File)
		if !ok || f.Fd() != uintptr(fd) {
			return false
		}
	}
	return true
}
