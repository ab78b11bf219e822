package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"unicode/utf8"

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
func (l *jsonList) add(v any) error {
	l.buf.Reset()
	if err := l.enc.Encode(v); err != nil {
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
