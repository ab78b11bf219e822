package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// errStale is a namespace that arrived older than the one stored.
var errStale = errors.New("older than ours")

// MaxNamespaces bounds how many namespaces one fetch may bring.
const MaxNamespaces = 10_000

// Rejection is a namespace that arrived but failed verification.
type Rejection struct {
	NID string
	Err error
}

func (r Rejection) Error() string { return "namespace " + r.NID + ": " + r.Err.Error() }

// PeerFault reports whether the rejection shows the peer sent bad data.
// A fork (signed refs that verify but do not descend from ours) does not:
// only the namespace's owner can sign one, and an honest peer may hold it.
func (r Rejection) PeerFault() bool { return !errors.Is(r.Err, protocol.ErrRollback) }

// ArrivalError is an error of Accept that what arrived caused: the
// sender's fault. Any other error of Accept is this storage's own (a lock
// waited for too long, a full disk, a ref it could not write), no fault of
// the sender's.
type ArrivalError struct{ Err error }

func (e *ArrivalError) Error() string { return e.Err.Error() }

func (e *ArrivalError) Unwrap() error { return e.Err }

// AcceptResult says what Accept did.
type AcceptResult struct {
	Updated   []protocol.NID // namespaces whose refs moved
	Unchanged int            // namespaces that were already current
	Rejected  []Rejection
}

// Accept verifies the namespaces that arrived in q (under refs/namespaces/)
// and moves every one that passes into the storage, in one ref transaction
// with the canonical refs. A namespace passes only if its signed refs verify
// with its NID for this project, descend from the ones the storage has (no
// rollback), list exactly the refs that arrived, and its identity history is
// valid. consider picks the namespaces to look at (policy); the others and
// any that fail are left as they are. Nothing moves if the project's identity
// would not verify afterwards.
func (r *Repo) Accept(ctx context.Context, q *Quarantine, consider func(protocol.NID) bool) (*AcceptResult, error) {
	return r.accept(ctx, q, consider, nil)
}

// AcceptReplacing is Accept, except that nid's namespace may move to a
// fork of the one stored: a history its owner signed that does not descend
// from the stored revision, verified back to its first revision as a new
// namespace would be. An older revision of the stored line is still not
// taken. It is the way back for a namespace held on a line its owner
// abandoned (restored from a backup, say), which no later revision of the
// owner descends from, so no plain fetch could move it.
func (r *Repo) AcceptReplacing(ctx context.Context, q *Quarantine, consider func(protocol.NID) bool, nid protocol.NID) (*AcceptResult, error) {
	return r.accept(ctx, q, consider, &nid)
}

func (r *Repo) accept(ctx context.Context, q *Quarantine, consider func(protocol.NID) bool, replace *protocol.NID) (*AcceptResult, error) {
	qrefs, err := q.Refs(ctx)
	if err != nil {
		return nil, err
	}
	arrived := make(map[string]map[string]string)
	for full, oid := range qrefs {
		rest, ok := strings.CutPrefix(full, "refs/namespaces/")
		if !ok {
			continue
		}
		ns, name, ok := strings.Cut(rest, "/")
		if !ok || !strings.HasPrefix(name, "refs/") {
			continue
		}
		if arrived[ns] == nil {
			if len(arrived) >= MaxNamespaces {
				return nil, &ArrivalError{fmt.Errorf("more than %d namespaces arrived", MaxNamespaces)}
			}
			arrived[ns] = make(map[string]string)
		}
		arrived[ns][name] = oid
	}
	view, err := q.View()
	if err != nil {
		return nil, err
	}
	unlock, err := r.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	local, err := r.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	empty := len(local) == 0
	res := &AcceptResult{}
	var tx []RefUpdate
	var heads []protocol.NID
	names := make([]string, 0, len(arrived))
	for ns := range arrived {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		refs := arrived[ns]
		nid, err := protocol.ParseNID(ns)
		if err != nil || nid.String() != ns {
			res.Rejected = append(res.Rejected, Rejection{ns, fmt.Errorf("not a node ID")})
			continue
		}
		if consider != nil && !consider(nid) {
			continue
		}
		if equalRefs(refs, local[ns]) {
			res.Unchanged++
			continue
		}
		old := local[ns][protocol.SigrefsRef]
		if replace != nil && replace.Equal(nid) && old != "" && !view.sigrefsBehind(ctx, nid, refs[protocol.SigrefsRef], old) {
			old = "" // a fork may replace it
		}
		if err := view.verifyArrival(ctx, nid, old, refs); err != nil {
			if errors.Is(err, errStale) {
				// An honest peer that is behind: nothing to take.
				res.Unchanged++
				continue
			}
			res.Rejected = append(res.Rejected, Rejection{ns, err})
			continue
		}
		p := NamespacePrefix(nid)
		for name, oid := range refs {
			if local[ns][name] != oid {
				tx = append(tx, RefUpdate{Name: p + name, Old: local[ns][name], New: oid})
			}
		}
		for name, oid := range local[ns] {
			if _, ok := refs[name]; !ok {
				tx = append(tx, RefUpdate{Name: p + name, Old: oid})
			}
		}
		local[ns] = refs
		res.Updated = append(res.Updated, nid)
		heads = append(heads, nid)
	}
	if len(res.Updated) == 0 {
		return res, nil
	}
	doc, _, err := view.identityOf(local)
	if err != nil {
		return nil, &ArrivalError{fmt.Errorf("project identity after fetch: %w", err)}
	}
	if err := q.Migrate(); err != nil {
		return nil, err
	}
	cur, err := r.CanonicalRefs(ctx)
	if err != nil {
		return nil, err
	}
	want, err := r.DeriveCanonical(ctx, doc, local, cur)
	if err != nil {
		return nil, err
	}
	tx = append(tx, canonicalUpdates(cur, want)...)
	if r.unpublished && empty && len(cur) == 0 {
		// A clone into storage nobody else can see yet, with no refs
		// before: one packed-refs file instead of a loose file per ref.
		err = r.writePackedRefs(tx)
	} else {
		err = r.UpdateRefs(ctx, tx)
	}
	if err != nil {
		return nil, err
	}
	for _, nid := range heads {
		if err := r.setNamespaceHEAD(ctx, nid, doc.DefaultBranch, local[nid.String()]); err != nil {
			return nil, err
		}
	}
	if err := r.setHEAD(ctx, doc.DefaultBranch); err != nil {
		return nil, err
	}
	r.maintainLocked(ctx)
	return res, nil
}

