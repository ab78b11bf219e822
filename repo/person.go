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
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	maxPersonDoc = 16 << 10
	// MaxDevices bounds the devices a person lists at once.
	MaxDevices = 16
	// maxRemoved bounds the removed devices a person lists, and
	// maxCaps the signed-refs heads kept for each.
	maxRemoved = 32
	maxCaps    = 64
	// maxPersonChain bounds how many revisions are walked.
	maxPersonChain = 1000
)

// ErrAmbiguous is returned when more than one person could be meant.
var ErrAmbiguous = errors.New("ambiguous")

// ErrInvalidPerson is returned for a malformed, non-canonical or badly
// signed person document.
var ErrInvalidPerson = errors.New("invalid person document")

// Person is a person document. Its JSON field order is alphabetical so
// that encoding/json output is canonical.
//
// Version 1 names one device, the key that signs it. Version 2 adds
// Devices, the NIDs that speak for the person (sorted; every revision
// after a version 2 one is signed by one of the previous revision's
// devices), and Removed, the devices taken out so far, each with the
// signed-refs heads its namespaces had when it was removed (sorted; the
// most of its work that peers keep).
type Person struct {
	Alias   string              `json:"alias"`
	Devices []string            `json:"devices,omitempty"`
	Email   string              `json:"email,omitempty"`
	Name    string              `json:"name,omitempty"`
	Removed map[string][]string `json:"removed,omitempty"`
	Version int                 `json:"version"`
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
	switch {
	case p.Version != 1 && p.Version != 2:
		return fmt.Errorf("%w: version %d is not supported", ErrInvalidPerson, p.Version)
	case p.Version == 1 && (len(p.Devices) > 0 || len(p.Removed) > 0):
		return fmt.Errorf("%w: version 1 lists no devices", ErrInvalidPerson)
	case p.Version == 2:
		if err := p.validateDevices(); err != nil {
			return err
		}
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

// validateDevices checks a version 2 document's devices and removals:
// 1 to MaxDevices NIDs in their canonical form, sorted, once each; removed
// devices not listed, each with 1 to maxCaps sorted oids.
func (p *Person) validateDevices() error {
	if len(p.Devices) == 0 || len(p.Devices) > MaxDevices {
		return fmt.Errorf("%w: %d devices (1 to %d)", ErrInvalidPerson, len(p.Devices), MaxDevices)
	}
	for i, d := range p.Devices {
		if n, err := protocol.ParseNID(d); err != nil || n.String() != d {
			return fmt.Errorf("%w: device %q is not a node ID", ErrInvalidPerson, d)
		}
		if i > 0 && p.Devices[i-1] >= d {
			return fmt.Errorf("%w: devices are not sorted and unique", ErrInvalidPerson)
		}
	}
	if len(p.Removed) > maxRemoved {
		return fmt.Errorf("%w: %d removed devices (at most %d)", ErrInvalidPerson, len(p.Removed), maxRemoved)
	}
	for d, caps := range p.Removed {
		if n, err := protocol.ParseNID(d); err != nil || n.String() != d {
			return fmt.Errorf("%w: removed device %q is not a node ID", ErrInvalidPerson, d)
		}
		if slices.Contains(p.Devices, d) {
			return fmt.Errorf("%w: %s is both a device and removed", ErrInvalidPerson, d)
		}
		if len(caps) > maxCaps {
			return fmt.Errorf("%w: %d heads for removed device %s (at most %d)", ErrInvalidPerson, len(caps), d, maxCaps)
		}
		for i, c := range caps {
			if !protocol.ValidOID(c) || i > 0 && caps[i-1] >= c {
				return fmt.Errorf("%w: heads of removed device %s are not sorted oids", ErrInvalidPerson, d)
			}
		}
	}
	return nil
}

// Encode returns the canonical JSON of a valid document (version filled:
// 2 when it lists devices, else 1).
func (p *Person) Encode() ([]byte, error) {
	c := *p
	if c.Version == 0 {
		c.Version = 1
		if len(c.Devices) > 0 {
			c.Version = 2
		}
	}
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
	if p.Version != 1 && p.Version != 2 {
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
	signer                protocol.NID
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

// PersonChain is a person history as one namespace holds it, verified.
type PersonChain struct {
	// Doc is the document at the tip.
	Doc *Person `json:"doc"`
	// Revs are the revisions' oids, the first first: Revs[0] is the
	// person's ID, whatever device holds the history.
	Revs []string `json:"revs"`
	// Signers are the devices that signed each revision.
	Signers []string `json:"signers"`
	// Devices are the devices the tip lists (version 1: its signer).
	Devices []string `json:"devices"`
}

// Root is the oid of the history's first revision: the person's ID.
func (c *PersonChain) Root() string { return c.Revs[0] }

// Tip is the oid of the newest revision.
func (c *PersonChain) Tip() string { return c.Revs[len(c.Revs)-1] }

// personStep checks that doc, signed by signer, may follow prev (nil for
// a first revision, whose devices are prevDevices) and returns the
// devices doc lists: a version 1 document names its signer alone; the
// first revision is signed by a device it lists (its founder); every
// later one by a device the previous revision lists, never going back to
// version 1, keeping every earlier removal as it was, and removing only
// devices the previous revision listed. A removed device is never listed
// again (Validate), so it cannot re-add itself nor be re-added.
func personStep(prev *Person, prevDevices []string, doc *Person, signer protocol.NID) ([]string, error) {
	s := signer.String()
	devices := doc.Devices
	if doc.Version == 1 {
		devices = []string{s}
	}
	if prev == nil {
		if !slices.Contains(devices, s) {
			return nil, fmt.Errorf("%w: the first revision is signed by %s, which it does not list", ErrInvalidPerson, s)
		}
		return devices, nil
	}
	if !slices.Contains(prevDevices, s) {
		return nil, fmt.Errorf("%w: signed by %s, not a device of the revision before", ErrInvalidPerson, s)
	}
	if doc.Version < prev.Version {
		return nil, fmt.Errorf("%w: version %d after version %d", ErrInvalidPerson, doc.Version, prev.Version)
	}
	for d, caps := range prev.Removed {
		if !slices.Equal(doc.Removed[d], caps) {
			return nil, fmt.Errorf("%w: the removal of %s is dropped or changed", ErrInvalidPerson, d)
		}
	}
	for d := range doc.Removed {
		if _, ok := prev.Removed[d]; !ok && !slices.Contains(prevDevices, d) {
			return nil, fmt.Errorf("%w: %s is removed but was not a device", ErrInvalidPerson, d)
		}
	}
	return devices, nil
}

// VerifyPerson walks nid's person history from tip back to its first
// revision and checks every one (VerifyPersonChain). It returns the
// document at tip.
func (r *Repo) VerifyPerson(nid protocol.NID, tip string) (*Person, error) {
	c, err := r.VerifyPersonChain(nid, tip)
	if err != nil {
		return nil, err
	}
	return c.Doc, nil
}

// VerifyPersonChain walks the person history in nid's namespace from tip
// back to its first revision and checks every one: in its one encoding, a
// valid canonical document, signed by a device of the revision before
// (personStep); and the tip lists nid among its devices.
func (r *Repo) VerifyPersonChain(nid protocol.NID, tip string) (*PersonChain, error) {
	type rev struct {
		oid    string
		doc    *Person
		signer protocol.NID
	}
	var revs []rev
	for oid := tip; oid != ""; {
		if len(revs) >= maxPersonChain {
			return nil, fmt.Errorf("person %.7s: %w: history longer than %d revisions", tip, ErrInvalidPerson, maxPersonChain)
		}
		v, err := r.readPersonCommit(oid)
		if err != nil {
			return nil, fmt.Errorf("person %.7s: %w", oid, err)
		}
		revs = append(revs, rev{oid, v.doc, v.signer})
		oid = v.parent
	}
	slices.Reverse(revs)
	c := &PersonChain{Revs: make([]string, len(revs)), Signers: make([]string, len(revs))}
	var prev *Person
	for i, v := range revs {
		devices, err := personStep(prev, c.Devices, v.doc, v.signer)
		if err != nil {
			return nil, fmt.Errorf("person %.7s: %w", v.oid, err)
		}
		c.Revs[i], c.Signers[i], c.Devices, prev = v.oid, v.signer.String(), devices, v.doc
	}
	c.Doc = prev
	if !slices.Contains(c.Devices, nid.String()) {
		return nil, fmt.Errorf("person %.7s: %w: %s is not one of its devices", tip, ErrInvalidPerson, nid)
	}
	return c, nil
}

// personRev is one verified person commit.
type personRev struct {
	doc    *Person
	data   []byte // the document as stored
	parent string
	signer protocol.NID
	time   int64
	sig    []byte
}

// readPersonCommit reads and verifies one person commit: in its one
// encoding, holding a valid canonical document, signed by the device its
// trailer names.
func (r *Repo) readPersonCommit(oid string) (*personRev, error) {
	if !protocol.ValidOID(oid) {
		return nil, ErrNotFound
	}
	kind, raw, err := r.ReadObject(oid, maxCommitObject)
	if err != nil {
		return nil, err
	}
	if kind != "commit" {
		return nil, fmt.Errorf("%w: a %s, not a commit", ErrInvalidPerson, kind)
	}
	c, err := gitstore.ParseCommit(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPerson, err)
	}
	if len(c.Parents) > 1 {
		return nil, fmt.Errorf("%w: %d parents", ErrInvalidPerson, len(c.Parents))
	}
	parent := ""
	if len(c.Parents) == 1 {
		parent = c.Parents[0]
	}
	sigs, err := protocol.ParseIdentitySignatures(c.Message)
	if err != nil || len(sigs) != 1 {
		return nil, fmt.Errorf("%w: not signed by one device", ErrInvalidPerson)
	}
	signer := sigs[0].NID
	es, err := r.readTree(c.Tree)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 || es[0].Name != PersonFile || es[0].Mode != 0o100644 {
		return nil, fmt.Errorf("%w: the tree must hold %s alone", ErrInvalidPerson, PersonFile)
	}
	_, data, err := r.readBlob(es[0].OID, maxPersonDoc)
	if err != nil {
		return nil, err
	}
	doc, err := ParsePerson(data)
	if err != nil {
		return nil, err
	}
	t, ok := sigrefsTime(raw)
	if !ok || !bytes.Equal(raw, personCommit(signer, c.Tree, parent, t, sigs[0].Signature).Encode()) {
		return nil, fmt.Errorf("%w: the commit is not in its canonical form", ErrInvalidPerson)
	}
	if !signer.Verify(protocol.PersonPayload(signer, c.Tree, parent, t), sigs[0].Signature) {
		return nil, fmt.Errorf("%w by %s on person document", protocol.ErrBadSignature, signer)
	}
	return &personRev{doc: doc, data: data, parent: parent, signer: signer, time: t, sig: sigs[0].Signature}, nil
}

// PersonFor finds, among the project's person histories, the newest one
// that lists dev as a device (the longest; of equal ones the lowest tip),
// and returns it in the form JoinPerson reads: how a device added by
// another picks up the history, from a project the other wrote it into.
// Histories of more than one person listing dev (anyone may list any NID
// in a history of their own) are ErrAmbiguous: the user must say which.
func (r *Repo) PersonFor(ctx context.Context, dev protocol.NID) ([]byte, error) {
	chains, err := r.personChains(ctx)
	if err != nil {
		return nil, err
	}
	var best *PersonChain
	for _, c := range chains {
		if !slices.Contains(c.Devices, dev.String()) {
			continue
		}
		if best != nil && best.Root() != c.Root() {
			return nil, fmt.Errorf("person history listing %s: %w: the histories of more than one person list it: join from the file 'grove device add --export' writes", dev.Short(), ErrAmbiguous)
		}
		if best == nil || len(c.Revs) > len(best.Revs) || len(c.Revs) == len(best.Revs) && c.Tip() < best.Tip() {
			best = c
		}
	}
	if best == nil {
		return nil, fmt.Errorf("person history listing %s: %w", dev.Short(), ErrNotFound)
	}
	rec := personRecord{NID: dev.String()}
	for _, oid := range best.Revs {
		v, err := r.readPersonCommit(oid)
		if err != nil {
			return nil, err
		}
		e := personRecordEntry{Document: string(v.data), Time: v.time, Signature: v.sig}
		if !v.signer.Equal(dev) {
			e.Signer = v.signer.String()
		}
		rec.Revisions = append(rec.Revisions, e)
	}
	return json.MarshalIndent(rec, "", "  ")
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
	chains, err := r.personChains(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Person, len(chains))
	for ns, c := range chains {
		out[ns] = c.Doc
	}
	return out, nil
}

// personChains returns the project's person histories that verify, by
// namespace; one that does not is left out.
func (r *Repo) personChains(ctx context.Context) (map[string]*PersonChain, error) {
	tips, err := r.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*PersonChain, len(tips))
	for ns, tip := range tips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nid, err := protocol.ParseNID(ns)
		if err != nil || tip == "" {
			continue
		}
		if c, err := r.VerifyPersonChain(nid, tip); err == nil {
			out[ns] = c
		}
	}
	return out, nil
}

// personRecord is the home's person history ($GROVE_HOME/person.json),
// oldest revision first: enough to write its commits into any project
// with the same oids. NID is the home's key; a revision signed by another
// device names it (Signer).
type personRecord struct {
	NID       string              `json:"nid"`
	Revisions []personRecordEntry `json:"revisions"`
}

type personRecordEntry struct {
	Document  string `json:"document"`
	Signer    string `json:"signer,omitempty"`
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
	// Root is the first revision's oid, the person's ID; Devices the
	// devices the newest revision lists (version 1: its signer).
	Root    string
	Devices []string
	objects []personObjects // oldest first
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
	ph, err := parsePersonRecord(b, "")
	if err != nil {
		return nil, fmt.Errorf("person document %s: %w", h.personPath(), err)
	}
	return ph, nil
}

// parsePersonRecord reads a person history in the home's form; a
// non-empty nid replaces the record's own (a history another device of
// the person exported).
func parsePersonRecord(b []byte, nid string) (*PersonHistory, error) {
	if len(b) > 4*maxPersonChain*maxPersonDoc {
		return nil, fmt.Errorf("%w: too large", ErrInvalidPerson)
	}
	var rec personRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPerson, err)
	}
	if nid != "" {
		for i, e := range rec.Revisions {
			if e.Signer == "" {
				rec.Revisions[i].Signer = rec.NID
			}
		}
		rec.NID = nid
	}
	return rec.history()
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
	var prev *Person
	for _, e := range rec.Revisions {
		signer := nid
		if e.Signer != "" {
			if signer, err = protocol.ParseNID(e.Signer); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrInvalidPerson, err)
			}
		}
		doc, err := ParsePerson([]byte(e.Document))
		if err != nil {
			return nil, err
		}
		if ph.Devices, err = personStep(prev, ph.Devices, doc, signer); err != nil {
			return nil, err
		}
		o := personRevision(signer, []byte(e.Document), parent, e.Time, e.Signature)
		if e.Time < 0 || !signer.Verify(protocol.PersonPayload(signer, o.treeOID, parent, e.Time), e.Signature) {
			return nil, fmt.Errorf("%w by %s on person document", protocol.ErrBadSignature, signer)
		}
		o.doc, o.signer = doc, signer
		ph.objects = append(ph.objects, o)
		parent, prev = o.oid, doc
	}
	if !slices.Contains(ph.Devices, nid.String()) {
		return nil, fmt.Errorf("%w: %s is not one of its devices", ErrInvalidPerson, nid)
	}
	ph.Doc, ph.Tip, ph.Root = prev, parent, ph.objects[0].oid
	return ph, nil
}

