package repo

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
	"unicode"
	"unicode/utf8"

	"example.com/grove/protocol"
)

// PatchOpenAlias is the ref a user pushes to to open a patch. git
// receive-pack refuses it as a one-level name, so Receive renames it to
// PatchOpenRef on the way in, and back in the status report on the way
// out.
const PatchOpenAlias = "refs/patches"

// ReceivePack is what Receive joins git receive-pack to, and how it signs
// what lands.
type ReceivePack struct {
	In  io.Reader // the pusher's git: its commands and pack
	Out io.Writer // to the pusher's git: the advertisement and the report
	Err io.Writer // receive-pack's stderr
	Env []string  // more environment for receive-pack, e.g. GIT_PROTOCOL
	// Signer signs the namespace's new refs, at Now.
	Signer protocol.Signer
	Now    time.Time
}

// PatchFunc opens or revises patches from the refs a push named under
// refs/patches (their commits are in the storage by then) and the push's
// options; it returns why each ref it could not turn into a patch failed.
type PatchFunc func(ctx context.Context, pushed []PatchPush, options []string) map[string]error

// Receive runs git receive-pack in the push's quarantine, joined to the
// pusher's git, and lands what it received: Finish, then Close (so that
// patches may write), then patches for the refs under refs/patches, if
// any. Only then does git get receive-pack's status report, which says a
// ref landed only if it did: a ref that Finish or patches failed to land
// is reported "ng" with why, so git moves none of its remote-tracking refs
// for it. Only the command list and the report are parsed; the pack
// passes through. Receive returns what Finish returns.
func (p *Push) Receive(ctx context.Context, rp ReceivePack, patches PatchFunc) ([]RefUpdate, error) {
	rep := &heldReport{}
	if err := p.runReceivePack(ctx, rp, rep); err != nil {
		rep.send(rp.Out, nil, "")
		return nil, err
	}
	ups, err := p.Finish(ctx, rp.Signer, rp.Now)
	if err != nil {
		rep.send(rp.Out, nil, oneLine(err))
		return nil, err
	}
	p.Close()
	failed := make(map[string]string)
	if len(p.patches) > 0 && patches != nil {
		for ref, err := range patches(ctx, p.patches, p.options) {
			failed[ref] = oneLine(err)
		}
	}
	if err := rep.send(rp.Out, failed, ""); err != nil {
		return ups, fmt.Errorf("report to git: %w", err)
	}
	return ups, nil
}

