package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"example.com/grove/protocol"
)

// Files in a sigrefs commit's tree.
const (
	sigrefsRefsFile = "refs"
	sigrefsSigFile  = "signature"
)

func gitSignature(n protocol.NID, now time.Time) object.Signature {
	return object.Signature{Name: n.String(), Email: n.String() + "@grove", When: now}
}

// writeSigrefs writes the sigrefs commit that signs refs (which must not
// contain the sigrefs ref itself) as the successor of parent.
func (r *Repo) writeSigrefs(s protocol.Signer, refs protocol.RefList, parent string, now time.Time) (string, error) {
	sr, err := protocol.SignRefs(s, r.RID, parent, refs)
	if err != nil {
		return "", err
	}
	tree, err := r.writeTree(map[string][]byte{
		sigrefsRefsFile: refs.Encode(),
		sigrefsSigFile:  sr.Signature,
	})
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	c := &object.Commit{
		Author:    gitSignature(s.NID(), now),
		Committer: gitSignature(s.NID(), now),
		Message:   fmt.Sprintf("grove sigrefs\n\n%d refs\n", len(refs)),
		TreeHash:  tree,
	}
	if parent != "" {
		c.ParentHashes = []plumbing.Hash{plumbing.NewHash(parent)}
	}
	h, err := r.writeCommit(c)
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	return h.String(), nil
}

// ReadSigrefs reads and verifies nid's sigrefs commit oid: the signature
// must be nid's, over this project, this ref list and this commit's parent.
func (r *Repo) ReadSigrefs(nid protocol.NID, oid string) (protocol.SignedRefs, error) {
	c, files, err := r.readCommit(oid, protocol.MaxRefList)
	if err != nil {
		return protocol.SignedRefs{}, err
	}
	if len(c.ParentHashes) > 1 {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %s has %d parents", oid, len(c.ParentHashes))
	}
	refs, err := protocol.ParseRefList(files[sigrefsRefsFile])
	if err != nil {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %s: %w", oid, err)
	}
	sr := protocol.SignedRefs{RID: r.RID, NID: nid, Refs: refs, Signature: files[sigrefsSigFile]}
	if len(c.ParentHashes) == 1 {
		sr.Parent = c.ParentHashes[0].String()
	}
	if err := sr.Verify(); err != nil {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %s: %w", oid, err)
	}
	return sr, nil
}

// signRefs returns the update that moves nid's sigrefs to sign refs, the
// namespace's refs after the change (sigrefs itself is ignored). It returns
// no update when the current sigrefs already lists exactly refs.
func (r *Repo) signRefs(s protocol.Signer, refs map[string]string, now time.Time) (*RefUpdate, error) {
	prev := refs[protocol.SigrefsRef]
	want := make(map[string]string, len(refs))
	for k, v := range refs {
		if k != protocol.SigrefsRef {
			want[k] = v
		}
	}
	list := protocol.NewRefList(want)
	if prev != "" {
		if old, err := r.ReadSigrefs(s.NID(), prev); err == nil && string(old.Refs.Encode()) == string(list.Encode()) {
			return nil, nil
		}
	}
	oid, err := r.writeSigrefs(s, list, prev, now)
	if err != nil {
		return nil, err
	}
	return &RefUpdate{Name: NamespacePrefix(s.NID()) + protocol.SigrefsRef, Old: prev, New: oid}, nil
}

// SigrefsDescends reports whether sigrefs commit newer descends from older
// (or is it): a namespace may only move forward.
func (r *Repo) SigrefsDescends(ctx context.Context, older, newer string) (bool, error) {
	return r.IsAncestor(ctx, older, newer)
}

// VerifySigrefsUpdate checks a proposed move of nid's sigrefs from old ("" if
// none) to newer, as a receiver must before accepting a namespace from any
// peer: every revision from newer back to old is signed by nid for this
// project, and newer descends from old (no rollback, no fork). It returns
// the newest signed refs, whose list the caller then matches against the
// refs that arrived.
func (r *Repo) VerifySigrefsUpdate(ctx context.Context, nid protocol.NID, old, newer string) (protocol.SignedRefs, error) {
	tip, err := r.ReadSigrefs(nid, newer)
	if err != nil {
		return protocol.SignedRefs{}, err
	}
	if old == "" || old == newer {
		if old == "" {
			if err := r.verifySigrefsChain(ctx, nid, newer); err != nil {
				return protocol.SignedRefs{}, err
			}
		}
		return tip, nil
	}
	for i, oid := 0, tip.Parent; ; i++ {
		if err := ctx.Err(); err != nil {
			return protocol.SignedRefs{}, err
		}
		if oid == "" || i > maxSigrefsChain {
			return protocol.SignedRefs{}, fmt.Errorf("%w: %.7s is not a successor of %.7s", protocol.ErrRollback, newer, old)
		}
		if oid == old {
			return tip, nil
		}
		sr, err := r.ReadSigrefs(nid, oid)
		if err != nil {
			return protocol.SignedRefs{}, err
		}
		oid = sr.Parent
	}
}