// SetPerson makes doc the home's person document, signed by s, as a new
// revision after the current one (the first, if the home has none or its
// history is not s's or does not read). The devices and removals of a
// version 2 history are kept when doc lists none. A doc equal to the
// current one changes nothing. Projects get it on their next write
// (WritePerson).
func SetPerson(ctx context.Context, h Home, s protocol.Signer, doc Person, now time.Time) (*PersonHistory, error) {
	return revisePerson(ctx, h, s, now, func(cur *PersonHistory) (Person, error) {
		if cur != nil && doc.Devices == nil {
			doc.Devices, doc.Removed, doc.Version = cur.Doc.Devices, cur.Doc.Removed, cur.Doc.Version
		}
		return doc, nil
	})
}

// AddDevice signs, with s, the next revision of the home's person history
// listing dev as one more device.
func AddDevice(ctx context.Context, h Home, s protocol.Signer, dev protocol.NID, now time.Time) (*PersonHistory, error) {
	return revisePerson(ctx, h, s, now, func(cur *PersonHistory) (Person, error) {
		if cur == nil {
			return Person{}, fmt.Errorf("person document: %w: set an alias first with 'grove self edit --alias NAME'", ErrNotFound)
		}
		d := dev.String()
		if _, ok := cur.Doc.Removed[d]; ok {
			return Person{}, fmt.Errorf("%w: %s was removed and cannot be added again", ErrInvalidPerson, dev.Short())
		}
		if slices.Contains(cur.Devices, d) {
			return Person{}, fmt.Errorf("device %s: %w", dev.Short(), ErrExists)
		}
		if len(cur.Devices) >= MaxDevices {
			return Person{}, fmt.Errorf("%w: %d devices is the most a person lists", ErrInvalidPerson, MaxDevices)
		}
		doc := *cur.Doc
		doc.Version = 2
		doc.Devices = append(slices.Clone(cur.Devices), d)
		slices.Sort(doc.Devices)
		return doc, nil
	})
}