// runReceivePack runs git receive-pack in the quarantine, joined to git
// through a proxy that renames refs/patches (see PatchOpenAlias) and
// holds the status report in rep.
func (p *Push) runReceivePack(ctx context.Context, rp ReceivePack, rep *heldReport) error {
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
	c := exec.CommandContext(ctx, "git", "receive-pack", p.Dir())
	c.Dir = p.Dir()
	c.Env = GitEnv(rp.Env...)
	c.Stdin, c.Stdout, c.Stderr = inR, outW, rp.Err
	c.WaitDelay = time.Second
	if err := c.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return fmt.Errorf("git receive-pack: %w", err)
	}
	inR.Close()
	outW.Close()
	st := &proxyState{}
	// git → receive-pack. git keeps its end open until it has read the
	// report, so this copy ends when git closes it or the process exits;
	// nothing waits for it.
	go func() {
		proxyCommands(rp.In, inW, st)
		inW.Close()
	}()
	// receive-pack → git: the advertisement and progress pass at once, the
	// report is held; all of it is read before we go on.
	var wg sync.WaitGroup
	var outErr error
	wg.Go(func() {
		outErr = rep.read(outR, rp.Out, st)
		io.Copy(io.Discard, outR)
		outR.Close()
	})
	err = c.Wait()
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("git receive-pack: %w", err)
	}
	if outErr != nil {
		return fmt.Errorf("git receive-pack: %w", outErr)
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
		if len(f) == 3 && f[2] == PatchOpenAlias {
			out := []byte(f[0] + " " + f[1] + " " + PatchOpenRef)
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

// maxReport bounds the status report held for git: a line per ref.
const maxReport = 64 << 20

// heldReport is receive-pack's status report, held back from git until
// the push has landed.
type heldReport struct {
	sideband bool
	renamed  bool     // a command's ref was renamed, so its status is too
	lines    [][]byte // the report's pkt-lines, whole
	// flush: a side-band stream ended with a flush of its own.
	flush bool
}

// read copies receive-pack's side of a push to git up to its status
// report: the ref advertisement, and on a side-band the progress; it keeps
// the report.
func (h *heldReport) read(src io.Reader, dst io.Writer, st *proxyState) error {
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
	h.sideband, h.renamed = st.sideband.Load(), st.renamed.Load()
	if !h.sideband {
		return h.readLines(br)
	}
	var band1 bytes.Buffer
	for {
		raw, payload, err := readPkt(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case payload == nil:
			h.flush = true
			continue
		case len(payload) > 0 && payload[0] == 1:
			if band1.Len()+len(payload) > maxReport {
				return fmt.Errorf("status report over %d bytes", maxReport)
			}
			band1.Write(payload[1:])
			continue
		}
		if _, err := dst.Write(raw); err != nil {
			return err
		}
	}
	return h.readLines(&band1)
}

// readLines keeps the report's pkt-lines from r.
func (h *heldReport) readLines(r io.Reader) error {
	size := 0
	for {
		raw, _, err := readPkt(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if size += len(raw); size > maxReport {
			return fmt.Errorf("status report over %d bytes", maxReport)
		}
		h.lines = append(h.lines, raw)
	}
}

// send writes the report to git, with refs/patches named as the pusher
// named it (when it was renamed). A ref receive-pack took (ok) that failed (its reason) or, when
// all is not empty, every ref it took, is reported as rejected for that
// reason instead.
func (h *heldReport) send(dst io.Writer, failed map[string]string, all string) error {
	var b []byte
	dropOptions := false // the options of an ok line that became ng
	for _, raw := range h.lines {
		if len(raw) == 4 { // a flush or another special packet
			b = append(b, raw...)
			continue
		}
		line := raw[4:]
		if rest, ok := bytes.CutPrefix(line, []byte("ok ")); ok {
			ref := strings.TrimSuffix(string(rest), "\n")
			why, bad := failed[ref]
			if all != "" {
				why, bad = all, true
			}
			dropOptions = bad
			if bad {
				line = []byte("ng " + ref + " " + reportReason(why) + "\n")
				if len(line) > maxPktPayload {
					line = []byte("ng " + ref + " grove\n")
				}
			}
		} else if bytes.HasPrefix(line, []byte("option ")) {
			if dropOptions {
				continue
			}
		} else {
			dropOptions = false
		}
		if h.renamed {
			line = renameStatus(line)
		}
		if bytes.Equal(line, raw[4:]) {
			b = append(b, raw...) // as receive-pack framed it
		} else {
			b = append(b, pkt(line)...)
		}
	}
	if !h.sideband {
		_, err := dst.Write(b)
		return err
	}
	for len(b) > 0 {
		n := min(len(b), 65000)
		if _, err := dst.Write(pkt(append([]byte{1}, b[:n]...))); err != nil {
			return err
		}
		b = b[n:]
	}
	if h.flush {
		_, err := dst.Write([]byte("0000"))
		return err
	}
	return nil
}

// reportReason makes why fit a status report's reason: one line, no
// control characters, bounded.
func reportReason(why string) string {
	why = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, why)
	why = strings.ToValidUTF8(why, "?")
	if len(why) > 500 {
		why = why[:500]
		for !utf8.ValidString(why) {
			why = why[:len(why)-1]
		}
	}
	return why
}

// renameStatus renames the ref of an ok, ng or option-refname line.
func renameStatus(line []byte) []byte {
	for _, p := range []string{"ok ", "ng ", "option refname "} {
		if rest, ok := bytes.CutPrefix(line, []byte(p+PatchOpenRef)); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\n') {
			return append([]byte(p+PatchOpenAlias), rest...)
		}
	}
	return line
}

// oneLine returns the first line of err's message.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
