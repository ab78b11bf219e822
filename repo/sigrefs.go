package repo

import (
	"context"
	"fmt"
	"maps"
	"time"

	"example.com/grove/protocol"
)

// Entries of a sigrefs commit's tree: "refs" is the signed ref tree
// (version 2; a blob of the encoded list in version 1) and "signature" the
// owner's signature.
const (
	sigrefsRefsFile = "refs"
	sigrefsSigFile  = "signature"
)

// maxSignature bounds the signature blob read from a peer.
const maxSignature = 1024

func gitSignature(n protocol.NID, now time.Time) gitSig {
	return gitSig{Name: n.String(), Email: n.String() + "@grove", When: now}
}

// writeSigrefs writes the version 2 sigrefs commit that signs ref tree
// tree as the successor of parent.
func (r *Repo) writeSigrefs(s protocol.Signer, tree, parent string, now time.Time) (string, error) {
	sr, err := protocol.SignRefTree(s, r.RID, parent, tree)
	if err != nil {
		return "", err
	}
	sig, err := r.WriteObject("blob", sr.Signature)
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	top, err := r.writeTreeEntries([]protocol.TreeEntry{
		{Mode: protocol.ModeTree, Name: sigrefsRefsFile, OID: tree},
		{Mode: 0o100644, Name: sigrefsSigFile, OID: sig},
	})
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	c := &gitCommit{
		Author:    gitSignature(s.NID(), now),
		Committer: gitSignature(s.NID(), now),
		Message:   "grove sigrefs\n",
		Tree:      top,
	}
	if parent != "" {
		c.Parents = []string{parent}
	}
	h, err := r.writeCommit(c)
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	return h, nil
}

// readSigrefsHead reads nid's sigrefs commit oid and verifies its
// signature: nid's, over this project, this commit's parent and its refs.
// For version 2 the refs are the ref tree's oid (SignedRefs.Tree) and are
// not listed (ReadSigrefs does that); version 1 carries its list.
func (r *Repo) readSigrefsHead(nid protocol.NID, oid string) (protocol.SignedRefs, error) {
	fail := func(err error) (protocol.SignedRefs, error) {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %.7s: %w", oid, err)
	}
	if !protocol.ValidOID(oid) {
		return fail(ErrNotFound)
	}
	c, err := r.readCommitObject(oid)
	if err != nil {
		return fail(err)
	}
	if len(c.Parents) > 1 {
		return fail(fmt.Errorf("%d parents", len(c.Parents)))
	}
	es, err := r.readTree(c.Tree)
	if err != nil {
		return fail(err)
	}
	sr := protocol.SignedRefs{RID: r.RID, NID: nid}
	if len(c.Parents) == 1 {
		sr.Parent = c.Parents[0]
	}
	var refs, sig *protocol.TreeEntry
	for i, e := range es {
		switch e.Name {
		case sigrefsRefsFile:
			refs = &es[i]
		case sigrefsSigFile:
			sig = &es[i]
		}
	}
	if refs == nil || sig == nil || sig.Mode != 0o100644 {
		return fail(fmt.Errorf("want a %q tree and a %q file", sigrefsRefsFile, sigrefsSigFile))
	}
	if _, sr.Signature, err = r.readBlob(sig.OID, maxSignature); err != nil {
		return fail(err)
	}
	switch refs.Mode {
	case protocol.ModeTree:
		sr.Tree = refs.OID
	case 0o100644: // version 1
		_, list, err := r.readBlob(refs.OID, protocol.MaxRefList)
		if err != nil {
			return fail(err)
		}
		if sr.Refs, err = protocol.ParseRefList(list); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("%q has mode %o", sigrefsRefsFile, refs.Mode))
	}
	if err := sr.Verify(); err != nil {
		return fail(err)
	}
	return sr, nil
}

func (r *Repo) readBlob(oid string, limit int64) (string, []byte, error) {
	kind, data, err := r.ReadObject(oid, limit)
	if err == nil && kind != "blob" {
		err = fmt.Errorf("%.7s is a %s, not a blob", oid, kind)
	}
	return kind, data, err
}

// ReadSigrefs reads and verifies nid's sigrefs commit oid: the signature
// must be nid's, over this project, these refs and this commit's parent.
// The returned Refs are every ref it signs.
func (r *Repo) ReadSigrefs(nid protocol.NID, oid string) (protocol.SignedRefs, error) {
	sr, err := r.readSigrefsHead(nid, oid)
	if err != nil || sr.Tree == "" {
		return sr, err
	}
	if sr.Refs, err = r.readRefTree(sr.Tree); err != nil {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %.7s: %w", oid, err)
	}
	return sr, nil
}

// resign returns the update that moves s's sigrefs from prev ("" for none)
// to sign the namespace's refs after changes (name → oid, "" for removed;
// the sigrefs ref itself is ignored). It returns no update when nothing
// signed changes. Only the changed refs are touched: prev's ref tree is
// edited, which is what keeps a change cheap in a namespace of many refs.
func (r *Repo) resign(s protocol.Signer, prev string, changes map[string]string, now time.Time) (*RefUpdate, error) {
	if _, ok := changes[protocol.SigrefsRef]; ok {
		changes = maps.Clone(changes)
		delete(changes, protocol.SigrefsRef)
	}
	var base string
	if prev != "" {
		old, err := r.readSigrefsHead(s.NID(), prev)
		if err != nil {
			return nil, err
		}
		base = old.Tree
		if base == "" { // version 1: its list is the whole state
			full := old.Refs.Map()
			for name, oid := range changes {
				if oid == "" {
					delete(full, name)
				} else {
					full[name] = oid
				}
			}
			changes = full
		}
	}
	tree, err := r.editRefTree(base, changes)
	if err != nil {
		return nil, err
	}
	if tree == base {
		return nil, nil
	}
	oid, err := r.writeSigrefs(s, tree, prev, now)
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
		sr, err := r.readSigrefsHead(nid, oid)
		if err != nil {
			return protocol.SignedRefs{}, err
		}
		oid = sr.Parent
	}
}