// RemoveDevice signs, with s, the next revision of the home's person
// history without dev, recording heads (the signed-refs heads of dev's
// namespaces that s knows) as the most of dev's work peers keep.
func RemoveDevice(ctx context.Context, h Home, s protocol.Signer, dev protocol.NID, heads []string, now time.Time) (*PersonHistory, error) {
	return revisePerson(ctx, h, s, now, func(cur *PersonHistory) (Person, error) {
		d := dev.String()
		switch {
		case cur == nil || !slices.Contains(cur.Devices, d):
			return Person{}, fmt.Errorf("device %s: %w", dev.Short(), ErrNotFound)
		case dev.Equal(s.NID()):
			return Person{}, fmt.Errorf("%w: a device cannot remove itself: remove it from another device", ErrInvalidPerson)
		}
		heads = slices.Compact(slices.Sorted(slices.Values(heads)))
		if len(heads) > maxCaps {
			return Person{}, fmt.Errorf("%w: %s has namespaces in %d projects, over the %d a removal records", ErrInvalidPerson, dev.Short(), len(heads), maxCaps)
		}
		doc := *cur.Doc
		doc.Version = 2
		doc.Devices = slices.DeleteFunc(slices.Clone(cur.Devices), func(x string) bool { return x == d })
		doc.Removed = maps.Clone(cur.Doc.Removed)
		if doc.Removed == nil {
			doc.Removed = map[string][]string{}
		}
		doc.Removed[d] = heads
		return doc, nil
	})
}

