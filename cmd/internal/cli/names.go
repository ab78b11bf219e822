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
// keys alone, never by a name.
type Names struct {
	alias  map[string]string // NID → alias
	shared map[string]int    // alias → how many NIDs go by it
}

// LoadNames reads the names home h knows: the person documents of the
// projects rs (none: every project in h), h's own person document (or the
// alias of its config, for a home that has not written one yet) and the
// aliases of the peers it follows. What does not read is left out.
func LoadNames(ctx context.Context, h repo.Home, rs ...*repo.Repo) *Names {
	n := &Names{alias: map[string]string{}, shared: map[string]int{}}
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
		ps, _ := r.Persons(ctx)
		for nid, p := range ps {
			n.alias[nid] = p.Alias
		}
	}
	return n.local(h)
}

// NamesWith is LoadNames of one project whose person documents, by NID
// string, were read already (from the issue index, which keeps them
// verified by tip).
func NamesWith(h repo.Home, persons map[string]*repo.Person) *Names {
	n := &Names{alias: map[string]string{}, shared: map[string]int{}}
	for nid, p := range persons {
		n.alias[nid] = p.Alias
	}
	return n.local(h)
}

// local adds what home h says of names to n: its own person document and
// the aliases of the peers it follows.
func (n *Names) local(h repo.Home) *Names {
	if self, err := repo.PublicNID(h); err == nil {
		if ph, err := h.Person(); err == nil && ph.NID.Equal(self) {
			n.alias[self.String()] = ph.Doc.Alias
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
	for _, a := range n.alias {
		n.shared[a]++
	}
	return n
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
