package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // issues.SQLDriver, as cmd/grove registers it

	"example.com/grove/cmd"
)

// These benchmarks run the grove CLI in process against a home made by
// this program (bench/issues.sh makes one), so they time what each command
// does, without the process start. Set GROVE_BENCH_HOME to run them.
//
//	GROVE_BENCH_HOME=/tmp/b10k go test -run '^$' -bench . ./bench/issues

func benchHome(b *testing.B) (home, rid string) {
	home = os.Getenv("GROVE_BENCH_HOME")
	if home == "" {
		b.Skip("GROVE_BENCH_HOME is not set")
	}
	ents, _ := filepath.Glob(filepath.Join(home, "storage", "*.git"))
	if len(ents) != 1 {
		b.Fatalf("want one project in %s", home)
	}
	return home, strings.TrimSuffix(filepath.Base(ents[0]), ".git")
}

func grove(b *testing.B, home string, args ...string) string {
	var out strings.Builder
	io := cmd.IO{In: strings.NewReader(""), Out: &out, Err: io.Discard, LookupEnv: func(k string) (string, bool) {
		if k == "GROVE_HOME" {
			return home, true
		}
		return os.LookupEnv(k)
	}}
	if code := cmd.Grove(context.Background(), args, io); code != 0 {
		b.Fatalf("grove %v: exit %d", args, code)
	}
	return out.String()
}

func BenchmarkList(b *testing.B) {
	home, rid := benchHome(b)
	grove(b, home, "issue", "list", "-R", rid, "--state", "all")
	for b.Loop() {
		grove(b, home, "issue", "list", "-R", rid, "--state", "all")
	}
}

func BenchmarkListJSON(b *testing.B) {
	home, rid := benchHome(b)
	for b.Loop() {
		grove(b, home, "issue", "list", "-R", rid, "--state", "all", "--json")
	}
}

func BenchmarkSearch(b *testing.B) {
	home, rid := benchHome(b)
	for b.Loop() {
		grove(b, home, "issue", "list", "-R", rid, "--state", "all", "--search", "timeout 17")
	}
}

func BenchmarkNew(b *testing.B) {
	home, rid := benchHome(b)
	for b.Loop() {
		grove(b, home, "issue", "new", "-R", rid, "--title", "benchmark issue", "--body", "filed by the benchmark")
	}
}

func BenchmarkComment(b *testing.B) {
	home, rid := benchHome(b)
	id := strings.TrimSpace(grove(b, home, "issue", "new", "-R", rid, "--title", "comment target"))
	for b.Loop() {
		grove(b, home, "issue", "comment", "-R", rid, id[:10], "--body", "a benchmark comment")
	}
}

func BenchmarkColdRebuild(b *testing.B) {
	home, rid := benchHome(b)
	db := filepath.Join(home, "cache", rid, "issues.db")
	for b.Loop() {
		b.StopTimer()
		os.Remove(db)
		b.StartTimer()
		grove(b, home, "issue", "list", "-R", rid, "--state", "all", "--search", "timeout")
	}
}

func BenchmarkPatchList(b *testing.B) {
	home, rid := benchHome(b)
	grove(b, home, "patch", "list", "-R", rid, "--state", "all")
	for b.Loop() {
		grove(b, home, "patch", "list", "-R", rid, "--state", "all")
	}
}

func BenchmarkSearchAll(b *testing.B) {
	home, rid := benchHome(b)
	for b.Loop() {
		grove(b, home, "search", "-R", rid, "timeout", "17")
	}
}

// BenchmarkSearchBroad is `grove search timeout`: a word nearly every
// issue and patch holds, so every one is ranked and printed.
func BenchmarkSearchBroad(b *testing.B) {
	home, rid := benchHome(b)
	for b.Loop() {
		grove(b, home, "search", "-R", rid, "timeout")
	}
}
