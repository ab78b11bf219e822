package repo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo/internal/gitstore"
)

// errStale is a namespace that arrived older than the one stored.
var errStale = errors.New("older than ours")

// MaxNamespaces bounds how many namespaces one fetch may bring.
const MaxNamespaces = protocol.MaxNamespaces

// Rejection is a namespace that arrived but failed verification.
type Rejection struct {
	NID string
	Err error
}

func (r Rejection) Error() string { return "namespace " + r.NID + ": " + r.Err.Error() }

// PeerFault reports whether the rejection shows the peer sent bad data.
// A fork (signed refs that verify but do not descend from ours) does not:
// only the namespace's owner can sign one, and an honest peer may hold it;
// nor does a namespace this storage could not check (LocalError).
func (r Rejection) PeerFault() bool {
	return !r.Fork() && !errors.As(r.Err, new(*LocalError))
}

// Fork reports whether the namespace was not taken because it forks from
// the revision this storage holds.
func (r Rejection) Fork() bool { return errors.Is(r.Err, protocol.ErrRollback) }

// LocalError is a namespace this storage could not check for a reason of
// its own (git failing on what it holds): neither a fork nor the peer's
// fault.
type LocalError struct{ Err error }

func (e *LocalError) Error() string { return "could not check it here: " + e.Err.Error() }

