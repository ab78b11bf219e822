package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

// nids returns the NIDs of test keys 1..n, sorted by their string form.
func nids(t testing.TB, n int) []protocol.NID {
	t.Helper()
	out := make([]protocol.NID, n)
	for i := range out {
		out[i] = testKey(t, byte(i+1)).NID()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func quoted(ns ...protocol.NID) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = `"` + n.String() + `"`
	}
	return strings.Join(s, ",")
}

// rawJSON encodes d as Encode would, but without normalizing or validating
// it, to build invalid documents in otherwise canonical form.
func rawJSON(t testing.TB, d protocol.Identity) []byte {
	t.Helper()
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestIdentityEncode(t *testing.T) {
	ns := nids(t, 3)
	d := protocol.Identity{
		Name:          "grove <core> & co",
		Description:   "p2p \"git\"\n",
		DefaultBranch: "main",
		Delegates:     []protocol.NID{ns[2], ns[0], ns[2], ns[1], ns[0]},
		Threshold:     2,
		Visibility:    protocol.Visibility{Type: protocol.Public},
	}
	got, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"defaultBranch":"main","delegates":[` + quoted(ns...) + `],"description":"p2p \"git\"\n","name":"grove <core> & co","threshold":2,"version":1,"visibility":{"type":"public"}}` + "\n"
	if string(got) != want {
		t.Errorf("Encode() =\n%s\nwant\n%s", got, want)
	}
	if len(d.Delegates) != 5 || d.Version != 0 {
		t.Errorf("Encode changed its receiver: %+v", d)
	}
	back, err := protocol.ParseIdentity(got)
	if err != nil {
		t.Fatalf("ParseIdentity(Encode()): %v", err)
	}
	if !reflect.DeepEqual(back.Delegates, ns) || back.Version != 1 || back.Name != d.Name || back.Threshold != 2 {
		t.Errorf("ParseIdentity(Encode()) = %+v", back)
	}
	for _, n := range ns {
		if !back.IsDelegate(n) {
			t.Errorf("IsDelegate(%s) = false", n)
		}
	}
	if back.IsDelegate(testKey(t, 9).NID()) {
		t.Error("IsDelegate(stranger) = true")
	}
	again, err := back.Encode()
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("re-encode = %s, %v; want %s", again, err, got)
	}

	private := protocol.Identity{
		Name: "secret", DefaultBranch: "trunk", Delegates: ns[:1], Threshold: 1,
		Visibility: protocol.Visibility{Type: protocol.Private, Allow: []protocol.NID{ns[2], ns[1], ns[2]}},
	}
	got, err = private.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want = `{"defaultBranch":"trunk","delegates":[` + quoted(ns[0]) + `],"description":"","name":"secret","threshold":1,"version":1,"visibility":{"allow":[` + quoted(ns[1], ns[2]) + `],"type":"private"}}` + "\n"
	if string(got) != want {
		t.Errorf("Encode() =\n%s\nwant\n%s", got, want)
	}
}

type identityCase struct {
	name    string
	in      string
	wantErr error
}

func identityCases(t testing.TB) []identityCase {
	ns := nids(t, 3)
	valid := protocol.Identity{
		Name: "grove", Description: "d", DefaultBranch: "main", Delegates: ns[:2], Threshold: 1,
		Version: 1, Visibility: protocol.Visibility{Type: protocol.Public},
	}
	good := string(rawJSON(t, valid))
	mod := func(f func(d *protocol.Identity)) string {
		d := valid
		d.Delegates = append([]protocol.NID(nil), valid.Delegates...)
		f(&d)
		return string(rawJSON(t, d))
	}
	// defaultBranch moved from first to last.
	reordered := "{" + strings.TrimSuffix(strings.TrimPrefix(good, `{"defaultBranch":"main",`), "}\n") + `,"defaultBranch":"main"}` + "\n"
	var indented bytes.Buffer
	json.Indent(&indented, []byte(good), "", "  ")
	return []identityCase{
		{name: "canonical", in: good},
		{name: "private with allow list", in: mod(func(d *protocol.Identity) {
			d.Visibility = protocol.Visibility{Type: protocol.Private, Allow: []protocol.NID{ns[2]}}
		})},
		{name: "private without allow list", in: mod(func(d *protocol.Identity) { d.Visibility.Type = protocol.Private })},
		{name: "threshold all", in: mod(func(d *protocol.Identity) { d.Threshold = 2 })},
		{name: "nested branch", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "release/1.x" })},
		{name: "persons", in: mod(func(d *protocol.Identity) {
			d.Delegates, d.Persons, d.Version, d.Threshold = ns, [][]protocol.NID{{ns[0], ns[1]}}, 2, 2
		})},

		// Not canonical.
		{name: "reordered keys", in: reordered, wantErr: protocol.ErrInvalidIdentity},
		{name: "space after colon", in: strings.Replace(good, `"name":"grove"`, `"name": "grove"`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "indented", in: indented.String() + "\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "no final newline", in: strings.TrimSuffix(good, "\n"), wantErr: protocol.ErrInvalidIdentity},
		{name: "two final newlines", in: good + "\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "leading space", in: " " + good, wantErr: protocol.ErrInvalidIdentity},
		{name: "CRLF", in: strings.TrimSuffix(good, "\n") + "\r\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "trailing value", in: good + "{}\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "unknown field", in: strings.Replace(good, `"name":"grove",`, `"name":"grove","owner":"x",`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "duplicate key", in: strings.Replace(good, `"name":"grove",`, `"name":"grove","name":"grove",`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "unsorted delegates", in: strings.Replace(good, quoted(ns[0], ns[1]), quoted(ns[1], ns[0]), 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "duplicate delegates", in: strings.Replace(good, quoted(ns[0], ns[1]), quoted(ns[0], ns[0], ns[1]), 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "did:key delegate", in: strings.Replace(good, ns[0].String(), ns[0].DID(), 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "escaped character", in: strings.Replace(good, `"name":"grove"`, `"name":"gr\u006fve"`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "threshold as float", in: strings.Replace(good, `"threshold":1`, `"threshold":1.0`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty allow list", in: strings.Replace(good, `"visibility":{"type":"public"}`, `"visibility":{"allow":[],"type":"public"}`, 1), wantErr: protocol.ErrInvalidIdentity},
		{name: "unsorted allow list", in: mod(func(d *protocol.Identity) {
			d.Visibility = protocol.Visibility{Type: protocol.Private, Allow: []protocol.NID{ns[2], ns[1]}}
		}), wantErr: protocol.ErrInvalidIdentity},
		{name: "invalid UTF-8", in: strings.Replace(good, `"name":"grove"`, "\"name\":\"gr\xffve\"", 1), wantErr: protocol.ErrInvalidIdentity},

		// Canonical, but invalid.
		{name: "threshold 0", in: mod(func(d *protocol.Identity) { d.Threshold = 0 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "threshold negative", in: mod(func(d *protocol.Identity) { d.Threshold = -1 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "threshold over delegates", in: mod(func(d *protocol.Identity) { d.Threshold = 3 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "no delegates", in: mod(func(d *protocol.Identity) { d.Delegates = nil; d.Threshold = 0 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty delegate list", in: mod(func(d *protocol.Identity) { d.Delegates = []protocol.NID{} }), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty name", in: mod(func(d *protocol.Identity) { d.Name = "" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "blank name", in: mod(func(d *protocol.Identity) { d.Name = " \t" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "long name", in: mod(func(d *protocol.Identity) { d.Name = strings.Repeat("n", 256) }), wantErr: protocol.ErrInvalidIdentity},
		{name: "long description", in: mod(func(d *protocol.Identity) { d.Description = strings.Repeat("d", 4097) }), wantErr: protocol.ErrInvalidIdentity},
		{name: "version 0", in: mod(func(d *protocol.Identity) { d.Version = 0 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "version 2", in: mod(func(d *protocol.Identity) { d.Version = 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons in version 1", in: mod(func(d *protocol.Identity) { d.Persons = [][]protocol.NID{{ns[0], ns[1]}} }), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty persons", in: mod(func(d *protocol.Identity) { d.Persons, d.Version = [][]protocol.NID{}, 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons group of one", in: mod(func(d *protocol.Identity) { d.Persons, d.Version = [][]protocol.NID{{ns[0]}}, 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons group unsorted", in: mod(func(d *protocol.Identity) { d.Persons, d.Version = [][]protocol.NID{{ns[1], ns[0]}}, 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons group with a non-delegate", in: mod(func(d *protocol.Identity) { d.Persons, d.Version = [][]protocol.NID{{ns[0], ns[2]}}, 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons groups overlapping", in: mod(func(d *protocol.Identity) {
			d.Delegates, d.Persons, d.Version = ns, [][]protocol.NID{{ns[0], ns[1]}, {ns[1], ns[2]}}, 2
		}), wantErr: protocol.ErrInvalidIdentity},
		{name: "persons groups unsorted", in: mod(func(d *protocol.Identity) {
			four := nids(t, 4)
			d.Delegates, d.Persons, d.Version = four, [][]protocol.NID{{four[2], four[3]}, {four[0], four[1]}}, 2
		}), wantErr: protocol.ErrInvalidIdentity},
		{name: "threshold over persons", in: mod(func(d *protocol.Identity) { d.Persons, d.Version, d.Threshold = [][]protocol.NID{{ns[0], ns[1]}}, 2, 2 }), wantErr: protocol.ErrInvalidIdentity},
		{name: "bad visibility", in: mod(func(d *protocol.Identity) { d.Visibility.Type = "secret" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty visibility", in: mod(func(d *protocol.Identity) { d.Visibility.Type = "" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "public with allow list", in: mod(func(d *protocol.Identity) { d.Visibility.Allow = []protocol.NID{ns[2]} }), wantErr: protocol.ErrInvalidIdentity},
		{name: "empty default branch", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "default branch with space", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "my branch" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "default branch dot dot", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "a..b" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "default branch lock", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "main.lock" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "default branch trailing slash", in: mod(func(d *protocol.Identity) { d.DefaultBranch = "main/" }), wantErr: protocol.ErrInvalidIdentity},
		{name: "bad delegate", in: strings.Replace(good, ns[0].String(), "12D3KooWnope", 1), wantErr: protocol.ErrInvalidIdentity},

		{name: "not JSON", in: "name: grove\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "null", in: "null\n", wantErr: protocol.ErrInvalidIdentity},
		{name: "empty", in: "", wantErr: protocol.ErrInvalidIdentity},
	}
}

func TestParseIdentity(t *testing.T) {
	for _, tt := range identityCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			d, err := protocol.ParseIdentity([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseIdentity(%s) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if err := d.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
			got, err := d.Encode()
			if err != nil || string(got) != tt.in {
				t.Errorf("Encode() = %s, %v; want %s", got, err, tt.in)
			}
		})
	}
}

func TestIdentityEncodeRejectsInvalid(t *testing.T) {
	ns := nids(t, 2)
	for _, tt := range []struct {
		name string
		d    protocol.Identity
	}{
		{"threshold 0", protocol.Identity{Name: "x", DefaultBranch: "main", Delegates: ns, Visibility: protocol.Visibility{Type: protocol.Public}}},
		{"threshold over unique delegates", protocol.Identity{Name: "x", DefaultBranch: "main", Delegates: []protocol.NID{ns[0], ns[0]}, Threshold: 2, Visibility: protocol.Visibility{Type: protocol.Public}}},
		{"zero delegate", protocol.Identity{Name: "x", DefaultBranch: "main", Delegates: []protocol.NID{{}}, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Public}}},
		{"zero allowed", protocol.Identity{Name: "x", DefaultBranch: "main", Delegates: ns, Threshold: 1, Visibility: protocol.Visibility{Type: protocol.Private, Allow: []protocol.NID{{}}}}},
		{"no visibility", protocol.Identity{Name: "x", DefaultBranch: "main", Delegates: ns, Threshold: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := tt.d.Encode(); !errors.Is(err, protocol.ErrInvalidIdentity) {
				t.Errorf("Encode() = %s, %v; want ErrInvalidIdentity", b, err)
			}
		})
	}
}

func FuzzParseIdentity(f *testing.F) {
	for _, tt := range identityCases(f) {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := protocol.ParseIdentity(b)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidIdentity) {
				t.Fatalf("ParseIdentity(%q) error %v is not ErrInvalidIdentity", b, err)
			}
			return
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatalf("Encode() of parsed %q: %v", b, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip %q → %q", b, enc)
		}
	})
}

func TestIdentitySignatures(t *testing.T) {
	k1, k2, k3 := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	tree := "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	parent := oidA
	payload := protocol.IdentityPayload(tree, []string{parent})
	if want := "grove identity v1\ntree " + tree + "\nparent " + parent + "\n"; string(payload) != want {
		t.Fatalf("IdentityPayload = %q, want %q", payload, want)
	}
	if got, want := string(protocol.IdentityPayload(tree, nil)), "grove identity v1\ntree "+tree+"\n"; got != want {
		t.Fatalf("root IdentityPayload = %q, want %q", got, want)
	}
	sign := func(k *protocol.Key, msg []byte) protocol.IdentitySignature {
		s, err := k.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		return protocol.IdentitySignature{NID: k.NID(), Signature: s}
	}
	s1, s2, s3 := sign(k1, payload), sign(k2, payload), sign(k3, payload)

	// Trailers round trip.
	msg := "Update grove\n\nSome text.\n\n" + s1.Trailer() + "\n" + s2.Trailer() + "\n"
	if !strings.HasPrefix(s1.Trailer(), "Grove-Signature: "+k1.NID().String()+" ") {
		t.Errorf("Trailer() = %q", s1.Trailer())
	}
	got, err := protocol.ParseIdentitySignatures(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].NID.Equal(k1.NID()) || !bytes.Equal(got[0].Signature, s1.Signature) ||
		!got[1].NID.Equal(k2.NID()) || !bytes.Equal(got[1].Signature, s2.Signature) {
		t.Errorf("ParseIdentitySignatures = %+v", got)
	}
	if got, err := protocol.ParseIdentitySignatures("no trailers\n\nSigned-off-by: x\n"); err != nil || len(got) != 0 {
		t.Errorf("no trailers: %v, %v", got, err)
	}
	for _, bad := range []string{
		"Grove-Signature: " + k1.NID().String() + "\n",
		"Grove-Signature: 12D3KooWnope AAAA\n",
		"Grove-Signature: " + k1.NID().String() + " not*base64\n",
		"Grove-Signature: " + k1.NID().String() + " " + strings.SplitN(s1.Trailer(), " ", 3)[2] + "==\n", // padded
	} {
		if _, err := protocol.ParseIdentitySignatures("x\n\n" + bad); !errors.Is(err, protocol.ErrInvalidIdentity) {
			t.Errorf("ParseIdentitySignatures(%q) = %v, want ErrInvalidIdentity", bad, err)
		}
	}

	delegates := []protocol.NID{k1.NID(), k2.NID()}
	badSig := s2
	badSig.Signature = append([]byte(nil), s2.Signature...)
	badSig.Signature[0] ^= 1
	otherPayload := sign(k2, protocol.IdentityPayload(tree, nil))
	tests := []struct {
		name      string
		sigs      []protocol.IdentitySignature
		threshold int
		wantErr   error
	}{
		{name: "one of one needed", sigs: []protocol.IdentitySignature{s1}, threshold: 1},
		{name: "two of two", sigs: []protocol.IdentitySignature{s2, s1}, threshold: 2},
		{name: "threshold not met", sigs: []protocol.IdentitySignature{s1}, threshold: 2, wantErr: protocol.ErrBadSignature},
		{name: "none", sigs: nil, threshold: 1, wantErr: protocol.ErrBadSignature},
		{name: "non-delegate does not count", sigs: []protocol.IdentitySignature{s1, s3}, threshold: 2, wantErr: protocol.ErrBadSignature},
		{name: "non-delegate alone", sigs: []protocol.IdentitySignature{s3}, threshold: 1, wantErr: protocol.ErrBadSignature},
		{name: "duplicate counts once", sigs: []protocol.IdentitySignature{s1, s1}, threshold: 2, wantErr: protocol.ErrBadSignature},
		{name: "non-delegate with forged NID", sigs: []protocol.IdentitySignature{s1, {NID: k2.NID(), Signature: s3.Signature}}, threshold: 2, wantErr: protocol.ErrBadSignature},
		{name: "bad delegate signature is an error", sigs: []protocol.IdentitySignature{s1, badSig}, threshold: 1, wantErr: protocol.ErrBadSignature},
		{name: "delegate signed another commit", sigs: []protocol.IdentitySignature{s1, otherPayload}, threshold: 1, wantErr: protocol.ErrBadSignature},
		{name: "bad signature by a non-delegate is ignored", sigs: []protocol.IdentitySignature{s1, {NID: k3.NID(), Signature: []byte("x")}}, threshold: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := protocol.VerifyIdentitySignatures(payload, tt.sigs, delegates, tt.threshold)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyIdentitySignatures = %v, want %v", err, tt.wantErr)
			}
		})
	}

	// Delegates grouped as one person count once; threshold 2 needs two
	// persons.
	s4 := sign(testKey(t, 4), payload)
	grouped := &protocol.Identity{Delegates: []protocol.NID{k1.NID(), k2.NID(), k3.NID(), s4.NID}, Persons: [][]protocol.NID{{k1.NID(), k2.NID()}}, Threshold: 2}
	grouped.Normalize()
	for _, tt := range []struct {
		name    string
		sigs    []protocol.IdentitySignature
		wantErr error
	}{
		{"one person's two devices", []protocol.IdentitySignature{s1, s2}, protocol.ErrBadSignature},
		{"two persons", []protocol.IdentitySignature{s1, s3}, nil},
		{"two ungrouped delegates", []protocol.IdentitySignature{s3, s4}, nil},
		{"a person and another's device", []protocol.IdentitySignature{s1, s2, s4}, nil},
		{"a forged signature in a group", []protocol.IdentitySignature{s1, s3, {NID: k2.NID(), Signature: s3.Signature}}, protocol.ErrBadSignature},
	} {
		if err := protocol.VerifyIdentityBy(payload, tt.sigs, grouped); !errors.Is(err, tt.wantErr) {
			t.Errorf("grouped, %s: %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if err := protocol.VerifyIdentityBy(payload, []protocol.IdentitySignature{s1, s2}, &protocol.Identity{Delegates: delegates, Threshold: 2}); err != nil {
		t.Errorf("ungrouped, the same two keys: %v", err)
	}

	// The signatures round trip through a commit message and still verify.
	parsed, err := protocol.ParseIdentitySignatures(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifyIdentitySignatures(payload, parsed, delegates, 2); err != nil {
		t.Errorf("parsed trailers: %v", err)
	}
	if err := protocol.VerifyIdentitySignatures(protocol.IdentityPayload(tree, []string{oidB}), parsed, delegates, 1); !errors.Is(err, protocol.ErrBadSignature) {
		t.Errorf("trailers moved onto another parent: %v, want ErrBadSignature", err)
	}
}
