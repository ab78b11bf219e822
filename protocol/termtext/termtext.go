// Package termtext makes text that other people wrote safe to print on a
// terminal. Titles, comments, labels, project names, branch names, paths
// and commit messages reach Grove from peers and from commits; a terminal
// acts on some of their bytes: ESC starts sequences that set the window
// title (OSC 0), write the clipboard (OSC 52), make links (OSC 8), clear
// the screen (CSI 2J) or talk to the terminal itself (DCS, APC, PM, SOS);
// BEL, backspace and carriage return move or overwrite what is shown; the
// C1 controls U+0080 to U+009F are the same introducers in one character;
// bidirectional overrides and isolates reorder what follows them.
//
// Line and Text show each such character visibly instead ("^[" for ESC,
// "<U+202E>" for RIGHT-TO-LEFT OVERRIDE), so nothing acts and a reader
// sees that something was there; the rest of a sequence is then plain
// printable text. Bytes that are not UTF-8 become U+FFFD. Text that holds
// none of these comes back as it is, without allocating. JSON does the
// same for encoded JSON without changing its value.
//
// The package imports only the standard library: grove, grove-tui and the
// validators of package issues all use it.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Line returns s made safe to print within one line: every control
// character, newlines included, is shown visibly, except that a tab
// becomes a space.
func Line(s string) string { return clean(s, false) }

// Text returns s made safe to print as lines: newlines and tabs are kept
// (a carriage return before a newline is dropped), every other control
// character is shown visibly.
func Text(s string) string { return clean(s, true) }

// Unsafe reports whether a terminal may act on r, or reorder the text
// around it: the C0 controls (newline and tab included), DEL, the C1
// controls, and the bidirectional embeddings, overrides and isolates
// (U+202A to U+202E, U+2066 to U+2069).
func Unsafe(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// Safe reports whether s is UTF-8 with no unsafe rune, so that Line
// prints it unchanged: what a validator asks of a single-line value.
func Safe(s string) bool { return first(s, false) == len(s) }

// clean is Line (lines false) and Text (lines true).
func clean(s string, lines bool) string {
	i := first(s, lines)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t' && !lines:
			b.WriteByte(' ')
		case lines && (r == '\n' || r == '\t'):
			b.WriteByte(c)
		case lines && r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF: the newline that follows is kept.
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(c + 0x40)
		case r == 0x7f:
			b.WriteString("^?")
		case Unsafe(r):
			writeCode(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// first returns the index of the first byte of s that clean changes, or
// len(s).
func first(s string, lines bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			i++
			continue
		case c < 0x80:
			if lines && (c == '\n' || c == '\t') {
				i++
				continue
			}
			return i
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || Unsafe(r) {
			return i
		}
		i += n
	}
	return len(s)
}

const hexDigits = "0123456789ABCDEF"

// writeCode writes r as <U+XXXX>.
func writeCode(b *strings.Builder, r rune) {
	b.WriteString("<U+")
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[r>>shift&0xf])
	}
	b.WriteByte('>')
}

// JSON returns b, JSON as encoding/json writes it, with every unsafe
// rune that encoding/json leaves as it is (DEL, the C1 controls, the
// bidirectional controls) written as a \u escape inside its string: the
// same JSON value, which prints on a terminal without acting on it. The
// C0 controls are escaped already, and invalid UTF-8 is U+FFFD. Without
// such runes b is returned as it is.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < 0x7f {
		i++
	}
	var out []byte
	for i < len(b) {
		if b[i] < 0x7f {
			if out != nil {
				out = append(out, b[i])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		unsafe := Unsafe(r) || r == utf8.RuneError && n == 1 // n == 1: not UTF-8, written as U+FFFD
		switch {
		case unsafe && out == nil:
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
			fallthrough
		case unsafe:
			out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		case out != nil:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
}
