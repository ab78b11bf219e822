package protocol

import (
	"bytes"
	"errors"
	"fmt"
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
// chained to the previous list. Version 2 signs the oid of a signed ref
// tree (Tree); version 1 signed the encoded list itself.
type SignedRefs struct {
	RID       RID
	NID       NID
	Parent    string // oid of the previous sigrefs commit, "" for the first
	Tree      string // version 2: oid of the ref tree; "" for version 1
	Refs      RefList
	Signature []byte
}

// SigrefsTreePayload returns the bytes a namespace owner signs in version
// 2: the ref tree's oid stands for every ref in it.
func SigrefsTreePayload(rid RID, parent, tree string) []byte {
	if parent == "" {
		parent = "none"
	}
	return fmt.Appendf(nil, "grove sigrefs v2\nrid %s\nparent %s\nrefs %s\n", rid, parent, tree)
}

// SignRefTree signs the ref tree tree for rid as the successor of parent.
func SignRefTree(s Signer, rid RID, parent, tree string) (SignedRefs, error) {
	if !ValidOID(tree) {
		return SignedRefs{}, fmt.Errorf("sign refs: bad tree oid %q", tree)
	}
	sig, err := s.Sign(SigrefsTreePayload(rid, parent, tree))
	if err != nil {
		return SignedRefs{}, fmt.Errorf("sign refs: %w", err)
	}
	return SignedRefs{RID: rid, NID: s.NID(), Parent: parent, Tree: tree, Signature: sig}, nil
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
	return SignedRefs{RID: rid, NID: s.NID(), Parent: parent, Refs: refs, Signature: sig}, nil
}

// Verify checks the signature with the namespace's NID. For version 2 it
// does not look at Refs: whoever reads the tree must check the refs in it
// are the tree's.
func (s SignedRefs) Verify() error {
	payload := SigrefsTreePayload(s.RID, s.Parent, s.Tree)
	if s.Tree == "" {
		payload = SigrefsPayload(s.RID, s.Parent, s.Refs.Encode())
	}
	if !s.NID.Verify(payload, s.Signature) {
		return fmt.Errorf("%w on refs of %s", ErrBadSignature, s.NID)
	}
	return nil
}
