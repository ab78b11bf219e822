package tui

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// now is the fixtures' clock.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ago_(d time.Duration) time.Time { return now.Add(-d) }

const (
	day  = 24 * time.Hour
	ridA = "bafrwqdxh5gbzmhcbbqyqfxnkwlq7iop3ha6ts4q"
	ridB = "bafrwqeylsiqwbdmb2tzqp7fvoxuk3rhlzpacjra"
)

// fixture is an in-memory Source with a small, fixed world.
type fixture struct {
	mu       sync.Mutex
	projects []Project
	issues   map[string][]*Issue
	patches  map[string][]*Patch
	files    map[string]string // path → content, on main
	commits  []Commit
	peers    []Peer
	node     NodeState
	stamp    int
	// stampReads counts Stamp calls: the UI's polls.
	stampReads int
	nextID     int
	reviews    []NewReview
	// me is the user, delegates the project's delegates: who may triage.
	me        string
	delegates []string
	// writes counts the calls that write.
	writes int
	// merged are the revisions merged.
	merged []string
}

func newFixture() *fixture {
	f := &fixture{
		projects: []Project{
			{RID: ridA, Name: "grove", Description: "Peer-to-peer collaboration for git", DefaultBranch: "main",
				Visibility: "public", Seeding: true, Peers: 2, OpenIssues: 3, OpenPatches: 1},
			{RID: ridB, Name: "website", Description: "The project's web site", DefaultBranch: "main",
				Visibility: "private", Peers: 0, OpenIssues: 0},
		},
		issues:    map[string][]*Issue{},
		patches:   map[string][]*Patch{},
		me:        "alice",
		delegates: []string{"alice"},
	}
	f.issues[ridA] = []*Issue{
		{IssueSummary: IssueSummary{ID: "3f2a1b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6", Title: "Crash on start when GROVE_HOME is unset",
			State: "open", Author: "alice", Labels: []string{"bug", "cli"}, Comments: 3, Created: ago_(3 * day), Updated: ago_(1 * day)},
			Body:      "Running `grove tui` with no `GROVE_HOME` panics:\n\n```\npanic: runtime error: invalid memory address\n```\n\nSteps:\n\n1. `unset GROVE_HOME`\n2. `grove tui`",
			Assignees: []string{"bob"},
			Thread: []Comment{
				{ID: "c1aa000000000000000000000000000000000001", Author: "bob", Body: "Reproduced on **linux/amd64**.", Created: ago_(2 * day)},
				{ID: "c2bb000000000000000000000000000000000002", Author: "alice", Body: "Thanks! Is it the home lookup?", Created: ago_(2*day - time.Hour), ReplyTo: "c1aa000000000000000000000000000000000001"},
				{ID: "c3cc000000000000000000000000000000000003", Author: "carol", Body: "I have a fix; patch coming.", Created: ago_(1 * day)},
			}},
		{IssueSummary: IssueSummary{ID: "8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b", Title: "Show sync progress in the status bar",
			State: "open", Author: "bob", Labels: []string{"tui"}, Comments: 0, Created: ago_(5 * day), Updated: ago_(5 * day)},
			Body: "It would help to see when a fetch is running."},
		{IssueSummary: IssueSummary{ID: "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", Title: "Document the control socket",
			State: "open", Author: "carol", Labels: []string{"docs"}, Created: ago_(9 * day), Updated: ago_(9 * day)}},
		{IssueSummary: IssueSummary{ID: "f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d", Title: "Clone fails behind a proxy",
			State: "closed", Reason: "solved", Author: "dave", Labels: []string{"bug", "network"}, Comments: 1, Created: ago_(40 * day), Updated: ago_(20 * day)},
			Body:   "Cloning through an HTTP proxy hangs.",
			Thread: []Comment{{ID: "c4dd000000000000000000000000000000000004", Author: "alice", Body: "Fixed by the relay work.", Created: ago_(20 * day)}}},
	}
	diff1 := `diff --git a/cmd/root.go b/cmd/root.go
index 1111111..2222222 100644
--- a/cmd/root.go
+++ b/cmd/root.go
@@ -20,9 +20,12 @@ type env struct {
 
 func (e *env) home() (repo.Home, error) {
 	if d := e.getenv("GROVE_HOME"); d != "" {
 		return repo.Home{Dir: d}, nil
 	}
-	h, _ := os.UserHomeDir()
+	h, err := os.UserHomeDir()
+	if err != nil {
+		return repo.Home{}, fmt.Errorf("no home directory: set GROVE_HOME")
+	}
 	return repo.Home{Dir: filepath.Join(h, ".grove")}, nil
 }
 
diff --git a/cmd/root_test.go b/cmd/root_test.go
new file mode 100644
--- /dev/null
+++ b/cmd/root_test.go
@@ -0,0 +1,5 @@
+package cmd
+
+import "testing"
+
+func TestHomeUnset(t *testing.T) {}
`
	f.patches[ridA] = []*Patch{
		{PatchSummary: PatchSummary{ID: "9a8b7c6d5e4f30211203948576afbecd01234567", Title: "Fix crash when GROVE_HOME is unset",
			State: PatchOpen, Author: "carol", Labels: []string{"bug"}, Revisions: 2, Accepted: 1, Rejected: 0, Created: ago_(1 * day), Updated: ago_(2 * time.Hour)},
			Body: "Return an error instead of panicking. Fixes 3f2a1b7.",
			Revisions: []Revision{
				{ID: "1111aaaa000000000000000000000000000000aa", Author: "carol", Base: "b0b0b0b0", Head: "e1e1e1e1", Created: ago_(1 * day),
					Description: "First try", Diff: diff1,
					Reviews: []Review{{ID: "r1", Author: "bob", Verdict: VerdictReject, Body: "Needs a test.", Created: ago_(20 * time.Hour)}}},
				{ID: "2222bbbb000000000000000000000000000000bb", Author: "carol", Base: "b0b0b0b0", Head: "f2f2f2f2", Created: ago_(3 * time.Hour),
					Description: "Add a test", Diff: diff1,
					Reviews: []Review{
						{ID: "r2", Author: "bob", Verdict: VerdictAccept, Body: "LGTM, thanks!", Created: ago_(2 * time.Hour),
							Comments: []LineComment{{Path: "cmd/root.go", Line: 26, Body: "Nice: the message says what to do."}}},
						{ID: "r3", Author: "alice", Verdict: VerdictComment, Created: ago_(1 * time.Hour),
							Comments: []LineComment{{Path: "cmd/root_test.go", Line: 5, Body: "Fill this in before merging."}}},
					}},
			}},
		{PatchSummary: PatchSummary{ID: "77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd", Title: "Relay support for private projects",
			State: PatchMerged, Author: "dave", Revisions: 1, Accepted: 2, Created: ago_(30 * day), Updated: ago_(25 * day)},
			Revisions: []Revision{{ID: "3333cccc000000000000000000000000000000cc", Author: "dave", Base: "a", Head: "b", Created: ago_(30 * day)}}},
	}
	f.files = map[string]string{
		"README.md":        "# Grove\n\nPeer-to-peer collaboration for git.\n",
		"go.mod":           "module example.com/grove\n\ngo 1.26\n",
		"main.go":          "package main\n\nimport \"fmt\"\n\n// main says hello.\nfunc main() {\n\tfmt.Println(\"hello, grove\")\n}\n",
		"cmd/root.go":      "package cmd\n\n// Root is the command tree.\nfunc Root() {}\n",
		"cmd/root_test.go": "package cmd\n",
		"docs/TUI.md":      "# The terminal UI\n",
	}
	f.commits = []Commit{
		{OID: "e1e1e1e1aaaa0000000000000000000000000001", Author: "alice", Time: ago_(2 * day), Subject: "cmd: say what to do when GROVE_HOME is unset",
			Body: "The home lookup no longer panics.", Diff: diff1},
		{OID: "d0d0d0d0bbbb0000000000000000000000000002", Author: "bob", Time: ago_(6 * day), Subject: "docs: the terminal UI"},
		{OID: "c0c0c0c0cccc0000000000000000000000000003", Author: "alice", Time: ago_(12 * day), Subject: "first commit"},
	}
	f.peers = []Peer{
		{NID: "12D3KooWAliceAliceAliceAliceAliceAliceAliceAlice", Alias: "alice", You: true, Delegate: true, Refs: 14, Updated: ago_(2 * time.Hour)},
		{NID: "12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBob0", Alias: "bob", Followed: true, Refs: 6, Updated: ago_(1 * day)},
		{NID: "12D3KooWCarolCarolCarolCarolCarolCarolCarolCaro", Alias: "", Refs: 3, Updated: ago_(3 * day)},
	}
	f.node = NodeState{Running: true, NID: "12D3KooWAliceAliceAliceAliceAliceAliceAliceAlice", Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, Peers: 2, Seeds: 1, Started: ago_(5 * time.Hour)}
	return f
}

