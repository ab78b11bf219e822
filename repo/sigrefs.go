package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// Entries of a sigrefs commit's tree: "refs" is the signed ref tree
// (version 2; a blob of the encoded list in version 1) and "signature" the
// owner's signature.
const (
	sigrefsRefsFile = "refs"
	sigrefsSigFile  = "signature"
)

// maxSignature bounds the signature blob read from a peer.
const maxSignature = protocol.MaxSignature

// ErrNotCanonical is returned for a version 3 sigrefs commit that is not
// in the one encoding its signed contents give: a re-wrap of a signed
// revision.
var ErrNotCanonical = errors.New("signed refs commit is not in its canonical form")

func gitSignature(n protocol.NID, now time.Time) gitstore.Sig {
	return gitstore.Sig{Name: n.String(), Email: n.String() + "@grove", When: now}
}

// sigrefsMessage is the message of every version 3 sigrefs commit; older
// versions wrote "grove sigrefs\n" and signed neither it nor the date.
const sigrefsMessage = "grove sigrefs v3\n"

// sigrefsCommit is the one encoding of a version 3 sigrefs commit: the
// owner as author and committer at the signed time, in UTC, and a fixed
// message. Nothing in it is left unsigned, so nobody can wrap a signed
// revision in a second commit with another oid.
func sigrefsCommit(nid protocol.NID, top, parent string, t int64) *gitstore.Commit {
	who := gitstore.Sig{Name: nid.String(), Email: nid.String() + "@grove", When: time.Unix(t, 0).UTC()}
	c := &gitstore.Commit{Author: who, Committer: who, Message: sigrefsMessage, Tree: top}
	if parent != "" {
		c.Parents = []string{parent}
	}
	return c
}

// sigrefsTree is the one encoding of a sigrefs commit's tree.
func sigrefsTree(refs, sig string) []protocol.TreeEntry {
	return []protocol.TreeEntry{
		{Mode: protocol.ModeTree, Name: sigrefsRefsFile, OID: refs},
		{Mode: 0o100644, Name: sigrefsSigFile, OID: sig},
	}
}

// writeSigrefs writes the version 3 sigrefs commit that signs ref tree
// tree as the successor of parent.
func (r *Repo) writeSigrefs(s protocol.Signer, tree, parent string, now time.Time) (string, error) {
	sr, err := protocol.SignRefTreeAt(s, r.RID, parent, tree, now)
	if err != nil {
		return "", err
	}
	sig, err := r.WriteObject("blob", sr.Signature)
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	top, err := r.writeTreeEntries(sigrefsTree(tree, sig))
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	h, err := r.writeCommit(sigrefsCommit(s.NID(), top, parent, sr.Time))
	if err != nil {
		return "", fmt.Errorf("write sigrefs: %w", err)
	}
	return h, nil
}

// sigrefsTime reads the committer date of a version 3 sigrefs commit, or
// reports that it has none in the form sigrefsCommit writes.
func sigrefsTime(data []byte) (int64, bool) {
	_, line, ok := bytes.Cut(data, []byte("\ncommitter "))
	if !ok {
		return 0, false
	}
	line, _, _ = bytes.Cut(line, []byte("\n"))
	i := bytes.LastIndex(line, []byte("> "))
	if i < 0 {
		return 0, false
	}
	ts, zone, _ := bytes.Cut(line[i+2:], []byte(" "))
	t, err := strconv.ParseInt(string(ts), 10, 64)
	return t, err == nil && t >= 0 && string(zone) == "+0000"
}

