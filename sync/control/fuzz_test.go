package control_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// FuzzLoadPolicy reads $GROVE_HOME/policy.json: an error, or a policy
// that saves and loads back the same.
func FuzzLoadPolicy(f *testing.F) {
	const nid = "12D3KooWGRUVh6DRTJXNRdvC4sTuYNYeCYZhn2HUSVKJoAkRoXJV"
	for _, s := range []string{
		`{"seeds":["baf4bcfx"],"follows":{"` + nid + `":"alice"},"blocked":["` + nid + `"],"peers":["/ip4/127.0.0.1/tcp/1/p2p/` + nid + `"]}`,
		"{\n  \"seeds\": null,\n  \"follows\": null,\n  \"blocked\": null,\n  \"peers\": null\n}\n",
		`{"seeds":["b","a","b"],"blocked":[],"extra":1}`,
		`{"follows":{"x":"\u001b[31m","x":"y"}}`,
		`{"seeds":"x"}`,
		`[]`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	h := repo.Home{Dir: f.TempDir()}
	path := filepath.Join(h.Dir, "policy.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := control.LoadPolicy(h)
		if err != nil {
			return
		}
		if p.Follows == nil {
			t.Fatalf("policy %q loads with no follows map", b)
		}
		if err := p.Save(h); err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(p.Seeds) || !slices.IsSorted(p.Blocked) {
			t.Fatalf("saved policy not sorted: %+v", p)
		}
		again, err := control.LoadPolicy(h)
		if err != nil || !reflect.DeepEqual(again, p) {
			t.Fatalf("policy %q loads as %+v, saved and loaded as %+v, %v", b, p, again, err)
		}
	})
}

// FuzzParseAddr checks peer addresses as `grove connect` and the policy
// take them: an error, or the NID their last component names.
func FuzzParseAddr(f *testing.F) {
	const nid = "12D3KooWGRUVh6DRTJXNRdvC4sTuYNYeCYZhn2HUSVKJoAkRoXJV"
	for _, s := range []string{
		"/ip4/127.0.0.1/tcp/8776/p2p/" + nid,
		"/ip4/127.0.0.1/udp/8776/quic-v1/p2p/" + nid,
		"/ip6/::1/tcp/8776/p2p/" + nid,
		"/dns4/tcp/tcp/8776/p2p/" + nid,
		"/ip4/127.0.0.1/tcp/1/p2p/" + nid + "/p2p-circuit/p2p/" + nid,
		"/ip4/127.0.0.1/tcp/8776/ipfs/" + nid,
		"/ip4/127.0.0.1/tcp/8776",
		"127.0.0.1:8776",
		"/ip4/127.0.0.256/tcp/8776/p2p/" + nid,
		"/ip4/::1/tcp/8776/p2p/" + nid,
		"/ip4/127.0.0.1/tcp/65536/p2p/" + nid,
		"/ip4/127.0.0.1/tcp/8776/p2p/" + nid + "/",
		"/p2p/" + nid,
		"/",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := control.ParseAddr(s)
		if err != nil {
			return
		}
		i := strings.LastIndex(s, "/")
		want, perr := protocol.ParseNID(s[i+1:])
		if perr != nil || got.IsZero() || !got.Equal(want) {
			t.Fatalf("ParseAddr(%q) = %v, the address ends in %v, %v", s, got, want, perr)
		}
		if p := s[:i]; !strings.HasSuffix(p, "/p2p") && !strings.HasSuffix(p, "/ipfs") {
			t.Fatalf("ParseAddr(%q) took an address not ending in /p2p/NID", s)
		}
	})
}
