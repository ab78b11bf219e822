package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// SigrefsRef is the ref, inside a namespace, of its signed ref list.
const SigrefsRef = "refs/grove/sigrefs"

// IdentityRef is the ref, inside a namespace, of the identity document as
// that namespace's owner has it.
const IdentityRef = "refs/grove/id"

// Errors returned when verifying signed refs.
var (
	ErrBadSignature = errors.New("bad signature")
	ErrRollback     = errors.New("signed refs do not descend from the ones we have")
)

// SignedRefs is a namespace's ref list signed by its owner for one project,
// chained to the previous list. Version 3 signs the oid of a signed ref
// tree (Tree) and the time of signing, and its commit has exactly one
// encoding, so its oid follows from what is signed; version 2 signed the
// tree without the time, version 1 the encoded list itself. Versions 1
// and 2 are only read.
type SignedRefs struct {
	RID       RID
	NID       NID
	Version   int    // 1, 2 or 3
	Parent    string // oid of the previous sigrefs commit, "" for the first
	Tree      string // versions 2 and 3: oid of the ref tree; "" for version 1
	Time      int64  // version 3: when the owner signed, in Unix seconds
	Refs      RefList
	Signature []byte
}

// SigrefsV3Payload returns the bytes a namespace owner signs in version
// 3: the ref tree's oid stands for every ref in it, and the time fixes the
// one date the commit may carry.
func SigrefsV3Payload(rid RID, parent, tree string, t int64) []byte {
	if parent == "" {
		parent = "none"
	}
	return fmt.Appendf(nil, "grove sigrefs v3\nrid %s\nparent %s\nrefs %s\ntime %d\n", rid, parent, tree, t)
}

// SignRefTreeAt signs, in version 3, the ref tree tree for rid as the
// successor of parent, at time now (kept to the second).
func SignRefTreeAt(s Signer, rid RID, parent, tree string, now time.Time) (SignedRefs, error) {
	if !ValidOID(tree) {
		return SignedRefs{}, fmt.Errorf("sign refs: bad tree oid %q", tree)
	}
	t := max(now.Unix(), 0)
	sig, err := s.Sign(SigrefsV3Payload(rid, parent, tree, t))
	if err != nil {
		return SignedRefs{}, fmt.Errorf("sign refs: %w", err)
	}
	return SignedRefs{RID: rid, NID: s.NID(), Version: 3, Parent: parent, Tree: tree, Time: t, Signature: sig}, nil
}

// SameRevision reports whether s and o sign the same thing: the same
// project, namespace, parent and refs (and, in version 3, time). Two
// version 1 or 2 commits can sign the same thing and still differ in what
// is not signed (date, author, message), so revisions are compared by
// this, not by commit oid.
func (s SignedRefs) SameRevision(o SignedRefs) bool {
	if s.version() != o.version() || s.RID != o.RID || !s.NID.Equal(o.NID) || s.Parent != o.Parent ||
		s.Tree != o.Tree || s.Time != o.Time {
		return false
	}
	return s.Tree != "" || bytes.Equal(s.Refs.Encode(), o.Refs.Encode())
}

func (s SignedRefs) version() int {
	switch {
	case s.Version != 0:
		return s.Version
	case s.Tree == "":
		return 1
	}
	return 2
}

// SigrefsTreePayload returns the bytes a namespace owner signs in version
// 2: the ref tree's oid stands for every ref in it.
func SigrefsTreePayload(rid RID, parent, tree string) []byte {
	if parent == "" {
		parent = "none"
	}
	return fmt.Appendf(nil, "grove sigrefs v2\nrid %s\nparent %s\nrefs %s\n", rid, parent, tree)
}

// SignRefTree signs, in version 2, the ref tree tree for rid as the
// successor of parent. Grove writes version 3 (SignRefTreeAt); this stays
// for tests of stores written before.
func SignRefTree(s Signer, rid RID, parent, tree string) (SignedRefs, error) {
	if !ValidOID(tree) {
		return SignedRefs{}, fmt.Errorf("sign refs: bad tree oid %q", tree)
	}
	sig, err := s.Sign(SigrefsTreePayload(rid, parent, tree))
	if err != nil {
		return SignedRefs{}, fmt.Errorf("sign refs: %w", err)
	}
	return SignedRefs{RID: rid, NID: s.NID(), Version: 2, Parent: parent, Tree: tree, Signature: sig}, nil
}

// SigrefsPayload returns the bytes a namespace owner signs.
func SigrefsPayload(rid RID, parent string, refs []byte) []byte {
	if parent == "" {
		parent = "none"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "grove sigrefs v1\nrid %s\nparent %s\n\n", rid, parent)
	b.Write(refs)
	return b.Bytes()
}

// SignRefs signs refs for rid as the successor of parent.
func SignRefs(s Signer, rid RID, parent string, refs RefList) (SignedRefs, error) {
	sig, err := s.Sign(SigrefsPayload(rid, parent, refs.Encode()))
	if err != nil {
		return SignedRefs{}, fmt.Errorf("sign refs: %w", err)
	}
	return SignedRefs{RID: rid, NID: s.NID(), Version: 1, Parent: parent, Refs: refs, Signature: sig}, nil
}

// Verify checks the signature with the namespace's NID. For versions 2
// and 3 it does not look at Refs: whoever reads the tree must check the
// refs in it are the tree's.
func (s SignedRefs) Verify() error {
	var payload []byte
	switch s.version() {
	case 1:
		payload = SigrefsPayload(s.RID, s.Parent, s.Refs.Encode())
	case 2:
		payload = SigrefsTreePayload(s.RID, s.Parent, s.Tree)
	case 3:
		payload = SigrefsV3Payload(s.RID, s.Parent, s.Tree, s.Time)
	default:
		return fmt.Errorf("%w: unknown signed refs version %d", ErrBadSignature, s.Version)
	}
	if !s.NID.Verify(payload, s.Signature) {
		return fmt.Errorf("%w on refs of %s", ErrBadSignature, s.NID)
	}
	return nil
}