// readSigrefsHead reads nid's sigrefs commit oid and verifies its
// signature: nid's, over this project, this commit's parent and its refs
// (and in version 3 its time, with the commit and its tree in their one
// encoding). For versions 2 and 3 the refs are the ref tree's oid
// (SignedRefs.Tree) and are not listed (ReadSigrefs does that); version 1
// carries its list.
func (r *Repo) readSigrefsHead(nid protocol.NID, oid string) (protocol.SignedRefs, error) {
	fail := func(err error) (protocol.SignedRefs, error) {
		return protocol.SignedRefs{}, fmt.Errorf("sigrefs %.7s: %w", oid, err)
	}
	if !protocol.ValidOID(oid) {
		return fail(ErrNotFound)
	}
	kind, data, err := r.ReadObject(oid, maxCommitObject)
	if err != nil {
		return fail(err)
	}
	if kind != "commit" {
		return fail(fmt.Errorf("%.7s is a %s, not a commit", oid, kind))
	}
	c, err := gitstore.ParseCommit(data)
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
	if c.Message == sigrefsMessage {
		// Version 3: the commit and its tree must be exactly as
		// sigrefsCommit and sigrefsTree make them from what is signed.
		t, ok := sigrefsTime(data)
		if !ok || len(es) != 2 || es[0] != sigrefsTree(es[0].OID, es[1].OID)[0] ||
			es[1] != sigrefsTree(es[0].OID, es[1].OID)[1] ||
			!bytes.Equal(data, sigrefsCommit(nid, c.Tree, sr.Parent, t).Encode()) {
			return fail(ErrNotCanonical)
		}
		sr.Version, sr.Tree, sr.Time = 3, es[0].OID, t
		if _, sr.Signature, err = r.readBlob(es[1].OID, maxSignature); err != nil {
			return fail(err)
		}
		if err := sr.Verify(); err != nil {
			return fail(err)
		}
		return sr, nil
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
		sr.Version, sr.Tree = 2, refs.OID
	case 0o100644:
		_, list, err := r.readBlob(refs.OID, protocol.MaxRefList)
		if err != nil {
			return fail(err)
		}
		if sr.Refs, err = protocol.ParseRefList(list); err != nil {
			return fail(err)
		}
		sr.Version = 1
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

// ErrSameRevision is returned for an arriving sigrefs commit that signs
// exactly what the stored one signs, wrapped in another commit (possible
// for versions 1 and 2, which did not sign the commit's date): nothing to
// take, and nothing wrong with the peer.
var ErrSameRevision = errors.New("signs the same refs as ours")

// VerifySigrefsUpdate checks a proposed move of nid's sigrefs from old ("" if
// none) to newer, as a receiver must before accepting a namespace from any
// peer: every revision from newer back to old is signed by nid for this
// project, and newer descends from old (no rollback, no fork). It returns
// the newest signed refs, whose list the caller then matches against the
// refs that arrived.
//
// Revisions are compared by what they sign, not only by oid: a history
// that passes through another wrapping of old is a successor, so a
// namespace that took a re-wrapped revision (versions 1 and 2) moves on
// when its owner's next revision arrives. Such a wrapping of old itself
// is ErrSameRevision.
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
	// What we hold was verified when it landed; if it no longer reads,
	// only its oid can be met.
	held, _ := r.readSigrefsHead(nid, old)
	if tip.SameRevision(held) {
		return tip, ErrSameRevision
	}
	ok, err := r.sigrefsReach(ctx, nid, tip.Parent, old, held)
	if err != nil {
		return protocol.SignedRefs{}, err
	}
	if !ok {
		return protocol.SignedRefs{}, fmt.Errorf("%w: %.7s is not a successor of %.7s", protocol.ErrRollback, newer, old)
	}
	return tip, nil
}

// sigrefsReach walks nid's sigrefs history from oid back to the first
// revision, verifying each, and reports whether it meets the revision
// target: its oid, or another commit that signs the same (targetSR).
func (r *Repo) sigrefsReach(ctx context.Context, nid protocol.NID, oid, target string, targetSR protocol.SignedRefs) (bool, error) {
	for i := 0; oid != ""; i++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if i > maxSigrefsChain {
			return false, fmt.Errorf("signed refs history longer than %d", maxSigrefsChain)
		}
		if oid == target {
			return true, nil
		}
		sr, err := r.readSigrefsHead(nid, oid)
		if err != nil {
			return false, err
		}
		if sr.SameRevision(targetSR) {
			return true, nil
		}
		oid = sr.Parent
	}
	return false, nil
}
