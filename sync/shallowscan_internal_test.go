package sync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"example.com/grove/repo"
)

// captureAnswer runs git fetch-pack (protocol v2, as a fetch through the
// proxy) from src into an empty repository, with an upload-pack that
// copies what it sends to a file, and returns that copy: the bytes the
// proxy would pass on to git.
func captureAnswer(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	capture := filepath.Join(dir, "answer")
	tee := filepath.Join(dir, "tee-upload-pack")
	script := fmt.Sprintf("#!/bin/sh\ngit-upload-pack \"$@\" | tee %q\n", capture)
	if err := os.WriteFile(tee, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst")
	gitIn(t, dir, "init", "-q", "--bare", dst)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "git", "-c", "protocol.version=2", "fetch-pack", "--all", "--quiet",
		"--upload-pack="+tee, "file://"+src)
	c.Dir = dst
	c.Env = repo.GitEnv()
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("fetch-pack: %v\n%s", err, out)
	}
	b, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pkt is s as one pkt-line.
func pkt(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }

// v2Answer is a protocol v2 answer as upload-pack writes it, with the
// given lines (section headers, delimiters) between the refs and the
// packfile header.
func v2Answer(capabilities string, before ...string) string {
	s := pkt("version 2\n") + pkt("agent=git/2.39.5\n") + capabilities + pkt("fetch=shallow\n") + "0000" +
		pkt("45e647e1a962b5b2100cecd119fe99c69df8ec44 refs/heads/main\n") + "0000"
	for _, b := range before {
		s += b
	}
	return s + pkt("packfile\n") + pkt("\x01PACK\x00\x00\x00\x02\x00\x00\x00\x01") + "0000"
}

func scanChunks(b []byte, r *rand.Rand) shallowScan {
	var x shallowScan
	for len(b) > 0 {
		k := min(len(b), 1+r.IntN(40))
		if r.IntN(4) == 0 {
			k = min(len(b), 1+r.IntN(4096))
		}
		x.feed(b[:k])
		b = b[k:]
	}
	return x
}

// TestShallowScan feeds the scan real answers of git upload-pack, from a
// whole history and from a shallow one, and made-up ones, in pieces of
// random sizes: only an answer seen to reach its pack with no shallow
// info is whole.
func TestShallowScan(t *testing.T) {
	src, _ := history(t)
	shallow := t.TempDir()
	gitIn(t, shallow, "clone", "-q", "--bare", "--depth=1", "file://"+src, ".")
	pack := "PACK\x00\x00\x00\x02\x00\x00\x00\x03" + string(make([]byte, 100))
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"upload-pack whole history", string(captureAnswer(t, src)), true},
		{"upload-pack shallow history", string(captureAnswer(t, shallow)), false},
		{"v2", v2Answer(""), true},
		{"shallow-info with newline", v2Answer("", pkt("shallow-info\n"), "0001"), false},
		{"shallow-info without newline", v2Answer("", pkt("shallow-info"), "0001"), false},
		{"shallow line alone", v2Answer("", pkt("wanted-refs\n"), pkt("shallow 45e647e1a962b5b2100cecd119fe99c69df8ec44\n"), "0001"), false},
		{"packfile as a capability, then shallow-info", v2Answer(pkt("packfile\n"), pkt("shallow-info\n"), "0001"), false},
		{"packfile mid-section", v2Answer("", pkt("wanted-refs\n"), pkt("packfile\n"), pkt("shallow-info\n"), "0001"), false},
		{"v0 with shallow", pkt("45e647e1a962b5b2100cecd119fe99c69df8ec44 HEAD\x00multi_ack\n") + pkt("shallow 45e647e1a962b5b2100cecd119fe99c69df8ec44") + "0000" + pkt("NAK\n") + pack, false},
		{"v0 without shallow", pkt("45e647e1a962b5b2100cecd119fe99c69df8ec44 HEAD\x00multi_ack\n") + "0000" + pkt("NAK\n") + pkt("\x01"+pack), false},
		{"version 1", pkt("version 1\n") + pkt("45e647e1a962b5b2100cecd119fe99c69df8ec44 HEAD\x00\n") + "0000" + pkt("packfile\n"), false},
		{"raw pack", pack, false},
		{"garbage", "hello, git: this is no pkt-line at all", false},
		{"bad length", pkt("version 2\n") + "0003" + v2Answer(""), false},
		{"ends before packfile", v2Answer("")[:60], false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				x := scanChunks([]byte(tc.in), rand.New(rand.NewPCG(seed, 1)))
				if x.whole != tc.want {
					t.Fatalf("seed %d: whole = %v, want %v (done %v)", seed, x.whole, tc.want, x.done)
				}
			}
			var x shallowScan
			for i := range len(tc.in) {
				x.feed([]byte{tc.in[i]})
			}
			if x.whole != tc.want {
				t.Fatalf("a byte at a time: whole = %v, want %v", x.whole, tc.want)
			}
		})
	}
}

// TestShallowScanAllocates nothing: it sees every write of a fetch until
// the pack.
func TestShallowScanAllocatesNothing(t *testing.T) {
	src, _ := history(t)
	in := captureAnswer(t, src)
	r := rand.New(rand.NewPCG(1, 1))
	if n := testing.AllocsPerRun(100, func() { scanChunks(in, r) }); n != 0 {
		t.Fatalf("%v allocations a scan", n)
	}
}

// FuzzShallowScan: the scan's verdict does not depend on how the answer
// was split into writes.
func FuzzShallowScan(f *testing.F) {
	f.Add([]byte(v2Answer("")), uint64(1))
	f.Add([]byte(v2Answer("", pkt("shallow-info"), "0001")), uint64(2))
	f.Add([]byte(v2Answer(pkt("packfile\n"), pkt("shallow-info\n"), "0001")), uint64(3))
	f.Add([]byte("PACK\x00\x00\x00\x02"), uint64(4))
	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		var all shallowScan
		all.feed(b)
		x := scanChunks(b, rand.New(rand.NewPCG(seed, 1)))
		if x != all {
			t.Fatalf("split %+v, whole %+v", x, all)
		}
		if all.whole && !all.done {
			t.Fatalf("whole before done: %+v", all)
		}
	})
}