// verifyArrival checks one namespace's refs as they arrived, reading
// objects through the quarantine view.
func (r *Repo) verifyArrival(ctx context.Context, nid protocol.NID, old string, refs map[string]string) error {
	if len(refs) > protocol.MaxRefs {
		return fmt.Errorf("%d refs is over the limit of %d", len(refs), protocol.MaxRefs)
	}
	tip := refs[protocol.SigrefsRef]
	if tip == "" {
		return fmt.Errorf("refs are not signed")
	}
	sr, err := r.VerifySigrefsUpdate(ctx, nid, old, tip)
	if errors.Is(err, ErrSameRevision) {
		return errStale
	}
	if errors.Is(err, protocol.ErrRollback) && r.sigrefsBehind(ctx, nid, tip, old) {
		// Not a successor, but a peer that is behind (ours descends
		// from theirs) is honest; anything else is a fork.
		return errStale
	}
	if err != nil {
		return err
	}
	signed := sr.Refs.Map()
	for name, oid := range refs {
		if name == protocol.SigrefsRef {
			continue
		}
		if want, ok := signed[name]; !ok || want != oid {
			return fmt.Errorf("ref %s does not match its signed refs", name)
		}
	}
	for name := range signed {
		if _, ok := refs[name]; !ok {
			return fmt.Errorf("signed ref %s did not arrive", name)
		}
	}
	if id := refs[protocol.IdentityRef]; id != "" {
		if _, _, err := r.VerifyIdentity(id); err != nil {
			return err
		}
	}
	if p := refs[protocol.PersonRef]; p != "" {
		if _, err := r.VerifyPerson(nid, p); err != nil {
			return err
		}
	}
	return nil
}

// sigrefsBehind reports whether nid's stored sigrefs ours descend from
// theirs, as a commit or, for a version 1 or 2 revision that may have been
// wrapped anew, as what it signs.
func (r *Repo) sigrefsBehind(ctx context.Context, nid protocol.NID, theirs, ours string) bool {
	if behind, err := r.IsAncestor(ctx, theirs, ours); err == nil && behind {
		return true
	}
	sr, err := r.readSigrefsHead(nid, theirs)
	if err != nil || sr.Version >= 3 {
		return false // a version 3 revision has one oid: the walk above was the answer
	}
	behind, err := r.sigrefsReach(ctx, nid, ours, theirs, sr)
	return err == nil && behind
}

func equalRefs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// CreateEmpty makes an empty storage for project rid, to be filled by a
// fetch, in a temporary place: Publish moves it under its RID once
// something verified landed; Discard removes it.
func CreateEmpty(ctx context.Context, h Home, rid protocol.RID) (*Repo, error) {
	if err := os.MkdirAll(h.StorageDir(), 0o700); err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	tmp, err := os.MkdirTemp(h.StorageDir(), ".clone-*")
	if err != nil {
		return nil, fmt.Errorf("create storage: %w", err)
	}
	if err := initStorage(tmp, ""); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	r, err := openPath(tmp, rid)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	r.unpublished = true
	r.home = h
	return r, nil
}

// Publish moves a storage made by CreateEmpty to its place in h.
func (r *Repo) Publish(h Home) error {
	final := h.ProjectPath(r.RID)
	if err := os.Rename(r.Path, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return fmt.Errorf("project %s: %w", r.RID, ErrExists)
		}
		return fmt.Errorf("publish storage: %w", err)
	}
	r.Path = final
	r.store = gitstore.Open(final)
	r.unpublished = false
	return nil
}

// Discard removes a storage made by CreateEmpty that never got published.
func (r *Repo) Discard() error { return os.RemoveAll(r.Path) }

// RemoveStale deletes leftovers of creations, clones and fetches that
// died, older than age. Fetch quarantines are made without the project
// lock, so only age tells a dead one from a running one.
func RemoveStale(h Home, age time.Duration) {
	for _, pat := range []string{".new-*", ".clone-*", filepath.Join("*.git", tmpDir, "fetch-*")} {
		dirs, _ := filepath.Glob(filepath.Join(h.StorageDir(), pat))
		for _, d := range dirs {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > age {
				os.RemoveAll(d)
			}
		}
	}
}
