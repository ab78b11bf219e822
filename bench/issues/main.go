// Command issues fills a Grove home with a project of N issues of three
// comments each, through the library, and times it; bench/issues.sh then
// times the CLI against it.
//
//	go run ./bench/issues -home DIR -n 10000
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func main() {
	home := flag.String("home", "", "GROVE_HOME to create (must not exist)")
	n := flag.Int("n", 1000, "issues")
	comments := flag.Int("comments", 3, "comments per issue")
	batch := flag.Int("batch", 500, "issues per namespace update")
	flag.Parse()
	if err := run(context.Background(), *home, *n, *comments, *batch); err != nil {
		fmt.Fprintln(os.Stderr, "issues bench:", err)
		os.Exit(1)
	}
}

var words = []string{"crash", "start", "config", "empty", "panic", "widget", "render", "slow", "docs", "network",
	"timeout", "peer", "sync", "index", "label", "search", "merge", "patch", "review", "terminal"}

func text(rng *rand.Rand, n int) string {
	b := make([]byte, 0, n*8)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, words[rng.IntN(len(words))]...)
	}
	return string(b)
}

func run(ctx context.Context, dir string, n, comments, batch int) error {
	if dir == "" {
		return fmt.Errorf("-home is required")
	}
	h := repo.Home{Dir: dir}
	key, err := repo.CreateKey(h, "bench", nil)
	if err != nil {
		return err
	}
	doc := &protocol.Identity{Name: "bench", DefaultBranch: "main", Delegates: []protocol.NID{key.NID()}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := repo.Create(ctx, h, key, doc, now)
	if err != nil {
		return err
	}
	s := issues.NewStore(r)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for done := 0; done < n; {
		tx := s.Begin(key, now.Add(time.Duration(done)*time.Minute))
		for i := 0; i < batch && done < n; i, done = i+1, done+1 {
			id, err := tx.CreateIssue(issues.NewIssue{
				Title:  fmt.Sprintf("%s %d", text(rng, 5), done),
				Body:   text(rng, 40),
				Labels: []string{words[rng.IntN(4)]},
			})
			if err != nil {
				return err
			}
			head := id
			for c := 0; c < comments; c++ {
				if head, err = tx.AppendIssue(id, []string{head}, issues.Action{Type: issues.ActComment, Body: text(rng, 30)}); err != nil {
					return err
				}
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	el := time.Since(start)
	fmt.Printf("rid %s\n", r.RID)
	fmt.Printf("library: %d issues with %d comments each (%d changes) in %v: %.0f changes/s\n",
		n, comments, n*(comments+1), el.Round(time.Millisecond), float64(n*(comments+1))/el.Seconds())
	return nil
}
