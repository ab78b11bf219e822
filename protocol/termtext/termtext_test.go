package termtext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile holds what a peer may write into a title, a comment or a path
// to act on a reader's terminal.
var hostile = []struct {
	name, in, line, text string
}{
	{"plain", "crash on start", "crash on start", "crash on start"},
	{"unicode", "ünïcödé ✓ 🎉 日本語", "ünïcödé ✓ 🎉 日本語", "ünïcödé ✓ 🎉 日本語"},
	{"OSC 0 window title", "evil \x1b]0;pwned\x07 title", "evil ^[]0;pwned^G title", "evil ^[]0;pwned^G title"},
	{"OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4K\x1b\\", "^[]52;c;cm0gLXJmIH4K^[\\", "^[]52;c;cm0gLXJmIH4K^[\\"},
	{"OSC 8 link", "\x1b]8;;https://evil.example\x1b\\docs\x1b]8;;\x1b\\", "^[]8;;https://evil.example^[\\docs^[]8;;^[\\", "^[]8;;https://evil.example^[\\docs^[]8;;^[\\"},
	{"CSI clear and colour", "\x1b[2J\x1b[31mRED\x1b[0m", "^[[2J^[[31mRED^[[0m", "^[[2J^[[31mRED^[[0m"},
	{"DCS", "\x1bP+q544e\x1b\\", "^[P+q544e^[\\", "^[P+q544e^[\\"},
	{"APC PM SOS", "\x1b_a\x1b\\\x1b^b\x1b\\\x1bXc\x1b\\", "^[_a^[\\^[^b^[\\^[Xc^[\\", "^[_a^[\\^[^b^[\\^[Xc^[\\"},
	{"C1 CSI and OSC", "\u009b2J\u009d0;t\u009c", "<U+009B>2J<U+009D>0;t<U+009C>", "<U+009B>2J<U+009D>0;t<U+009C>"},
	{"raw 8-bit C1", "\x9b2J", "\uFFFD2J", "\uFFFD2J"},
	{"bidi override", "user\u202Egnp.exe", "user<U+202E>gnp.exe", "user<U+202E>gnp.exe"},
	{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", "<U+2066>a<U+2067>b<U+2068>c<U+2069>", "<U+2066>a<U+2067>b<U+2068>c<U+2069>"},
	{"invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD", "a\uFFFDb\uFFFD"},
	{"backspace, bell, DEL, NUL", "a\bb\x07c\x7fd\x00", "a^Hb^Gc^?d^@", "a^Hb^Gc^?d^@"},
	{"newlines and tabs", "one\n\ttwo\r\nthree\rfour", "one^J two^M^Jthree^Mfour", "one\n\ttwo\nthree^Mfour"},
	{"empty", "", "", ""},
}

func TestLineAndText(t *testing.T) {
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if Safe(tt.in) != (tt.line == tt.in) {
				t.Errorf("Safe(%q) = %v", tt.in, Safe(tt.in))
			}
		})
	}
}

func TestSafe(t *testing.T) {
	for _, s := range []string{"a\tb", "\u202E", "\x1b", "x\n", "\x80"} {
		if Safe(s) {
			t.Errorf("Safe(%q)", s)
		}
	}
	for _, s := range []string{"crash on start", "👍", "ünïcödé", "\u200Fmark"} {
		if !Safe(s) {
			t.Errorf("!Safe(%q)", s)
		}
	}
}

// TestUnchangedDoesNotAllocate: most text holds nothing to escape, and
// lists of 10,000 issues pass every cell through Line.
func TestUnchangedDoesNotAllocate(t *testing.T) {
	s := "ünïcödé title ✓ with\ttab"
	if n := testing.AllocsPerRun(100, func() { Text(s) }); n != 0 {
		t.Errorf("Text of safe text: %v allocations", n)
	}
	s = "crash on start"
	if n := testing.AllocsPerRun(100, func() { Line(s) }); n != 0 {
		t.Errorf("Line of safe text: %v allocations", n)
	}
}

func TestJSON(t *testing.T) {
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.ToValidUTF8(tt.in, "\uFFFD")
			b, err := json.Marshal(map[string]string{"title": tt.in})
			if err != nil {
				t.Fatal(err)
			}
			got := JSON(b)
			checkSafe(t, string(got), false)
			var back map[string]string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("JSON(%s) = %s: %v", b, got, err)
			}
			if back["title"] != in {
				t.Errorf("JSON(%s) = %s, reads back as %q, want %q", b, got, back["title"], in)
			}
		})
	}
	b := []byte(`{"a":"ünïcödé"}`)
	if got := JSON(b); &got[0] != &b[0] {
		t.Errorf("JSON copied JSON that needs no escape")
	}
}

// checkSafe fails t if s holds anything a terminal acts on: a C0 control
// (but newlines and tabs when lines is set), DEL, a C1 control, a
// bidirectional control, or bytes that are not UTF-8.
func checkSafe(t *testing.T, s string, lines bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%q is not UTF-8", s)
	}
	for _, r := range s {
		if Unsafe(r) && !(lines && (r == '\n' || r == '\t')) {
			t.Fatalf("%q holds %U", s, r)
		}
	}
}

func FuzzLine(f *testing.F) {
	for _, tt := range hostile {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, x := Line(s), Text(s)
		checkSafe(t, l, false)
		checkSafe(t, x, true)
		if Line(l) != l || Text(x) != x {
			t.Fatalf("not idempotent: Line %q → %q, Text %q → %q", l, Line(l), x, Text(x))
		}
		if Safe(s) && l != s {
			t.Fatalf("Safe(%q) but Line changes it to %q", s, l)
		}
		if !Safe(l) {
			t.Fatalf("Line(%q) = %q is not Safe", s, l)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		j := JSON(b)
		checkSafe(t, string(j), false)
		var back string
		if err := json.Unmarshal(j, &back); err != nil || back != strings.ToValidUTF8(s, "\uFFFD") && utf8.ValidString(s) {
			t.Fatalf("JSON(%s) = %s reads back as %q (%v)", b, j, back, err)
		}
	})
}
