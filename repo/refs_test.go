package repo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestIdentityOf finds the identity Identity finds, from the identity refs
// alone.
func TestIdentityOf(t *testing.T) {
	k := testKey(t, 1)
	_, r := newProject(t, "ident", k)
	want, wantTip, err := r.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tip, err := r.RefFiles().Get(repo.NamespacePrefix(k.NID()) + protocol.IdentityRef)
	if err != nil || tip == "" {
		t.Fatal(tip, err)
	}
	tests := []struct {
		name    string
		in      map[string]string
		wantTip string
	}{
		{"own namespace", map[string]string{k.NID().String(): tip}, wantTip},
		{"none, the root", map[string]string{}, r.RID.OID()},
		{"empty ref", map[string]string{k.NID().String(): ""}, r.RID.OID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, gotTip, err := r.IdentityOf(tt.in)
			if err != nil || gotTip != tt.wantTip || doc.Name != want.Name {
				t.Fatalf("IdentityOf = %v %s %v, want %s", doc, gotTip, err, tt.wantTip)
			}
		})
	}
}

// TestRefFilesNamespaces finds the namespaces, and one ref across them,
// loose and packed, skipping namespaces whose names are not NIDs.
func TestRefFilesNamespaces(t *testing.T) {
	k1, k2 := testKey(t, 1), testKey(t, 2)
	_, r := newProject(t, "namespaces", k1)
	c := commit(t, r, "one")
	ns1, ns2 := k1.NID().String(), k2.NID().String()
	gitIn(t, r.Path, nil, "update-ref", "refs/namespaces/"+ns2+"/refs/heads/main", c)
	gitIn(t, r.Path, nil, "update-ref", "refs/namespaces/not-a-nid/"+protocol.SigrefsRef, c)
	gitIn(t, r.Path, nil, "pack-refs", "--all")
	gitIn(t, r.Path, nil, "update-ref", "refs/namespaces/"+ns2+"/"+protocol.SigrefsRef, c)
	want := []string{ns1, ns2}
	slices.Sort(want)
	if got, err := r.RefFiles().Namespaces(); err != nil || !slices.Equal(got, want) {
		t.Errorf("Namespaces() = %v, %v; want %v", got, err, want)
	}
	sr1, err := r.RefFiles().Get(repo.NamespacePrefix(k1.NID()) + protocol.SigrefsRef)
	if err != nil || sr1 == "" {
		t.Fatal(sr1, err)
	}
	got, err := r.RefFiles().Namespaced(protocol.SigrefsRef)
	if want := map[string]string{ns1: sr1, ns2: c}; err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Namespaced(sigrefs) = %v, %v; want %v", got, err, want)
	}
}