var _ Projects = (*fixture)(nil)
var _ Issues = (*fixture)(nil)
var _ Patches = (*fixture)(nil)
var _ Code = (*fixture)(nil)
var _ Peers = (*fixture)(nil)

func (f *fixture) source() Source {
	return Source{Projects: f, Issues: f, Patches: f, Code: f, Peers: f}
}

func (f *fixture) Projects(ctx context.Context, progress func(done, total int)) ([]Project, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Project{}, f.projects...), nil
}

func (f *fixture) Project(ctx context.Context, rid string) (Project, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.projects {
		if p.RID == rid {
			return p, nil
		}
	}
	return Project{}, fmt.Errorf("project %s: %w", rid, ErrNotFound)
}

func (f *fixture) Stamp(ctx context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stampReads++
	return fmt.Sprint(f.stamp), nil
}

// waitPolled waits, bounded, until the UI has polled the stamp n times.
func (f *fixture) waitPolled(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		f.mu.Lock()
		reads := f.stampReads
		f.mu.Unlock()
		if reads >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the UI polled the stamp %d times in 10 s, want %d", reads, n)
		}
	}
}

func (f *fixture) ListIssues(ctx context.Context, rid string, fl IssueFilter, progress func(done, total int)) ([]IssueSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []IssueSummary
	for _, is := range f.issues[rid] {
		if fl.State != "" && is.State != fl.State {
			continue
		}
		if fl.Label != "" && !contains(is.Labels, fl.Label) {
			continue
		}
		if fl.Search != "" && !strings.Contains(strings.ToLower(is.Title+" "+is.Body), strings.ToLower(fl.Search)) {
			continue
		}
		s := is.IssueSummary
		s.Comments = len(is.Thread)
		out = append(out, s)
	}
	return out, nil
}

