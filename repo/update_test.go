package repo_test

import (
	"context"
	"reflect"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func TestUpdateNamespace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	_, r := newProject(t, "p", k)
	nid := k.NID()
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	c3 := commit(t, r, "three", c2)

	s0 := nsRefs(t, r, nid)[protocol.SigrefsRef]
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	refs := nsRefs(t, r, nid)
	s1 := refs[protocol.SigrefsRef]
	if refs["refs/heads/main"] != c1 || s1 == s0 || s1 == "" {
		t.Fatalf("after update: %v", refs)
	}
	if got := gitIn(t, r.Path, nil, "rev-parse", s1+"^"); got != s0 {
		t.Errorf("new sigrefs' parent = %s, want the previous sigrefs %s", got, s0)
	}
	sr, err := r.ReadSigrefs(nid, s1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sr.Refs, signedList(t, r, nid)) {
		t.Errorf("signed refs %v, namespace %v", sr.Refs, signedList(t, r, nid))
	}
	if got := canonRefs(t, r); !reflect.DeepEqual(got, map[string]string{"refs/heads/main": c1}) {
		t.Errorf("canonical refs = %v, want main at %s", got, c1)
	}
	verifyClean(t, r)

	// Fast-forward and a tag in one call.
	update(t, r, k,
		repo.RefUpdate{Name: "refs/heads/main", Old: c1, New: c2},
		repo.RefUpdate{Name: "refs/tags/v1", New: c1})
	if got := canonRefs(t, r); !reflect.DeepEqual(got, map[string]string{"refs/heads/main": c2, "refs/tags/v1": c1}) {
		t.Errorf("canonical refs = %v", got)
	}
	verifyClean(t, r)

	// A stale Old value moves nothing, even the other updates of the call.
	beforeNS, beforeCanon := nsRefs(t, r, nid), canonRefs(t, r)
	for name, ups := range map[string][]repo.RefUpdate{
		"stale old":          {{Name: "refs/heads/main", Old: c1, New: c3}},
		"create existing":    {{Name: "refs/heads/main", New: c3}},
		"delete stale":       {{Name: "refs/heads/main", Old: c1}},
		"one stale of two":   {{Name: "refs/heads/dev", New: c3}, {Name: "refs/tags/v1", Old: c2, New: c3}},
		"sigrefs by hand":    {{Name: protocol.SigrefsRef, Old: beforeNS[protocol.SigrefsRef], New: c3}},
		"another namespace":  {{Name: "refs/namespaces/x/refs/heads/main", New: c3}},
		"not under refs":     {{Name: "HEAD", New: c3}},
		"bad name":           {{Name: "refs/heads/a..b", New: c3}},
		"good then bad name": {{Name: "refs/heads/ok", New: c3}, {Name: "refs/heads/a b", New: c3}},
	} {
		if err := r.UpdateNamespace(ctx, k, ups, now); err == nil {
			t.Errorf("%s: UpdateNamespace succeeded", name)
		}
		if got := nsRefs(t, r, nid); !reflect.DeepEqual(got, beforeNS) {
			t.Errorf("%s: namespace moved: %v, was %v", name, got, beforeNS)
		}
		if got := canonRefs(t, r); !reflect.DeepEqual(got, beforeCanon) {
			t.Errorf("%s: canonical refs moved: %v, was %v", name, got, beforeCanon)
		}
	}

	// Nothing to change: the signed refs stay.
	update(t, r, k)
	if got := nsRefs(t, r, nid); !reflect.DeepEqual(got, beforeNS) {
		t.Errorf("empty update moved refs: %v, was %v", got, beforeNS)
	}

	// Deleting a branch removes its canonical ref too.
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", Old: c2})
	if _, ok := nsRefs(t, r, nid)["refs/heads/main"]; ok {
		t.Error("main still in the namespace")
	}
	if got := canonRefs(t, r); !reflect.DeepEqual(got, map[string]string{"refs/tags/v1": c1}) {
		t.Errorf("canonical refs = %v", got)
	}
	verifyClean(t, r)

	// Patch heads stay out of the canonical refs.
	update(t, r, k, repo.RefUpdate{Name: repo.PatchHeadsPrefix + "abc", New: c3})
	if _, ok := canonRefs(t, r)[repo.PatchHeadsPrefix+"abc"]; ok {
		t.Error("a patch head became canonical")
	}
	verifyClean(t, r)
}

// A second delegate's namespace is signed with its own key and counts for
// the canonical refs.
func TestUpdateNamespaceSecondDelegate(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, 1), testKey(t, 2)
	_, r := newProject(t, "p", k1, k2)
	c1 := commit(t, r, "one")
	c2 := commit(t, r, "two", c1)
	update(t, r, k1, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	update(t, r, k2, repo.RefUpdate{Name: "refs/heads/main", New: c2})
	refs := nsRefs(t, r, k2.NID())
	if refs["refs/heads/main"] != c2 || refs[protocol.SigrefsRef] == "" {
		t.Errorf("second delegate's namespace = %v", refs)
	}
	if _, err := r.ReadSigrefs(k2.NID(), refs[protocol.SigrefsRef]); err != nil {
		t.Errorf("second delegate's sigrefs: %v", err)
	}
	if _, err := r.ReadSigrefs(k1.NID(), refs[protocol.SigrefsRef]); err == nil {
		t.Error("second delegate's sigrefs verify as the first's")
	}
	// Threshold 1: the newest of the delegates' branches.
	if got := canonRefs(t, r)["refs/heads/main"]; got != c2 {
		t.Errorf("canonical main = %s, want %s", got, c2)
	}
	p := repo.NamespacePrefix(k2.NID())
	if got := gitIn(t, r.Path, nil, "symbolic-ref", p+"HEAD"); got != p+"refs/heads/main" {
		t.Errorf("second namespace HEAD = %q", got)
	}
	verifyClean(t, r)

	// A stranger's namespace never makes canonical refs.
	k3 := testKey(t, 3)
	c3 := commit(t, r, "three", c2)
	update(t, r, k3, repo.RefUpdate{Name: "refs/heads/main", New: c3}, repo.RefUpdate{Name: "refs/heads/evil", New: c3})
	if got := canonRefs(t, r); !reflect.DeepEqual(got, map[string]string{"refs/heads/main": c2}) {
		t.Errorf("canonical refs after a stranger's push = %v", got)
	}
	verifyClean(t, r)
}
