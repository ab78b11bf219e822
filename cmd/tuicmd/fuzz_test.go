package tuicmd

import (
	"context"
	"strings"
	"testing"

	"example.com/grove/repo"
)

// FuzzParseLog reads git log's output for a commit whose author and
// message are anyone's bytes, on top of an honest commit: exactly those
// two commits come out, in order, the honest one as it is, whatever the
// message holds.
func FuzzParseLog(f *testing.F) {
	for _, s := range []struct{ name, msg string }{
		{"Alice", "fix the thing\n\nIt was broken.\n"},
		{"Bob", "one line"},
		{"Eve", "subject\x00hidden\n"},
		{"Eve", "subject\n\nbody\x1e" + strings.Repeat("a", 40) + "\x00Mallory\x001\x00forged\x00\n"},
		{"Eve\x1eforged", "x\n"},
		{"", "\n\n\n"},
		{"Ev\x00e", "x"},
		{"Eve <e@x> 1 +0000\nparent " + strings.Repeat("0", 40), "x"},
	} {
		f.Add(s.name, s.msg)
	}
	ctx := context.Background()
	dir := f.TempDir()
	git := func(t testing.TB, stdin string, args ...string) string {
		t.Helper()
		c := repo.GitCommand(ctx, dir, args...)
		c.Stdin = strings.NewReader(stdin)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git(f, "", "init", "-q", "--bare")
	tree := git(f, "", "hash-object", "-t", "tree", "-w", "--stdin")
	honest := git(f, "tree "+tree+"\nauthor Honest <h@x> 1700000000 +0000\ncommitter Honest <h@x> 1700000000 +0000\n\nhonest\n\nbody\n",
		"hash-object", "-t", "commit", "-w", "--stdin")
	f.Fuzz(func(t *testing.T, name, msg string) {
		raw := "tree " + tree + "\nparent " + honest + "\nauthor " + name + " <e@x> 1700000001 +0000\ncommitter c <c@x> 1700000001 +0000\n\n" + msg
		oid := git(t, raw, "hash-object", "-t", "commit", "-w", "--literally", "--stdin")
		c := repo.GitCommand(ctx, dir, "log", "--format="+logFormat, "-n", "10", oid, "--")
		out, err := c.Output()
		if err != nil {
			t.Fatal(err)
		}
		cs := parseLog(out)
		if len(cs) != 2 || cs[0].OID != oid || cs[1].OID != honest {
			t.Fatalf("author %q, message %q: log %q parsed as %+v", name, msg, out, cs)
		}
		if h := cs[1]; h.Author != "Honest" || h.Subject != "honest" || h.Body != "body" || h.Time.Unix() != 1700000000 {
			t.Fatalf("author %q, message %q: the honest commit parsed as %+v", name, msg, h)
		}
	})
}