func (e *LocalError) Unwrap() error { return e.Err }

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
	// RolledBack are namespaces of devices removed from their person
	// that went back to what the removal kept (a removal that arrived
	// after the device's later work).
	RolledBack []protocol.NID
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
	// have is what the storage held; refused says whether a namespace
	// arrived changed and was not taken (then only what the taken ones
	// reach moves into the storage).
	var have []string
	for _, refs := range local {
		for _, oid := range refs {
			have = append(have, oid)
		}
	}
	refused := false
	res := &AcceptResult{}
	var tx []RefUpdate
	var heads []protocol.NID
	var persons []string // namespaces whose person ref moved
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
			refused = true
			continue
		}
		if consider != nil && !consider(nid) {
			refused = refused || !equalRefs(refs, local[ns])
			continue
		}
		if equalRefs(refs, local[ns]) {
			res.Unchanged++
			continue
		}
		old := local[ns][protocol.SigrefsRef]
		if replace != nil && replace.Equal(nid) && old != "" {
			// A fork may replace it; if git cannot tell, verifyArrival
			// below does.
			if behind, err := view.sigrefsBehind(ctx, nid, refs[protocol.SigrefsRef], old); err == nil && !behind {
				old = ""
			}
		}
		err = view.checkRemoved(ctx, nid, local, arrived, refs[protocol.SigrefsRef])
		if err == nil {
			err = view.verifyArrival(ctx, nid, old, refs)
		}
		if err != nil {
			if errors.Is(err, errStale) {
				// An honest peer that is behind: nothing to take.
				res.Unchanged++
				continue
			}
			res.Rejected = append(res.Rejected, Rejection{ns, err})
			refused = true
			continue
		}
		tx = append(tx, namespaceUpdates(nid, local[ns], refs)...)
		if refs[protocol.PersonRef] != local[ns][protocol.PersonRef] {
			persons = append(persons, ns)
		}
		local[ns] = refs
		res.Updated = append(res.Updated, nid)
		heads = append(heads, nid)
	}
	if len(res.Updated) == 0 {
		return res, nil
	}
	back, rolled := view.rollBackRemoved(ctx, local, persons)
	tx = append(tx, back...)
	res.RolledBack = rolled
	heads = append(heads, rolled...)
	doc, _, err := view.identityOf(local)
	if err != nil {
		return nil, &ArrivalError{fmt.Errorf("project identity after fetch: %w", err)}
	}
	if refused {
		var tips []string
		for _, u := range tx {
			if u.New != "" {
				tips = append(tips, u.New)
			}
		}
		err = q.MigrateReachable(ctx, tips, have)
	} else {
		err = q.Migrate()
	}
	if err != nil {
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
	if errors.Is(err, protocol.ErrRollback) {
		// Not a successor, but a peer that is behind (ours descends
		// from theirs) is honest; anything else is a fork, unless
		// this storage could not tell.
		behind, berr := r.sigrefsBehind(ctx, nid, tip, old)
		if berr != nil {
			return &LocalError{fmt.Errorf("is %.7s behind %.7s: %w", tip, old, berr)}
		}
		if behind {
			return errStale
		}
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

// ErrDeviceRemoved is returned for signed refs of a device removed from
// its person that go past what the removal kept.
var ErrDeviceRemoved = errors.New("device removed from its person")

// checkRemoved refuses tip, nid's arriving signed refs, when nid is a
// removed device of its person (by its person history as stored or as
// arrived) and tip is neither a head the removal kept nor an ancestor of
// one: the device's work up to its removal stays, nothing later is taken.
// A namespace whose history never listed other devices is not looked at
// further.
func (r *Repo) checkRemoved(ctx context.Context, nid protocol.NID, local, arrived map[string]map[string]string, tip string) error {
	ns := nid.String()
	multi := false
	for _, refs := range []map[string]string{local[ns], arrived[ns]} {
		// A version 1 tip has a version 1 history: one device. Its
		// revision alone tells, without walking the history.
		if t := refs[protocol.PersonRef]; t != "" {
			if v, err := r.readPersonCommit(t); err != nil || v.doc.Version > 1 {
				multi = true
			}
		}
	}
	if !multi || tip == "" {
		return nil
	}
	stored, fresh := personTips(local), personTips(local)
	maps.Copy(fresh, personTips(arrived))
	for _, tips := range []map[string]string{fresh, stored} {
		caps, removed := r.peopleOf(ctx, tips, []string{ns}).Removed(ns)
		if !removed {
			continue
		}
		if r.withinRemoval(ctx, caps, tip) {
			return nil
		}
		return fmt.Errorf("%w: signed refs %.7s are past what its removal kept", ErrDeviceRemoved, tip)
	}
	return nil
}

// withinRemoval reports whether tip, nid's signed refs, is one of caps
// (the heads a removal kept) or an ancestor of one this storage has.
func (r *Repo) withinRemoval(ctx context.Context, caps []string, tip string) bool {
	for _, c := range caps {
		if c == tip {
			return true
		}
		if r.HasObject(c) {
			if ok, err := r.IsAncestor(ctx, tip, c); err == nil && ok {
				return true
			}
		}
	}
	return false
}

// rollBackRemoved returns the updates that take the namespaces of devices
// removed by the person histories of namespaces changed (in local, the
// namespaces as they will be) back to the head their removal kept, where
// they are past it and this storage has that head, signed by the device:
// the removal arrived after the device's later work. It changes local to
// match.
func (r *Repo) rollBackRemoved(ctx context.Context, local map[string]map[string]string, changed []string) ([]RefUpdate, []protocol.NID) {
	var removed []string
	for _, ns := range changed {
		nid, err := protocol.ParseNID(ns)
		if err != nil {
			continue
		}
		if c, err := r.VerifyPersonChain(nid, local[ns][protocol.PersonRef]); err == nil {
			for d := range c.Doc.Removed {
				if local[d] != nil && !slices.Contains(removed, d) {
					removed = append(removed, d)
				}
			}
		}
	}
	slices.Sort(removed)
	var tx []RefUpdate
	var rolled []protocol.NID
	tips := personTips(local)
	for _, d := range removed {
		nid, err := protocol.ParseNID(d)
		if err != nil {
			continue
		}
		caps, ok := r.peopleOf(ctx, tips, []string{d}).Removed(d)
		tip := local[d][protocol.SigrefsRef]
		if !ok || tip == "" || r.withinRemoval(ctx, caps, tip) {
			continue
		}
		for _, c := range caps {
			if !r.HasObject(c) {
				continue
			}
			if ok, err := r.IsAncestor(ctx, c, tip); err != nil || !ok {
				continue
			}
			sr, err := r.ReadSigrefs(nid, c)
			if err != nil {
				continue
			}
			refs := sr.Refs.Map()
			if slices.ContainsFunc(slices.Collect(maps.Values(refs)), func(oid string) bool { return !r.HasObject(oid) }) {
				continue // pruned since: nothing to go back to
			}
			refs[protocol.SigrefsRef] = c
			tx = append(tx, namespaceUpdates(nid, local[d], refs)...)
			local[d] = refs
			rolled = append(rolled, nid)
			break
		}
	}
	return tx, rolled
}

// sigrefsBehind reports whether nid's stored sigrefs ours descend from
// theirs, as a commit or, for a version 1 or 2 revision that may have been
// wrapped anew, as what it signs.
func (r *Repo) sigrefsBehind(ctx context.Context, nid protocol.NID, theirs, ours string) (bool, error) {
	behind, err := r.IsAncestor(ctx, theirs, ours)
	if err != nil {
		// git could not walk the two: no answer either way.
		return false, err
	}
	if behind {
		return true, nil
	}
	sr, err := r.readSigrefsHead(nid, theirs)
	if err != nil || sr.Version >= 3 {
		return false, nil // a version 3 revision has one oid: the walk above was the answer
	}
	behind, err = r.sigrefsReach(ctx, nid, ours, theirs, sr)
	return err == nil && behind, nil
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

// RemoveStale deletes leftovers of creations, clones, fetches and update
// packs that died, older than age. Fetch quarantines are made without the project
// lock, so only age tells a dead one from a running one.
func RemoveStale(h Home, age time.Duration) {
	for _, pat := range []string{".new-*", ".clone-*", filepath.Join("*.git", tmpDir, "fetch-*"), filepath.Join("*.git", tmpDir, "update-*")} {
		dirs, _ := filepath.Glob(filepath.Join(h.StorageDir(), pat))
		for _, d := range dirs {
			if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > age {
				os.RemoveAll(d)
			}
		}
	}
}

// namespaceUpdates returns the ref updates that take nid's namespace from
// the refs it has to want: each changed or new ref moved from its old
// value, each ref want lacks deleted.
func namespaceUpdates(nid protocol.NID, have, want map[string]string) []RefUpdate {
	p := NamespacePrefix(nid)
	var tx []RefUpdate
	for name, oid := range want {
		if have[name] != oid {
			tx = append(tx, RefUpdate{Name: p + name, Old: have[name], New: oid})
		}
	}
	for name, oid := range have {
		if _, ok := want[name]; !ok {
			tx = append(tx, RefUpdate{Name: p + name, Old: oid})
		}
	}
	return tx
}
