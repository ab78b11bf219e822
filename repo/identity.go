package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// ErrExists is returned when creating something that is already there.
var ErrExists = errors.New("already exists")

// maxIdentityChain bounds how many identity revisions are walked.
const maxIdentityChain = protocol.MaxIdentityChain

// identityMessage starts the message of every version 2 identity commit;
// version 1 wrote "Create NAME" or "Update NAME" and signed neither it nor
// the date.
const identityMessage = "grove identity v2\n"

// identityCommit is the one encoding of a version 2 identity commit: the
// first signer as author and committer at the signed time, in UTC, and a
// fixed message carrying the signatures, sorted by NID. Nothing in it is
// left unsigned, so nobody can wrap a signed document in a second commit
// (for a root, that would be a second project with the same delegates).
func identityCommit(tree string, parents []string, t int64, sigs []protocol.IdentitySignature) *gitstore.Commit {
	sigs = slices.Clone(sigs)
	slices.SortFunc(sigs, func(a, b protocol.IdentitySignature) int { return strings.Compare(a.NID.String(), b.NID.String()) })
	msg := identityMessage + "\n"
	for _, s := range sigs {
		msg += s.Trailer() + "\n"
	}
	var who gitstore.Sig
	if len(sigs) > 0 {
		n := sigs[0].NID.String()
		who = gitstore.Sig{Name: n, Email: n + "@grove", When: time.Unix(t, 0).UTC()}
	}
	return &gitstore.Commit{Author: who, Committer: who, Message: msg, Tree: tree, Parents: parents}
}

// writeIdentity stores a version 2 identity commit for doc with the given
// parents, signed by s.
func (r *Repo) writeIdentity(s protocol.Signer, doc *protocol.Identity, parents []string, now time.Time) (string, error) {
	data, err := doc.Encode()
	if err != nil {
		return "", err
	}
	tree, err := r.writeTree(map[string][]byte{protocol.IdentityFile: data})
	if err != nil {
		return "", fmt.Errorf("write identity: %w", err)
	}
	t := max(now.Unix(), 0)
	sig, err := s.Sign(protocol.IdentityPayloadV2(tree, parents, t))
	if err != nil {
		return "", fmt.Errorf("sign identity: %w", err)
	}
	h, err := r.writeCommit(identityCommit(tree, parents, t, []protocol.IdentitySignature{{NID: s.NID(), Signature: sig}}))
	if err != nil {
		return "", fmt.Errorf("write identity: %w", err)
	}
	return h, nil
}

// identityPayload returns what the signatures of identity commit c (whose
// bytes are data) must sign: version 2 when its message says so, and then
// only if the commit is in its one encoding and each signature is by
// another of delegates (a trailer that does not count would still change
// the oid); version 1 otherwise.
func identityPayload(c *gitstore.Commit, data []byte, sigs []protocol.IdentitySignature, delegates []protocol.NID) ([]byte, error) {
	if !strings.HasPrefix(c.Message, identityMessage) {
		return protocol.IdentityPayload(c.Tree, c.Parents), nil
	}
	t, ok := sigrefsTime(data)
	if !ok || !bytes.Equal(data, identityCommit(c.Tree, c.Parents, t, sigs).Encode()) {
		return nil, fmt.Errorf("%w: identity commit is not in its canonical form", protocol.ErrInvalidIdentity)
	}
	for i, s := range sigs {
		if !slices.ContainsFunc(delegates, s.NID.Equal) || i > 0 && sigs[i-1].NID.Equal(s.NID) {
			return nil, fmt.Errorf("%w: identity commit carries a signature by %s that does not count", protocol.ErrInvalidIdentity, s.NID)
		}
	}
	return protocol.IdentityPayloadV2(c.Tree, c.Parents, t), nil
}

// VerifyIdentity walks the identity history ending at tip back to the
// project's root and checks every revision: the root is the RID, each
// document is canonical and valid, the root is signed by its own threshold
// of delegates and every later revision by the threshold of the previous
// revision's delegates. It returns the document at tip and the number of
// revisions.
func (r *Repo) VerifyIdentity(tip string) (*protocol.Identity, int, error) {
	var chain []string
	for oid := tip; ; {
		chain = append(chain, oid)
		if oid == r.RID.OID() {
			break
		}
		if len(chain) > maxIdentityChain {
			return nil, 0, fmt.Errorf("identity history longer than %d revisions", maxIdentityChain)
		}
		c, err := r.readCommitObject(oid)
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		if len(c.Parents) != 1 {
			return nil, 0, fmt.Errorf("identity %s does not descend from the project's root %s", oid, r.RID.OID())
		}
		oid = c.Parents[0]
	}
	var prev *protocol.Identity
	for i := len(chain) - 1; i >= 0; i-- {
		oid := chain[i]
		c, raw, files, err := r.readCommitRaw(oid, protocol.MaxIdentity)
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		doc, err := protocol.ParseIdentity(files[protocol.IdentityFile])
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		sigs, err := protocol.ParseIdentitySignatures(c.Message)
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		signers := doc
		if prev != nil {
			signers = prev
		}
		payload, err := identityPayload(c, raw, sigs, signers.Delegates)
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		if err := protocol.VerifyIdentityBy(payload, sigs, signers); err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		prev = doc
	}
	return prev, len(chain), nil
}

