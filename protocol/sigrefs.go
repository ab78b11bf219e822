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
// chained to the previous list.
type SignedRefs struct {
	RID       RID
	NID       NID
	Parent    string // oid of the previous sigrefs commit, "" for the first
	Refs      RefList
	Signature []byte
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

// Verify checks the signature with the namespace's NID.
func (s SignedRefs) Verify() error {
	if !s.NID.Verify(SigrefsPayload(s.RID, s.Parent, s.Refs.Encode()), s.Signature) {
		return fmt.Errorf("%w on refs of %s", ErrBadSignature, s.NID)
	}
	return nil
}
