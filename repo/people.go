package repo

import (
	"context"
	"maps"
	"slices"
	"strings"

	"example.com/grove/protocol"
)

// maxPeopleWalk bounds the namespaces whose person histories one
// resolution reads.
const maxPeopleWalk = 256

// People says which namespaces of a project are devices of one person:
// the namespaces whose person histories share their first revision (the
// person's ID) and which the newest revision lists (docs/STORAGE.md,
// "Several devices").
type People struct {
	own     map[string]*PersonChain // NID → its namespace's history
	persons map[string]*PersonState // person ID → what it is now
}

// PersonState is a person as the histories a project holds make it.
type PersonState struct {
	// ID is the oid of the history's first revision.
	ID string
	// Doc is the newest document (on a fork, the one with the lowest
	// tip oid): the names to show.
	Doc *Person
	// Devices are the devices that speak for the person now: listed by
	// every newest revision, each holding the history in its namespace.
	Devices []string
	// Listed are the devices every newest revision lists, whether or not
	// their namespaces hold the history (Devices are those that do).
	Listed []string
	// Removed are the removed devices with their kept heads, from every
	// newest revision.
	Removed map[string][]string
	// Forked says the histories fork: the devices are those every
	// branch keeps.
	Forked bool
}

// ResolvePeople groups verified person histories (by the NID whose
// namespace holds each) into persons. Histories with one first revision
// are one person; when none extends all the others (a fork), a branch
// whose first own revision is signed by a device another branch removed
// is void (unless that branch's signer is removed in turn), and the person
// keeps only the devices every remaining branch lists, with every branch's
// removals.
func ResolvePeople(chains map[string]*PersonChain) *People {
	p := &People{own: chains, persons: map[string]*PersonState{}}
	groups := map[string]map[string]*PersonChain{} // ID → tip → chain
	for _, c := range chains {
		if groups[c.Root()] == nil {
			groups[c.Root()] = map[string]*PersonChain{}
		}
		groups[c.Root()][c.Tip()] = c
	}
	for id, tips := range groups {
		var newest []*PersonChain
		for _, c := range tips {
			if !extended(c, tips) {
				newest = append(newest, c)
			}
		}
		slices.SortFunc(newest, func(a, b *PersonChain) int { return compareStrings(a.Tip(), b.Tip()) })
		if len(newest) > 1 {
			all := newest
			newest = slices.DeleteFunc(slices.Clone(newest), func(a *PersonChain) bool {
				for _, b := range newest {
					if a != b && voids(b, a) && !voids(a, b) {
						return true
					}
				}
				return false
			})
			if len(newest) == 0 {
				newest = all // every branch voids another: keep them all
			}
		}
		st := &PersonState{ID: id, Doc: newest[0].Doc, Forked: len(newest) > 1, Removed: map[string][]string{}}
		for _, d := range newest[0].Devices {
			keep := true
			for _, c := range newest[1:] {
				keep = keep && slices.Contains(c.Devices, d)
			}
			if !keep {
				continue
			}
			st.Listed = append(st.Listed, d)
			if own := chains[d]; own != nil && own.Root() == id {
				st.Devices = append(st.Devices, d)
			}
		}
		for _, c := range newest {
			for d, caps := range c.Doc.Removed {
				st.Removed[d] = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(st.Removed[d]), caps...))))
			}
		}
		p.persons[id] = st
	}
	return p
}

// extended reports whether another history of tips extends c.
func extended(c *PersonChain, tips map[string]*PersonChain) bool {
	for _, o := range tips {
		if len(o.Revs) > len(c.Revs) && o.Revs[len(c.Revs)-1] == c.Tip() {
			return true
		}
	}
	return false
}

