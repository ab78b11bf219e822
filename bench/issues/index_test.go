package main

import (
	"context"
	"testing"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// These benchmarks time the index alone, through the issues package, on
// the home GROVE_BENCH_HOME names: opening a warm index, listing, and
// refreshing after a local change.

func benchStore(b *testing.B) (repo.Home, *issues.Store) {
	home, rid := benchHome(b)
	id, err := protocol.ParseRID(rid)
	if err != nil {
		b.Fatal(err)
	}
	h := repo.Home{Dir: home}
	r, err := repo.Open(h, id)
	if err != nil {
		b.Fatal(err)
	}
	return h, issues.NewStore(r)
}

func openBenchIndex(b *testing.B, h repo.Home, s *issues.Store) *issues.Index {
	ix, err := issues.OpenIndex(context.Background(), issues.IndexPath(h, s.Repo.RID), s)
	if err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkIndexOpen opens and closes a warm index: what every command
// pays before it lists anything.
func BenchmarkIndexOpen(b *testing.B) {
	h, s := benchStore(b)
	openBenchIndex(b, h, s).Close()
	for b.Loop() {
		if err := openBenchIndex(b, h, s).Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexList lists every issue from an open index.
func BenchmarkIndexList(b *testing.B) {
	h, s := benchStore(b)
	ix := openBenchIndex(b, h, s)
	defer ix.Close()
	ctx := context.Background()
	for b.Loop() {
		l, err := ix.List(ctx, issues.Filter{})
		if err != nil || len(l) == 0 {
			b.Fatal(len(l), err)
		}
	}
}

// BenchmarkIndexSearch searches an open index.
func BenchmarkIndexSearch(b *testing.B) {
	h, s := benchStore(b)
	ix := openBenchIndex(b, h, s)
	defer ix.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := ix.List(ctx, issues.Filter{Search: "timeout"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexPatchList lists every open patch from an open index.
func BenchmarkIndexPatchList(b *testing.B) {
	h, s := benchStore(b)
	ix := openBenchIndex(b, h, s)
	defer ix.Close()
	ctx := context.Background()
	for b.Loop() {
		n := 0
		if err := ix.EachPatch(ctx, issues.Filter{State: issues.StateOpen}, func(int, *issues.PatchSummary) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexSearchBoth searches issues and patches together, ranked.
func BenchmarkIndexSearchBoth(b *testing.B) {
	h, s := benchStore(b)
	ix := openBenchIndex(b, h, s)
	defer ix.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := ix.Search(ctx, "timeout"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexRefreshAfterChange files an issue through the library
// (not timed) and times Index.Refresh, which finds it from the diff of
// the namespace's signed refs.
func BenchmarkIndexRefreshAfterChange(b *testing.B) {
	h, s := benchStore(b)
	key, err := repo.LoadKey(h, nil)
	if err != nil {
		b.Skip("no key in the bench home:", err)
	}
	ix := openBenchIndex(b, h, s)
	defer ix.Close()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		b.StopTimer()
		if _, err := s.CreateIssue(ctx, key, now, issues.NewIssue{Title: "refreshed", Body: "by the benchmark"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := ix.Refresh(ctx); n != 1 || err != nil {
			b.Fatal(n, err)
		}
	}
}
