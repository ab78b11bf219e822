package gitgen

import (
	"bufio"
	"context"
	"math/rand/v2"
	"os"
	"testing"
)

func TestTmpDump(t *testing.T) {
	o := Options{Commits: 3000, Branches: 30, Merges: 40, Tags: 20, Files: 200, Seed: 1}
	f, _ := os.Create("/tmp/stream.fi")
	w := bufio.NewWriter(f)
	g := &gen{o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)), s: &stream{w: w}, null: "0000000000000000000000000000000000000000", paths: map[string]bool{}, tips: map[string]int{}}
	g.x = text{g.r}
	if err := g.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
}