// Identity returns the project's current identity document and the oid of
// its commit: the longest valid identity history any namespace holds.
func (r *Repo) Identity(ctx context.Context) (*protocol.Identity, string, error) {
	// Only each namespace's identity ref: listing every ref would read
	// every collaborative object's ref file too.
	all, err := r.identityRefs()
	if err != nil {
		return nil, "", err
	}
	return r.identityOf(all)
}

// identityOf is Identity over a given set of namespaces.
func (r *Repo) identityOf(all map[string]map[string]string) (*protocol.Identity, string, error) {
	var (
		best    *protocol.Identity
		bestOID string
		bestLen int
		lastErr error
	)
	for _, refs := range all {
		tip := refs[protocol.IdentityRef]
		if tip == "" {
			continue
		}
		doc, n, err := r.VerifyIdentity(tip)
		if err != nil {
			lastErr = err
			continue
		}
		if n > bestLen || n == bestLen && tip < bestOID {
			best, bestOID, bestLen = doc, tip, n
		}
	}
	if best == nil {
		// A fresh clone may hold only the root.
		if doc, _, err := r.VerifyIdentity(r.RID.OID()); err == nil {
			return doc, r.RID.OID(), nil
		}
		if lastErr != nil {
			return nil, "", lastErr
		}
		return nil, "", fmt.Errorf("identity of %s: %w", r.RID, ErrNotFound)
	}
	return best, bestOID, nil
}

// Create makes a new project in h from doc, signed by s: a storage holding
// the root identity commit in s's namespace, its signed refs, and HEAD at
// the default branch. The storage appears under its RID only when complete.
func Create(ctx context.Context, h Home, s protocol.Signer, doc *protocol.Identity, now time.Time) (*Repo, error) {
	if !doc.IsDelegate(s.NID()) {
		return nil, fmt.Errorf("create project: %s is not a delegate", s.NID())
	}
	if _, err := doc.Encode(); err != nil {
		return nil, err
	}
	if doc.Threshold != 1 {
		// The root is signed by s alone and must meet its own threshold.
		return nil, fmt.Errorf("%w: a new project is signed by one delegate, so its threshold must be 1, not %d", protocol.ErrInvalidIdentity, doc.Threshold)
	}
	if err := os.MkdirAll(h.StorageDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	tmp, err := os.MkdirTemp(h.StorageDir(), ".new-*")
	if err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := initStorage(tmp, doc.DefaultBranch); err != nil {
		return nil, err
	}
	r, err := openPath(tmp, protocol.RID{})
	if err != nil {
		return nil, err
	}
	root, err := r.writeIdentity(s, doc, nil, now)
	if err != nil {
		return nil, err
	}
	if r.RID, err = protocol.RIDFromOID(root); err != nil {
		return nil, err
	}
	p := NamespacePrefix(s.NID())
	ns := map[string]string{protocol.IdentityRef: root}
	tx := []RefUpdate{{Name: p + protocol.IdentityRef, New: root}}
	r.home = h
	person, err := r.withPerson(ctx, s, nil, now)
	if err != nil {
		return nil, err
	}
	for _, u := range person {
		ns[u.Name] = u.New
		tx = append(tx, RefUpdate{Name: p + u.Name, New: u.New})
	}
	sig, err := r.resign(s, "", maps.Clone(ns), now)
	if err != nil {
		return nil, err
	}
	if err := r.UpdateRefs(ctx, append(tx, *sig)); err != nil {
		return nil, err
	}
	if err := r.setNamespaceHEAD(ctx, s.NID(), doc.DefaultBranch, ns); err != nil {
		return nil, err
	}
	final := h.ProjectPath(r.RID)
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return nil, fmt.Errorf("project %s: %w", r.RID, ErrExists)
		}
		return nil, fmt.Errorf("create storage: %w", err)
	}
	r.Path = final
	r.store = gitstore.Open(final)
	return r, nil
}

