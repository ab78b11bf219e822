// Command issues fills a Grove home with a project of N issues of three
// comments each and, with -patches, P patches, through the library, and
// times it; bench/issues.sh then times the CLI against it.
//
//	go run ./bench/issues -home DIR -n 10000 -patches 10000
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
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
	batch := flag.Int("batch", 500, "issues (or patches) per namespace update")
	patches := flag.Int("patches", 0, "patches")
	flood := flag.Int("flood", 0, "junk issues written by one other key (a spammer) into its namespace")
	flag.Parse()
	if err := run(context.Background(), *home, *n, *comments, *batch, *patches, *flood); err != nil {
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

func run(ctx context.Context, dir string, n, comments, batch, patches, flood int) error {
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
	var ids []string // some issues, for patches to fix
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
			if done%10 == 0 {
				ids = append(ids, id)
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
	if patches > 0 {
		if err := makePatches(ctx, h, r, key, now, rng, ids, patches, batch); err != nil {
			return err
		}
	}
	if flood > 0 {
		return makeFlood(ctx, s, now, rng, flood, batch)
	}
	return nil
}

// makeFlood writes n junk issues, with a body of 1 KiB each, from one
// key that is not the project's (a spammer in a public project), and
// prints its NID for grove block.
func makeFlood(ctx context.Context, s *issues.Store, now time.Time, rng *rand.Rand, n, batch int) error {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	spammer, err := protocol.NewKey(priv)
	if err != nil {
		return err
	}
	start := time.Now()
	for done := 0; done < n; {
		tx := s.Begin(spammer, now.Add(time.Duration(done)*time.Second))
		for i := 0; i < batch && done < n; i, done = i+1, done+1 {
			if _, err := tx.CreateIssue(issues.NewIssue{
				Title: fmt.Sprintf("BUY NOW %s %d", text(rng, 3), done),
				Body:  text(rng, 128),
			}); err != nil {
				return err
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("flood %s\n", spammer.NID())
	fmt.Printf("library: %d junk issues from one key in %v\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// makePatches opens p patches on a one-commit main branch, each proposing
// a commit of its own; every tenth says it fixes one of ids (a mention
// resolved through the ID list), a third are accepted, a seventh
// rejected, a fifth closed.
func makePatches(ctx context.Context, h repo.Home, r *repo.Repo, key *protocol.Key, now time.Time, rng *rand.Rand, ids []string, p, batch int) error {
	commit := func(parent, msg, content string) (string, error) {
		blob, err := r.WriteObject("blob", []byte(content))
		if err != nil {
			return "", err
		}
		raw, _ := hex.DecodeString(blob)
		tree, err := r.WriteObject("tree", append([]byte("100644 file\x00"), raw...))
		if err != nil {
			return "", err
		}
		c := "tree " + tree + "\n"
		if parent != "" {
			c += "parent " + parent + "\n"
		}
		c += "author Bench <bench@example.com> 1735689600 +0000\ncommitter Bench <bench@example.com> 1735689600 +0000\n\n" + msg + "\n"
		return r.WriteObject("commit", []byte(c))
	}
	base, err := commit("", "first", "first\n")
	if err != nil {
		return err
	}
	if err := r.UpdateNamespace(ctx, key, []repo.RefUpdate{{Name: "refs/heads/main", New: base}}, now); err != nil {
		return err
	}
	s := issues.NewCachedStore(r, h) // mentions resolve through the ID list
	start := time.Now()
	changes := 0
	for done := 0; done < p; {
		tx := s.Begin(key, now.Add(time.Duration(done)*time.Minute))
		for i := 0; i < batch && done < p; i, done = i+1, done+1 {
			title := fmt.Sprintf("%s %d", text(rng, 4), done)
			body := text(rng, 30)
			if done%10 == 0 && len(ids) > 0 {
				body += "\n\nFixes #" + ids[rng.IntN(len(ids))][:7]
			}
			head, err := commit(base, title+"\n\n"+body, fmt.Sprintf("patch %d\n", done))
			if err != nil {
				return err
			}
			id, rev, err := tx.CreatePatch(issues.NewPatch{Title: title, Body: body, Base: base, Head: head, Commits: title + "\n\n" + body})
			if err != nil {
				return err
			}
			changes += 2
			tip := rev
			add := func(a issues.Action) error {
				tip, err = tx.Append(issues.PatchType, id, []string{tip}, issues.NewChange{Actions: []any{a}})
				changes++
				return err
			}
			switch {
			case done%7 == 0:
				err = add(issues.Action{Type: issues.ActReview, Revision: rev, Verdict: issues.VerdictReject, Body: text(rng, 12)})
			case done%3 == 0:
				err = add(issues.Action{Type: issues.ActReview, Revision: rev, Verdict: issues.VerdictAccept, Body: text(rng, 8)})
			}
			if err == nil && done%5 == 0 {
				err = add(issues.Action{Type: issues.ActState, State: issues.StateClosed})
			}
			if err != nil {
				return err
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
	}
	el := time.Since(start)
	fmt.Printf("library: %d patches (%d changes, %d commits) in %v: %.0f changes/s\n",
		p, changes, p+1, el.Round(time.Millisecond), float64(changes)/el.Seconds())
	return nil
}
