package repo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestSigrefsV3Encoding pins the one encoding of a version 3 sigrefs
// commit: git itself, given the signed time and the owner's name, writes
// the same object, and every other wrapping of the same signed contents
// is refused.
func TestSigrefsV3Encoding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	nid := k.NID()
	_, r := newProject(t, "a", k)
	c1 := commit(t, r, "one")
	s0 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	s1 := nsRefs(t, r, nid)[protocol.SigrefsRef]

	sr, err := r.VerifySigrefsUpdate(ctx, nid, s0, s1)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Version != 3 || sr.Time != now.Unix() || sr.Parent != s0 {
		t.Fatalf("signed refs = %+v", sr)
	}
	who := fmt.Sprintf("%s <%s@grove> %d +0000", nid, nid, now.Unix())
	top := gitIn(t, r.Path, nil, "rev-parse", s1+"^{tree}")
	want := "tree " + top + "\nparent " + s0 + "\nauthor " + who + "\ncommitter " + who + "\n\ngrove sigrefs v3\n"
	if got := gitIn(t, r.Path, nil, "cat-file", "commit", s1) + "\n"; got != want {
		t.Errorf("sigrefs commit:\n%s\nwant\n%s", got, want)
	}
	if got := gitIn(t, r.Path, nil, "ls-tree", top); !strings.HasPrefix(got, "040000 tree ") || !strings.Contains(got, "\trefs\n100644 blob ") {
		t.Errorf("sigrefs tree:\n%s", got)
	}

	// wrap commits top with parent s0 as git would, with env overriding
	// the owner's identity and date.
	wrap := func(t *testing.T, top, msg string, env ...string) string {
		t.Helper()
		c := repo.GitCommand(ctx, r.Path, "commit-tree", top, "-p", s0, "-m", msg)
		c.Env = append(os.Environ(), append([]string{
			"GIT_AUTHOR_NAME=" + nid.String(), "GIT_AUTHOR_EMAIL=" + nid.String() + "@grove",
			"GIT_COMMITTER_NAME=" + nid.String(), "GIT_COMMITTER_EMAIL=" + nid.String() + "@grove",
			fmt.Sprintf("GIT_AUTHOR_DATE=%d +0000", now.Unix()), fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", now.Unix()),
		}, env...)...)
		out, err := c.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := wrap(t, top, "grove sigrefs v3"); got != s1 {
		t.Errorf("git wrote %s for the same contents, grove %s", got, s1)
	}
	sig := gitIn(t, r.Path, nil, "rev-parse", s1+":signature")
	refs := gitIn(t, r.Path, nil, "rev-parse", s1+":refs")
	extra := gitIn(t, r.Path, []byte("040000 tree "+refs+"\trefs\n100644 blob "+sig+"\tsignature\n100644 blob "+sig+"\tz\n"), "mktree")
	raw := gitIn(t, r.Path, nil, "cat-file", "commit", s1) + "\n"
	withHeader := strings.Replace(raw, "\n\n", "\nencoding UTF-8\n\n", 1)
	bad := []struct {
		name  string
		newer string
	}{
		{"another date", wrap(t, top, "grove sigrefs v3", "GIT_COMMITTER_DATE=1700000000 +0000")},
		{"another author date", wrap(t, top, "grove sigrefs v3", "GIT_AUTHOR_DATE=1700000000 +0000")},
		{"same instant, another zone", wrap(t, top, "grove sigrefs v3",
			fmt.Sprintf("GIT_COMMITTER_DATE=%d +0100", now.Unix()), fmt.Sprintf("GIT_AUTHOR_DATE=%d +0100", now.Unix()))},
		{"another author", wrap(t, top, "grove sigrefs v3", "GIT_AUTHOR_NAME=mallory")},
		{"extra header", gitIn(t, r.Path, []byte(withHeader), "hash-object", "-t", "commit", "-w", "--stdin")},
		{"extra tree entry", wrap(t, extra, "grove sigrefs v3")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if tt.newer == s1 {
				t.Fatal("the re-wrap has the genuine oid")
			}
			if _, err := r.VerifySigrefsUpdate(ctx, nid, s0, tt.newer); !errors.Is(err, repo.ErrNotCanonical) {
				t.Errorf("VerifySigrefsUpdate = %v, want ErrNotCanonical", err)
			}
			if _, err := r.VerifySigrefsUpdate(ctx, nid, "", tt.newer); !errors.Is(err, repo.ErrNotCanonical) {
				t.Errorf("as a new namespace: %v, want ErrNotCanonical", err)
			}
		})
	}
	// The old message with the new signature verifies as neither version.
	if _, err := r.VerifySigrefsUpdate(ctx, nid, s0, wrap(t, top, "grove sigrefs")); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("a version 3 signature in a version 2 commit: %v", err)
	}
}

