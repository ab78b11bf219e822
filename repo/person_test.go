package repo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// TestPersonTravels: a home made before person documents, with only an
// alias in its config, gets a signed person document on its next write,
// in the namespace and listed by the signed refs; a changed alias is a
// second revision on top of the first; a peer that fetches the namespace
// reads the names, and Verify finds nothing wrong.
func TestPersonTravels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := repo.Home{Dir: t.TempDir()}
	k, err := repo.CreateKey(h, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetConfig(repo.Config{Alias: "bob"}); err != nil {
		t.Fatal(err)
	}
	// A key that is not the home's signs no document from its config.
	other := newProjectIn(t, h, "other", testKey(t, 1))
	if p := nsRefs(t, other, testKey(t, 1).NID())[protocol.PersonRef]; p != "" {
		t.Fatalf("a key that is not the home's got a person document %s", p)
	}
	r := newProjectIn(t, h, "p", k)
	tip1 := nsRefs(t, r, k.NID())[protocol.PersonRef]
	if tip1 == "" {
		t.Fatal("no person document after the first write")
	}
	if signed := signedList(t, r, k.NID()).Map(); signed[protocol.PersonRef] != tip1 {
		t.Fatalf("the signed refs list %s at %q, want %s", protocol.PersonRef, signed[protocol.PersonRef], tip1)
	}
	p, err := r.PersonOf(k.NID())
	if err != nil || p.Alias != "bob" {
		t.Fatalf("PersonOf = %+v, %v", p, err)
	}
	// The one encoding, as git writes it from what is signed.
	who := fmt.Sprintf("%s <%s@grove> %d +0000", k.NID(), k.NID(), now.Unix())
	raw := gitIn(t, r.Path, nil, "cat-file", "commit", tip1)
	if !strings.Contains(raw, "\nauthor "+who+"\ncommitter "+who+"\n\ngrove person v1\n\nGrove-Signature: "+k.NID().String()+" ") {
		t.Errorf("person commit:\n%s", raw)
	}
	if got := gitIn(t, r.Path, nil, "cat-file", "blob", tip1+":"+repo.PersonFile); got != `{"alias":"bob","version":1}` {
		t.Errorf("person document = %s", got)
	}

	if _, err := repo.SetPerson(ctx, h, k, repo.Person{Alias: "bobby", Name: "Bob Doe"}, now.Add(60)); err != nil {
		t.Fatal(err)
	}
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: commit(t, r, "one")})
	tip2 := nsRefs(t, r, k.NID())[protocol.PersonRef]
	if tip2 == tip1 || gitIn(t, r.Path, nil, "rev-parse", tip2+"^") != tip1 {
		t.Fatalf("second revision %s does not follow %s", tip2, tip1)
	}
	// A second project of the same home gets the same history, oid for oid.
	r2 := newProjectIn(t, h, "q", k)
	if got := nsRefs(t, r2, k.NID())[protocol.PersonRef]; got != tip2 {
		t.Errorf("second project's person ref = %s, want %s", got, tip2)
	}

	mirror, err := repo.CreateEmpty(ctx, repo.Home{Dir: t.TempDir()}, r.RID)
	if err != nil {
		t.Fatal(err)
	}
	res := acceptFrom(t, mirror, r.Path)
	if len(res.Rejected) > 0 {
		t.Fatalf("rejected: %v", res.Rejected)
	}
	ps, err := mirror.Persons(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := ps[k.NID().String()]; got == nil || got.Alias != "bobby" || got.Name != "Bob Doe" {
		t.Errorf("fetched person = %+v", got)
	}
	verifyClean(t, r)
}

