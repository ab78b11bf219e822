// Package remote runs the UI's markdown and code renderer in a process of
// its own (grove-render) and talks to it over the process's standard
// streams, so that grove-tui links neither glamour nor chroma and starts
// without their package initialisers.
//
// The protocol is one JSON object a line, a request from grove-tui and its
// response from grove-render, one at a time. Texts travel as bytes
// (base64), so that what is not UTF-8 arrives as it was sent.
package remote

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muesli/termenv"
)

// Renderer renders markdown and highlights code.
type Renderer interface {
	Markdown(text string, width int) string
	Highlight(path, text string) []string
}

// Limits on what crosses the pipe. A text longer than MaxText is not sent:
// markdown shows as it is, and code that long is not highlighted anyway
// (tui/render's MaxHighlight is smaller).
const (
	MaxText     = 1 << 20
	maxRequest  = 2*MaxText + 4<<10 // base64 of MaxText, plus the fields
	maxResponse = 32 << 20
)

// ErrTooLong is returned when a message exceeds its limit.
var ErrTooLong = errors.New("message too long")

// Request kinds.
const (
	kindMarkdown  = "markdown"
	kindHighlight = "highlight"
)

// request asks for one rendering, with the terminal it is for.
type request struct {
	Kind    string `json:"kind"`
	Profile int    `json:"profile"`
	Dark    bool   `json:"dark"`
	Text    []byte `json:"text"`
	Width   int    `json:"width,omitempty"`
	Path    string `json:"path,omitempty"`
}

// response is the answer to one request: Text for markdown, Lines for
// code, or Err.
type response struct {
	Text  []byte   `json:"text,omitempty"`
	Lines [][]byte `json:"lines,omitempty"`
	Err   string   `json:"err,omitempty"`
}