// TestRewrappedLegacyRevisionRecovers: a version 2 revision carries no
// signed date, so a relay can wrap it anew (a twin) and a node may have
// taken the twin before this release. The owner's next revision must still
// land there, and twins of what a node holds are nothing to take.
func TestRewrappedLegacyRevisionRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	nid := k.NID()
	_, origin := newProject(t, "a", k)
	ns := repo.NamespacePrefix(nid)
	c1 := commit(t, origin, "one")
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	s1 := nsRefs(t, origin, nid)[protocol.SigrefsRef]
	// The owner's legacy revision L, as an older grove wrote it, and a
	// relay's twin of it.
	c2 := commit(t, origin, "two", c1)
	gitIn(t, origin.Path, nil, "update-ref", ns+"refs/heads/main", c2)
	legacy := writeSigrefs(t, origin, k, origin.RID, s1, signedList(t, origin, nid))
	twin := gitIn(t, origin.Path, nil, "commit-tree", legacy+"^{tree}", "-p", s1, "-m", "wrapped again")
	if twin == legacy {
		t.Fatal("twin has the genuine oid")
	}
	gitIn(t, origin.Path, nil, "update-ref", ns+protocol.SigrefsRef, legacy)

	relayPath := t.TempDir() + "/relay.git"
	gitIn(t, "", nil, "clone", "-q", "--mirror", origin.Path, relayPath)
	gitIn(t, relayPath, nil, "update-ref", ns+protocol.SigrefsRef, twin)

	// A node takes the twin (as before this release, or fresh).
	h := repo.Home{Dir: t.TempDir()}
	r, err := repo.CreateEmpty(ctx, h, origin.RID)
	if err != nil {
		t.Fatal(err)
	}
	if res := acceptFrom(t, r, relayPath); len(res.Updated) != 1 {
		t.Fatalf("fresh copy of the twin: %+v", res)
	}
	if err := r.Publish(h); err != nil {
		t.Fatal(err)
	}
	// The genuine revision is the same revision: nothing to take, no
	// complaint.
	if res := acceptFrom(t, r, origin.Path); len(res.Updated) != 0 || len(res.Rejected) != 0 || res.Unchanged != 1 {
		t.Fatalf("genuine copy of what is held: %+v", res)
	}
	// The owner moves on from its genuine revision: the node follows.
	c3 := commit(t, origin, "three", c2)
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c2, New: c3})
	s3 := nsRefs(t, origin, nid)[protocol.SigrefsRef]
	if res := acceptFrom(t, r, origin.Path); len(res.Updated) != 1 || len(res.Rejected) != 0 {
		t.Fatalf("owner's next revision after a twin: %+v", res)
	}
	if got := nsRefs(t, r, nid)[protocol.SigrefsRef]; got != s3 {
		t.Fatalf("node holds %s, want %s", got, s3)
	}
	// A peer that is behind and holds the twin is behind, not forked.
	if res := acceptFrom(t, r, relayPath); len(res.Updated) != 0 || len(res.Rejected) != 0 || res.Unchanged != 1 {
		t.Fatalf("a twin of an older revision: %+v", res)
	}
	if ps := problems(t, r); len(ps) != 0 {
		t.Errorf("verify: %v", ps)
	}
}