// personCommit writes a version 1 person commit for doc into r as nid's,
// signed by signer, with the committer line and message changed by edit
// (nil for none), and returns its oid: a forger's tool.
func personCommit(t *testing.T, r *repo.Repo, nid protocol.NID, signer *protocol.Key, doc, parent string, edit func(string) string) string {
	t.Helper()
	blob, err := r.WriteObject("blob", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := r.WriteObject("tree", protocol.EncodeTree([]protocol.TreeEntry{{Mode: 0o100644, Name: repo.PersonFile, OID: blob}}))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(protocol.PersonPayload(nid, tree, parent, now.Unix()))
	if err != nil {
		t.Fatal(err)
	}
	who := fmt.Sprintf("%s <%s@grove> %d +0000", nid, nid, now.Unix())
	c := "tree " + tree + "\n"
	if parent != "" {
		c += "parent " + parent + "\n"
	}
	c += "author " + who + "\ncommitter " + who + "\n\ngrove person v1\n\nGrove-Signature: " + nid.String() + " " + base64.RawStdEncoding.EncodeToString(sig) + "\n"
	if edit != nil {
		c = edit(c)
	}
	oid, err := r.WriteObject("commit", []byte(c))
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// TestPersonForgeries: a person document that is not its owner's, or not
// in its one encoding, is refused by VerifyPerson, by Verify, and by a
// peer's Accept even when the owner's own signed refs list it (a buggy or
// hostile client of the owner's): the namespace does not move.
func TestPersonForgeries(t *testing.T) {
	t.Parallel()
	k, mallory := testKey(t, 1), testKey(t, 2)
	nid := k.NID()
	const good = `{"alias":"bob","version":1}` + "\n"
	_, base := newProject(t, "p", k)
	for _, tc := range []struct {
		name   string
		signer *protocol.Key
		doc    string
		edit   func(string) string
		want   error
	}{
		{"signed by another key", mallory, good, nil, protocol.ErrBadSignature},
		{"rewrapped: another message", k, good, func(c string) string { return c + "extra\n" }, repo.ErrInvalidPerson},
		{"rewrapped: another time zone", k, good, func(c string) string { return strings.ReplaceAll(c, " +0000", " +0100") }, repo.ErrInvalidPerson},
		{"rewrapped: extra header", k, good, func(c string) string { return strings.Replace(c, "\n\n", "\nencoding utf-8\n\n", 1) }, repo.ErrInvalidPerson},
		{"trailer names another key", k, good, func(c string) string {
			return strings.ReplaceAll(c, "Signature: "+nid.String(), "Signature: "+mallory.NID().String())
		}, repo.ErrInvalidPerson},
		{"not canonical JSON", k, `{"alias": "bob","version":1}` + "\n", nil, repo.ErrInvalidPerson},
		{"unknown field", k, `{"alias":"bob","devices":[],"version":1}` + "\n", nil, repo.ErrInvalidPerson},
		{"control characters", k, `{"alias":"bob\u001b[31m","version":1}` + "\n", nil, repo.ErrInvalidPerson},
		{"passes for a NID", k, `{"alias":"12D3Ko…D9BgLH","version":1}` + "\n", nil, repo.ErrInvalidPerson},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := copyProject(t, base)
			forged := personCommit(t, src, nid, tc.signer, tc.doc, "", tc.edit)
			if _, err := src.VerifyPerson(nid, forged); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyPerson = %v, want %v", err, tc.want)
			}
			update(t, src, k, repo.RefUpdate{Name: protocol.PersonRef, New: forged})
			if ps := problems(t, src); len(ps) != 1 || ps[0].Ref != protocol.PersonRef {
				t.Errorf("Verify found %v", ps)
			}
			dst := copyProject(t, base)
			before := nsRefs(t, dst, nid)
			res := acceptFrom(t, dst, src.Path)
			if len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Err, tc.want) {
				t.Fatalf("Accept rejected %v, want one %v", res.Rejected, tc.want)
			}
			if after := nsRefs(t, dst, nid); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("namespace moved to %v", after)
			}
		})
	}
	// The control: the same commit, untouched and signed by its owner, verifies.
	src := copyProject(t, base)
	if _, err := src.VerifyPerson(nid, personCommit(t, src, nid, k, good, "", nil)); err != nil {
		t.Fatalf("a good person commit: %v", err)
	}
}

// TestPersonHomeRecord: the home's record is checked on every read, so a
// tampered one is an error that says how to mend it, and SetPerson starts
// a history anew over it; an alias that is not allowed writes nothing.
func TestPersonHomeRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := testKey(t, 1)
	h := repo.Home{Dir: t.TempDir()}
	if _, err := h.Person(); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("empty home: %v", err)
	}
	for _, bad := range []string{"", " bob", "bob\x1b[2J", "a(b)", strings.Repeat("x", repo.MaxAlias+1), "\u202ebob"} {
		if _, err := repo.SetPerson(ctx, h, k, repo.Person{Alias: bad}, now); !errors.Is(err, repo.ErrInvalidPerson) {
			t.Errorf("alias %q: %v", bad, err)
		}
	}
	if _, err := os.Stat(filepath.Join(h.Dir, "person.json")); err == nil {
		t.Fatal("a refused alias wrote person.json")
	}
	if _, err := repo.SetPerson(ctx, h, k, repo.Person{Alias: "bob"}, now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.Dir, "person.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), `\"bob\"`, `\"eve\"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Person(); !errors.Is(err, protocol.ErrBadSignature) {
		t.Fatalf("tampered record: %v", err)
	}
	ph, err := repo.SetPerson(ctx, h, k, repo.Person{Alias: "bob"}, now)
	if err != nil || ph.Revisions != 1 || ph.Doc.Alias != "bob" {
		t.Fatalf("SetPerson over a tampered record = %+v, %v", ph, err)
	}
}
