package cmd

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
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

// pkts splits b into pkt-lines: each whole line, or ok false where b does
// not frame.
func pkts(b []byte) (lines [][]byte, ok bool) {
	for len(b) > 0 {
		if len(b) < 4 {
			return lines, false
		}
		n, err := strconv.ParseUint(string(b[:4]), 16, 16)
		if err != nil || n > 0 && n < 4 || n > uint64(len(b)) {
			return lines, false
		}
		n = max(n, 4)
		lines, b = append(lines, b[:n]), b[n:]
	}
	return lines, true
}

// FuzzProxyCommands passes git's side of a push through the proxy that
// renames refs/patches: what comes out frames as pkt-lines and differs
// from what went in only in the commands renamed.
func FuzzProxyCommands(f *testing.F) {
	old, nw := strings.Repeat("0", 40), strings.Repeat("a", 40)
	for _, s := range []string{
		pktString(old+" "+nw+" refs/patches\x00report-status side-band-64k") + "0000PACKDATA",
		pktString(old+" "+nw+" refs/heads/main\x00report-status") + pktString(old+" "+nw+" refs/patches/abc\n") + "0000PACK",
		pktString(old+" "+nw+" refs/heads/x\x00report-status") + pktString(old+" "+nw+" refs/patches\n") + "0000",
		pktString("push-cert\x00report-status") + pktString(old+" "+nw+" refs/patches\n") + "0000",
		pktString(strings.Repeat("x", 65531-len(" "+nw+" refs/patches"))+" "+nw+" refs/patches") + "0000",
		"0000",
		"0004",
		"0003",
		"zzzz",
		"00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		st := &proxyState{}
		proxyCommands(bytes.NewReader(in), &out, st)
		if !st.renamed.Load() {
			if !bytes.HasPrefix(in, out.Bytes()) {
				t.Fatalf("nothing renamed, yet %q came out of %q", out.Bytes(), in)
			}
			return
		}
		got, ok := pkts(out.Bytes())
		want, _ := pkts(in)
		if !ok && len(got) < len(want) {
			t.Fatalf("%q came out of %q, which does not frame", out.Bytes(), in)
		}
		for i, l := range got {
			if i >= len(want) {
				break
			}
			if !bytes.Equal(l, want[i]) && !bytes.Contains(l, []byte(" "+repo.PatchOpenRef)) {
				t.Fatalf("line %d %q came out as %q", i, want[i], l)
			}
		}
	})
}

// FuzzProxyReport passes receive-pack's side of a push through the proxy:
// an error or the report, never a panic, and (as far as it frames)
// unchanged when nothing was renamed.
func FuzzProxyReport(f *testing.F) {
	adv := pktString(strings.Repeat("0", 40)+" capabilities^{}\x00report-status side-band-64k\n") + "0000"
	report := pktString("unpack ok\n") + pktString("ok refs/patches/new\n") + pktString("ok refs/heads/main\n") + "0000"
	band := func(b byte, s string) string { return string(pkt(append([]byte{b}, s...))) }
	sideband := band(2, "remote: hi\n") + band(1, report[:10]) + band(1, report[10:]) + "0000"
	for _, s := range []string{adv + report, adv + sideband, adv, adv + band(1, "0003") + "0000", adv + band(1, "zz")} {
		for _, renamed := range []bool{false, true} {
			for _, sb := range []bool{false, true} {
				f.Add([]byte(s), renamed, sb)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, renamed, sideband bool) {
		st := &proxyState{}
		st.renamed.Store(renamed)
		st.sideband.Store(sideband)
		var out bytes.Buffer
		err := proxyReport(bytes.NewReader(in), &out, st)
		if !renamed && !bytes.HasPrefix(in, out.Bytes()) {
			t.Fatalf("nothing renamed, yet %q came out of %q (%v)", out.Bytes(), in, err)
		}
	})
}
