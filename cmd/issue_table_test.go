package cmd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// BenchmarkIssueTable times the table of `grove issue list --state all`
// from its listing, against a home made by bench/issues (set
// GROVE_BENCH_HOME): what the list does once the index is let go.
//
//	GROVE_BENCH_HOME=/tmp/h10k go test -run '^$' -bench IssueTable -benchmem ./cmd
func BenchmarkIssueTable(b *testing.B) {
	dir := os.Getenv("GROVE_BENCH_HOME")
	if dir == "" {
		b.Skip("GROVE_BENCH_HOME is not set")
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "storage", "*.git"))
	if len(ents) != 1 {
		b.Fatalf("want one project in %s", dir)
	}
	h := repo.Home{Dir: dir}
	rid, err := protocol.ParseRID(strings.TrimSuffix(filepath.Base(ents[0]), ".git"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := repo.Open(h, rid)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(h, rid), issues.NewCachedStore(r, h))
	if err != nil {
		b.Fatal(err)
	}
	l, err := ix.Listing(ctx, issues.Filter{})
	ix.Close()
	if err != nil {
		b.Fatal(err)
	}
	names := cli.LoadNames(ctx, h, r)
	for b.Loop() {
		if err := issueTable(IO{Out: io.Discard}, l, names); err != nil {
			b.Fatal(err)
		}
	}
}