// storageConfig is the git configuration every storage gets.
const storageConfig = `
[gc]
	autoDetach = false
[uploadpack]
	allowFilter = true
[receive]
	advertisePushOptions = true
[core]
	logAllRefUpdates = false
`

// storageConfigFile is the config file initStorage writes, or (precious)
// the same file as `git config` leaves it once KeepObjects has marked it,
// byte for byte, so that KeepObjects and Precious can recognise both
// without a git process.
func storageConfigFile(precious bool) string {
	if precious {
		return "[core]\n\trepositoryformatversion = 1\n\tfilemode = true\n\tbare = true\n" + storageConfig + "[extensions]\n\tpreciousObjects = true\n"
	}
	return "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n" + storageConfig
}

// initStorage makes dir (which exists and is empty) a bare repository with
// the storage configuration, as `git init --bare` would but without a git
// process: only the files git needs, no sample hooks or description.
func initStorage(dir, branch string) error {
	if branch == "" {
		branch = "main"
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags", "hooks", "info"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create storage: %w", err)
		}
	}
	for name, data := range map[string]string{
		"HEAD":   "ref: refs/heads/" + branch + "\n",
		"config": storageConfigFile(false),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return fmt.Errorf("create storage: %w", err)
		}
	}
	return nil
}

// setNamespaceHEAD points nid's namespace HEAD at its default branch, so
// `git clone grove://RID/NID` checks it out. refs are the namespace's refs:
// while it has no such branch it has no HEAD, because a symbolic ref to
// nothing makes `git fsck` fail.
func (r *Repo) setNamespaceHEAD(ctx context.Context, nid protocol.NID, branch string, refs map[string]string) error {
	p := NamespacePrefix(nid)
	want := "ref: " + p + "refs/heads/" + branch + "\n"
	path := filepath.Join(r.Path, filepath.FromSlash(p), "HEAD")
	if refs["refs/heads/"+branch] == "" {
		if _, err := os.Lstat(path); err != nil {
			return nil
		}
		_, err := r.Git(ctx, nil, "symbolic-ref", "--delete", p+"HEAD")
		return err
	}
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	return writeSymref(path, want)
}

// UpdateIdentity writes a new revision of the identity document, signed by
// s, as the successor of the current one, and moves s's identity ref to it.
// The revision counts only if s alone meets the current threshold; otherwise
// ErrNeedsSignatures is returned and nothing changes.
func (r *Repo) UpdateIdentity(ctx context.Context, s protocol.Signer, doc *protocol.Identity, now time.Time) (string, error) {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	cur, head, err := r.Identity(ctx)
	if err != nil {
		return "", err
	}
	if !cur.IsDelegate(s.NID()) {
		return "", fmt.Errorf("%w: %s is not a delegate of %s", ErrNotDelegate, s.NID(), r.RID)
	}
	if cur.Threshold > 1 {
		return "", fmt.Errorf("%w: %d delegates must sign a change", ErrNeedsSignatures, cur.Threshold)
	}
	if a, _ := cur.Encode(); a != nil {
		if b, err := doc.Encode(); err != nil {
			return "", err
		} else if string(a) == string(b) {
			return head, nil
		}
	}
	oid, err := r.writeIdentity(s, doc, []string{head}, now)
	if err != nil {
		return "", err
	}
	refs, err := r.NamespaceRefs(ctx, s.NID())
	if err != nil {
		return "", err
	}
	up := RefUpdate{Name: protocol.IdentityRef, Old: refs[protocol.IdentityRef], New: oid}
	if err := r.updateNamespaceLocked(ctx, s, []RefUpdate{up}, now); err != nil {
		return "", err
	}
	return oid, nil
}

// Identity errors.
var (
	// ErrNotDelegate is returned when someone who is not a delegate tries
	// what only delegates may do.
	ErrNotDelegate = errors.New("not a delegate")
	// ErrNeedsSignatures is returned for an identity change that one
	// delegate cannot make alone.
	ErrNeedsSignatures = errors.New("needs more delegate signatures")
)

// IdentityOf is Identity over the given identity refs (namespace → tip of
// its identity branch), for a caller that has read them already: it lists
// no other ref.
func (r *Repo) IdentityOf(idents map[string]string) (*protocol.Identity, string, error) {
	all := make(map[string]map[string]string, len(idents))
	for ns, tip := range idents {
		if tip != "" {
			all[ns] = map[string]string{protocol.IdentityRef: tip}
		}
	}
	return r.identityOf(all)
}
