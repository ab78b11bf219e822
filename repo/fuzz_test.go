package repo

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// The fuzz targets below write what a peer could send as objects into a
// real storage and read them back as grove does.

// fuzzKey returns a deterministic key; different i, different key.
func fuzzKey(t testing.TB, i byte) *protocol.Key {
	t.Helper()
	k, err := protocol.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{i}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fuzzStorage returns an empty bare repository opened as project rid.
func fuzzStorage(t testing.TB, rid protocol.RID) *Repo {
	t.Helper()
	dir := t.TempDir()
	if _, err := runGit(context.Background(), dir, nil, "init", "-q", "--bare"); err != nil {
		t.Fatal(err)
	}
	r, err := openPath(dir, rid)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustWrite(t testing.TB, r *Repo, kind string, data []byte) string {
	t.Helper()
	oid, err := r.WriteObject(kind, data)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

func mustRead(t testing.TB, r *Repo, oid string) []byte {
	t.Helper()
	_, data, err := r.ReadObject(oid, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// objectID is the oid git gives an object.
func objectID(kind string, data []byte) string {
	t, _ := plumbing.ParseObjectType(kind)
	return plumbing.ComputeHash(t, data).String()
}

// rawOID is the 20 bytes of a hex oid, as a tree entry holds it.
func rawOID(oid string) string {
	b, _ := hex.DecodeString(oid)
	return string(b)
}

// Placeholders in seeds, replaced by what the fuzzed bytes make: the oid
// (in hex) of the fuzzed tree in a commit, and (raw, in a tree) the oid of
// the next tree of a list.
const (
	fuzzTreeHex = "{TREE}"
	fuzzRootHex = "{ROOT}"
	fuzzSigB64  = "{SIG}"
)

var fuzzNextTree = strings.Repeat("\xfe", 20)

// FuzzReadSigrefs reads a namespace's sigrefs commit and its tree from
// arbitrary bytes: an error, or signed refs whose signature holds; a
// version 3 commit is accepted only in the one encoding its signed
// contents give, commit and tree alike, so its oid follows from what is
// signed.
func FuzzReadSigrefs(f *testing.F) {
	k := fuzzKey(f, 1)
	nid := k.NID()
	rid, _ := protocol.RIDFromOID(strings.Repeat("1", 40))
	r := fuzzStorage(f, rid)
	refs, err := r.editRefTree("", map[string]string{"refs/heads/main": strings.Repeat("2", 40), "refs/tags/v1": strings.Repeat("3", 40)})
	if err != nil {
		f.Fatal(err)
	}
	at := time.Unix(1767323045, 0)
	s0, err := r.writeSigrefs(k, refs, "", at)
	if err != nil {
		f.Fatal(err)
	}
	s1, err := r.writeSigrefs(k, refs, s0, at.Add(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	// seed adds a commit and its tree with the tree's oid left to fill in.
	seed := func(commit []byte) {
		c, err := gitstore.ParseCommit(commit)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.ReplaceAll(commit, []byte(c.Tree), []byte(fuzzTreeHex)), mustRead(f, r, c.Tree))
	}
	for _, s := range []string{s0, s1} {
		raw := mustRead(f, r, s)
		seed(raw)
		seed(bytes.Replace(raw, []byte("\n\n"), []byte("\nencoding UTF-8\n\n"), 1))
		seed(bytes.Replace(raw, []byte(" +0000\n"), []byte(" +0100\n"), 1))
		seed(bytes.Replace(raw, []byte("grove sigrefs v3\n"), []byte("grove sigrefs v3\n\n"), 1))
		seed(bytes.Replace(raw, []byte("grove sigrefs v3\n"), []byte("grove sigrefs\n"), 1))
	}
	// The tree with its entries reordered, or a third.
	raw1 := mustRead(f, r, s1)
	c1, _ := gitstore.ParseCommit(raw1)
	es, _ := r.readTree(c1.Tree)
	sigEntry := es[1]
	f.Add(bytes.ReplaceAll(raw1, []byte(c1.Tree), []byte(fuzzTreeHex)), []byte(
		"100644 signature\x00"+rawOID(sigEntry.OID)+"40000 refs\x00"+rawOID(refs)))
	f.Add(bytes.ReplaceAll(raw1, []byte(c1.Tree), []byte(fuzzTreeHex)), []byte(
		"40000 refs\x00"+rawOID(refs)+"100644 signature\x00"+rawOID(sigEntry.OID)+"100644 z\x00"+rawOID(sigEntry.OID)))
	f.Add(bytes.ReplaceAll(raw1, []byte(c1.Tree), []byte(fuzzTreeHex)), []byte(
		"40000 refs\x00"+rawOID(refs)+"100755 signature\x00"+rawOID(sigEntry.OID)))
	// Versions 2 and 1, which are only read.
	who := gitSignature(nid, at)
	v2, err := protocol.SignRefTree(k, rid, s1, refs)
	if err != nil {
		f.Fatal(err)
	}
	sig2 := mustWrite(f, r, "blob", v2.Signature)
	top2 := mustWrite(f, r, "tree", protocol.EncodeTree(sigrefsTree(refs, sig2)))
	seed((&gitstore.Commit{Tree: top2, Parents: []string{s1}, Author: who, Committer: who, Message: "grove sigrefs\n"}).Encode())
	list := protocol.NewRefList(map[string]string{"refs/heads/main": strings.Repeat("2", 40)})
	v1, err := protocol.SignRefs(k, rid, "", list)
	if err != nil {
		f.Fatal(err)
	}
	sig1 := mustWrite(f, r, "blob", v1.Signature)
	blob1 := mustWrite(f, r, "blob", list.Encode())
	top1 := mustWrite(f, r, "tree", protocol.EncodeTree([]protocol.TreeEntry{
		{Mode: 0o100644, Name: sigrefsRefsFile, OID: blob1}, {Mode: 0o100644, Name: sigrefsSigFile, OID: sig1}}))
	seed((&gitstore.Commit{Tree: top1, Author: who, Committer: who, Message: "grove sigrefs\n"}).Encode())

	f.Fuzz(func(t *testing.T, commit, tree []byte) {
		top := mustWrite(t, r, "tree", tree)
		commit = bytes.ReplaceAll(commit, []byte(fuzzTreeHex), []byte(top))
		oid := mustWrite(t, r, "commit", commit)
		sr, err := r.ReadSigrefs(nid, oid)
		if err != nil {
			return
		}
		if sr.RID != rid || !sr.NID.Equal(nid) || sr.Verify() != nil {
			t.Fatalf("ReadSigrefs(%q) = %+v", commit, sr)
		}
		switch sr.Version {
		case 1:
			if sr.Tree != "" {
				t.Fatalf("version 1 with a tree: %+v", sr)
			}
		case 2:
		case 3:
			sig := objectID("blob", sr.Signature)
			want := sigrefsCommit(nid, objectID("tree", protocol.EncodeTree(sigrefsTree(sr.Tree, sig))), sr.Parent, sr.Time).Encode()
			if !bytes.Equal(commit, want) {
				t.Fatalf("accepted a version 3 sigrefs commit not in its one encoding:\n%q\nwant\n%q", commit, want)
			}
		default:
			t.Fatalf("version %d", sr.Version)
		}
		if sr.Version > 1 {
			if got, err := r.readRefTree(sr.Tree); err != nil || !reflect.DeepEqual(got, sr.Refs) {
				t.Fatalf("refs %v, the tree says %v, %v", sr.Refs, got, err)
			}
		}
	})
}

// FuzzRefTree reads a signed ref tree made of arbitrary trees (the first
// is the top; fuzzNextTree in one names the next): an error, or a list of
// valid ref names that builds back to the same tree, since a signed tree
// has one form.
func FuzzRefTree(f *testing.F) {
	k := fuzzKey(f, 1)
	nid := k.NID()
	rid, _ := protocol.RIDFromOID(strings.Repeat("1", 40))
	r := fuzzStorage(f, rid)
	const sep = "\n--\n"
	// seed adds the trees of refs, each subtree after its parent.
	seed := func(refs map[string]string) {
		top, err := r.editRefTree("", refs)
		if err != nil {
			f.Fatal(err)
		}
		var trees []string
		for oid := top; oid != ""; {
			data := mustRead(f, r, oid)
			es, _ := protocol.ParseTree(data)
			oid = ""
			for _, e := range es {
				if e.Mode == protocol.ModeTree {
					oid = e.OID
					data = bytes.Replace(data, []byte(rawOID(e.OID)), []byte(fuzzNextTree), 1)
					break
				}
			}
			trees = append(trees, string(data))
		}
		f.Add([]byte(strings.Join(trees, sep)))
	}
	c := strings.Repeat("2", 40)
	seed(map[string]string{"refs/heads/main": c})
	seed(map[string]string{"refs/heads/a/b": c})
	seed(map[string]string{"refs/cobs/grove.issue/" + c: c})
	seed(map[string]string{})
	f.Add([]byte("40000 refs\x00" + fuzzNextTree + sep + "40000 .00\x00" + fuzzNextTree + sep + "160000 x\x00" + rawOID(c)))
	f.Add([]byte("40000 .00\x00" + fuzzNextTree + sep))
	f.Add([]byte("160000 main\x00" + rawOID(c)))
	at := time.Unix(1767323045, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		trees := bytes.Split(b, []byte(sep))
		if len(trees) > 64 {
			return
		}
		next := ""
		for i := len(trees) - 1; i >= 0; i-- {
			data := trees[i]
			if next != "" {
				data = bytes.ReplaceAll(data, []byte(fuzzNextTree), []byte(rawOID(next)))
			}
			next = mustWrite(t, r, "tree", data)
		}
		s, err := r.writeSigrefs(k, next, "", at)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := r.ReadSigrefs(nid, s)
		if err != nil {
			return
		}
		m := make(map[string]string, len(sr.Refs))
		for i, ref := range sr.Refs {
			if protocol.CheckRefName(ref.Name) != nil || !protocol.ValidOID(ref.OID) {
				t.Fatalf("ref tree %q: ref %+v", b, ref)
			}
			if i > 0 && sr.Refs[i-1].Name >= ref.Name {
				t.Fatalf("ref tree %q: refs out of order: %v", b, sr.Refs)
			}
			m[ref.Name] = ref.OID
		}
		again, err := r.editRefTree("", m)
		if err != nil {
			t.Fatal(err)
		}
		if again != next {
			t.Fatalf("ref tree %q reads as %v, which builds tree %s, not %s", b, sr.Refs, again, next)
		}
	})
}

// FuzzVerifyIdentity reads an identity update of arbitrary bytes on top of
// a project's root, signed (fuzzSigB64) by the root's delegate over what
// the commit names: an error, or the document; a version 2 commit is
// accepted only in its one encoding.
func FuzzVerifyIdentity(f *testing.F) {
	k := fuzzKey(f, 1)
	doc := &protocol.Identity{Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1, Version: 1,
		Visibility: protocol.Visibility{Type: protocol.Public}}
	boot := fuzzStorage(f, protocol.RID{})
	at := time.Unix(1767323045, 0)
	root, err := boot.writeIdentity(k, doc, nil, at)
	if err != nil {
		f.Fatal(err)
	}
	rid, _ := protocol.RIDFromOID(root)
	r, _ := openPath(boot.Path, rid)
	doc2 := *doc
	doc2.Description = "second"
	data2, err := doc2.Encode()
	if err != nil {
		f.Fatal(err)
	}
	update, err := r.writeIdentity(k, &doc2, []string{root}, at.Add(time.Minute))
	if err != nil {
		f.Fatal(err)
	}
	raw := mustRead(f, r, update)
	c, _ := gitstore.ParseCommit(raw)
	tree := mustRead(f, r, c.Tree)
	sigs, _ := protocol.ParseIdentitySignatures(c.Message)
	b64 := base64.RawStdEncoding.EncodeToString(sigs[0].Signature)
	tmpl := bytes.ReplaceAll(raw, []byte(c.Tree), []byte(fuzzTreeHex))
	tmpl = bytes.ReplaceAll(tmpl, []byte(root), []byte(fuzzRootHex))
	tmpl = bytes.ReplaceAll(tmpl, []byte(b64), []byte(fuzzSigB64))
	f.Add(tmpl, tree, data2)
	f.Add(bytes.Replace(tmpl, []byte("\n\n"), []byte("\nencoding UTF-8\n\n"), 1), tree, data2)
	f.Add(bytes.Replace(tmpl, []byte(" +0000\n"), []byte(" +0100\n"), 1), tree, data2)
	f.Add(bytes.Replace(tmpl, []byte(identityMessage), []byte("Update p\n"), 1), tree, data2)
	// testdata/fuzz/FuzzVerifyIdentity holds the commits padded with a
	// trailer that does not count, which were accepted.
	f.Add(tmpl, append(bytes.Clone(tree), "100644 other\x00"+rawOID(objectID("blob", data2))...), data2)
	f.Add(tmpl, tree, bytes.Replace(data2, []byte(`"threshold":1`), []byte(`"threshold":2`), 1))
	f.Fuzz(func(t *testing.T, commit, tree, docData []byte) {
		if len(docData) > protocol.MaxIdentity {
			return
		}
		blob := mustWrite(t, r, "blob", docData)
		tree = bytes.ReplaceAll(tree, []byte(rawOID(objectID("blob", data2))), []byte(rawOID(blob)))
		top := mustWrite(t, r, "tree", tree)
		commit = bytes.ReplaceAll(commit, []byte(fuzzTreeHex), []byte(top))
		commit = bytes.ReplaceAll(commit, []byte(fuzzRootHex), []byte(root))
		if bytes.Contains(commit, []byte(fuzzSigB64)) {
			// Sign what the commit names, in the version its message says.
			c, err := gitstore.ParseCommit(bytes.ReplaceAll(commit, []byte(fuzzSigB64), nil))
			if err != nil {
				return
			}
			payload := protocol.IdentityPayload(c.Tree, c.Parents)
			if strings.HasPrefix(c.Message, identityMessage) {
				tm, ok := sigrefsTime(commit)
				if !ok {
					return
				}
				payload = protocol.IdentityPayloadV2(c.Tree, c.Parents, tm)
			}
			sig, err := k.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			commit = bytes.ReplaceAll(commit, []byte(fuzzSigB64), []byte(base64.RawStdEncoding.EncodeToString(sig)))
		}
		oid := mustWrite(t, r, "commit", commit)
		got, n, err := r.VerifyIdentity(oid)
		if err != nil {
			return
		}
		if got.Validate() != nil || n < 1 || n > 2 {
			t.Fatalf("VerifyIdentity(%q) = %+v, %d", commit, got, n)
		}
		c, err := gitstore.ParseCommit(commit)
		if err != nil {
			t.Fatalf("VerifyIdentity accepted %q: %v", commit, err)
		}
		if strings.HasPrefix(c.Message, identityMessage) {
			// One encoding: the signed contents, and a signature by each
			// delegate that signed them, nothing else.
			sigs, _ := protocol.ParseIdentitySignatures(c.Message)
			tm, _ := sigrefsTime(commit)
			payload := protocol.IdentityPayloadV2(c.Tree, c.Parents, tm)
			seen := map[string]bool{}
			for _, s := range sigs {
				if !doc.IsDelegate(s.NID) || !s.NID.Verify(payload, s.Signature) || seen[s.NID.String()] {
					t.Fatalf("accepted a version 2 identity commit with a signature that does not count (%s):\n%q", s.NID, commit)
				}
				seen[s.NID.String()] = true
			}
			if want := identityCommit(c.Tree, c.Parents, tm, sigs).Encode(); !bytes.Equal(commit, want) {
				t.Fatalf("accepted a version 2 identity commit not in its one encoding:\n%q\nwant\n%q", commit, want)
			}
		}
	})
}

// FuzzConfig reads $GROVE_HOME/config.json: an error, or settings that
// write and read back the same.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("{\n  \"alias\": \"alice\"\n}\n"))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"alias":"\u001b[31mred","other":1}`))
	f.Add([]byte(`{"alias":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	h := Home{Dir: f.TempDir()}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(h.configPath(), b, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := h.Config()
		if err != nil {
			return
		}
		if err := h.SetConfig(c); err != nil {
			t.Fatal(err)
		}
		again, err := h.Config()
		if err != nil || again != c {
			t.Fatalf("config %q reads as %+v, written back as %+v, %v", b, c, again, err)
		}
	})
}

// TestIdentityTreeReadBounded: an identity commit whose tree names one
// large blob many times is refused having read at most the limit in all,
// not the limit for each name (found writing FuzzVerifyIdentity: any peer
// could have every node that verifies its identity ref allocate
// gigabytes).
func TestIdentityTreeReadBounded(t *testing.T) {
	k := fuzzKey(t, 1)
	doc := &protocol.Identity{Name: "p", DefaultBranch: "main", Delegates: []protocol.NID{k.NID()}, Threshold: 1, Version: 1,
		Visibility: protocol.Visibility{Type: protocol.Public}}
	boot := fuzzStorage(t, protocol.RID{})
	at := time.Unix(1767323045, 0)
	root, err := boot.writeIdentity(k, doc, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	rid, _ := protocol.RIDFromOID(root)
	r, _ := openPath(boot.Path, rid)
	data, _ := doc.Encode()
	big := mustWrite(t, r, "blob", bytes.Repeat([]byte{' '}, protocol.MaxIdentity))
	var tree []protocol.TreeEntry
	tree = append(tree, protocol.TreeEntry{Mode: 0o100644, Name: protocol.IdentityFile, OID: mustWrite(t, r, "blob", data)})
	const names = 64
	for i := range names {
		tree = append(tree, protocol.TreeEntry{Mode: 0o100644, Name: "pad" + strconv.Itoa(1000+i), OID: big})
	}
	top, err := r.writeTreeEntries(tree)
	if err != nil {
		t.Fatal(err)
	}
	who := gitSignature(k.NID(), at)
	update := mustWrite(t, r, "commit", (&gitstore.Commit{Tree: top, Parents: []string{root}, Author: who, Committer: who, Message: "Update p\n"}).Encode())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err = r.VerifyIdentity(update)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("VerifyIdentity = %v, want ErrTooLarge", err)
	}
	// Reading each name would allocate names × MaxIdentity (64 MiB).
	if got := after.TotalAlloc - before.TotalAlloc; got > 8*protocol.MaxIdentity {
		t.Errorf("verifying allocated %d MiB", got>>20)
	}
}

// FuzzVerifyPerson reads a person commit, its tree and its document from
// arbitrary bytes: an error, or a valid document in a commit that is
// exactly the one encoding of what its owner signed.
func FuzzVerifyPerson(f *testing.F) {
	k := fuzzKey(f, 1)
	nid := k.NID()
	r := fuzzStorage(f, protocol.RID{})
	data := []byte(`{"alias":"bob","name":"Bob","version":1}` + "\n")
	o := personRevision(nid, data, "", 1767323045, nil)
	sig, err := k.Sign(protocol.PersonPayload(nid, o.treeOID, "", o.time))
	if err != nil {
		f.Fatal(err)
	}
	o = personRevision(nid, data, "", o.time, sig)
	b64 := base64.RawStdEncoding.EncodeToString(sig)
	tmpl := bytes.ReplaceAll(o.commit, []byte(o.treeOID), []byte(fuzzTreeHex))
	tmpl = bytes.ReplaceAll(tmpl, []byte(b64), []byte(fuzzSigB64))
	f.Add(tmpl, o.tree, data)
	f.Add(bytes.Replace(tmpl, []byte("\n\n"), []byte("\nencoding UTF-8\n\n"), 1), o.tree, data)
	f.Add(bytes.Replace(tmpl, []byte(" +0000\n"), []byte(" +0100\n"), 1), o.tree, data)
	f.Add(append(bytes.Clone(tmpl), "Grove-Signature: x y\n"...), o.tree, data)
	f.Add(tmpl, append(bytes.Clone(o.tree), "100644 other\x00"+rawOID(o.blobOID)...), data)
	f.Add(tmpl, o.tree, []byte(`{"alias":"b\u001bob","version":1}`+"\n"))
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","version":2}`+"\n"))
	// Version 2: devices, removals.
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","devices":["`+nid.String()+`"],"version":2}`+"\n"))
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","devices":["`+nid.String()+`"],"version":1}`+"\n"))
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","devices":["`+fuzzKey(f, 2).NID().String()+`"],"version":2}`+"\n"))
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","devices":["`+nid.String()+`","`+nid.String()+`"],"version":2}`+"\n"))
	f.Add(tmpl, o.tree, []byte(`{"alias":"bob","devices":["`+nid.String()+`"],"removed":{"`+fuzzKey(f, 2).NID().String()+`":["`+o.treeOID+`"]},"version":2}`+"\n"))
	f.Fuzz(func(t *testing.T, commit, tree, doc []byte) {
		if len(doc) > 4*maxPersonDoc || len(tree) > 1<<16 || len(commit) > 1<<16 {
			return
		}
		blob := mustWrite(t, r, "blob", doc)
		tree = bytes.ReplaceAll(tree, []byte(rawOID(o.blobOID)), []byte(rawOID(blob)))
		top := mustWrite(t, r, "tree", tree)
		commit = bytes.ReplaceAll(commit, []byte(fuzzTreeHex), []byte(top))
		if bytes.Contains(commit, []byte(fuzzSigB64)) {
			c, err := gitstore.ParseCommit(bytes.ReplaceAll(commit, []byte(fuzzSigB64), nil))
			tm, ok := sigrefsTime(commit)
			if err != nil || !ok || len(c.Parents) > 0 {
				return
			}
			sig, err := k.Sign(protocol.PersonPayload(nid, c.Tree, "", tm))
			if err != nil {
				t.Fatal(err)
			}
			commit = bytes.ReplaceAll(commit, []byte(fuzzSigB64), []byte(base64.RawStdEncoding.EncodeToString(sig)))
		}
		oid := mustWrite(t, r, "commit", commit)
		got, err := r.VerifyPerson(nid, oid)
		if err != nil {
			return
		}
		if got.Validate() != nil {
			t.Fatalf("VerifyPerson accepted an invalid document %+v", got)
		}
		if got.Version == 2 && !slices.Contains(got.Devices, nid.String()) {
			t.Fatalf("VerifyPerson accepted a first revision that does not list its signer: %+v", got)
		}
		c, err := gitstore.ParseCommit(commit)
		if err != nil {
			t.Fatalf("VerifyPerson accepted %q: %v", commit, err)
		}
		sigs, _ := protocol.ParseIdentitySignatures(c.Message)
		tm, _ := sigrefsTime(commit)
		if len(sigs) != 1 || !bytes.Equal(commit, personCommit(nid, c.Tree, "", tm, sigs[0].Signature).Encode()) {
			t.Fatalf("accepted a person commit not in its one encoding:\n%q", commit)
		}
		if enc, _ := got.Encode(); !bytes.Equal(enc, doc) {
			t.Fatalf("accepted a document not in its canonical form: %q", doc)
		}
	})
}
