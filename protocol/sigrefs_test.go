package protocol_test

import (
	"errors"
	"fmt"
	"testing"

	"example.com/grove/protocol"
)

func testRefs() protocol.RefList {
	return protocol.NewRefList(map[string]string{
		"refs/grove/id":   oidA,
		"refs/heads/main": oidB,
		"refs/tags/v1":    oidC,
	})
}

func TestSigrefsPayload(t *testing.T) {
	rid, err := protocol.RIDFromOID(emptyBlob)
	if err != nil {
		t.Fatal(err)
	}
	refs := testRefs().Encode()
	want := "grove sigrefs v1\nrid " + ridString(t, emptyBlob) + "\nparent none\n\n" + string(refs)
	if got := string(protocol.SigrefsPayload(rid, "", refs)); got != want {
		t.Errorf("SigrefsPayload(no parent) = %q, want %q", got, want)
	}
	want = "grove sigrefs v1\nrid " + ridString(t, emptyBlob) + "\nparent " + oidA + "\n\n" + string(refs)
	if got := string(protocol.SigrefsPayload(rid, oidA, refs)); got != want {
		t.Errorf("SigrefsPayload = %q, want %q", got, want)
	}
}

func TestSignedRefsVerify(t *testing.T) {
	k, other := testKey(t, 1), testKey(t, 2)
	rid, _ := protocol.RIDFromOID(emptyBlob)
	rid2, _ := protocol.RIDFromOID(oidA)
	sr, err := protocol.SignRefs(k, rid, oidC, testRefs())
	if err != nil {
		t.Fatal(err)
	}
	if !sr.NID.Equal(k.NID()) || sr.RID != rid || sr.Parent != oidC {
		t.Fatalf("SignRefs = %+v", sr)
	}
	otherSigned, err := protocol.SignRefs(other, rid, oidC, testRefs())
	if err != nil {
		t.Fatal(err)
	}
	first, err := protocol.SignRefs(k, rid, "", testRefs())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		mod     func(s *protocol.SignedRefs)
		wantErr error
	}{
		{name: "ok", mod: func(*protocol.SignedRefs) {}},
		{name: "wrong key", mod: func(s *protocol.SignedRefs) { s.NID = other.NID() }, wantErr: protocol.ErrBadSignature},
		{name: "signed by another key", mod: func(s *protocol.SignedRefs) { s.Signature = otherSigned.Signature }, wantErr: protocol.ErrBadSignature},
		{name: "zero NID", mod: func(s *protocol.SignedRefs) { s.NID = protocol.NID{} }, wantErr: protocol.ErrBadSignature},
		{name: "moved ref", mod: func(s *protocol.SignedRefs) { s.Refs[1].OID = oidA }, wantErr: protocol.ErrBadSignature},
		{name: "renamed ref", mod: func(s *protocol.SignedRefs) { s.Refs[1].Name = "refs/heads/evil" }, wantErr: protocol.ErrBadSignature},
		{name: "dropped ref", mod: func(s *protocol.SignedRefs) { s.Refs = s.Refs[:2] }, wantErr: protocol.ErrBadSignature},
		{name: "added ref", mod: func(s *protocol.SignedRefs) {
			s.Refs = append(s.Refs, protocol.Ref{Name: "refs/tags/v2", OID: oidA})
		}, wantErr: protocol.ErrBadSignature},
		{name: "other parent", mod: func(s *protocol.SignedRefs) { s.Parent = oidB }, wantErr: protocol.ErrBadSignature},
		{name: "no parent", mod: func(s *protocol.SignedRefs) { s.Parent = "" }, wantErr: protocol.ErrBadSignature},
		{name: "first list given a parent", mod: func(s *protocol.SignedRefs) {
			s.Signature = first.Signature
		}, wantErr: protocol.ErrBadSignature},
		{name: "replayed into another project", mod: func(s *protocol.SignedRefs) { s.RID = rid2 }, wantErr: protocol.ErrBadSignature},
		{name: "flipped bit", mod: func(s *protocol.SignedRefs) { s.Signature[10] ^= 0x20 }, wantErr: protocol.ErrBadSignature},
		{name: "truncated signature", mod: func(s *protocol.SignedRefs) { s.Signature = s.Signature[:63] }, wantErr: protocol.ErrBadSignature},
		{name: "no signature", mod: func(s *protocol.SignedRefs) { s.Signature = nil }, wantErr: protocol.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sr
			s.Refs = append(protocol.RefList(nil), sr.Refs...)
			s.Signature = append([]byte(nil), sr.Signature...)
			tt.mod(&s)
			if err := s.Verify(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := first.Verify(); err != nil {
		t.Errorf("first list: %v", err)
	}
	empty, err := protocol.SignRefs(k, rid, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Verify(); err != nil {
		t.Errorf("empty list: %v", err)
	}
}

func BenchmarkSignedRefsVerify(b *testing.B) {
	k := testKey(b, 1)
	rid, _ := protocol.RIDFromOID(emptyBlob)
	m := make(map[string]string, 100)
	for i := range 100 {
		m[fmt.Sprintf("refs/heads/branch-%03d", i)] = fmt.Sprintf("%040x", i)
	}
	sr, err := protocol.SignRefs(k, rid, oidA, protocol.NewRefList(m))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := sr.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
