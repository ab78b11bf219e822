package cmd

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

func TestProxyReport(t *testing.T) {
	adv := pktString(strings.Repeat("0", 40)+" capabilities^{}\x00report-status side-band-64k\n") + "0000"
	report := pktString("unpack ok\n") + pktString("ok refs/patches/new\n") + pktString("ok refs/heads/main\n") + "0000"
	band := func(b byte, s string) string { return string(pkt(append([]byte{b}, s...))) }
	plain := report
	// A side-band report split across packets, with a progress message.
	sideband := band(2, "remote: hi\n") + band(1, report[:10]) + band(1, report[10:]) + "0000"
	wantReport := pktString("unpack ok\n") + pktString("ok refs/patches\n") + pktString("ok refs/heads/main\n") + "0000"
	tests := []struct {
		name     string
		in       string
		renamed  bool
		sideband bool
		want     string
	}{
		{name: "untouched when nothing was renamed", in: adv + sideband, sideband: true, want: adv + sideband},
		{name: "plain", in: adv + plain, renamed: true, want: adv + wantReport},
		{name: "side-band", in: adv + sideband, renamed: true, sideband: true},
		{name: "no commands", in: adv, renamed: true, want: adv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &proxyState{}
			st.renamed.Store(tt.renamed)
			st.sideband.Store(tt.sideband)
			var out bytes.Buffer
			if err := proxyReport(strings.NewReader(tt.in), &out, st); err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				if out.String() != tt.want {
					t.Errorf("got %q\nwant %q", out.String(), tt.want)
				}
				return
			}
			// Side band: demultiplex band 1 and compare the report.
			r := strings.NewReader(strings.TrimPrefix(out.String(), adv))
			var got bytes.Buffer
			var progress string
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
				case payload[0] == 1:
					got.Write(payload[1:])
				case payload[0] == 2:
					progress += string(payload[1:])
				}
			}
			if got.String() != wantReport || progress != "remote: hi\n" {
				t.Errorf("report %q progress %q", got.String(), progress)
			}
		})
	}
}
