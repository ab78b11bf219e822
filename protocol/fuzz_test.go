package protocol_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
)

// wireTypes are the messages a /grove/git/1 or /grove/update/1 stream
// opens with, each read by ReadMessage from a peer.
var wireTypes = []func() any{
	func() any { return new(protocol.FetchRequest) },
	func() any { return new(protocol.FetchResponse) },
	func() any { return new(protocol.UpdateRequest) },
	func() any { return new(protocol.UpdateResponse) },
}

// fuzzRID is a project ID for seeds.
func fuzzRID(t testing.TB) protocol.RID {
	t.Helper()
	rid, err := protocol.RIDFromOID(emptyBlob)
	if err != nil {
		t.Fatal(err)
	}
	return rid
}

// frame is a message as WriteMessage frames it, without its checks.
func frame(body string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// oneByte hides a reader's ReadByte, so ReadMessage takes its own path.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p) }

// FuzzReadMessage reads each wire message from what a peer sends: an
// ErrMessage or a message that goes no further than its frame, writes
// back and reads again to the same value; a request that validates has
// the fields it claims.
func FuzzReadMessage(f *testing.F) {
	rid := fuzzRID(f)
	nid := testKey(f, 1).NID()
	for _, v := range []any{
		protocol.FetchRequest{RID: rid, Service: protocol.ServiceUploadPack, GitProtocol: "version=2"},
		protocol.FetchRequest{RID: rid, Service: protocol.ServiceUploadPack},
		protocol.FetchResponse{},
		protocol.FetchResponse{Error: "not found"},
		protocol.UpdateRequest{RID: rid, NID: nid, Have: oidA, Want: oidB},
		protocol.UpdateRequest{RID: rid, NID: nid, Want: oidB, Base: []string{oidA, oidB}},
		protocol.UpdateResponse{Size: 1234},
		protocol.UpdateResponse{Error: protocol.UpdateUnavailable},
	} {
		var b bytes.Buffer
		if err := protocol.WriteMessage(&b, v); err != nil {
			f.Fatal(err)
		}
		b.WriteString("PACK") // what follows on the stream stays unread
		for i := range wireTypes {
			f.Add(b.Bytes(), uint8(i))
		}
	}
	for _, s := range [][]byte{
		frame(`{"rid":"` + rid.String() + `","service":"receive-pack"}`),
		frame(`{"rid":"` + rid.String() + `","service":"upload-pack","extra":1}`),
		frame(`{"rid":"x"}`),
		frame(`{"nid":"` + nid.String() + `","have":"` + oidA + `","want":"` + oidA + `"}`),
		frame(`{"rid":"` + rid.String() + `","nid":"` + nid.String() + `","want":"` + oidA + `","base":[]}`),
		frame(`{"size":-1}`),
		frame(`{"size":1e40}`),
		frame(`{} {}`),
		frame(`{"error":"\u001b]0;pwned\u0007"}`),
		frame(`null`),
		frame(``),
		binary.AppendUvarint(nil, protocol.MaxMessage+1),
		binary.AppendUvarint(nil, 1<<63),
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
		frame(`{"error":"x"`)[:5],
		{},
	} {
		for i := range wireTypes {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		newMsg := wireTypes[int(kind)%len(wireTypes)]
		for _, byteReader := range []bool{true, false} {
			v := newMsg()
			br := bytes.NewReader(b)
			var r io.Reader = br
			if !byteReader {
				r = oneByte{br}
			}
			err := protocol.ReadMessage(r, protocol.MaxMessage, v)
			if err != nil {
				// Bad data, or input that ends before its frame does.
				if !errors.Is(err, protocol.ErrMessage) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("ReadMessage(%q) error %v is neither ErrMessage nor a short read", b, err)
				}
				continue
			}
			n, k := binary.Uvarint(b)
			if k <= 0 || n > protocol.MaxMessage {
				t.Fatalf("ReadMessage(%q) accepted a bad length", b)
			}
			if used := len(b) - br.Len(); used != k+int(n) {
				t.Fatalf("ReadMessage(%q) read %d bytes of a %d-byte frame", b, used, k+int(n))
			}
			if !checkWireMessage(t, b, v) {
				continue // the zero RID or NID writes as "", which reads as no ID
			}
			var out bytes.Buffer
			if err := protocol.WriteMessage(&out, reflect.ValueOf(v).Elem().Interface()); err != nil {
				// Only by growing past the limit: encoding/json escapes
				// <, > and & and replaces invalid UTF-8.
				if !errors.Is(err, protocol.ErrMessage) {
					t.Fatalf("WriteMessage of %#v: %v", v, err)
				}
				continue
			}
			again := newMsg()
			if err := protocol.ReadMessage(&out, protocol.MaxMessage, again); err != nil {
				t.Fatalf("read back %#v: %v", v, err)
			}
			// The same message, as far as the wire can tell: an empty
			// list reads back as none.
			a, _ := json.Marshal(v)
			if b, _ := json.Marshal(again); !bytes.Equal(a, b) {
				t.Fatalf("round trip %s → %s", a, b)
			}
		}
	})
}

