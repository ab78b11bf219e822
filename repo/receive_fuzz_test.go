package repo

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

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
			if !bytes.Equal(l, want[i]) && !bytes.Contains(l, []byte(" "+PatchOpenRef)) {
				t.Fatalf("line %d %q came out as %q", i, want[i], l)
			}
		}
	})
}

// framed reports whether b is whole pkt-lines.
func framed(b []byte) bool {
	_, ok := pkts(b)
	return ok
}

// FuzzHeldReport passes receive-pack's side of a push through the proxy
// and then sends the held report, with a ref failed: an error or the
// report, never a panic, and (as far as it frames) unchanged when nothing
// was renamed, failed or multiplexed.
func FuzzHeldReport(f *testing.F) {
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
		h := &heldReport{}
		if err := h.read(bytes.NewReader(in), &out, st); err != nil {
			return
		}
		failed := map[string]string{"refs/heads/main": "no"}
		if !renamed && !sideband {
			failed = nil
		}
		if err := h.send(&out, failed, ""); err != nil {
			t.Fatal(err)
		}
		if _, ok := pkts(out.Bytes()); !ok && framed(in) {
			t.Fatalf("%q came out of %q, which does not frame", out.Bytes(), in)
		}
		if !renamed && !sideband {
			// Line for line what came in, but that any special packet
			// goes on as a flush.
			got, _ := pkts(out.Bytes())
			want, _ := pkts(in)
			for i, l := range got {
				if i >= len(want) || !bytes.Equal(l, want[i]) && !(len(l) == 4 && len(want[i]) == 4) {
					t.Fatalf("nothing renamed, yet %q came out of %q", out.Bytes(), in)
				}
			}
		}
	})
}
