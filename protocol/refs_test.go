package protocol_test

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

const (
	oidA = "1111111111111111111111111111111111111111"
	oidB = "2222222222222222222222222222222222222222"
	oidC = "abcdef0123456789abcdef0123456789abcdef01"
)

type refListCase struct {
	name    string
	in      string
	want    protocol.RefList
	wantErr error
}

func refListCases() []refListCase {
	line := func(oid, name string) string { return oid + " " + name + "\n" }
	return []refListCase{
		{name: "empty", in: "", want: protocol.RefList{}},
		{name: "one", in: line(oidA, "refs/heads/main"), want: protocol.RefList{{Name: "refs/heads/main", OID: oidA}}},
		{name: "several", in: line(oidC, "refs/cobs/issue/"+oidB) + line(oidA, "refs/grove/id") + line(oidB, "refs/heads/main") + line(oidB, "refs/tags/v1.0"),
			want: protocol.RefList{
				{Name: "refs/cobs/issue/" + oidB, OID: oidC},
				{Name: "refs/grove/id", OID: oidA},
				{Name: "refs/heads/main", OID: oidB},
				{Name: "refs/tags/v1.0", OID: oidB},
			}},
		{name: "byte order, not locale", in: line(oidA, "refs/heads/Z") + line(oidA, "refs/heads/a"),
			want: protocol.RefList{{Name: "refs/heads/Z", OID: oidA}, {Name: "refs/heads/a", OID: oidA}}},
		{name: "unsorted", in: line(oidA, "refs/heads/b") + line(oidA, "refs/heads/a"), wantErr: protocol.ErrInvalidRefs},
		{name: "duplicate", in: line(oidA, "refs/heads/a") + line(oidB, "refs/heads/a"), wantErr: protocol.ErrInvalidRefs},
		{name: "upper-case oid", in: line(strings.ToUpper(oidC), "refs/heads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "short oid", in: line(oidA[:39], "refs/heads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "long oid", in: line(oidA+"1", "refs/heads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "sha256 oid", in: line(strings.Repeat("a", 64), "refs/heads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "no name", in: oidA + "\n", wantErr: protocol.ErrInvalidRefs},
		{name: "two spaces", in: oidA + "  refs/heads/main\n", wantErr: protocol.ErrInvalidRefs},
		{name: "tab", in: oidA + "\trefs/heads/main\n", wantErr: protocol.ErrInvalidRefs},
		{name: "namespace", in: line(oidA, "refs/namespaces/x/refs/heads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "dot dot", in: line(oidA, "refs/heads/a..b"), wantErr: protocol.ErrInvalidRefs},
		{name: "space", in: line(oidA, "refs/heads/a b"), wantErr: protocol.ErrInvalidRefs},
		{name: "not under refs", in: line(oidA, "HEAD"), wantErr: protocol.ErrInvalidRefs},
		{name: "refs without slash", in: line(oidA, "refsheads/main"), wantErr: protocol.ErrInvalidRefs},
		{name: "lock", in: line(oidA, "refs/heads/main.lock"), wantErr: protocol.ErrInvalidRefs},
		{name: "lock component", in: line(oidA, "refs/heads/main.lock/x"), wantErr: protocol.ErrInvalidRefs},
		{name: "CR", in: line(oidA, "refs/heads/main\r"), wantErr: protocol.ErrInvalidRefs},
		{name: "no final newline", in: oidA + " refs/heads/main", wantErr: protocol.ErrInvalidRefs},
		{name: "blank line", in: "\n", wantErr: protocol.ErrInvalidRefs},
		{name: "blank line between", in: line(oidA, "refs/heads/a") + "\n" + line(oidA, "refs/heads/b"), wantErr: protocol.ErrInvalidRefs},
		{name: "two final newlines", in: line(oidA, "refs/heads/a") + "\n", wantErr: protocol.ErrInvalidRefs},
		{name: "CRLF", in: oidA + " refs/heads/a\r\n", wantErr: protocol.ErrInvalidRefs},
	}
}

func TestParseRefList(t *testing.T) {
	for _, tt := range refListCases() {
		t.Run(tt.name, func(t *testing.T) {
			l, err := protocol.ParseRefList([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseRefList(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(l, tt.want) {
				t.Errorf("ParseRefList(%q) = %v, want %v", tt.in, l, tt.want)
			}
			if got := l.Encode(); string(got) != tt.in {
				t.Errorf("Encode() = %q, want %q", got, tt.in)
			}
			if got := protocol.NewRefList(l.Map()); !reflect.DeepEqual(got, l) {
				t.Errorf("NewRefList(Map()) = %v, want %v", got, l)
			}
			for _, r := range l {
				if oid, ok := l.Get(r.Name); !ok || oid != r.OID {
					t.Errorf("Get(%q) = %q, %v", r.Name, oid, ok)
				}
			}
			if _, ok := l.Get("refs/heads/nope"); ok {
				t.Error("Get(refs/heads/nope) found something")
			}
		})
	}
}

func TestRefListEncodeRoundTrip(t *testing.T) {
	m := map[string]string{
		"refs/tags/v1":    oidA,
		"refs/heads/main": oidB,
		"refs/grove/id":   oidC,
		"refs/heads/dev":  oidA,
	}
	l := protocol.NewRefList(m)
	want := oidC + " refs/grove/id\n" + oidA + " refs/heads/dev\n" + oidB + " refs/heads/main\n" + oidA + " refs/tags/v1\n"
	if got := string(l.Encode()); got != want {
		t.Fatalf("Encode() = %q, want %q", got, want)
	}
	back, err := protocol.ParseRefList(l.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l) || !reflect.DeepEqual(back.Map(), m) {
		t.Errorf("round trip = %v, want %v", back, l)
	}
}

func TestParseRefListLimits(t *testing.T) {
	// One line too many: the count is checked before any line is parsed.
	over := bytes.Repeat([]byte("\n"), protocol.MaxRefs+1)
	if _, err := protocol.ParseRefList(over); !errors.Is(err, protocol.ErrInvalidRefs) {
		t.Errorf("%d refs: error = %v, want ErrInvalidRefs", protocol.MaxRefs+1, err)
	}

	// Exactly MaxRefs valid refs parse.
	var b bytes.Buffer
	for i := 0; i < protocol.MaxRefs; i++ {
		fmt.Fprintf(&b, "%s refs/heads/b%06d\n", oidA, i)
	}
	l, err := protocol.ParseRefList(b.Bytes())
	if err != nil {
		t.Fatalf("%d refs: %v", protocol.MaxRefs, err)
	}
	if len(l) != protocol.MaxRefs {
		t.Errorf("parsed %d refs, want %d", len(l), protocol.MaxRefs)
	}

	if _, err := protocol.ParseRefList(make([]byte, protocol.MaxRefList+1)); !errors.Is(err, protocol.ErrInvalidRefs) {
		t.Errorf("%d bytes: error = %v, want ErrInvalidRefs", protocol.MaxRefList+1, err)
	}

	long := "refs/heads/" + strings.Repeat("x", protocol.MaxRefName-len("refs/heads/"))
	if err := protocol.CheckRefName(long); err != nil {
		t.Errorf("ref name of %d bytes: %v", len(long), err)
	}
	if err := protocol.CheckRefName(long + "x"); err == nil {
		t.Errorf("ref name of %d bytes accepted", len(long)+1)
	}
}

// refNames are names to check against git; grove's rules are git's plus
// "under refs/, not refs/namespaces/".
var refNames = []string{
	"refs/heads/main", "refs/tags/v1.0.0", "refs/cobs/issue/" + oidA, "refs/heads/a/b/c",
	"refs/heads/feature-1_x+y", "refs/heads/\u00e9t\u00e9", "refs/heads/a.", "refs/heads/a./b",
	"refs/heads/.a", "refs/heads/a/.b", "refs/heads/a..b", "refs/heads/a//b", "refs/heads/",
	"refs/heads/a.lock", "refs/heads/a.lock/b", "refs/heads/.lock", "refs/heads/a@{b", "refs/heads/@",
	"refs/heads/a@b", "refs/heads/a b", "refs/heads/a~b", "refs/heads/a^b", "refs/heads/a:b",
	"refs/heads/a?b", "refs/heads/a*b", "refs/heads/a[b", "refs/heads/a\\b", "refs/heads/a\x7fb",
	"refs/heads/a\tb", "refs/heads/a\x01", "refs/heads/a/", "refs/heads/lock", "refs/heads/a.loc",
	"refs/heads/-x", "refs/heads/a.lockx", "refs/heads/x/a.lock.lock",
}

func TestCheckRefName(t *testing.T) {
	grove := []struct {
		in   string
		okay bool
	}{
		{"refs/heads/main", true},
		{"HEAD", false},
		{"heads/main", false},
		{"refs/namespaces/x/refs/heads/main", false},
		{"refs/namespaces", true},
		{"", false},
		{"refs", false},
	}
	for _, tt := range grove {
		if err := protocol.CheckRefName(tt.in); (err == nil) != tt.okay {
			t.Errorf("CheckRefName(%q) = %v, want ok=%v", tt.in, err, tt.okay)
		}
	}
}

// TestCheckRefNameMatchesGit checks that grove never accepts a name git
// refuses: such a ref could be signed but never stored.
func TestCheckRefNameMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	for _, name := range refNames {
		gitOK := exec.Command("git", "check-ref-format", name).Run() == nil
		err := protocol.CheckRefName(name)
		if err == nil && !gitOK {
			t.Errorf("CheckRefName(%q) accepts a name git refuses", name)
		}
		if err != nil && gitOK {
			t.Errorf("CheckRefName(%q) = %v, but git accepts it", name, err)
		}
	}
}

func TestValidOID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{oidC, true},
		{strings.Repeat("0", 40), true},
		{strings.ToUpper(oidC), false},
		{oidC[:39], false},
		{oidC + "0", false},
		{"g" + oidC[1:], false},
		{"", false},
	} {
		if got := protocol.ValidOID(tt.in); got != tt.want {
			t.Errorf("ValidOID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRefList(f *testing.F) {
	for _, tt := range refListCases() {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := protocol.ParseRefList(b)
		if err != nil {
			if !errors.Is(err, protocol.ErrInvalidRefs) {
				t.Fatalf("ParseRefList(%q) error %v is not ErrInvalidRefs", b, err)
			}
			return
		}
		if enc := l.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("round trip %q → %q", b, enc)
		}
		for i, r := range l {
			if !protocol.ValidOID(r.OID) || protocol.CheckRefName(r.Name) != nil {
				t.Fatalf("parsed invalid ref %v", r)
			}
			if i > 0 && l[i-1].Name >= r.Name {
				t.Fatalf("parsed list not sorted at %d: %v", i, l)
			}
		}
		if m := protocol.NewRefList(l.Map()); !bytes.Equal(m.Encode(), b) {
			t.Fatalf("NewRefList(Map()) re-encodes to %q, want %q", m.Encode(), b)
		}
	})
}

func BenchmarkParseRefList(b *testing.B) {
	m := make(map[string]string, 1000)
	for i := range 1000 {
		m[fmt.Sprintf("refs/heads/branch-%04d", i)] = fmt.Sprintf("%040x", i)
	}
	data := protocol.NewRefList(m).Encode()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.ParseRefList(data); err != nil {
			b.Fatal(err)
		}
	}
}
