package cmd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.com/grove/repo"
)

// patchOpenAlias is the ref a user pushes to to open a patch. git
// receive-pack refuses it as a one-level name, so the helper renames it to
// repo.PatchOpenRef on the way in, and back in the status report on the
// way out.
const patchOpenAlias = "refs/patches"

// runReceivePack runs git receive-pack with args in dir, joined to git
// through a proxy that renames refs/patches (see patchOpenAlias). Only the
// command list and the status report are parsed; the pack passes through.
func runReceivePack(ctx context.Context, dir string, args, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("receive-pack: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fmt.Errorf("receive-pack: %w", err)
	}
	c := exec.CommandContext(ctx, "git", args...)
	c.Dir = dir
	c.Env = repo.GitEnv(env...)
	c.Stdin, c.Stdout, c.Stderr = inR, outW, stderr
	c.WaitDelay = time.Second
	if err := c.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return fmt.Errorf("git %s: %w", service(args), err)
	}
	inR.Close()
	outW.Close()
	st := &proxyState{}
	// git → receive-pack. git keeps its end open until it has read the
	// report, so this copy ends when git closes it or the process exits;
	// nothing waits for it.
	go func() {
		proxyCommands(stdin, inW, st)
		inW.Close()
	}()
	// receive-pack → git: everything must reach git before we return.
	var wg sync.WaitGroup
	var outErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		outErr = proxyReport(outR, stdout, st)
		io.Copy(io.Discard, outR)
		outR.Close()
	}()
	err = c.Wait()
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("git %s: %w", service(args), err)
	}
	if outErr != nil {
		return fmt.Errorf("git %s: %w", service(args), outErr)
	}
	return nil
}

// proxyState is what the command list told the report's reader.
type proxyState struct {
	renamed  atomic.Bool // a command's ref was renamed
	sideband atomic.Bool // git asked for side-band(-64k)
}

// readPkt reads one pkt-line: its whole bytes and its payload; a flush or
// other special packet has an empty payload.
func readPkt(r io.Reader) (raw, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	n, err := strconv.ParseUint(string(hdr[:]), 16, 16)
	if err != nil {
		return nil, nil, fmt.Errorf("bad pkt-line length %q", hdr[:])
	}
	if n < 4 {
		return hdr[:], nil, nil
	}
	raw = make([]byte, n)
	copy(raw, hdr[:])
	if _, err := io.ReadFull(r, raw[4:]); err != nil {
		return nil, nil, err
	}
	return raw, raw[4:], nil
}

// maxPktPayload is the most a pkt-line carries: its length is 4 hex
// digits, and counts itself.
const maxPktPayload = 0xffff - 4

func pkt(payload []byte) []byte {
	return append([]byte(fmt.Sprintf("%04x", len(payload)+4)), payload...)
}

// proxyCommands copies git's side of a push, renaming refs/patches in the
// command list.
func proxyCommands(src io.Reader, dst io.Writer, st *proxyState) {
	for first := true; ; first = false {
		raw, payload, err := readPkt(src)
		if err != nil {
			return
		}
		if payload == nil || (first && bytes.HasPrefix(payload, []byte("push-cert"))) {
			// The end of the commands, or a signed push, which is passed
			// on as it is.
			if _, err := dst.Write(raw); err != nil {
				return
			}
			break
		}
		line, caps, hasCaps := bytes.Cut(payload, []byte{0})
		if hasCaps {
			for _, c := range strings.Fields(string(caps)) {
				if c == "side-band-64k" || c == "side-band" {
					st.sideband.Store(true)
				}
			}
		}
		nl := bytes.HasSuffix(line, []byte("\n"))
		f := strings.Fields(string(line))
		if len(f) == 3 && f[2] == patchOpenAlias {
			out := []byte(f[0] + " " + f[1] + " " + repo.PatchOpenRef)
			if hasCaps {
				out = append(append(out, 0), caps...)
			} else if nl {
				out = append(out, '\n')
			}
			// A line too long to rename goes on as it is, for
			// receive-pack to refuse.
			if len(out) <= maxPktPayload {
				st.renamed.Store(true)
				raw = pkt(out)
			}
		}
		if _, err := dst.Write(raw); err != nil {
			return
		}
	}
	io.Copy(dst, src)
}

// proxyReport copies receive-pack's side of a push, renaming
// repo.PatchOpenRef back to refs/patches in the status report.
func proxyReport(src io.Reader, dst io.Writer, st *proxyState) error {
	// The ref advertisement, up to its flush, passes unchanged.
	for {
		raw, payload, err := readPkt(src)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := dst.Write(raw); err != nil {
			return err
		}
		if payload == nil {
			break
		}
	}
	br := bufio.NewReader(src)
	if _, err := br.Peek(1); err != nil {
		return nil // nothing more: git sent no commands
	}
	// receive-pack answers only after reading the commands, so the state
	// is settled by now.
	if !st.renamed.Load() {
		_, err := io.Copy(dst, br)
		return err
	}
	var inner bytes.Buffer // band 1 of a side-band report
	for {
		raw, payload, err := readPkt(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case payload == nil:
		case st.sideband.Load() && len(payload) > 0 && payload[0] == 1:
			inner.Write(payload[1:])
			var out []byte
			for {
				b := inner.Bytes()
				if len(b) < 4 {
					break
				}
				n, err := strconv.ParseUint(string(b[:4]), 16, 16)
				if err != nil {
					return fmt.Errorf("bad pkt-line length %q", b[:4])
				}
				if n < 4 {
					n = 4
				}
				if uint64(len(b)) < n {
					break
				}
				ip := append([]byte(nil), b[:n]...)
				inner.Next(int(n))
				if n > 4 {
					ip = pkt(renameStatus(ip[4:]))
				}
				out = append(out, ip...)
			}
			for len(out) > 0 {
				n := min(len(out), 65000)
				if _, err := dst.Write(pkt(append([]byte{1}, out[:n]...))); err != nil {
					return err
				}
				out = out[n:]
			}
			continue
		case !st.sideband.Load():
			raw = pkt(renameStatus(payload))
		}
		if _, err := dst.Write(raw); err != nil {
			return err
		}
	}
}

// renameStatus renames the ref of an ok, ng or option-refname line.
func renameStatus(line []byte) []byte {
	for _, p := range []string{"ok ", "ng ", "option refname "} {
		if rest, ok := bytes.CutPrefix(line, []byte(p+repo.PatchOpenRef)); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\n') {
			return append([]byte(p+patchOpenAlias), rest...)
		}
	}
	return line
}
