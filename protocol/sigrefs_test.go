package protocol_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

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

func TestSigrefsV3(t *testing.T) {
	k, other := testKey(t, 1), testKey(t, 2)
	rid, _ := protocol.RIDFromOID(emptyBlob)
	at := time.Unix(1795607761, 900_000_000)
	want := "grove sigrefs v3\nrid " + ridString(t, emptyBlob) + "\nparent none\nrefs " + oidB + "\ntime 1795607761\n"
	if got := string(protocol.SigrefsV3Payload(rid, "", oidB, at.Unix())); got != want {
		t.Errorf("SigrefsV3Payload = %q, want %q", got, want)
	}
	sr, err := protocol.SignRefTreeAt(k, rid, oidA, oidB, at)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Version != 3 || sr.Time != 1795607761 || sr.Tree != oidB || sr.Parent != oidA {
		t.Fatalf("SignRefTreeAt = %+v", sr)
	}
	if err := sr.Verify(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		mod  func(s *protocol.SignedRefs)
	}{
		{"time", func(s *protocol.SignedRefs) { s.Time++ }},
		{"read as version 2", func(s *protocol.SignedRefs) { s.Version = 2 }},
		{"unknown version", func(s *protocol.SignedRefs) { s.Version = 4 }},
		{"tree", func(s *protocol.SignedRefs) { s.Tree = oidC }},
		{"parent", func(s *protocol.SignedRefs) { s.Parent = "" }},
		{"signer", func(s *protocol.SignedRefs) { s.NID = other.NID() }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := sr
			tt.mod(&s)
			if err := s.Verify(); !errors.Is(err, protocol.ErrBadSignature) {
				t.Errorf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestSameRevision(t *testing.T) {
	k := testKey(t, 1)
	rid, _ := protocol.RIDFromOID(emptyBlob)
	v2, _ := protocol.SignRefTree(k, rid, oidA, oidB)
	v3, _ := protocol.SignRefTreeAt(k, rid, oidA, oidB, time.Unix(100, 0))
	v1, _ := protocol.SignRefs(k, rid, oidA, testRefs())
	tests := []struct {
		name string
		a, b protocol.SignedRefs
		want bool
	}{
		{"itself", v3, v3, true},
		{"version 2 twin", v2, v2, true},
		{"version 1 twin", v1, v1, true},
		{"versions differ", v2, v3, false},
		{"times differ", v3, with(v3, func(s *protocol.SignedRefs) { s.Time++ }), false},
		{"parents differ", v2, with(v2, func(s *protocol.SignedRefs) { s.Parent = oidC }), false},
		{"trees differ", v2, with(v2, func(s *protocol.SignedRefs) { s.Tree = oidC }), false},
		{"lists differ", v1, with(v1, func(s *protocol.SignedRefs) { s.Refs = s.Refs[1:] }), false},
		{"owners differ", v2, with(v2, func(s *protocol.SignedRefs) { s.NID = testKey(t, 2).NID() }), false},
		{"nothing held", v2, protocol.SignedRefs{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.SameRevision(tt.b); got != tt.want {
				t.Errorf("SameRevision = %v, want %v", got, tt.want)
			}
		})
	}
}

func with(s protocol.SignedRefs, mod func(*protocol.SignedRefs)) protocol.SignedRefs {
	mod(&s)
	return s
}
