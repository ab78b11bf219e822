package issues

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestResolveWithIDList: with an ID list, every prefix resolves as from the
// ref directories, through random creations and drops in three
// namespaces, while the directories are read only to make the list, to
// take in a new namespace, or when the list cannot be caught up.
func TestResolveWithIDList(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			keys := []*protocol.Key{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
			s, h := newProject(t, keys[0])
			if seed%2 == 1 {
				// Changes tell the list what moved (noteMoved).
				s.CacheDir = CacheDir(h, s.Repo.RID)
			}
			path := IDsPath(h, s.Repo.RID, IssueType)
			fromRefs := NewStore(s.Repo) // answers without a list
			var ids []string
			now := t0
			check := func(step string) {
				t.Helper()
				prefixes := []string{"0", "7", "a", "f", "00", "ab"}
				for _, id := range ids {
					prefixes = append(prefixes, id[:1+rng.IntN(9)])
				}
				for _, p := range prefixes {
					got, gerr := s.ResolveWith(path, IssueType, p)
					want, werr := fromRefs.Resolve(IssueType, p)
					if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
						t.Fatalf("%s: prefix %s: the list says %q, %v; the refs %q, %v", step, p, got, gerr, want, werr)
					}
				}
			}
			for step := range 60 {
				now = now.Add(time.Minute)
				k := keys[rng.IntN(len(keys))]
				switch r := rng.IntN(10); {
				case r < 6 || len(ids) == 0:
					id, err := s.CreateIssue(ctx, k, now, NewIssue{Title: fmt.Sprint("issue ", step)})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				case r < 8:
					obj, err := s.Load(ctx, IssueType, ids[rng.IntN(len(ids))])
					if errors.Is(err, ErrNotFound) {
						continue // every holder dropped it
					}
					if err != nil {
						t.Fatal(err)
					}
					if _, err := s.Update(ctx, IssueKind, k, now, obj, Action{Type: ActComment, Body: "me too"}); err != nil {
						t.Fatal(err)
					}
				default:
					// k drops one of the issues it holds, signed.
					id := ids[rng.IntN(len(ids))]
					name := RefName(IssueType, id)
					oid, err := s.Repo.RefFiles().Get(repo.NamespacePrefix(k.NID()) + name)
					if err != nil {
						t.Fatal(err)
					}
					if oid != "" {
						if err := s.Repo.UpdateNamespace(ctx, k, []repo.RefUpdate{{Name: name, Old: oid}}, now); err != nil {
							t.Fatal(err)
						}
					}
				}
				if rng.IntN(3) == 0 {
					check(fmt.Sprint("step ", step))
				}
			}
			check("the end")
			// A caught-up list reads no directory.
			before := s.listings
			check("again")
			if s.listings != before {
				t.Errorf("an up-to-date list still read %d directories", s.listings-before)
			}
		})
	}
}

// TestIDListNoted: a comment made through a store with a cache tells the
// ID list its namespace's new signed refs, so the next prefix lookup diffs
// nothing; an issue made elsewhere is still found, and a heads file for
// another list, or damaged, is ignored.
func TestIDListNoted(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	s.CacheDir = CacheDir(h, s.Repo.RID)
	path := IDsPath(h, s.Repo.RID, IssueType)
	ids := createIssues(t, s, alice, 4, time.Second)
	resolve := func(id string) {
		t.Helper()
		if got, err := s.ResolveWith(path, IssueType, id[:8]); err != nil || got != id {
			t.Fatalf("resolve %.8s: %q, %v", id, got, err)
		}
	}
	resolve(ids[0])
	for i, k := range []*protocol.Key{alice, bob, alice} {
		obj, err := s.Load(ctx, IssueType, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, k, t0.Add(time.Hour), obj, Action{Type: ActComment, Body: "seen"}); err != nil {
			t.Fatal(err)
		}
		// bob's first comment makes his namespace: the list must take it
		// in once; alice's comments are noted.
		before := s.diffs + s.listings
		resolve(ids[3])
		if k == alice && s.diffs+s.listings != before {
			t.Fatalf("comment %d: the lookup after a noted comment diffed or listed", i)
		}
	}
	// An issue made by a store without a cache is not noted: the next
	// lookup diffs and finds it.
	other, err := NewStore(s.Repo).CreateIssue(ctx, alice, t0.Add(2*time.Hour), NewIssue{Title: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	before := s.diffs
	resolve(other)
	if s.diffs == before {
		t.Fatal("an unnoted move was not diffed")
	}
	// That lookup wrote the list anew; a comment notes its heads again.
	obj, err := s.Load(ctx, IssueType, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, IssueKind, alice, t0.Add(3*time.Hour), obj, Action{Type: ActComment, Body: "here"}); err != nil {
		t.Fatal(err)
	}
	// Heads files that are not for this list, or do not parse.
	good, err := os.ReadFile(headsPath(path))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := readIDList(path, IssueType)
	if !ok {
		t.Fatal("no list")
	}
	defer l.close()
	for name, b := range map[string]string{
		"another list": strings.Replace(string(good), l.sum[:8], "00000000", 1),
		"a bad oid":    strings.Replace(string(good), " ", " x", 1),
		"a namespace missing": func() string {
			lines := strings.SplitAfter(string(good), "\n")
			return lines[0]
		}(),
		"empty": "",
	} {
		if err := os.WriteFile(headsPath(path), []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if readHeads(headsPath(path), l) != nil {
			t.Errorf("%s: heads file taken", name)
		}
	}
	if err := os.WriteFile(headsPath(path), good, 0o600); err != nil {
		t.Fatal(err)
	}
	if readHeads(headsPath(path), l) == nil {
		t.Error("a good heads file was not taken")
	}
}

// TestIDListDamaged: a list that is not well formed, or whose signed refs
// are gone from the storage, is made anew from the refs.
func TestIDListDamaged(t *testing.T) {
	alice := testKey(t, 1)
	s, h := newProject(t, alice)
	path := IDsPath(h, s.Repo.RID, IssueType)
	ids := createIssues(t, s, alice, 20, time.Minute)
	slices.Sort(ids)
	if _, err := s.ResolveWith(path, IssueType, ids[3][:8]); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := cutBlank(good)
	// The middle line, where every search starts, made not an ID.
	spoilt := slices.Clone(good)
	mid := len(head) + 2 + len(ids)/2*idRecord
	copy(spoilt[mid:], strings.Repeat("z", 40))
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("grove ids 1 grove.issue\nzz\n\nnot an id\n")},
		{"another type", []byte("grove ids 1 grove.patch\n\n")},
		{"truncated", good[:len(good)-5]},
		{"a line not an ID", spoilt},
		{"torn: no IDs, the count and check of all", bytes.Replace(good, good[len(head)+2:], nil, 1)},
		{"signed refs not in storage", []byte("grove ids 1 grove.issue\n" + alice.NID().String() + " " + fmt.Sprintf("%040x", 1) + "\n\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			before := s.listings
			for _, id := range ids {
				if got, err := s.ResolveWith(path, IssueType, id[:10]); got != id || err != nil {
					t.Fatalf("%s: %q, %v", id[:10], got, err)
				}
			}
			if s.listings == before {
				t.Errorf("a damaged list was trusted")
			}
			if b, _ := os.ReadFile(path); string(b) != string(good) {
				t.Errorf("the list was not made anew:\n%s", b)
			}
		})
	}
	if left, _ := filepath.Glob(path + ".tmp*"); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func cutBlank(b []byte) (head, rest []byte, ok bool) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && b[i+1] == '\n' {
			return b[:i], b[i+2:], true
		}
	}
	return b, nil, false
}

