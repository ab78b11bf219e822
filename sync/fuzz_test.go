package sync

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

// FuzzReadPktLine reads the first pkt-line a git client sends the fetch
// proxy (anything on the loopback may connect): an error, or the line's
// payload, having read no further than the line.
func FuzzReadPktLine(f *testing.F) {
	for _, s := range []string{
		"git-upload-pack /0123abcd\x00host=127.0.0.1:1234\x00\x00version=2\x00",
		"git-upload-pack /x\n",
		"git-receive-pack /x\x00",
		"",
	} {
		f.Add([]byte(fmt.Sprintf("%04x%s0000", len(s)+4, s)))
	}
	for _, s := range []string{"0000", "0003", "ffff", "zzzz", "00", "0010short", "+004", "0x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		line, err := readPktLine(r)
		if err != nil {
			return
		}
		n, perr := strconv.ParseUint(string(b[:4]), 16, 16)
		if perr != nil || n < 4 || len(b) < int(n) {
			t.Fatalf("read %q from %q", line, b)
		}
		if used := len(b) - r.Len(); used != int(n) {
			t.Fatalf("read %d bytes of a %d-byte line %q", used, n, b)
		}
		if want := string(bytes.TrimSuffix(b[4:n], []byte("\n"))); line != want {
			t.Fatalf("read %q from %q, want %q", line, b, want)
		}
	})
}
