package tui

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// renderKind says what a rendering is.
type renderKind uint8

const (
	renderMarkdown renderKind = iota // text for width cells
	renderCode                       // text highlighted as the file at path
)

// renderKey names one rendering: its kind, text, and width or path.
type renderKey struct {
	kind  renderKind
	text  string
	width int
	path  string
}

// rendered is a rendering's result: text for markdown, lines for code.
type rendered struct {
	text  string
	lines []string
}

// size is about how many bytes a key and its result hold.
func (k renderKey) size(r rendered) int {
	n := len(k.text) + len(k.path) + len(r.text)
	for _, l := range r.lines {
		n += len(l) + 16
	}
	return n + 64
}

// renderedMsg brings a rendering, done in a command, back to the Model.
type renderedMsg struct {
	key renderKey
	r   rendered
}

// Bounds of a textCache. Renderings the screen on top uses are kept even
// beyond them (see put).
const (
	maxRendered      = 500
	maxRenderedBytes = 8 << 20
)

// textCache holds the renderings pages draw markdown and code with, so
// that no page calls the TextRenderer from Update: a page asks the cache,
// which answers a miss with the plain form (what the renderer's fallback
// shows) and queues the rendering; the Model turns the queue into
// commands and puts their results here (see Model.renderQueued). A failed
// rendering comes back plain and is kept like any other, so it is not
// asked again and again.
type textCache struct {
	maxEntries, maxBytes int
	entries              map[renderKey]*cached
	bytes                int
	// epoch counts puts; an entry remembers the epoch of its last use.
	epoch   int
	pending map[renderKey]bool // queued or being rendered
	queue   []renderKey        // not yet turned into commands
}

type cached struct {
	r    rendered
	used int // epoch of the last get or put
}

func newTextCache() *textCache {
	return &textCache{
		maxEntries: maxRendered,
		maxBytes:   maxRenderedBytes,
		entries:    make(map[renderKey]*cached),
		pending:    make(map[renderKey]bool),
	}
}

// get returns the rendering of k, or false after queueing it once.
func (c *textCache) get(k renderKey) (rendered, bool) {
	if e, ok := c.entries[k]; ok {
		e.used = c.epoch
		return e.r, true
	}
	if !c.pending[k] {
		c.pending[k] = true
		c.queue = append(c.queue, k)
	}
	return rendered{}, false
}

// markdown returns text rendered for width cells, or as it is until that
// arrives; "" for blank text, as every TextRenderer gives.
func (c *textCache) markdown(text string, width int) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	if r, ok := c.get(renderKey{kind: renderMarkdown, text: text, width: width}); ok {
		return r.text
	}
	return text
}

// highlight returns text split into lines, coloured for the file at path,
// or without colours until that arrives.
func (c *textCache) highlight(path, text string) []string {
	if r, ok := c.get(renderKey{kind: renderCode, text: text, path: path}); ok {
		return r.lines
	}
	return plainLines(text)
}

// put stores a rendering that arrived. Past the bounds it drops the
// entries least recently used, but only those not used since the last
// put: the Model has the page on top build again after every put, which
// uses what that screen shows, so a screen that needs more than the bounds
// keeps what it needs instead of dropping and asking for it in a loop.
func (c *textCache) put(k renderKey, r rendered) {
	delete(c.pending, k)
	if old, ok := c.entries[k]; ok {
		c.bytes -= k.size(old.r)
	}
	c.entries[k] = &cached{r: r, used: c.epoch}
	c.bytes += k.size(r)
	if len(c.entries) > c.maxEntries || c.bytes > c.maxBytes {
		type use struct {
			k renderKey
			e *cached
		}
		var old []use
		for ek, e := range c.entries {
			if e.used < c.epoch {
				old = append(old, use{ek, e})
			}
		}
		slices.SortFunc(old, func(a, b use) int { return a.e.used - b.e.used })
		for _, o := range old {
			if len(c.entries) <= c.maxEntries && c.bytes <= c.maxBytes {
				break
			}
			c.bytes -= o.k.size(o.e.r)
			delete(c.entries, o.k)
		}
	}
	c.epoch++
}

// take returns the queued renderings and empties the queue; they stay
// pending until put.
func (c *textCache) take() []renderKey {
	q := c.queue
	c.queue = nil
	return q
}

// renderCmd renders k with r, off the event loop.
func renderCmd(r TextRenderer, k renderKey) tea.Cmd {
	return func() tea.Msg {
		var out rendered
		switch k.kind {
		case renderMarkdown:
			out.text = r.Markdown(k.text, k.width)
		case renderCode:
			out.lines = r.Highlight(k.path, k.text)
		}
		return renderedMsg{key: k, r: out}
	}
}
