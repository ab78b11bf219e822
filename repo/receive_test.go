package repo

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func pktString(s string) string { return string(pkt([]byte(s))) }

func TestProxyCommands(t *testing.T) {
	old, nw := strings.Repeat("0", 40), strings.Repeat("a", 40)
	tests := []struct {
		name, in, want string
		renamed, band  bool
	}{
		{
			name: "open", renamed: true, band: true,
			in:   pktString(old+" "+nw+" refs/patches\x00report-status side-band-64k") + "0000PACKDATA",
			want: pktString(old+" "+nw+" refs/patches/new\x00report-status side-band-64k") + "0000PACKDATA",
		},
		{
			name: "branch and revision pass unchanged",
			in:   pktString(old+" "+nw+" refs/heads/main\x00report-status") + pktString(old+" "+nw+" refs/patches/abc\n") + "0000PACK",
			want: pktString(old+" "+nw+" refs/heads/main\x00report-status") + pktString(old+" "+nw+" refs/patches/abc\n") + "0000PACK",
		},
		{
			name: "second command renamed", renamed: true,
			in:   pktString(old+" "+nw+" refs/heads/x\x00report-status") + pktString(old+" "+nw+" refs/patches\n") + "0000",
			want: pktString(old+" "+nw+" refs/heads/x\x00report-status") + pktString(old+" "+nw+" refs/patches/new\n") + "0000",
		},
		{name: "nothing to push", in: "0000", want: "0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			st := &proxyState{}
			proxyCommands(strings.NewReader(tt.in), &out, st)
			if out.String() != tt.want {
				t.Errorf("got %q\nwant %q", out.String(), tt.want)
			}
			if st.renamed.Load() != tt.renamed || st.sideband.Load() != tt.band {
				t.Errorf("renamed %v sideband %v", st.renamed.Load(), st.sideband.Load())
			}
		})
	}
}

// TestHeldReport: the advertisement and side-band progress reach git at
// once; the status report only when send is called, with refs/patches
// named back as pushed (when it was renamed), and the refs that did not
// land reported as rejected with why, their report-status-v2 options
// dropped.
func TestHeldReport(t *testing.T) {
	adv := pktString(strings.Repeat("0", 40)+" capabilities^{}\x00report-status side-band-64k\n") + "0000"
	report := pktString("unpack ok\n") + pktString("ok refs/patches/new\n") + pktString("ok refs/heads/main\n") +
		pktString("option old-oid "+strings.Repeat("1", 40)+"\n") + pktString("ng refs/tags/x pre-receive hook declined\n") + "0000"
	band := func(b byte, s string) string { return string(pkt(append([]byte{b}, s...))) }
	// A side-band report split across packets, with a progress message.
	sideband := band(2, "remote: hi\n") + band(1, report[:10]) + band(1, report[10:]) + "0000"
	tests := []struct {
		name              string
		in                string
		renamed, sideband bool
		failed            map[string]string
		all               string
		want              string // the report as sent, demultiplexed
	}{
		{name: "plain", in: adv + report, renamed: true,
			want: pktString("unpack ok\n") + pktString("ok refs/patches\n") + pktString("ok refs/heads/main\n") +
				pktString("option old-oid "+strings.Repeat("1", 40)+"\n") + pktString("ng refs/tags/x pre-receive hook declined\n") + "0000"},
		{name: "not renamed", in: adv + report,
			want: report},
		{name: "side-band", in: adv + sideband, renamed: true, sideband: true,
			want: pktString("unpack ok\n") + pktString("ok refs/patches\n") + pktString("ok refs/heads/main\n") +
				pktString("option old-oid "+strings.Repeat("1", 40)+"\n") + pktString("ng refs/tags/x pre-receive hook declined\n") + "0000"},
		{name: "patch failed", in: adv + sideband, renamed: true, sideband: true,
			failed: map[string]string{PatchOpenRef: "nothing to propose:\x1b[31m red"},
			want: pktString("unpack ok\n") + pktString("ng refs/patches nothing to propose: [31m red\n") + pktString("ok refs/heads/main\n") +
				pktString("option old-oid "+strings.Repeat("1", 40)+"\n") + pktString("ng refs/tags/x pre-receive hook declined\n") + "0000"},
		{name: "nothing landed", in: adv + report, renamed: true, all: "ref refs/heads/main: locked",
			want: pktString("unpack ok\n") + pktString("ng refs/patches ref refs/heads/main: locked\n") + pktString("ng refs/heads/main ref refs/heads/main: locked\n") +
				pktString("ng refs/tags/x pre-receive hook declined\n") + "0000"},
		{name: "no commands", in: adv, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &proxyState{}
			st.renamed.Store(tt.renamed)
			st.sideband.Store(tt.sideband)
			var out bytes.Buffer
			h := &heldReport{}
			if err := h.read(strings.NewReader(tt.in), &out, st); err != nil {
				t.Fatal(err)
			}
			before := out.String()
			if want := adv; tt.sideband {
				want += band(2, "remote: hi\n")
				if before != want {
					t.Fatalf("before send: %q, want %q", before, want)
				}
			} else if before != want {
				t.Fatalf("before send: %q, want %q", before, want)
			}
			if err := h.send(&out, tt.failed, tt.all); err != nil {
				t.Fatal(err)
			}
			sent := strings.TrimPrefix(out.String(), before)
			if !tt.sideband {
				if sent != tt.want {
					t.Errorf("got %q\nwant %q", sent, tt.want)
				}
				return
			}
			// Side band: demultiplex band 1 and compare the report.
			r := strings.NewReader(sent)
			var got bytes.Buffer
			flushed := false
			for {
				_, payload, err := readPkt(r)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case payload == nil:
					flushed = true
				case payload[0] == 1:
					got.Write(payload[1:])
				default:
					t.Errorf("band %d after the report", payload[0])
				}
			}
			if got.String() != tt.want || !flushed {
				t.Errorf("report %q (flushed %v)\nwant %q", got.String(), flushed, tt.want)
			}
		})
	}
}