// readLine reads one line of at most max bytes, without its newline.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadSlice('\n')
		if len(line)+len(b) > max+1 {
			return nil, fmt.Errorf("read line: %w", ErrTooLong)
		}
		line = append(line, b...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Serve answers the requests read from in on out, with renderers made by
// newRenderer (one per colour profile and background), until in ends.
func Serve(in io.Reader, out io.Writer, newRenderer func(p termenv.Profile, dark bool) Renderer) error {
	type style struct {
		p    termenv.Profile
		dark bool
	}
	renderers := make(map[style]Renderer)
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriterSize(out, 64<<10)
	for {
		line, err := readLine(br, maxRequest)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		var req request
		var resp response
		if err := json.Unmarshal(line, &req); err != nil {
			resp.Err = "bad request: " + err.Error()
		} else if p := termenv.Profile(req.Profile); p < termenv.TrueColor || p > termenv.Ascii {
			resp.Err = fmt.Sprintf("bad colour profile %d", req.Profile)
		} else {
			s := style{p, req.Dark}
			r, ok := renderers[s]
			if !ok {
				r = newRenderer(s.p, s.dark)
				renderers[s] = r
			}
			switch req.Kind {
			case kindMarkdown:
				resp.Text = []byte(r.Markdown(string(req.Text), req.Width))
			case kindHighlight:
				for _, l := range r.Highlight(req.Path, string(req.Text)) {
					resp.Lines = append(resp.Lines, []byte(l))
				}
			default:
				resp.Err = fmt.Sprintf("unknown request kind %q", req.Kind)
			}
		}
		b, err := json.Marshal(&resp)
		if err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
		if len(b) > maxResponse {
			b, _ = json.Marshal(&response{Err: ErrTooLong.Error()})
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
}

// maxStarts is how often a client starts its program: once, and once
// more after it died or stopped answering.
const maxStarts = 2

// Client renders through a grove-render process, started on Start or on
// first use. When the program is missing, dies twice or does not answer in
// time, it renders plain text: markdown as it is, code without colours.
// Calls are synchronous, one at a time; Close ends the process.
type Client struct {
	launch  func() (*proc, error)
	profile termenv.Profile
	dark    bool
	// first bounds a process's first answer, which includes its start;
	// each bounds every later one.
	first, each time.Duration

	mu     sync.Mutex
	proc   *proc // nil when not running
	starts int
	closed bool
	// running is proc, for Close to kill without waiting for a call.
	running atomic.Pointer[proc]
}

// New returns a client that runs the program at path (none when "") for a
// terminal with colour profile p and a dark background or not. It waits at
// most first for a process's first answer, which includes starting it
// (loading the program and its package initialisers), and at most each
// for every later answer.
func New(path string, p termenv.Profile, dark bool, first, each time.Duration) *Client {
	c := &Client{launch: func() (*proc, error) { return run(path) }, profile: p, dark: dark, first: first, each: each}
	if path == "" {
		c.starts = maxStarts
	}
	return c
}

// proc is one running renderer: its input and output, kill to end it
// (which also ends a write or read waiting on it) and wait to reap it.
type proc struct {
	in   io.Writer
	out  *bufio.Reader
	kill func()
	wait func()
	// answered says the process answered once: it has started.
	answered bool
}

// run starts the program at path. Its standard error stays closed: the
// terminal belongs to the UI.
func run(path string) (*proc, error) {
	cmd := exec.Command(path)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &proc{
		in:  in,
		out: bufio.NewReaderSize(out, 64<<10),
		kill: func() {
			cmd.Process.Kill()
			in.Close()
			out.Close()
		},
		wait: func() { cmd.Wait() },
	}, nil
}

// Start starts the program if it is not running yet and may be started.
func (c *Client) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed && c.proc == nil {
		c.start()
	}
}

func (c *Client) start() bool {
	if c.starts >= maxStarts {
		return false
	}
	c.starts++
	p, err := c.launch()
	if err != nil {
		return false
	}
	c.proc = p
	c.running.Store(p)
	return true
}

// stop ends the running program and waits for it.
func (c *Client) stop() {
	if c.proc == nil {
		return
	}
	c.proc.kill()
	c.proc.wait()
	c.proc = nil
	c.running.Store(nil)
}

// Close ends the program; later calls render plain text. A call under way
// ends at once, with plain text.
func (c *Client) Close() error {
	if p := c.running.Load(); p != nil {
		p.kill()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.stop()
	return nil
}

// call sends req and returns the answer, or false when there is none.
func (c *Client) call(req *request) (*response, bool) {
	if len(req.Text) > MaxText {
		return nil, false
	}
	req.Profile, req.Dark = int(c.profile), c.dark
	b, err := json.Marshal(req)
	if err != nil {
		return nil, false
	}
	b = append(b, '\n')
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.proc == nil && !c.start() {
		return nil, false
	}
	p := c.proc
	// A program that does not answer in time is killed, which ends the
	// write or read below.
	timeout := c.each
	if !p.answered {
		timeout = c.first
	}
	timer := time.AfterFunc(timeout, p.kill)
	var line []byte
	_, err = p.in.Write(b)
	if err == nil {
		line, err = readLine(p.out, maxResponse)
	}
	if !timer.Stop() {
		err = errors.New("no answer in time")
	}
	var resp response
	if err == nil {
		err = json.Unmarshal(line, &resp)
	}
	if err != nil {
		c.stop()
		return nil, false
	}
	p.answered = true
	if resp.Err != "" {
		return nil, false
	}
	return &resp, true
}

// Markdown returns text rendered for width cells, or as it is.
func (c *Client) Markdown(text string, width int) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	resp, ok := c.call(&request{Kind: kindMarkdown, Text: []byte(text), Width: width})
	if !ok {
		return text
	}
	return string(resp.Text)
}

// Highlight returns text split into lines, coloured for path, or plain.
func (c *Client) Highlight(path, text string) []string {
	resp, ok := c.call(&request{Kind: kindHighlight, Text: []byte(text), Path: path})
	if !ok {
		return Plain(text)
	}
	lines := make([]string, len(resp.Lines))
	for i, l := range resp.Lines {
		lines[i] = string(l)
	}
	return lines
}

// Plain returns text split into lines as code shows without colours: tabs
// expanded to four spaces, no final newline.
func Plain(text string) []string {
	text = strings.ReplaceAll(text, "\t", "    ")
	text = strings.TrimSuffix(text, "\n")
	return strings.Split(text, "\n")
}

var _ Renderer = (*Client)(nil)
