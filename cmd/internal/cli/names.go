package cli

import (
	"context"
	"sort"

	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// Names says who a NID is, for people to read: the alias under which you
// follow it, else the alias of its person document (signed by its key),
// else its short form. Two NIDs that go by one alias are told apart by
// their short NIDs. A name is only shown: who may do what is decided by
// keys alone, never by a name. The devices of one person (repo.People)
// go by its alias, as one author.
type Names struct {
	alias  map[string]string // NID → alias
	who    map[string]string // NID → the person it is a device of
	shared map[string]int    // alias → how many persons go by it
}

// LoadNames reads the names home h knows: the person documents of the
// projects rs (none: every project in h), h's own person document (or the
// alias of its config, for a home that has not written one yet) and the
// aliases of the peers it follows. What does not read is left out.
func LoadNames(ctx context.Context, h repo.Home, rs ...*repo.Repo) *Names {
	n := newNames()
	if len(rs) == 0 {
		rids, _ := repo.List(h)
		sort.Slice(rids, func(i, j int) bool { return rids[i].String() < rids[j].String() })
		for _, rid := range rids {
			if r, err := repo.Open(h, rid); err == nil {
				rs = append(rs, r)
			}
		}
	}
	for _, r := range rs {
		if r == nil {
			continue
		}
		if people, err := r.People(ctx); err == nil {
			n.add(people)
		}
	}
	return n.local(h)
}

func newNames() *Names {
	return &Names{alias: map[string]string{}, who: map[string]string{}, shared: map[string]int{}}
}

// add takes the names of a project's persons.
func (n *Names) add(people *repo.People) {
	for _, nid := range people.NIDs() {
		if st := people.Of(nid); st != nil {
			n.alias[nid], n.who[nid] = st.Doc.Alias, st.ID
		} else if a := people.OwnAlias(nid); a != "" {
			n.alias[nid] = a
		}
	}
}

// NamesWith is LoadNames of one project whose persons were resolved
// already (from the issue index, which keeps person histories verified
// by tip).
func NamesWith(h repo.Home, people *repo.People) *Names {
	n := newNames()
	n.add(people)
	return n.local(h)
}

// local adds what home h says of names to n: its own person document and
// the aliases of the peers it follows.
func (n *Names) local(h repo.Home) *Names {
	if self, err := repo.PublicNID(h); err == nil {
		if ph, err := h.Person(); err == nil && ph.NID.Equal(self) {
			n.alias[self.String()] = ph.Doc.Alias
			if n.who[self.String()] == "" {
				n.who[self.String()] = ph.Root
			}
		} else if cfg, err := h.Config(); err == nil && cfg.Alias != "" {
			n.alias[self.String()] = cfg.Alias
		}
	}
	if pol, err := control.LoadPolicy(h); err == nil {
		for nid, a := range pol.Follows {
			if a != "" {
				n.alias[nid] = a
			}
		}
	}
	persons := map[string]map[string]bool{} // alias → who goes by it
	for nid, a := range n.alias {
		if persons[a] == nil {
			persons[a] = map[string]bool{}
		}
		persons[a][n.Person(nid)] = true
	}
	for a, ws := range persons {
		n.shared[a] = len(ws)
	}
	return n
}

// Person is the person nid is a device of (its ID, the first revision of
// its person history), or nid itself when it is no person's device.
func (n *Names) Person(nid string) string {
	if n != nil && n.who[nid] != "" {
		return n.who[nid]
	}
	return nid
}

// Persons maps each of nids that is a device of a person to the person's
// ID: for JSON, beside the NIDs.
func (n *Names) Persons(nids ...string) map[string]string {
	out := map[string]string{}
	for _, nid := range nids {
		if nid != "" && n.Person(nid) != nid {
			out[nid] = n.Person(nid)
		}
	}
	return out
}

// Alias is nid's alias, as it is, or "" when it has none: for JSON.
func (n *Names) Alias(nid string) string {
	if n == nil {
		return ""
	}
	return n.alias[nid]
}

// Of is what to show for nid, made safe for a terminal: its alias, with
// its short NID when another NID goes by the same alias, or else its
// short NID (or nid as it is, when it is not a node ID).
func (n *Names) Of(nid string) string {
	short := nid
	if id, err := protocol.ParseNID(nid); err == nil {
		short = id.Short()
	}
	a := n.Alias(nid)
	switch {
	case a == "":
		return termtext.Line(short)
	case n.shared[a] > 1:
		return termtext.Line(a + " (" + short + ")")
	}
	return termtext.Line(a)
}

// Map is the names of nids that have an alias (Of), by NID: for JSON.
func (n *Names) Map(nids ...string) map[string]string {
	out := map[string]string{}
	for _, nid := range nids {
		if nid != "" && n.Alias(nid) != "" {
			out[nid] = n.Of(nid)
		}
	}
	return out
}

// Known returns every NID n has a name for, with its alias.
func (n *Names) Known() map[string]string {
	out := make(map[string]string, len(n.alias))
	for nid, a := range n.alias {
		out[nid] = a
	}
	return out
}