// JoinPerson makes the person history b (another device's, as
// ExportPerson or Repo.PersonRecord give it) the home's, for s: it must
// verify and list s as a device.
func JoinPerson(ctx context.Context, h Home, s protocol.Signer, b []byte) (*PersonHistory, error) {
	ph, err := parsePersonRecord(b, s.NID().String())
	if err != nil {
		return nil, err
	}
	unlock, err := lockFile(ctx, filepath.Join(h.Dir, "person.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	return ph, h.writePerson(ph.record())
}

// Export is the history in the form JoinPerson reads.
func (ph *PersonHistory) Export() []byte {
	b, _ := json.MarshalIndent(ph.record(), "", "  ")
	return append(b, '\n')
}

// revisePerson appends to the home's person history a revision signed by
// s with the document next makes from the current history (nil when the
// home has none, or one that is not s's or does not read).
func revisePerson(ctx context.Context, h Home, s protocol.Signer, now time.Time, next func(*PersonHistory) (Person, error)) (*PersonHistory, error) {
	unlock, err := lockFile(ctx, filepath.Join(h.Dir, "person.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := h.Person()
	if err != nil || !cur.NID.Equal(s.NID()) {
		cur = nil
	}
	doc, err := next(cur)
	if err != nil {
		return nil, err
	}
	data, err := doc.Encode()
	if err != nil {
		return nil, err
	}
	var rec personRecord
	parent := ""
	if cur != nil {
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
	return ph, h.writePerson(rec)
}

// writePerson stores rec as the home's person history.
func (h Home) writePerson(rec personRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return fmt.Errorf("create home: %w", err)
	}
	return WriteFileAtomic(h.personPath(), append(b, '\n'), 0o644)
}

// record is the history as the home stores it.
func (ph *PersonHistory) record() personRecord {
	rec := personRecord{NID: ph.NID.String()}
	for _, o := range ph.objects {
		e := personRecordEntry{Document: string(o.blob), Time: o.time, Signature: o.signature}
		if !o.signer.Equal(ph.NID) {
			e.Signer = o.signer.String()
		}
		rec.Revisions = append(rec.Revisions, e)
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
