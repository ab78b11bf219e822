package repo_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func TestCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := protocol.NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	other := testKey(t, 7)
	h := repo.Home{Dir: t.TempDir()}
	doc := &protocol.Identity{
		Name:          "grove",
		Description:   "peer-to-peer git",
		DefaultBranch: "main",
		Delegates:     []protocol.NID{k.NID(), other.NID()},
		Threshold:     1,
		Visibility:    protocol.Visibility{Type: protocol.Public},
	}
	r, err := repo.Create(ctx, h, k, doc, now)
	if err != nil {
		t.Fatal(err)
	}
	nid := k.NID()

	// The storage is named by the RID, and nothing else is left behind.
	if want := filepath.Join(h.StorageDir(), r.RID.String()+".git"); r.Path != want {
		t.Errorf("Path = %q, want %q", r.Path, want)
	}
	if !strings.HasPrefix(r.RID.String(), "baf4bcf") {
		t.Errorf("RID = %q", r.RID)
	}
	ents, err := os.ReadDir(h.StorageDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != r.RID.String()+".git" {
		t.Errorf("storage holds %v, want only %s.git", ents, r.RID)
	}
	if got := gitIn(t, r.Path, nil, "rev-parse", "--is-bare-repository"); got != "true" {
		t.Errorf("storage is not a bare repository: %s", got)
	}

	// The RID is the root identity commit, and it holds the document.
	root := r.RID.OID()
	if got := gitIn(t, r.Path, nil, "cat-file", "-t", root); got != "commit" {
		t.Fatalf("RID.OID() %s is a %s, want a commit", root, got)
	}
	if got := gitIn(t, r.Path, nil, "rev-list", "--parents", "-n", "1", root); got != root {
		t.Errorf("root identity commit has parents: %s", got)
	}
	want, err := doc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got := gitIn(t, r.Path, nil, "cat-file", "blob", root+":"+protocol.IdentityFile); got+"\n" != string(want) {
		t.Errorf("identity.json = %s, want %s", got, want)
	}
	msg := gitIn(t, r.Path, nil, "log", "-1", "--format=%B", root)
	sigs, err := protocol.ParseIdentitySignatures(msg)
	if err != nil || len(sigs) != 1 || !sigs[0].NID.Equal(nid) {
		t.Errorf("identity commit trailers = %v, %v", sigs, err)
	}
	tree := gitIn(t, r.Path, nil, "rev-parse", root+"^{tree}")
	if err := protocol.VerifyIdentitySignatures(protocol.IdentityPayloadV2(tree, nil, now.Unix()), sigs, doc.Delegates, 1); err != nil {
		t.Errorf("root signature: %v", err)
	}
	// The root is in its one encoding: git, given the signed time and the
	// signer, writes the same commit.
	who := fmt.Sprintf("%s <%s@grove> %d +0000", nid, nid, now.Unix())
	if got, want := gitIn(t, r.Path, nil, "cat-file", "commit", root)+"\n",
		"tree "+tree+"\nauthor "+who+"\ncommitter "+who+"\n\ngrove identity v2\n\n"+sigs[0].Trailer()+"\n"; got != want {
		t.Errorf("root commit:\n%s\nwant\n%s", got, want)
	}

	got, oid, err := r.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if oid != root {
		t.Errorf("Identity oid = %s, want %s", oid, root)
	}
	doc.Normalize()
	if !reflect.DeepEqual(got, doc) {
		t.Errorf("Identity() = %+v, want %+v", got, doc)
	}
	if d, n, err := r.VerifyIdentity(root); err != nil || n != 1 || d.Name != "grove" {
		t.Errorf("VerifyIdentity(root) = %v, %d, %v", d, n, err)
	}

	// The namespace holds the identity and signed refs, and its HEAD.
	refs := nsRefs(t, r, nid)
	if refs[protocol.IdentityRef] != root || refs[protocol.SigrefsRef] == "" || len(refs) != 2 {
		t.Errorf("namespace refs = %v", refs)
	}
	sr, err := r.ReadSigrefs(nid, refs[protocol.SigrefsRef])
	if err != nil {
		t.Fatal(err)
	}
	if sr.Parent != "" || !reflect.DeepEqual(sr.Refs, protocol.RefList{{Name: protocol.IdentityRef, OID: root}}) {
		t.Errorf("first sigrefs = %+v", sr)
	}
	// No namespace HEAD until the default branch exists: a symbolic ref to
	// nothing fails git fsck (checked by verifyClean below).
	p := repo.NamespacePrefix(nid)
	if out, err := gitTry(r.Path, nil, "symbolic-ref", "-q", p+"HEAD"); err == nil {
		t.Errorf("namespace HEAD of a project without branches = %q", out)
	}
	if got := canonRefs(t, r); len(got) != 0 {
		t.Errorf("canonical refs of a new project = %v", got)
	}
	rep, err := r.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 0 || rep.Namespaces != 1 || rep.Refs != 2 {
		t.Errorf("Verify = %+v", rep)
	}
	verifyClean(t, r)

	// The first push of the default branch makes the namespace HEAD.
	c1 := commit(t, r, "one")
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/main", New: c1})
	if got := gitIn(t, r.Path, nil, "symbolic-ref", p+"HEAD"); got != p+"refs/heads/main" {
		t.Errorf("namespace HEAD = %q, want %q", got, p+"refs/heads/main")
	}
	verifyClean(t, r)
	// Without it, HEAD goes rather than dangles.
	update(t, r, k, repo.RefUpdate{Name: "refs/heads/dev", New: c1}, repo.RefUpdate{Name: "refs/heads/main", Old: c1})
	if out, err := gitTry(r.Path, nil, "symbolic-ref", "-q", p+"HEAD"); err == nil {
		t.Errorf("namespace HEAD without its branch = %q", out)
	}
	verifyClean(t, r)

	// Open and List find it.
	o, err := repo.Open(h, r.RID)
	if err != nil || o.Path != r.Path || o.RID != r.RID {
		t.Errorf("Open = %+v, %v", o, err)
	}
	rids, err := repo.List(h)
	if err != nil || len(rids) != 1 || rids[0] != r.RID {
		t.Errorf("List = %v, %v", rids, err)
	}
	unknown, _ := protocol.RIDFromOID(strings.Repeat("1", 40))
	if _, err := repo.Open(h, unknown); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Open(unknown) = %v, want ErrNotFound", err)
	}
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, stranger := testKey(t, 1), testKey(t, 2)
	h := repo.Home{Dir: t.TempDir()}
	valid := func() *protocol.Identity {
		return &protocol.Identity{
			Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1,
			Visibility: protocol.Visibility{Type: protocol.Public},
		}
	}
	t.Run("signer not a delegate", func(t *testing.T) {
		if _, err := repo.Create(ctx, h, stranger, valid(), now); err == nil {
			t.Error("Create by a non-delegate succeeded")
		}
	})
	t.Run("invalid document", func(t *testing.T) {
		d := valid()
		d.DefaultBranch = "a..b"
		if _, err := repo.Create(ctx, h, k, d, now); !errors.Is(err, protocol.ErrInvalidIdentity) {
			t.Errorf("Create = %v, want ErrInvalidIdentity", err)
		}
	})
	t.Run("threshold one key cannot meet", func(t *testing.T) {
		// The root is signed by its creator alone, so a threshold of two
		// would make a project that never verifies.
		d := valid()
		d.Delegates = append(d.Delegates, stranger.NID())
		d.Threshold = 2
		if r, err := repo.Create(ctx, h, k, d, now); err == nil {
			_, _, ierr := r.Identity(ctx)
			t.Errorf("Create with threshold 2 succeeded; its Identity() = %v", ierr)
		}
	})
	t.Run("exists", func(t *testing.T) {
		if _, err := repo.Create(ctx, h, k, valid(), now); err != nil {
			t.Fatal(err)
		}
		// Same document, same key, same time: same root commit, same RID.
		if _, err := repo.Create(ctx, h, k, valid(), now); !errors.Is(err, repo.ErrExists) {
			t.Errorf("second Create = %v, want ErrExists", err)
		}
	})
	ents, _ := os.ReadDir(h.StorageDir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".new-") {
			t.Errorf("Create left %s behind", e.Name())
		}
	}
}