// acceptFrom fetches every namespace of the storage at src into a
// quarantine of r and runs Accept on it, as a node's fetch does (on a
// storage opened anew, which sees the packs earlier fetches added).
func acceptFrom(t *testing.T, r *repo.Repo, src string) *repo.AcceptResult {
	t.Helper()
	return fetchAccept(t, r, src, func(ctx context.Context, r *repo.Repo, q *repo.Quarantine) (*repo.AcceptResult, error) {
		return r.Accept(ctx, q, nil)
	})
}

// acceptReplacing is acceptFrom with AcceptReplacing for nid.
func acceptReplacing(t *testing.T, r *repo.Repo, src string, nid protocol.NID) *repo.AcceptResult {
	t.Helper()
	return fetchAccept(t, r, src, func(ctx context.Context, r *repo.Repo, q *repo.Quarantine) (*repo.AcceptResult, error) {
		return r.AcceptReplacing(ctx, q, nil, nid)
	})
}

func fetchAccept(t *testing.T, r *repo.Repo, src string, accept func(context.Context, *repo.Repo, *repo.Quarantine) (*repo.AcceptResult, error)) *repo.AcceptResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := r.Reopen()
	if err != nil {
		t.Fatal(err)
	}
	q, err := r.NewQuarantine("fetch", nil, "", map[string]string{"fetch.fsckObjects": "true"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	gitIn(t, q.Dir(), nil, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", src, "+refs/namespaces/*:refs/namespaces/*")
	res, err := accept(ctx, r, q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestAcceptReplacingFork: a namespace held on a line its owner abandoned
// (a fork the owner signed) cannot move with a plain fetch; fetched with
// AcceptReplacing it takes the owner's current line, and still never an
// older revision.
func TestAcceptReplacingFork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	nid := k.NID()
	_, origin := newProject(t, "a", k)
	ns := repo.NamespacePrefix(nid)
	c1 := commit(t, origin, "one")
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	base := nsRefs(t, origin, nid)[protocol.SigrefsRef]
	c2 := commit(t, origin, "two", c1)
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2})

	h := repo.Home{Dir: t.TempDir()}
	r, err := repo.CreateEmpty(ctx, h, origin.RID)
	if err != nil {
		t.Fatal(err)
	}
	if res := acceptFrom(t, r, origin.Path); len(res.Updated) != 1 {
		t.Fatalf("clone: %+v", res)
	}
	if err := r.Publish(h); err != nil {
		t.Fatal(err)
	}
	held := nsRefs(t, r, nid)[protocol.SigrefsRef]

	// The owner goes back to base (a restored backup) and goes on from
	// there.
	gitIn(t, origin.Path, nil, "update-ref", ns+protocol.SigrefsRef, base)
	gitIn(t, origin.Path, nil, "update-ref", ns+"refs/heads/main", c1)
	c3 := commit(t, origin, "three", c1)
	update(t, origin, k, repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c3})
	current := nsRefs(t, origin, nid)[protocol.SigrefsRef]

	res := acceptFrom(t, r, origin.Path)
	if len(res.Updated) != 0 || len(res.Rejected) != 1 || res.Rejected[0].PeerFault() ||
		!errors.Is(res.Rejected[0].Err, protocol.ErrRollback) {
		t.Fatalf("plain fetch of the owner's new line: %+v", res)
	}
	if got := nsRefs(t, r, nid)[protocol.SigrefsRef]; got != held {
		t.Fatalf("a plain fetch moved the namespace to %s", got)
	}
	res = acceptReplacing(t, r, origin.Path, nid)
	if len(res.Updated) != 1 || len(res.Rejected) != 0 {
		t.Fatalf("replacing fetch: %+v", res)
	}
	if got := nsRefs(t, r, nid)[protocol.SigrefsRef]; got != current {
		t.Fatalf("namespace at %s, want the owner's current %s", got, current)
	}
	if got := gitIn(t, r.Path, nil, "rev-parse", "refs/heads/main"); got != c3 {
		t.Errorf("canonical main at %s, want %s", got, c3)
	}
	if ps := problems(t, r); len(ps) != 0 {
		t.Errorf("verify: %v", ps)
	}
	// An older revision of the line held is never taken, replacing or not.
	gitIn(t, origin.Path, nil, "update-ref", ns+protocol.SigrefsRef, base)
	gitIn(t, origin.Path, nil, "update-ref", ns+"refs/heads/main", c1)
	if res := acceptReplacing(t, r, origin.Path, nid); len(res.Updated) != 0 || res.Unchanged != 1 {
		t.Fatalf("replacing fetch of an older revision: %+v", res)
	}
	if got := nsRefs(t, r, nid)[protocol.SigrefsRef]; got != current {
		t.Fatalf("rolled back to %s", got)
	}
}

// TestIdentityRootCannotBeRewrapped: a project's root identity commit is
// its RID. Were its date or message free, anyone could wrap the signed
// document in a new root, a new RID that verifies with the victim as its
// sole delegate and the victim's project name. Version 2 roots have one
// encoding, so every such wrapping fails.
func TestIdentityRootCannotBeRewrapped(t *testing.T) {
	t.Parallel()
	k := testKey(t, 1)
	h, r := newProject(t, "victim", k)
	root := r.RID.OID()
	raw := gitIn(t, r.Path, nil, "cat-file", "commit", root) + "\n"
	who := fmt.Sprintf("%s <%s@grove> %d +0000", k.NID(), k.NID(), now.Unix())
	wraps := []struct{ name, from, to string }{
		{"another date", fmt.Sprintf("%d +0000", now.Unix()), "1700000000 +0000"},
		{"another zone", fmt.Sprintf("%d +0000", now.Unix()), fmt.Sprintf("%d +0100", now.Unix())},
		{"another title", "grove identity v2\n", "grove identity v2\nvictim's project, really\n"},
		{"another author", "author " + who, "author mallory <m@example.com> " + fmt.Sprint(now.Unix()) + " +0000"},
		{"as version 1", "grove identity v2\n", "Create victim\n"},
		// Found by FuzzVerifyIdentity: a trailer that does not count still
		// changes the oid.
		{"a stranger's trailer", sigLine(t, raw) + "\n", sigLine(t, raw) + "\nGrove-Signature: " + testKey(t, 9).NID().String() + " AAAA\n"}, // sorts after key 1's
		{"the signature twice", "\nGrove-Signature: ", "\n" + sigLine(t, raw) + "\nGrove-Signature: "},
	}
	for _, w := range wraps {
		t.Run(w.name, func(t *testing.T) {
			text := strings.Replace(raw, w.from, w.to, 1)
			if text == raw {
				t.Fatalf("%q not in the root:\n%s", w.from, raw)
			}
			oid := gitIn(t, r.Path, []byte(text), "hash-object", "-t", "commit", "-w", "--stdin")
			rid, err := protocol.RIDFromOID(oid)
			if err != nil {
				t.Fatal(err)
			}
			// The wrapped root as a project of its own, as a fetch would
			// publish it.
			dst := h.ProjectPath(rid)
			gitIn(t, "", nil, "clone", "-q", "--bare", r.Path, dst)
			fake, err := repo.Open(h, rid)
			if err != nil {
				t.Fatal(err)
			}
			if doc, _, err := fake.VerifyIdentity(oid); err == nil {
				t.Fatalf("a re-wrapped root verifies as project %s named %q", rid, doc.Name)
			}
		})
	}
	if _, _, err := r.VerifyIdentity(root); err != nil {
		t.Fatalf("the genuine root: %v", err)
	}
}

// sigLine returns the first Grove-Signature trailer of a commit's text.
func sigLine(t *testing.T, text string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "\nGrove-Signature: ")
	if !ok {
		t.Fatalf("no signature in\n%s", text)
	}
	line, _, _ := strings.Cut(rest, "\n")
	return "Grove-Signature: " + line
}
