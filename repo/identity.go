package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"example.com/grove/protocol"
)

// ErrExists is returned when creating something that is already there.
var ErrExists = errors.New("already exists")

// maxIdentityChain bounds how many identity revisions are walked.
const maxIdentityChain = 10_000

// writeIdentity stores an identity commit for doc with the given parents,
// signed by s.
func (r *Repo) writeIdentity(s protocol.Signer, doc *protocol.Identity, parents []string, now time.Time) (string, error) {
	data, err := doc.Encode()
	if err != nil {
		return "", err
	}
	tree, err := r.writeTree(map[string][]byte{protocol.IdentityFile: data})
	if err != nil {
		return "", fmt.Errorf("write identity: %w", err)
	}
	sig, err := s.Sign(protocol.IdentityPayload(tree.String(), parents))
	if err != nil {
		return "", fmt.Errorf("sign identity: %w", err)
	}
	title := "Create " + doc.Name
	if len(parents) > 0 {
		title = "Update " + doc.Name
	}
	c := &object.Commit{
		Author:    gitSignature(s.NID(), now),
		Committer: gitSignature(s.NID(), now),
		Message:   title + "\n\n" + protocol.IdentitySignature{NID: s.NID(), Signature: sig}.Trailer() + "\n",
		TreeHash:  tree,
	}
	for _, p := range parents {
		c.ParentHashes = append(c.ParentHashes, plumbing.NewHash(p))
	}
	h, err := r.writeCommit(c)
	if err != nil {
		return "", fmt.Errorf("write identity: %w", err)
	}
	return h.String(), nil
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
		c, err := r.git.CommitObject(plumbing.NewHash(oid))
		if err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		if len(c.ParentHashes) != 1 {
			return nil, 0, fmt.Errorf("identity %s does not descend from the project's root %s", oid, r.RID.OID())
		}
		oid = c.ParentHashes[0].String()
	}
	var prev *protocol.Identity
	for i := len(chain) - 1; i >= 0; i-- {
		oid := chain[i]
		c, files, err := r.readCommit(oid, protocol.MaxIdentity)
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
		var parents []string
		for _, p := range c.ParentHashes {
			parents = append(parents, p.String())
		}
		signers := doc
		if prev != nil {
			signers = prev
		}
		payload := protocol.IdentityPayload(c.TreeHash.String(), parents)
		if err := protocol.VerifyIdentitySignatures(payload, sigs, signers.Delegates, signers.Threshold); err != nil {
			return nil, 0, fmt.Errorf("identity %s: %w", oid, err)
		}
		prev = doc
	}
	return prev, len(chain), nil
}

// Identity returns the project's current identity document and the oid of
// its commit: the longest valid identity history any namespace holds.
func (r *Repo) Identity(ctx context.Context) (*protocol.Identity, string, error) {
	all, err := r.Namespaces(ctx)
	if err != nil {
		return nil, "", err
	}
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
	if err := os.MkdirAll(h.StorageDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	tmp, err := os.MkdirTemp(h.StorageDir(), ".new-*")
	if err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if _, err := runGit(ctx, tmp, nil, "init", "--bare", "--quiet", "--initial-branch="+doc.DefaultBranch); err != nil {
		return nil, err
	}
	if err := configureStorage(ctx, tmp); err != nil {
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
	ns := map[string]string{protocol.IdentityRef: root}
	sig, err := r.signRefs(s, ns, now)
	if err != nil {
		return nil, err
	}
	p := NamespacePrefix(s.NID())
	if err := r.UpdateRefs(ctx, []RefUpdate{{Name: p + protocol.IdentityRef, New: root}, *sig}); err != nil {
		return nil, err
	}
	if err := r.setNamespaceHEAD(ctx, s.NID(), doc.DefaultBranch); err != nil {
		return nil, err
	}
	final := h.ProjectPath(r.RID)
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return nil, fmt.Errorf("project %s: %w", r.RID, ErrExists)
		}
		return nil, fmt.Errorf("create storage: %w", err)
	}
	return openPath(final, r.RID)
}

// configureStorage sets the git options every storage needs.
func configureStorage(ctx context.Context, dir string) error {
	for _, kv := range [][2]string{
		{"gc.autoDetach", "false"},         // never leave a gc running behind a command
		{"uploadpack.allowFilter", "true"}, // partial clones
		{"receive.advertisePushOptions", "true"},
		{"core.logAllRefUpdates", "false"},
	} {
		if _, err := runGit(ctx, dir, nil, "config", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// setNamespaceHEAD points nid's namespace HEAD at its default branch, so
// `git clone grove://RID/NID` checks it out.
func (r *Repo) setNamespaceHEAD(ctx context.Context, nid protocol.NID, branch string) error {
	p := NamespacePrefix(nid)
	want := "ref: " + p + "refs/heads/" + branch + "\n"
	path := filepath.Join(r.Path, filepath.FromSlash(p), "HEAD")
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	_, err := r.Git(ctx, nil, "symbolic-ref", p+"HEAD", strings.TrimSpace(strings.TrimPrefix(want, "ref: ")))
	return err
}
