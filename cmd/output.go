package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"example.com/grove/protocol/termtext"
)

// writeJSON prints v as indented JSON, the stable form for scripts. The
// few characters a terminal acts on that encoding/json leaves as they are
// (DEL, C1 and bidirectional controls) are written as \u escapes
// (termtext.JSON): the same value, safe to print.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(termtext.JSON(b.Bytes()))
	return err
}

// jsonList writes a JSON array exactly as writeJSON writes a slice of
// its items, one item at a time: a list of 10,000 issues is then never
// held whole, neither as values nor as one encoding, which writeJSON
// would build and then indent in a second pass (most of its time).
type jsonList struct {
	bw  *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

func newJSONList(w io.Writer) *jsonList {
	l := &jsonList{bw: bufio.NewWriterSize(w, 64<<10)}
	l.enc = json.NewEncoder(&l.buf)
	l.enc.SetIndent("  ", "  ")
	l.enc.SetEscapeHTML(false)
	return l
}

// add writes v as the list's next item.
//
// JSON already encoded (a patch's document from the index) is indented
// as the encoder would, in one pass: through the encoder it was checked
// and compacted first, then indented.
func (l *jsonList) add(v any) error {
	l.buf.Reset()
	if raw, ok := v.(*json.RawMessage); ok {
		if err := json.Indent(&l.buf, *raw, "  ", "  "); err != nil {
			return err
		}
	} else if err := l.enc.Encode(v); err != nil {
		return err
	}
	if l.n == 0 {
		l.bw.WriteString("[\n  ")
	} else {
		l.bw.WriteString(",\n  ")
	}
	l.n++
	_, err := l.bw.Write(termtext.JSON(bytes.TrimSuffix(l.buf.Bytes(), []byte("\n"))))
	return err
}

// close ends the list and flushes it.
func (l *jsonList) close() error {
	if l.n == 0 {
		l.bw.WriteString("[]\n")
	} else {
		l.bw.WriteString("\n]\n")
	}
	return l.bw.Flush()
}

// table prints rows as aligned columns, each cell made safe to print on
// one line of a terminal first (termtext.Line, in place): cells hold what
// peers wrote.
func table(w io.Writer, rows [][]string) error {
	for _, r := range rows {
		for i, c := range r {
			r[i] = termtext.Line(c)
		}
	}
	return alignTable(w, rows)
}

// headedTable prints rows as table does, under header when stdout is a
// terminal; piped, the rows alone, for scripts.
func headedTable(io IO, header []string, rows [][]string) error {
	if io.OutTTY && len(rows) > 0 {
		rows = append([][]string{header}, rows...)
	}
	return table(io.Out, rows)
}

// alignTable prints aligned columns, exactly as text/tabwriter with padding 2
// would. Output is buffered: tabwriter writes each cell and pad on its
// own, which as raw writes to a pipe cost more than the whole query behind
// a 10,000-issue list. Rows of one length whose cells hold nothing
// tabwriter treats specially are padded here directly, which costs a
// fraction of tabwriter's cell bookkeeping; anything else goes through
// tabwriter.
func alignTable(w io.Writer, rows [][]string) error {
	if !plainTable(rows) {
		return tabTable(w, rows)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var widths []int
	if len(rows) > 0 {
		widths = make([]int, len(rows[0])-1)
	}
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var pad [64]byte
	for i := range pad {
		pad[i] = ' '
	}
	for _, r := range rows {
		for i, c := range r {
			bw.WriteString(c)
			if i == len(r)-1 {
				break
			}
			for n := widths[i] + 2 - utf8.RuneCountInString(c); n > 0; n -= len(pad) {
				bw.Write(pad[:min(n, len(pad))])
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// streamTable prints a table exactly as headedTable prints rows whose
// cells hold no tab (termtext.Line leaves none) and number the same in
// every row, from rows made twice rather than held: once to measure the
// columns, once to print. A 10,000-issue list then holds its encoded rows
// and nothing per cell.
//
//	t := newStreamTable(w, 3)
//	for t.pass() {
//		t.cell(a); t.cell(b); t.cell(c); t.end()
//	}
//	err := t.flush()
type streamTable struct {
	widths   []int
	printing bool
	passes   int
	col      int
	bw       *bufio.Writer
}

func newStreamTable(w io.Writer, cols int) *streamTable {
	return &streamTable{widths: make([]int, cols), bw: bufio.NewWriterSize(w, 64<<10)}
}

// pass starts the next pass over the rows: measuring, then printing; it
// reports false after both.
func (t *streamTable) pass() bool {
	t.passes++
	t.printing = t.passes == 2
	return t.passes <= 2
}

// cell adds s, made safe to print (termtext.Line), as the row's next cell.
func (t *streamTable) cell(s string) {
	s, n := lineWidth(s)
	if !t.printing {
		t.widths[t.col] = max(t.widths[t.col], n)
		t.col++
		return
	}
	t.bw.WriteString(s)
	t.pad(n)
}

// lineWidth returns s made safe to print (termtext.Line) and how many
// runes it has; printable ASCII, most cells, in one pass.
func lineWidth(s string) (string, int) {
	for i := 0; i < len(s); i++ {
		if s[i]-0x20 >= 0x7f-0x20 {
			s = termtext.Line(s)
			return s, utf8.RuneCountInString(s)
		}
	}
	return s, len(s)
}

// cellJoin adds parts joined by sep as the row's next cell, as cell would
// strings.Join(parts, sep) when sep is printable ASCII, without making
// that string.
func (t *streamTable) cellJoin(parts []string, sep string) {
	n := 0
	for i, p := range parts {
		p, w := lineWidth(p)
		if i > 0 {
			n += len(sep)
			if t.printing {
				t.bw.WriteString(sep)
			}
		}
		n += w
		if t.printing {
			t.bw.WriteString(p)
		}
	}
	if !t.printing {
		t.widths[t.col] = max(t.widths[t.col], n)
		t.col++
		return
	}
	t.pad(n)
}

// pad ends a printed cell of n runes: two spaces past the column's widest
// cell, nothing after the last column.
func (t *streamTable) pad(n int) {
	if t.col == len(t.widths)-1 {
		t.col++
		return
	}
	const spaces = "                                                                "
	for n = t.widths[t.col] + 2 - n; n > 0; n -= len(spaces) {
		t.bw.WriteString(spaces[:min(n, len(spaces))])
	}
	t.col++
}

// end ends a row.
func (t *streamTable) end() {
	t.col = 0
	if t.printing {
		t.bw.WriteByte('\n')
	}
}

// flush writes what is buffered.
func (t *streamTable) flush() error { return t.bw.Flush() }

// plainTable reports whether every row has the same number of cells, at
// least one, and no cell holds a byte tabwriter acts on.
func plainTable(rows [][]string) bool {
	for _, r := range rows {
		if len(r) == 0 || len(r) != len(rows[0]) {
			return false
		}
		for _, c := range r {
			for i := 0; i < len(c); i++ {
				switch c[i] {
				case '\t', '\n', '\v', '\f', tabwriter.Escape:
					return false
				}
			}
		}
	}
	return true
}

// tabTable prints rows through text/tabwriter.
func tabTable(w io.Writer, rows [][]string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		for i, c := range r {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// jsonFlag is --json on a command whose result is a few values (an ID, an
// address): with it the command prints them as one JSON object, with the
// field names its text uses, instead of its text.
type jsonFlag struct{ JSON bool }

// add defines --json on c.
func (j *jsonFlag) add(c *cobra.Command) *cobra.Command {
	c.Flags().BoolVar(&j.JSON, "json", false, "print the result as JSON")
	return c
}

// result prints v as JSON with --json, or else what text prints.
func (j *jsonFlag) result(w io.Writer, v any, text func() error) error {
	if j.JSON {
		return writeJSON(w, v)
	}
	return text()
}

// colour reports whether the command may colour what it prints: stdout
// is a terminal, NO_COLOR is unset or empty (no-color.org) and TERM is
// not dumb.
func (d *deps) colour() bool {
	return d.IO.OutTTY && d.getenv("NO_COLOR") == "" && d.getenv("TERM") != "dumb"
}

// The few SGR sequences grove colours with. grove links no terminal
// library for them: each package's init is paid by every command.
const (
	sgrBold  = "\x1b[1m"
	sgrRed   = "\x1b[31m"
	sgrGreen = "\x1b[32m"
	sgrCyan  = "\x1b[36m"
	sgrReset = "\x1b[0m"
)

// colourDiff colours a unified diff as git does: file headers bold, hunk
// headers cyan, removed lines red, added lines green. text is safe to
// print already (termtext.Text): the only escapes in the result are these.
func colourDiff(text string) string {
	var b strings.Builder
	b.Grow(len(text) + len(text)/8)
	for line := range strings.Lines(text) {
		body := strings.TrimSuffix(line, "\n")
		sgr := ""
		switch {
		case strings.HasPrefix(body, "diff "), strings.HasPrefix(body, "index "),
			strings.HasPrefix(body, "--- "), strings.HasPrefix(body, "+++ "),
			strings.HasPrefix(body, "new file"), strings.HasPrefix(body, "deleted file"),
			strings.HasPrefix(body, "similarity"), strings.HasPrefix(body, "rename "):
			sgr = sgrBold
		case strings.HasPrefix(body, "@@"):
			sgr = sgrCyan
		case strings.HasPrefix(body, "-"):
			sgr = sgrRed
		case strings.HasPrefix(body, "+"):
			sgr = sgrGreen
		}
		if sgr == "" || body == "" {
			b.WriteString(line)
			continue
		}
		b.WriteString(sgr)
		b.WriteString(body)
		b.WriteString(sgrReset)
		b.WriteString(line[len(body):])
	}
	return b.String()
}