func (f *fixture) IssuePage(ctx context.Context, rid string, fl IssueFilter, limit int, progress func(done, total int)) ([]IssueSummary, int, error) {
	l, err := f.ListIssues(ctx, rid, fl, progress)
	if err != nil {
		return nil, 0, err
	}
	return l[:min(limit, len(l))], len(l), nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (f *fixture) find(rid, id string) (*Issue, error) {
	for _, is := range f.issues[rid] {
		if strings.HasPrefix(is.ID, id) {
			return is, nil
		}
	}
	return nil, fmt.Errorf("issue %s: %w", id, ErrNotFound)
}

func (f *fixture) Issue(ctx context.Context, rid, id string) (*Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	is, err := f.find(rid, id)
	if err != nil {
		return nil, err
	}
	c := *is
	c.Thread = append([]Comment{}, is.Thread...)
	c.Labels = append([]string{}, is.Labels...)
	c.May = Permissions{Comment: true, Triage: c.Author == f.me || slices.Contains(f.delegates, f.me)}
	if !c.May.Triage {
		c.May.Why = "only its author or a delegate may close, reopen or label it"
	}
	return &c, nil
}

func (f *fixture) NewIssue(ctx context.Context, rid string, n NewIssue) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	f.nextID++
	id := fmt.Sprintf("%040x", 0xabc000+f.nextID)
	f.issues[rid] = append([]*Issue{{IssueSummary: IssueSummary{ID: id, Title: n.Title, State: "open", Author: "alice",
		Labels: n.Labels, Created: now, Updated: now}, Body: n.Body}}, f.issues[rid]...)
	f.stamp++
	return id, nil
}

func (f *fixture) Comment(ctx context.Context, rid, id, replyTo, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	is, err := f.find(rid, id)
	if err != nil {
		return err
	}
	f.nextID++
	is.Thread = append(is.Thread, Comment{ID: fmt.Sprintf("%040x", 0xc0c000+f.nextID), Author: "alice", Body: body, Created: now, ReplyTo: replyTo})
	f.stamp++
	return nil
}

func (f *fixture) SetState(ctx context.Context, rid, id, state, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	is, err := f.find(rid, id)
	if err != nil {
		return err
	}
	is.State, is.Reason = state, reason
	f.stamp++
	return nil
}

func (f *fixture) Label(ctx context.Context, rid, id string, add, remove []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	is, err := f.find(rid, id)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, l := range is.Labels {
		set[l] = true
	}
	for _, l := range add {
		set[l] = true
	}
	for _, l := range remove {
		delete(set, l)
	}
	is.Labels = is.Labels[:0]
	for l := range set {
		is.Labels = append(is.Labels, l)
	}
	sort.Strings(is.Labels)
	f.stamp++
	return nil
}