// checkWireMessage checks that a request read from b that validates holds
// what Validate promises, and reports whether v is a response or a valid
// request.
func checkWireMessage(t *testing.T, b []byte, v any) bool {
	t.Helper()
	switch m := v.(type) {
	case *protocol.FetchRequest:
		if m.Validate() != nil {
			return false
		}
		if m.RID.IsZero() || m.Service != protocol.ServiceUploadPack || strings.ContainsAny(m.GitProtocol, "\x00\n") {
			t.Fatalf("%q: FetchRequest %+v validates", b, m)
		}
	case *protocol.UpdateRequest:
		switch {
		case m.Validate() == nil:
			if m.RID.IsZero() || m.NID.IsZero() || !protocol.ValidOID(m.Have) || !protocol.ValidOID(m.Want) || m.Have == m.Want ||
				len(m.Base) > 0 {
				t.Fatalf("%q: UpdateRequest %+v validates", b, m)
			}
		case m.ValidateFirst() == nil:
			if m.RID.IsZero() || m.NID.IsZero() || m.Have != "" || !protocol.ValidOID(m.Want) || len(m.Base) > protocol.MaxUpdateBase ||
				slices.ContainsFunc(m.Base, func(s string) bool { return !protocol.ValidOID(s) }) {
				t.Fatalf("%q: first UpdateRequest %+v validates", b, m)
			}
		default:
			return false
		}
	}
	return true
}

// FuzzParseAnnouncement parses gossip as it arrives: an ErrMessage or
// ErrBadSignature, or an announcement with valid fields, signed by its
// NID, that encodes and parses again to itself.
func FuzzParseAnnouncement(f *testing.F) {
	k := testKey(f, 1)
	rid := fuzzRID(f)
	a, err := protocol.NewAnnouncement(k, rid, oidA, time.Unix(1700000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	good := a.Encode()
	f.Add(good)
	forged := a
	forged.Sigrefs = oidB
	f.Add(forged.Encode())
	f.Add(bytes.Replace(good, []byte(`"time":`), []byte(`"time":-`), 1))
	f.Add(bytes.Replace(good, []byte(`{`), []byte(`{"extra":1,`), 1))
	f.Add(bytes.Replace(good, []byte(k.NID().String()), []byte(k.NID().DID()), 1))
	f.Add(append(append([]byte(nil), good...), " {}"...))
	f.Add([]byte(`{"rid":"` + rid.String() + `","nid":"` + k.NID().String() + `","sigrefs":"zz","time":1,"sig":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add(bytes.Repeat([]byte(" "), protocol.MaxAnnouncement+1))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := protocol.ParseAnnouncement(b)
		if err != nil {
			if !errors.Is(err, protocol.ErrMessage) && !errors.Is(err, protocol.ErrBadSignature) {
				t.Fatalf("ParseAnnouncement(%q) error %v is neither ErrMessage nor ErrBadSignature", b, err)
			}
			return
		}
		if len(b) > protocol.MaxAnnouncement {
			t.Fatalf("accepted an announcement of %d bytes", len(b))
		}
		if a.RID.IsZero() || a.NID.IsZero() || !protocol.ValidOID(a.Sigrefs) {
			t.Fatalf("ParseAnnouncement(%q) = %+v", b, a)
		}
		if !a.NID.Verify(protocol.AnnouncementPayload(a.RID, a.NID, a.Sigrefs, a.Time), a.Signature) {
			t.Fatalf("ParseAnnouncement(%q) accepted a bad signature", b)
		}
		again, err := protocol.ParseAnnouncement(a.Encode())
		if err != nil {
			t.Fatalf("re-encoded %q: %v", a.Encode(), err)
		}
		if again.RID != a.RID || !again.NID.Equal(a.NID) || again.Sigrefs != a.Sigrefs || again.Time != a.Time ||
			!bytes.Equal(again.Signature, a.Signature) {
			t.Fatalf("round trip %+v → %+v", a, again)
		}
	})
}

// FuzzParseIdentitySignatures reads the Grove-Signature trailers of an
// identity commit's message: an ErrInvalidIdentity, or one signature per
// trailer line, each of which writes back as the same trailer.
func FuzzParseIdentitySignatures(f *testing.F) {
	k1, k2 := testKey(f, 1), testKey(f, 2)
	payload := protocol.IdentityPayloadV2(oidA, []string{oidB}, 1700000000)
	var trailers []string
	for _, k := range []*protocol.Key{k1, k2} {
		sig, err := k.Sign(payload)
		if err != nil {
			f.Fatal(err)
		}
		trailers = append(trailers, protocol.IdentitySignature{NID: k.NID(), Signature: sig}.Trailer())
	}
	for _, s := range []string{
		"grove identity v2\n\n" + trailers[0] + "\n",
		"Update grove\n\nSome text.\n\n" + trailers[0] + "\n" + trailers[1] + "\n",
		"no trailers\n\nSigned-off-by: x\n",
		"x\n\nGrove-Signature: " + k1.NID().String() + "\n",
		"x\n\nGrove-Signature: 12D3KooWnope AAAA\n",
		"x\n\nGrove-Signature: " + k1.NID().String() + " not*base64\n",
		"x\n\n" + trailers[0] + "==\n",
		"x\n\nGrove-Signature: " + k1.NID().DID() + " AAAA\n",
		"x\r\nGrove-Signature: " + k1.NID().String() + " AAAA\r\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		sigs, err := protocol.ParseIdentitySignatures(msg)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidIdentity) {
				t.Fatalf("ParseIdentitySignatures(%q) error %v is not ErrInvalidIdentity", msg, err)
			}
			return
		}
		lines := 0
		for _, l := range strings.Split(msg, "\n") {
			if strings.HasPrefix(l, protocol.SignatureTrailer+": ") {
				lines++
			}
		}
		if len(sigs) != lines {
			t.Fatalf("ParseIdentitySignatures(%q): %d signatures from %d trailers", msg, len(sigs), lines)
		}
		var back strings.Builder
		for _, s := range sigs {
			if s.NID.IsZero() {
				t.Fatalf("ParseIdentitySignatures(%q): a zero NID", msg)
			}
			back.WriteString(s.Trailer() + "\n")
		}
		again, err := protocol.ParseIdentitySignatures(back.String())
		if err != nil || !reflect.DeepEqual(again, sigs) {
			t.Fatalf("round trip %+v → %+v, %v", sigs, again, err)
		}
	})
}
