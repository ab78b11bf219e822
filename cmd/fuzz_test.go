package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

// FuzzRemoteHelper runs git-remote-grove on any URL and any command lines
// from git, in a home without the project: git's stdout gets only the
// answers gitremote-helpers(7) defines, in order, and a failure is one
// line on stderr with nothing from the input that acts on a terminal.
func FuzzRemoteHelper(f *testing.F) {
	rid, _ := protocol.RIDFromOID(strings.Repeat("1", 40))
	nid, _ := protocol.ParseNID("12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5")
	for _, u := range []string{rid.URL(), protocol.URL{RID: rid, NID: nid}.String(), rid.URL() + "/", "grove://x", "https://x", ""} {
		for _, in := range []string{
			"capabilities\n\n",
			"capabilities\noption progress true\noption verbosity 1\n\n",
			"capabilities\nconnect git-upload-pack\n0000",
			"connect git-receive-pack\n",
			"connect git-upload-archive\n",
			"list\n",
			"fetch 0000000000000000000000000000000000000000 refs/heads/main\n",
			"capabilities",
			"\x1b]0;pwned\x07\n",
			"",
		} {
			f.Add(u, in)
		}
	}
	home := f.TempDir()
	f.Fuzz(func(t *testing.T, url, in string) {
		var out, errb bytes.Buffer
		env := map[string]string{"GROVE_HOME": home, noSyncEnv: "1"}
		io := IO{In: strings.NewReader(in), Out: &out, Err: &errb, LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		}}
		code := RemoteHelper(context.Background(), []string{"origin", url}, io)
		if want := helperAnswers(in); out.String() != want && !strings.HasPrefix(want, out.String()) {
			t.Fatalf("url %q, commands %q: stdout %q, want %q", url, in, out.String(), want)
		}
		switch code {
		case 0:
			if errb.Len() != 0 {
				t.Fatalf("url %q, commands %q: exit 0 with %q", url, in, errb.String())
			}
		case 1:
			msg, ok := strings.CutSuffix(errb.String(), "\n")
			if !ok || !strings.HasPrefix(msg, "grove: ") || strings.ContainsFunc(msg, isControl) {
				t.Fatalf("url %q, commands %q: stderr %q", url, in, errb.String())
			}
		default:
			t.Fatalf("url %q, commands %q: exit %d", url, in, code)
		}
	})
}

// helperAnswers is what the helper writes to git for the command lines in
// in, up to the first that ends the session.
func helperAnswers(in string) string {
	var b strings.Builder
	for line := range strings.Lines(in) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "capabilities":
			b.WriteString("connect\n\n")
		case strings.HasPrefix(line, "option "):
			b.WriteString("unsupported\n")
		default:
			return b.String()
		}
	}
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 }