func (f *fixture) ListPatches(ctx context.Context, rid, state string) ([]PatchSummary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []PatchSummary
	for _, p := range f.patches[rid] {
		if state == "" || p.State == state {
			out = append(out, p.PatchSummary)
		}
	}
	return out, nil
}

func (f *fixture) Patch(ctx context.Context, rid, id string) (*Patch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.patches[rid] {
		if strings.HasPrefix(p.ID, id) {
			c := *p
			c.May = Permissions{Comment: f.me != "", Merge: slices.Contains(f.delegates, f.me) && p.State != PatchMerged}
			switch {
			case f.me == "":
				c.May.Why = "no key yet: run 'grove auth' to write"
			case !c.May.Merge && p.State != PatchMerged:
				c.May.Why = "patch " + p.ID[:7] + ": only a delegate may merge"
			}
			return &c, nil
		}
	}
	return nil, fmt.Errorf("patch %s: %w", id, ErrNotFound)
}

// Merge merges as the real source does: only a delegate, a patch once.
func (f *fixture) Merge(ctx context.Context, rid, id, rev string) (Merged, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.patches[rid] {
		if p.ID != id {
			continue
		}
		if !slices.Contains(f.delegates, f.me) || p.State == PatchMerged {
			return Merged{}, fmt.Errorf("patch %.7s: only a delegate may merge", id)
		}
		for _, r := range p.Revisions {
			if r.ID == rev {
				f.writes++
				f.merged = append(f.merged, rev)
				p.State = PatchMerged
				f.stamp++
				return Merged{Branch: "main", Commit: r.Head, How: "fast-forwarded", Closed: []string{"3f2a1b7c"}}, nil
			}
		}
	}
	return Merged{}, fmt.Errorf("patch %s: %w", id, ErrNotFound)
}

func (f *fixture) Review(ctx context.Context, rid, id string, r NewReview) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	f.reviews = append(f.reviews, r)
	for _, p := range f.patches[rid] {
		if p.ID != id {
			continue
		}
		for i := range p.Revisions {
			if p.Revisions[i].ID == r.Revision {
				rv := Review{ID: fmt.Sprint("r", len(f.reviews)+10), Author: "alice", Verdict: r.Verdict, Body: r.Body, Created: now}
				if r.Path != "" {
					rv.Body = ""
					rv.Comments = []LineComment{{Path: r.Path, Line: r.Line, Body: r.Body}}
				}
				p.Revisions[i].Reviews = append(append([]Review{}, p.Revisions[i].Reviews...), rv)
			}
		}
	}
	f.stamp++
	return nil
}

func (f *fixture) Branches(ctx context.Context, rid string) ([]Branch, error) {
	return []Branch{{Name: "dev", Head: "d0d0d0d0"}, {Name: "main", Head: "e1e1e1e1", Default: true}}, nil
}

func (f *fixture) Tree(ctx context.Context, rid, rev, dir string) ([]TreeEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var dirs, files []TreeEntry
	for p, content := range f.files {
		rest, ok := strings.CutPrefix(p, dir)
		if dir != "" {
			if !ok || !strings.HasPrefix(rest, "/") {
				continue
			}
			rest = rest[1:]
		}
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		if isDir {
			dirs = append(dirs, TreeEntry{Name: name, Dir: true})
		} else {
			files = append(files, TreeEntry{Name: name, Size: int64(len(content))})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Name < dirs[j].Name })
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return append(dirs, files...), nil
}

func (f *fixture) File(ctx context.Context, rid, rev, p string) (*File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.files[path.Clean(p)]
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	return &File{Path: p, Size: int64(len(s)), Text: s}, nil
}

func (f *fixture) Log(ctx context.Context, rid, rev string, limit int) ([]Commit, error) {
	return f.commits, nil
}

func (f *fixture) Show(ctx context.Context, rid, oid string) (*Commit, error) {
	for _, c := range f.commits {
		if c.OID == oid {
			return &c, nil
		}
	}
	return nil, fmt.Errorf("commit %s: %w", oid, ErrNotFound)
}

func (f *fixture) Peers(ctx context.Context, rid string) ([]Peer, error) { return f.peers, nil }

func (f *fixture) Node(ctx context.Context) (NodeState, error) { return f.node, nil }
