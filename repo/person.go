package repo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo/internal/gitstore"
)

// A person document names a peer: the alias (and optional name and email)
// people see in place of its NID, signed by its key, with a history. The
// home keeps the history ($GROVE_HOME/person.json) and every write to a
// project's namespace copies it in, as the commits of refs/grove/person,
// which the signed refs list like any other ref (docs/STORAGE.md).

// PersonFile is the name of the document's blob in a person commit's tree.
const PersonFile = "person.json"

// Limits on a person document and its history.
const (
	// MaxAlias bounds an alias, in bytes.
	MaxAlias = 64
	// maxPersonName and maxPersonEmail bound the optional fields.
	maxPersonName  = 128
	maxPersonEmail = 254
	// maxPersonDoc bounds the encoded document.
	maxPersonDoc = 1024
	// maxPersonChain bounds how many revisions are walked.
	maxPersonChain = 1000
)

// ErrInvalidPerson is returned for a malformed, non-canonical or badly
// signed person document.
var ErrInvalidPerson = errors.New("invalid person document")

// Person is a person document. Its JSON field order is alphabetical so
// that encoding/json output is canonical.
type Person struct {
	Alias   string `json:"alias"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	Version int    `json:"version"`
}

// CheckAlias reports why alias cannot name a person, or nil: it is 1 to
// MaxAlias bytes of text a terminal shows as it is, without spaces at its
// ends, and it cannot pass for a node ID, whole or short (an alias is
// shown where an NID was, and with a short NID when two people share it).
func CheckAlias(alias string) error {
	switch {
	case strings.TrimSpace(alias) == "":
		return fmt.Errorf("%w: the alias is empty", ErrInvalidPerson)
	case len(alias) > MaxAlias:
		return fmt.Errorf("%w: the alias is over %d bytes", ErrInvalidPerson, MaxAlias)
	case !termtext.Safe(alias):
		return fmt.Errorf("%w: the alias has control characters, tabs or bidirectional overrides", ErrInvalidPerson)
	case strings.TrimSpace(alias) != alias:
		return fmt.Errorf("%w: the alias starts or ends with a space", ErrInvalidPerson)
	case strings.ContainsAny(alias, "…()"):
		return fmt.Errorf("%w: the alias has '…', '(' or ')', which would pass for a node ID", ErrInvalidPerson)
	}
	if _, err := protocol.ParseNID(alias); err == nil {
		return fmt.Errorf("%w: the alias is a node ID", ErrInvalidPerson)
	}
	return nil
}

// Validate checks the document's fields.
func (p *Person) Validate() error {
	if p.Version != 1 {
		return fmt.Errorf("%w: version %d is not supported", ErrInvalidPerson, p.Version)
	}
	if err := CheckAlias(p.Alias); err != nil {
		return err
	}
	for _, f := range []struct {
		what, v string
		max     int
	}{{"name", p.Name, maxPersonName}, {"email", p.Email, maxPersonEmail}} {
		switch {
		case len(f.v) > f.max:
			return fmt.Errorf("%w: the %s is over %d bytes", ErrInvalidPerson, f.what, f.max)
		case !termtext.Safe(f.v):
			return fmt.Errorf("%w: the %s has control characters, tabs or bidirectional overrides", ErrInvalidPerson, f.what)
		case strings.TrimSpace(f.v) != f.v:
			return fmt.Errorf("%w: the %s starts or ends with a space", ErrInvalidPerson, f.what)
		}
	}
	if strings.ContainsAny(p.Email, " <>") {
		return fmt.Errorf("%w: the email has a space, '<' or '>'", ErrInvalidPerson)
	}
	return nil
}

// Encode returns the canonical JSON of a valid document (version filled).
func (p *Person) Encode() ([]byte, error) {
	c := *p
	c.Version = 1
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode person: %w", err)
	}
	return b.Bytes(), nil
}

// ParsePerson parses a document and rejects anything that is not its
// canonical encoding.
func ParsePerson(b []byte) (*Person, error) {
	if len(b) > maxPersonDoc {
		return nil, fmt.Errorf("%w: %d bytes is over %d", ErrInvalidPerson, len(b), maxPersonDoc)
	}
	var p Person
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPerson, err)
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("%w: version %d is not supported", ErrInvalidPerson, p.Version)
	}
	want, err := p.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, b) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrInvalidPerson)
	}
	return &p, nil
}

// personMessage is the whole message of a version 1 person commit but for
// its signature trailer.
const personMessage = "grove person v1\n\n"

// personObjects are the three objects of one person revision, encoded,
// with their oids: the document's blob, the tree holding it, the commit.
type personObjects struct {
	blob, tree, commit    []byte
	blobOID, treeOID, oid string
	doc                   *Person
	time                  int64
	signature             []byte
	parent                string
}

// personRevision encodes the revision of doc (canonical JSON data) signed
// by nid at time t with signature sig as the successor of parent: the one
// encoding there is of it (personCommit).
func personRevision(nid protocol.NID, data []byte, parent string, t int64, sig []byte) personObjects {
	o := personObjects{blob: data, time: t, signature: sig, parent: parent}
	o.blobOID = objectOID("blob", data)
	o.tree = protocol.EncodeTree([]protocol.TreeEntry{{Mode: 0o100644, Name: PersonFile, OID: o.blobOID}})
	o.treeOID = objectOID("tree", o.tree)
	o.commit = personCommit(nid, o.treeOID, parent, t, sig).Encode()
	o.oid = objectOID("commit", o.commit)
	return o
}

// personCommit is the one encoding of a version 1 person commit: the
// owner as author and committer at the signed time, in UTC, and a fixed
// message carrying the owner's signature.
func personCommit(nid protocol.NID, tree, parent string, t int64, sig []byte) *gitstore.Commit {
	who := gitstore.Sig{Name: nid.String(), Email: nid.String() + "@grove", When: time.Unix(t, 0).UTC()}
	msg := personMessage + protocol.IdentitySignature{NID: nid, Signature: sig}.Trailer() + "\n"
	c := &gitstore.Commit{Author: who, Committer: who, Message: msg, Tree: tree}
	if parent != "" {
		c.Parents = []string{parent}
	}
	return c
}

// objectOID is the git object ID of an object of kind with data.
func objectOID(kind string, data []byte) string {
	h := sha1.New()
	h.Write([]byte(kind + " " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifyPerson walks nid's person history from tip back to its first
// revision and checks every one: in its one encoding, a valid canonical
// document, signed by nid. It returns the document at tip.
func (r *Repo) VerifyPerson(nid protocol.NID, tip string) (*Person, error) {
	var doc *Person
	for oid, i := tip, 0; oid != ""; i++ {
		if i >= maxPersonChain {
			return nil, fmt.Errorf("person %.7s: %w: history longer than %d revisions", tip, ErrInvalidPerson, maxPersonChain)
		}
		p, parent, err := r.readPersonCommit(nid, oid)
		if err != nil {
			return nil, fmt.Errorf("person %.7s: %w", oid, err)
		}
		if doc == nil {
			doc = p
		}
		oid = parent
	}
	return doc, nil
}

// readPersonCommit reads and verifies one person commit of nid's,
// returning its document and its parent.
func (r *Repo) readPersonCommit(nid protocol.NID, oid string) (*Person, string, error) {
	if !protocol.ValidOID(oid) {
		return nil, "", ErrNotFound
	}
	kind, raw, err := r.ReadObject(oid, maxCommitObject)
	if err != nil {
		return nil, "", err
	}
	if kind != "commit" {
		return nil, "", fmt.Errorf("%w: a %s, not a commit", ErrInvalidPerson, kind)
	}
	c, err := gitstore.ParseCommit(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidPerson, err)
	}
	if len(c.Parents) > 1 {
		return nil, "", fmt.Errorf("%w: %d parents", ErrInvalidPerson, len(c.Parents))
	}
	parent := ""
	if len(c.Parents) == 1 {
		parent = c.Parents[0]
	}
	sigs, err := protocol.ParseIdentitySignatures(c.Message)
	if err != nil || len(sigs) != 1 || !sigs[0].NID.Equal(nid) {
		return nil, "", fmt.Errorf("%w: not signed by %s alone", ErrInvalidPerson, nid)
	}
	es, err := r.readTree(c.Tree)
	if err != nil {
		return nil, "", err
	}
	if len(es) != 1 || es[0].Name != PersonFile || es[0].Mode != 0o100644 {
		return nil, "", fmt.Errorf("%w: the tree must hold %s alone", ErrInvalidPerson, PersonFile)
	}
	_, data, err := r.readBlob(es[0].OID, maxPersonDoc)
	if err != nil {
		return nil, "", err
	}
	doc, err := ParsePerson(data)
	if err != nil {
		return nil, "", err
	}
	t, ok := sigrefsTime(raw)
	if !ok || !bytes.Equal(raw, personCommit(nid, c.Tree, parent, t, sigs[0].Signature).Encode()) {
		return nil, "", fmt.Errorf("%w: the commit is not in its canonical form", ErrInvalidPerson)
	}
	if !nid.Verify(protocol.PersonPayload(nid, c.Tree, parent, t), sigs[0].Signature) {
		return nil, "", fmt.Errorf("%w by %s on person document", protocol.ErrBadSignature, nid)
	}
	return doc, parent, nil
}

// PersonOf reads and verifies the person document in nid's namespace. A
// namespace without one is ErrNotFound.
func (r *Repo) PersonOf(nid protocol.NID) (*Person, error) {
	tip, err := r.RefFiles().Get(NamespacePrefix(nid) + protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	if tip == "" {
		return nil, fmt.Errorf("person of %s: %w", nid.Short(), ErrNotFound)
	}
	return r.VerifyPerson(nid, tip)
}

// Persons returns the person document of every namespace that has a
// valid one, by NID. One that does not verify is left out: the NID then
// stands for itself.
func (r *Repo) Persons(ctx context.Context) (map[string]*Person, error) {
	tips, err := r.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Person, len(tips))
	for ns, tip := range tips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nid, err := protocol.ParseNID(ns)
		if err != nil || tip == "" {
			continue
		}
		if p, err := r.VerifyPerson(nid, tip); err == nil {
			out[ns] = p
		}
	}
	return out, nil
}

// personRecord is the home's person history ($GROVE_HOME/person.json),
// oldest revision first: enough to write its commits into any project
// with the same oids.
type personRecord struct {
	NID       string              `json:"nid"`
	Revisions []personRecordEntry `json:"revisions"`
}

type personRecordEntry struct {
	Document  string `json:"document"`
	Time      int64  `json:"time"`
	Signature []byte `json:"signature"`
}

// PersonHistory is a person document's signed history as a home keeps it.
type PersonHistory struct {
	NID protocol.NID
	// Doc is the newest revision's document and Tip its commit.
	Doc       *Person
	Tip       string
	Revisions int
	objects   []personObjects // oldest first
}

func (h Home) personPath() string { return filepath.Join(h.Dir, "person.json") }

// Person reads and verifies the home's person history: nil and
// ErrNotFound when it has none yet.
func (h Home) Person() (*PersonHistory, error) {
	b, err := os.ReadFile(h.personPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("person document: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read person document: %w", err)
	}
	if len(b) > 4*maxPersonChain*maxPersonDoc {
		return nil, fmt.Errorf("person document %s: %w: too large", h.personPath(), ErrInvalidPerson)
	}
	var rec personRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("person document %s: %w: %v", h.personPath(), ErrInvalidPerson, err)
	}
	ph, err := rec.history()
	if err != nil {
		return nil, fmt.Errorf("person document %s: %w", h.personPath(), err)
	}
	return ph, nil
}

// history checks every revision of the record and encodes its objects.
func (rec *personRecord) history() (*PersonHistory, error) {
	nid, err := protocol.ParseNID(rec.NID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPerson, err)
	}
	if len(rec.Revisions) == 0 || len(rec.Revisions) > maxPersonChain {
		return nil, fmt.Errorf("%w: %d revisions", ErrInvalidPerson, len(rec.Revisions))
	}
	ph := &PersonHistory{NID: nid, Revisions: len(rec.Revisions)}
	parent := ""
	for _, e := range rec.Revisions {
		doc, err := ParsePerson([]byte(e.Document))
		if err != nil {
			return nil, err
		}
		o := personRevision(nid, []byte(e.Document), parent, e.Time, e.Signature)
		if e.Time < 0 || !nid.Verify(protocol.PersonPayload(nid, o.treeOID, parent, e.Time), e.Signature) {
			return nil, fmt.Errorf("%w by %s on person document", protocol.ErrBadSignature, nid)
		}
		o.doc = doc
		ph.objects = append(ph.objects, o)
		parent = o.oid
	}
	ph.Doc, ph.Tip = ph.objects[len(ph.objects)-1].doc, parent
	return ph, nil
}

// SetPerson makes doc the home's person document, signed by s, as a new
// revision after the current one (the first, if the home has none or its
// history is not s's or does not read). A doc equal to the current one
// changes nothing. Projects get it on their next write (WritePerson).
func SetPerson(ctx context.Context, h Home, s protocol.Signer, doc Person, now time.Time) (*PersonHistory, error) {
	data, err := doc.Encode()
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(ctx, filepath.Join(h.Dir, "person.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	var rec personRecord
	parent := ""
	if cur, err := h.Person(); err == nil && cur.NID.Equal(s.NID()) {
		if string(cur.objects[len(cur.objects)-1].blob) == string(data) {
			return cur, nil
		}
		if cur.Revisions >= maxPersonChain {
			return nil, fmt.Errorf("%w: %d revisions is the most a history holds", ErrInvalidPerson, maxPersonChain)
		}
		rec, parent = cur.record(), cur.Tip
	}
	rec.NID = s.NID().String()
	t := max(now.Unix(), 0)
	o := personRevision(s.NID(), data, parent, t, nil)
	sig, err := s.Sign(protocol.PersonPayload(s.NID(), o.treeOID, parent, t))
	if err != nil {
		return nil, fmt.Errorf("sign person document: %w", err)
	}
	rec.Revisions = append(rec.Revisions, personRecordEntry{Document: string(data), Time: t, Signature: sig})
	ph, err := rec.history()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create home: %w", err)
	}
	if err := WriteFileAtomic(h.personPath(), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return ph, nil
}

// record is the history as the home stores it.
func (ph *PersonHistory) record() personRecord {
	rec := personRecord{NID: ph.NID.String()}
	for _, o := range ph.objects {
		rec.Revisions = append(rec.Revisions, personRecordEntry{Document: string(o.blob), Time: o.time, Signature: o.signature})
	}
	return rec
}

// homePerson returns the person history to write with s's next change in
// a project of home h: the home's, or, for a home made before person
// documents that has an alias in its config, a first revision made from
// it now. It returns nil when there is none to write (no alias, or s is
// not the home's key, or the history is another key's).
func homePerson(ctx context.Context, h Home, s protocol.Signer, now time.Time) (*PersonHistory, error) {
	if nid, err := PublicNID(h); err != nil || !nid.Equal(s.NID()) {
		return nil, nil
	}
	ph, err := h.Person()
	if errors.Is(err, ErrNotFound) {
		cfg, cerr := h.Config()
		if cerr != nil || cfg.Alias == "" || CheckAlias(cfg.Alias) != nil {
			return nil, nil
		}
		ph, err = SetPerson(ctx, h, s, Person{Alias: cfg.Alias}, now)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: set it anew with 'grove self edit --alias NAME'", err)
	}
	if !ph.NID.Equal(s.NID()) {
		return nil, nil
	}
	return ph, nil
}

// writePersonObjects stores ph's objects that r lacks and returns the
// update that moves s's person ref from cur to ph's tip, or nil when it is
// there.
func (r *Repo) writePersonObjects(ph *PersonHistory, cur string) (*RefUpdate, error) {
	if ph == nil || cur == ph.Tip {
		return nil, nil
	}
	for _, o := range ph.objects {
		if r.HasObject(o.oid) {
			continue
		}
		for _, w := range []struct {
			kind string
			data []byte
			oid  string
		}{{"blob", o.blob, o.blobOID}, {"tree", o.tree, o.treeOID}, {"commit", o.commit, o.oid}} {
			got, err := r.WriteObject(w.kind, w.data)
			if err != nil {
				return nil, fmt.Errorf("write person document: %w", err)
			}
			if got != w.oid {
				return nil, fmt.Errorf("write person document: %s %.7s stored as %.7s", w.kind, w.oid, got)
			}
		}
	}
	return &RefUpdate{Name: protocol.PersonRef, Old: cur, New: ph.Tip}, nil
}

// withPerson adds to updates of s's namespace the move of its person ref
// to the home's person history, when the storage was opened from s's home
// and the namespace does not hold that history's tip yet.
func (r *Repo) withPerson(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) ([]RefUpdate, error) {
	if r.home.Dir == "" {
		return updates, nil
	}
	for _, u := range updates {
		if u.Name == protocol.PersonRef {
			return updates, nil
		}
	}
	ph, err := homePerson(ctx, r.home, s, now)
	if err != nil || ph == nil {
		return updates, err
	}
	cur, err := r.RefFiles().Get(NamespacePrefix(s.NID()) + protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	up, err := r.writePersonObjects(ph, cur)
	if err != nil || up == nil {
		return updates, err
	}
	return append(updates[:len(updates):len(updates)], *up), nil
}

// WritePerson writes person history ph (SetPerson's) into s's namespace,
// if its tip is not there yet: what 'grove self edit' does in every
// project the user has written to. It reports whether the namespace
// changed.
func (r *Repo) WritePerson(ctx context.Context, s protocol.Signer, ph *PersonHistory, now time.Time) (bool, error) {
	if !ph.NID.Equal(s.NID()) {
		return false, fmt.Errorf("%w: the history is %s's, not %s's", ErrInvalidPerson, ph.NID, s.NID())
	}
	unlock, err := r.Lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	cur, err := r.RefFiles().Get(NamespacePrefix(s.NID()) + protocol.PersonRef)
	if err != nil {
		return false, err
	}
	up, err := r.writePersonObjects(ph, cur)
	if err != nil || up == nil {
		return false, err
	}
	if err := r.updateNamespaceLocked(ctx, s, []RefUpdate{*up}, now); err != nil {
		return false, err
	}
	return true, nil
}