func mustSigrefs(t *testing.T, s *Store, k *protocol.Key) string {
	t.Helper()
	oid, err := s.Repo.RefFiles().Get(repo.NamespacePrefix(k.NID()) + protocol.SigrefsRef)
	if err != nil || oid == "" {
		t.Fatalf("sigrefs: %q, %v", oid, err)
	}
	return oid
}

// TestIDListRewrite: a list is written anew, with the new heads and the
// IDs merged in, when IDs came or went or many refs moved, and not when
// nothing did or one issue was only talked about.
func TestIDListRewrite(t *testing.T) {
	ctx := context.Background()
	alice, bob := testKey(t, 1), testKey(t, 2)
	s, h := newProject(t, alice)
	path := IDsPath(h, s.Repo.RID, IssueType)
	var ids []string
	create := func(k *protocol.Key, n int) {
		for i := range n {
			id, err := s.CreateIssue(ctx, k, t0.Add(time.Duration(len(ids))*time.Second), NewIssue{Title: fmt.Sprint("issue ", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	list := func() (heads map[string]string, body string) {
		t.Helper()
		if _, err := s.ResolveWith(path, IssueType, "0"); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrAmbiguous) {
			t.Fatal(err)
		}
		l, ok := readIDList(path, IssueType)
		if !ok {
			t.Fatal("no list")
		}
		defer l.close()
		return l.heads, string(l.body)
	}
	want := func() string {
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		return strings.Join(sorted, "\n") + "\n"
	}
	create(alice, 5)
	heads, body := list()
	if body != want() || heads[alice.NID().String()] != mustSigrefs(t, s, alice) {
		t.Fatalf("made: %v\n%s", heads, body)
	}
	st, _ := os.Stat(path)
	if _, body := list(); body != want() {
		t.Fatalf("unchanged: %s", body)
	}
	if st2, _ := os.Stat(path); !os.SameFile(st, st2) {
		t.Errorf("rewritten though nothing moved")
	}
	// Comments on one issue leave the list as it is.
	for i := range 3 {
		obj, err := s.Load(ctx, IssueType, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Duration(i+1)*time.Hour), obj, Action{Type: ActComment, Body: "again"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, body := list(); body != want() {
		t.Fatalf("after comments: %s", body)
	}
	if st2, _ := os.Stat(path); !os.SameFile(st, st2) {
		t.Errorf("rewritten for comments on one issue")
	}
	create(alice, 3)
	create(bob, 2) // a namespace the list has not seen
	heads, body = list()
	if body != want() || heads[alice.NID().String()] != mustSigrefs(t, s, alice) || heads[bob.NID().String()] != mustSigrefs(t, s, bob) {
		t.Fatalf("after moves: %v\n%s\nwant\n%s", heads, body, want())
	}
	// Comments on many issues: past idsRewriteAfter refs the diff is not
	// made again and again.
	create(alice, idsRewriteAfter)
	list()
	for i, id := range ids[len(ids)-idsRewriteAfter:] {
		obj, err := s.Load(ctx, IssueType, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, IssueKind, alice, t0.Add(time.Duration(i+1)*time.Minute), obj, Action{Type: ActComment, Body: "seen"}); err != nil {
			t.Fatal(err)
		}
	}
	if heads, body := list(); body != want() || heads[alice.NID().String()] != mustSigrefs(t, s, alice) {
		t.Fatalf("after comments on %d issues the list is at %.7s", idsRewriteAfter, heads[alice.NID().String()])
	}
}

// createIssues files n issues by k, "issue 0" onwards, each every apart
// from t0, and returns their IDs in that order.
func createIssues(t *testing.T, s *Store, k *protocol.Key, n int, every time.Duration) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id, err := s.CreateIssue(context.Background(), k, t0.Add(time.Duration(i)*every), NewIssue{Title: fmt.Sprint("issue ", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
