package protocol_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

const otherBlob = "d670460b4b4aece5915caf5c68d12f560a9fe3e4"

func headsCases(t testing.TB) []struct {
	name    string
	in      protocol.HeadsMessage
	wantErr error
} {
	rid, err := protocol.ParseRID(ridString(t, emptyBlob))
	if err != nil {
		t.Fatal(err)
	}
	rid2, err := protocol.ParseRID(ridString(t, otherBlob))
	if err != nil {
		t.Fatal(err)
	}
	a, b := testKey(t, 1).NID(), testKey(t, 2).NID()
	if a.String() > b.String() {
		a, b = b, a
	}
	sorted := []protocol.Head{{NID: a, Sigrefs: emptyBlob}, {NID: b, Sigrefs: otherBlob}}
	digest := protocol.HeadsDigest(sorted)
	many := make([]protocol.ProjectHeads, protocol.MaxHeadsProjects+1)
	for i := range many {
		many[i].RID = rid
	}
	return []struct {
		name    string
		in      protocol.HeadsMessage
		wantErr error
	}{
		{name: "empty", in: protocol.HeadsMessage{}},
		{name: "digests", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Digest: digest}, {RID: rid2, Digest: digest}}}},
		{name: "heads", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Digest: digest, Heads: sorted}}}},
		{name: "no rid", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{Digest: digest}}}, wantErr: protocol.ErrMessage},
		{name: "rid twice", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid}, {RID: rid}}}, wantErr: protocol.ErrMessage},
		{name: "short digest", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Digest: digest[:10]}}}, wantErr: protocol.ErrMessage},
		{name: "upper-case digest", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Digest: strings.ToUpper(digest)}}}, wantErr: protocol.ErrMessage},
		{name: "unsorted heads", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Heads: []protocol.Head{sorted[1], sorted[0]}}}}, wantErr: protocol.ErrMessage},
		{name: "head twice", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Heads: []protocol.Head{sorted[0], sorted[0]}}}}, wantErr: protocol.ErrMessage},
		{name: "bad oid", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Heads: []protocol.Head{{NID: a, Sigrefs: "HEAD"}}}}}, wantErr: protocol.ErrMessage},
		{name: "no nid", in: protocol.HeadsMessage{Projects: []protocol.ProjectHeads{{RID: rid, Heads: []protocol.Head{{Sigrefs: emptyBlob}}}}}, wantErr: protocol.ErrMessage},
		{name: "too many projects", in: protocol.HeadsMessage{Projects: many}, wantErr: protocol.ErrMessage},
	}
}

func TestHeadsMessage(t *testing.T) {
	for _, tt := range headsCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := protocol.WriteHeads(&buf, &tt.in); err != nil {
				t.Fatal(err)
			}
			var got protocol.HeadsMessage
			err := protocol.ReadHeads(&buf, &got)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadHeads = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(got.Projects) != len(tt.in.Projects) {
				t.Fatalf("read %d projects, wrote %d", len(got.Projects), len(tt.in.Projects))
			}
		})
	}
}

func TestHeadsDigest(t *testing.T) {
	a, b := testKey(t, 1).NID(), testKey(t, 2).NID()
	one := []protocol.Head{{NID: a, Sigrefs: emptyBlob}, {NID: b, Sigrefs: otherBlob}}
	swapped := []protocol.Head{one[1], one[0]}
	if protocol.HeadsDigest(one) != protocol.HeadsDigest(swapped) {
		t.Error("the digest depends on the order of the heads")
	}
	moved := []protocol.Head{{NID: a, Sigrefs: otherBlob}, {NID: b, Sigrefs: otherBlob}}
	if protocol.HeadsDigest(one) == protocol.HeadsDigest(moved) {
		t.Error("the digest does not change when a head moves")
	}
	if protocol.HeadsDigest(one) == protocol.HeadsDigest(one[:1]) {
		t.Error("the digest does not change when a head goes")
	}
}

// An oversized message is refused before it is read.
func TestHeadsMessageTooLarge(t *testing.T) {
	var buf bytes.Buffer
	buf.Write([]byte{0x80, 0x80, 0x80, 0x02}) // varint 4 MiB
	var m protocol.HeadsMessage
	if err := protocol.ReadHeads(&buf, &m); !errors.Is(err, protocol.ErrMessage) {
		t.Fatalf("ReadHeads of a 4 MiB length = %v, want ErrMessage", err)
	}
}

func FuzzReadHeads(f *testing.F) {
	for _, tt := range headsCases(f) {
		var buf bytes.Buffer
		if err := protocol.WriteHeads(&buf, &tt.in); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m protocol.HeadsMessage
		if err := protocol.ReadHeads(bytes.NewReader(b), &m); err != nil {
			return
		}
		var buf bytes.Buffer
		if err := protocol.WriteHeads(&buf, &m); err != nil {
			t.Fatalf("write back %x: %v", b, err)
		}
		var again protocol.HeadsMessage
		if err := protocol.ReadHeads(&buf, &again); err != nil {
			t.Fatalf("round trip %x: %v", b, err)
		}
	})
}
