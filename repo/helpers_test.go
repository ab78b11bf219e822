package repo_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestMain isolates git from the user's and the system's configuration and
// gives commits a fixed author, once for the whole package so that tests
// can run in parallel (t.Setenv forbids t.Parallel).
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "grove-repo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for k, v := range map[string]string{
		"HOME":                home,
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_GLOBAL":   filepath.Join(home, ".gitconfig"),
		"GIT_AUTHOR_NAME":     "Grove Test",
		"GIT_AUTHOR_EMAIL":    "test@grove.invalid",
		"GIT_AUTHOR_DATE":     "2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME":  "Grove Test",
		"GIT_COMMITTER_EMAIL": "test@grove.invalid",
		"GIT_COMMITTER_DATE":  "2026-01-02T03:04:05Z",
		"GIT_TERMINAL_PROMPT": "0",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// testKey returns a deterministic key; different i, different key.
func testKey(t testing.TB, i byte) *protocol.Key {
	t.Helper()
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// gitIn runs git in dir with stdin (may be nil) and returns its trimmed
// stdout, failing the test on error.
func gitIn(t testing.TB, dir string, stdin []byte, args ...string) string {
	t.Helper()
	out, err := gitTry(dir, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gitTry(dir string, stdin []byte, args ...string) (string, error) {
	c := repo.GitCommand(context.Background(), dir, args...)
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s in %s: %v: %s", strings.Join(args, " "), dir, err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

// newProject creates a public project signed by keys[0] with all keys as
// delegates and threshold 1.
func newProject(t *testing.T, name string, keys ...*protocol.Key) (repo.Home, *repo.Repo) {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	return h, newProjectIn(t, h, name, keys...)
}

func newProjectIn(t *testing.T, h repo.Home, name string, keys ...*protocol.Key) *repo.Repo {
	t.Helper()
	doc := &protocol.Identity{
		Name:          name,
		DefaultBranch: "main",
		Threshold:     1,
		Visibility:    protocol.Visibility{Type: protocol.Public},
	}
	for _, k := range keys {
		doc.Delegates = append(doc.Delegates, k.NID())
	}
	r, err := repo.Create(context.Background(), h, keys[0], doc, now)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// emptyTree is git's empty tree; commit writes it into each storage it
// uses once.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

var treeWritten sync.Map // storage path → true

// copyProject copies r's storage, byte for byte, into a new home: a cheap
// fresh project for a test that damages it.
func copyProject(t *testing.T, r *repo.Repo) *repo.Repo {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	dst := h.ProjectPath(r.RID)
	err := filepath.WalkDir(r.Path, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(r.Path, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.Open(h, r.RID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// commit writes a commit with an empty tree into r and returns its oid;
// distinct messages make distinct commits.
func commit(t testing.TB, r *repo.Repo, msg string, parents ...string) string {
	t.Helper()
	if _, ok := treeWritten.Load(r.Path); !ok {
		if got := gitIn(t, r.Path, nil, "mktree"); got != emptyTree {
			t.Fatalf("empty tree is %s", got)
		}
		treeWritten.Store(r.Path, true)
	}
	args := []string{"commit-tree", emptyTree, "-m", msg}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return gitIn(t, r.Path, nil, args...)
}

// nsRefs returns nid's refs in r.
func nsRefs(t testing.TB, r *repo.Repo, nid protocol.NID) map[string]string {
	t.Helper()
	m, err := r.NamespaceRefs(context.Background(), nid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func canonRefs(t testing.TB, r *repo.Repo) map[string]string {
	t.Helper()
	m, err := r.CanonicalRefs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func update(t testing.TB, r *repo.Repo, k *protocol.Key, ups ...repo.RefUpdate) {
	t.Helper()
	if err := r.UpdateNamespace(context.Background(), k, ups, now); err != nil {
		t.Fatal(err)
	}
}

// problems runs Verify and returns what it found.
func problems(t testing.TB, r *repo.Repo) []repo.Problem {
	t.Helper()
	rep, err := r.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep.Problems
}

func verifyClean(t testing.TB, r *repo.Repo) {
	t.Helper()
	if ps := problems(t, r); len(ps) > 0 {
		t.Errorf("Verify found problems:")
		for _, p := range ps {
			t.Errorf("  %v", p)
		}
	}
	if out, err := gitTry(r.Path, nil, "fsck", "--no-progress", "--strict"); err != nil {
		t.Errorf("fsck: %v\n%s", err, out)
	}
}

// writeSigrefs writes, with git itself, a sigrefs commit in grove's format
// (version 2): refs signed by s for rid as the successor of parent.
func writeSigrefs(t testing.TB, r *repo.Repo, s protocol.Signer, rid protocol.RID, parent string, refs protocol.RefList) string {
	t.Helper()
	return writeSigrefsTree(t, r, s, rid, parent, gitRefTree(t, r.Path, refs))
}

// writeSigrefsTree signs and commits, with git, an already built ref tree.
func writeSigrefsTree(t testing.TB, r *repo.Repo, s protocol.Signer, rid protocol.RID, parent, tree string) string {
	t.Helper()
	sr, err := protocol.SignRefTree(s, rid, parent, tree)
	if err != nil {
		t.Fatal(err)
	}
	sig := gitIn(t, r.Path, sr.Signature, "hash-object", "-w", "--stdin")
	return commitSigrefs(t, r, "040000 tree "+tree+"\trefs\n100644 blob "+sig+"\tsignature\n", parent)
}

// commitSigrefs commits, with git, a sigrefs tree made of entries (mktree
// input) as the successor of parent.
func commitSigrefs(t testing.TB, r *repo.Repo, entries, parent string) string {
	t.Helper()
	top := gitIn(t, r.Path, []byte(entries), "mktree")
	args := []string{"commit-tree", top, "-m", "grove sigrefs"}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	return gitIn(t, r.Path, nil, args...)
}

// writeSigrefsV1 writes a version 1 sigrefs commit (the list as a blob),
// as stores made before version 2 hold.
func writeSigrefsV1(t testing.TB, r *repo.Repo, s protocol.Signer, rid protocol.RID, parent string, refs protocol.RefList) string {
	t.Helper()
	sr, err := protocol.SignRefs(s, rid, parent, refs)
	if err != nil {
		t.Fatal(err)
	}
	list := gitIn(t, r.Path, refs.Encode(), "hash-object", "-w", "--stdin")
	sig := gitIn(t, r.Path, sr.Signature, "hash-object", "-w", "--stdin")
	return commitSigrefs(t, r, "100644 blob "+list+"\trefs\n100644 blob "+sig+"\tsignature\n", parent)
}

// gitRefTree builds the signed ref tree of refs with git mktree, following
// the layout as docs/STORAGE.md states it (each ref's last component in a
// bucket ".xx", xx = first byte of its SHA-256 in hex) without using
// grove's own encoder, so the two are checked against each other.
func gitRefTree(t testing.TB, dir string, refs protocol.RefList) string {
	t.Helper()
	type node struct {
		dirs   map[string]*node
		leaves map[string]string
	}
	newNode := func() *node { return &node{dirs: map[string]*node{}, leaves: map[string]string{}} }
	root := newNode()
	for _, ref := range refs {
		parts := strings.Split(ref.Name, "/")
		n := root
		for _, p := range parts[:len(parts)-1] {
			if n.dirs[p] == nil {
				n.dirs[p] = newNode()
			}
			n = n.dirs[p]
		}
		last := parts[len(parts)-1]
		sum := sha256.Sum256([]byte(last))
		b := "." + hex.EncodeToString(sum[:1])
		if n.dirs[b] == nil {
			n.dirs[b] = newNode()
		}
		n.dirs[b].leaves[last] = ref.OID
	}
	var write func(n *node) string
	write = func(n *node) string {
		var in bytes.Buffer
		for name, oid := range n.leaves {
			fmt.Fprintf(&in, "160000 commit %s\t%s\n", oid, name)
		}
		for name, sub := range n.dirs {
			fmt.Fprintf(&in, "040000 tree %s\t%s\n", write(sub), name)
		}
		return gitIn(t, dir, in.Bytes(), "mktree", "--missing")
	}
	return write(root)
}

func signedList(t testing.TB, r *repo.Repo, nid protocol.NID) protocol.RefList {
	t.Helper()
	m := nsRefs(t, r, nid)
	delete(m, protocol.SigrefsRef)
	return protocol.NewRefList(m)
}