// voids reports whether branch b removes the device that signed a's first
// revision after the two part.
func voids(b, a *PersonChain) bool {
	k := 0
	for k < len(a.Revs) && k < len(b.Revs) && a.Revs[k] == b.Revs[k] {
		k++
	}
	if k >= len(a.Revs) {
		return false
	}
	_, ok := b.Doc.Removed[a.Signers[k]]
	return ok
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Of returns the person whose device nid is or was (removed), by nid's
// own history, or nil: a NID that is no person's stands for itself.
func (p *People) Of(nid string) *PersonState {
	if p == nil {
		return nil
	}
	c := p.own[nid]
	if c == nil {
		return nil
	}
	st := p.persons[c.Root()]
	if st == nil {
		return nil
	}
	if _, removed := st.Removed[nid]; removed || slices.Contains(st.Devices, nid) {
		return st
	}
	return nil
}

// Voter is who nid counts as toward a threshold: its person's ID, or nid
// itself when it is no person's device.
func (p *People) Voter(nid string) string {
	if st := p.Of(nid); st != nil {
		return st.ID
	}
	return nid
}

// Acting returns the NIDs that act for delegate nid: the current devices
// of its person (none, if nid was removed and no device is left), or nid
// alone when it is no person's device.
func (p *People) Acting(nid string) []string {
	if st := p.Of(nid); st != nil {
		return st.Devices
	}
	return []string{nid}
}

// Removed returns the heads kept of nid's work when nid is a removed
// device of its person.
func (p *People) Removed(nid string) ([]string, bool) {
	st := p.Of(nid)
	if st == nil {
		return nil, false
	}
	caps, ok := st.Removed[nid]
	return caps, ok
}

// NIDs returns every NID whose namespace holds a person history that
// verifies, sorted.
func (p *People) NIDs() []string { return slices.Sorted(maps.Keys(p.own)) }

// OwnAlias is the alias nid's own person history gives it, or "".
func (p *People) OwnAlias(nid string) string {
	if c := p.own[nid]; c != nil {
		return c.Doc.Alias
	}
	return ""
}

// Persons returns every person, by ID.
func (p *People) Persons() map[string]*PersonState { return maps.Clone(p.persons) }

// peopleOf resolves the persons of seeds (NIDs) from the person refs
// tips (NID → tip): their histories, and those of every device or
// removed device they list, transitively, up to maxPeopleWalk. A history
// that does not verify is left out.
func (r *Repo) peopleOf(ctx context.Context, tips map[string]string, seeds []string) *People {
	chains := map[string]*PersonChain{}
	seen := map[string]bool{}
	queue := slices.Clone(seeds)
	for len(queue) > 0 && len(seen) < maxPeopleWalk && ctx.Err() == nil {
		n := queue[0]
		queue = queue[1:]
		if seen[n] {
			continue
		}
		seen[n] = true
		nid, err := protocol.ParseNID(n)
		if err != nil || tips[n] == "" {
			continue
		}
		c, err := r.VerifyPersonChain(nid, tips[n])
		if err != nil {
			continue
		}
		chains[n] = c
		queue = append(queue, c.Devices...)
		queue = append(queue, slices.Sorted(maps.Keys(c.Doc.Removed))...)
	}
	return ResolvePeople(chains)
}

// personTips picks each namespace's person ref out of ns.
func personTips(ns map[string]map[string]string) map[string]string {
	out := make(map[string]string, len(ns))
	for n, refs := range ns {
		if t := refs[protocol.PersonRef]; t != "" {
			out[n] = t
		}
	}
	return out
}

// People resolves the persons of the project's namespaces. The home's
// own person history stands in for its key's namespace when it is newer
// there (a device that joined a person and has not written to the project
// since): it is what the device's next write carries (withPerson), so the
// device is held to the rules its change will meet at every peer.
func (r *Repo) People(ctx context.Context) (*People, error) {
	chains, err := r.personChains(ctx)
	if err != nil {
		return nil, err
	}
	if ns, c := r.homeChain(chains); c != nil {
		chains[ns] = c
	}
	return ResolvePeople(chains), nil
}

// homeChain returns the home's person history for its key when the key's
// namespace holds an older one or none, with its objects written to
// storage; nil otherwise.
func (r *Repo) homeChain(chains map[string]*PersonChain) (string, *PersonChain) {
	if r.home.Dir == "" {
		return "", nil
	}
	nid, err := PublicNID(r.home)
	if err != nil {
		return "", nil
	}
	ph, err := r.home.Person()
	if err != nil || !ph.NID.Equal(nid) {
		return "", nil
	}
	ns := nid.String()
	cur := chains[ns]
	if cur != nil && cur.Tip() == ph.Tip {
		return "", nil
	}
	if _, err := r.writePersonObjects(ph, ""); err != nil {
		return "", nil
	}
	c, err := r.VerifyPersonChain(nid, ph.Tip)
	if err != nil || (cur != nil && !slices.Contains(c.Revs, cur.Tip())) {
		return "", nil
	}
	return ns, c
}

// Devices returns every NID that is or was (removed) a device of a
// person, with the person's ID.
func (p *People) Devices() map[string]string {
	out := map[string]string{}
	if p == nil {
		return out
	}
	for n := range p.own {
		if st := p.Of(n); st != nil {
			out[n] = st.ID
		}
	}
	return out
}

// KeptRefs returns, for each device removed from its person in p, the
// oids of its refs under prefix that its removal kept: those the signed
// refs the removal kept sign (where this storage has them), and those its
// namespace holds when its signed refs are within the removal. What the
// device signed later is in none of them.
func (r *Repo) KeptRefs(ctx context.Context, p *People, prefix string) (map[string][]string, error) {
	out := map[string][]string{}
	if p == nil {
		return out, nil
	}
	for _, n := range p.NIDs() {
		caps, removed := p.Removed(n)
		if !removed {
			continue
		}
		nid, err := protocol.ParseNID(n)
		if err != nil {
			continue
		}
		var oids []string
		add := func(refs map[string]string) {
			for name, oid := range refs {
				if strings.HasPrefix(name, prefix) {
					oids = append(oids, oid)
				}
			}
		}
		for _, c := range caps {
			if !r.HasObject(c) {
				continue
			}
			if sr, err := r.ReadSigrefs(nid, c); err == nil {
				add(sr.Refs.Map())
			}
		}
		if refs, err := r.NamespaceRefs(ctx, nid); err == nil && refs[protocol.SigrefsRef] != "" && r.withinRemoval(ctx, caps, refs[protocol.SigrefsRef]) {
			add(refs)
		}
		out[n] = slices.Compact(slices.Sorted(slices.Values(oids)))
	}
	return out, ctx.Err()
}

// IsDelegate reports whether n acts as a delegate of doc: it is one and
// not a device removed from its person, or it is a current device of a
// delegate's person (p nil: keys alone).
func (p *People) IsDelegate(doc *protocol.Identity, n protocol.NID) bool {
	return p.listedAs(doc.Delegates, n)
}

// MayRead reports whether n may read a project described by doc: anyone
// a public one; a private one the delegates and the allow list, each as
// its person: any device a listed person's newest revision lists reads
// (Listed: a device that never wrote to the project has no namespace
// there yet, and the person vouches for it as it would by sharing a
// copy), a device removed from its person does not, even if listed
// itself (p nil: keys alone).
func (p *People) MayRead(doc *protocol.Identity, n protocol.NID) bool {
	if doc.Visibility.Type == protocol.Public {
		return true
	}
	ns := n.String()
	if _, removed := p.Removed(ns); removed {
		return false
	}
	listed := append(slices.Clone(doc.Delegates), doc.Visibility.Allow...)
	var persons []*PersonState
	for _, x := range listed {
		if st := p.Of(x.String()); st != nil {
			if _, removed := st.Removed[ns]; removed {
				// Known as removed by its person's history alone,
				// when it has none of its own here.
				return false
			}
			persons = append(persons, st)
		}
	}
	if slices.ContainsFunc(listed, n.Equal) {
		return true
	}
	return slices.ContainsFunc(persons, func(st *PersonState) bool { return slices.Contains(st.Listed, ns) })
}

// People resolves the persons of the storage's namespaces with the person
// refs that arrived in q in place of theirs, reading what arrived: for
// deciding whom to take before Accept (which verifies all of it again).
func (q *Quarantine) People(ctx context.Context) (*People, error) {
	view, err := q.View()
	if err != nil {
		return nil, err
	}
	tips, err := q.r.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	qrefs, err := q.Refs(ctx)
	if err != nil {
		return nil, err
	}
	for full, oid := range qrefs {
		if rest, ok := strings.CutPrefix(full, "refs/namespaces/"); ok {
			if ns, name, ok := strings.Cut(rest, "/"); ok && name == protocol.PersonRef {
				tips[ns] = oid
			}
		}
	}
	return view.peopleOf(ctx, tips, slices.Sorted(maps.Keys(tips))), nil
}

// listedAs reports whether n is one of l, or a current device of the
// person of one of l, and no removed device.
func (p *People) listedAs(l []protocol.NID, n protocol.NID) bool {
	ns := n.String()
	if _, removed := p.Removed(ns); removed {
		return false
	}
	for _, x := range l {
		if x.Equal(n) || slices.Contains(p.Acting(x.String()), ns) {
			return true
		}
	}
	return false
}
