package repo

import (
	"fmt"
	"slices"
	"strings"

	"example.com/grove/protocol"
)

// Signed ref trees (see protocol.RefTreePath): a namespace's refs as a git
// tree of gitlinks, so that signing a change to one ref of many rewrites
// only the few small trees on its path, not a list of every ref.

// emptyTreeOID is git's empty tree.
const emptyTreeOID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// maxRefTreeDepth bounds how deep a peer's ref tree may nest.
const maxRefTreeDepth = protocol.MaxRefName / 2

func (r *Repo) readTree(oid string) ([]protocol.TreeEntry, error) {
	kind, data, err := r.ReadObject(oid, protocol.MaxRefList)
	if err != nil {
		return nil, err
	}
	if kind != "tree" {
		return nil, fmt.Errorf("%.7s is a %s, not a tree", oid, kind)
	}
	return protocol.ParseTree(data)
}

func (r *Repo) writeTreeEntries(es []protocol.TreeEntry) (string, error) {
	protocol.SortTree(es)
	return r.WriteObject("tree", protocol.EncodeTree(es))
}

// readRefTree returns the refs in the signed ref tree oid, checking that
// it is in canonical form: every ref in the bucket its name asks for,
// valid ref names, no empty directories, at most protocol.MaxRefs refs.
func (r *Repo) readRefTree(oid string) (protocol.RefList, error) {
	var refs protocol.RefList
	if err := r.walkRefTree(oid, "", 0, &refs); err != nil {
		return nil, fmt.Errorf("ref tree %.7s: %w", oid, err)
	}
	slices.SortFunc(refs, func(a, b protocol.Ref) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(refs); i++ {
		if strings.HasPrefix(refs[i].Name, refs[i-1].Name+"/") {
			return nil, fmt.Errorf("ref tree %.7s: %s and %s cannot both exist", oid, refs[i-1].Name, refs[i].Name)
		}
	}
	return refs, nil
}

func (r *Repo) walkRefTree(oid, prefix string, depth int, refs *protocol.RefList) error {
	if depth > maxRefTreeDepth {
		return fmt.Errorf("nested deeper than %d", maxRefTreeDepth)
	}
	es, err := r.readTree(oid)
	if err != nil {
		return err
	}
	if len(es) == 0 && depth > 0 {
		return fmt.Errorf("empty directory %q", prefix)
	}
	for _, e := range es {
		if e.Mode != protocol.ModeTree {
			return fmt.Errorf("%s%s: a ref outside a bucket", prefix, e.Name)
		}
		if !protocol.IsRefBucket(e.Name) {
			if err := r.walkRefTree(e.OID, prefix+e.Name+"/", depth+1, refs); err != nil {
				return err
			}
			continue
		}
		leaves, err := r.readTree(e.OID)
		if err != nil {
			return err
		}
		if len(leaves) == 0 {
			return fmt.Errorf("empty bucket %s%s", prefix, e.Name)
		}
		for _, l := range leaves {
			name := prefix + l.Name
			switch {
			case l.Mode != protocol.ModeGitlink:
				return fmt.Errorf("%s: not a gitlink", name)
			case protocol.RefBucket(l.Name) != e.Name:
				return fmt.Errorf("%s: in bucket %s, belongs in %s", name, e.Name, protocol.RefBucket(l.Name))
			case len(*refs) >= protocol.MaxRefs:
				return fmt.Errorf("more than %d refs", protocol.MaxRefs)
			}
			if err := protocol.CheckRefName(name); err != nil {
				return err
			}
			*refs = append(*refs, protocol.Ref{Name: name, OID: l.OID})
		}
	}
	return nil
}

// refChange is one ref to set (oid) or remove ("") in a ref tree, by the
// path protocol.RefTreePath gives it.
type refChange struct {
	path []string
	oid  string
}

// editRefTree returns the ref tree that is root (an oid, "" for none) with
// changes applied (ref name → oid, "" removes it). Only the trees on the
// changed paths are read and written.
func (r *Repo) editRefTree(root string, changes map[string]string) (string, error) {
	cs := make([]refChange, 0, len(changes))
	for name, oid := range changes {
		cs = append(cs, refChange{protocol.RefTreePath(name), oid})
	}
	oid, err := r.editTree(root, cs, 0)
	if err != nil {
		return "", fmt.Errorf("edit ref tree: %w", err)
	}
	if oid == "" {
		return r.writeTreeEntries(nil)
	}
	return oid, nil
}

// editTree applies cs, whose paths all continue below this tree at depth,
// and returns the new tree's oid, or "" when it ends up empty.
func (r *Repo) editTree(oid string, cs []refChange, depth int) (string, error) {
	var es []protocol.TreeEntry
	if oid != "" && oid != emptyTreeOID {
		var err error
		if es, err = r.readTree(oid); err != nil {
			return "", err
		}
	}
	byName := make(map[string]int, len(es))
	for i, e := range es {
		byName[e.Name] = i
	}
	groups := make(map[string][]refChange)
	var order []string
	for _, c := range cs {
		name := c.path[depth]
		if len(c.path) == depth+1 {
			if i, ok := byName[name]; ok {
				es[i].OID = c.oid // "" marks it for removal
				es[i].Mode = protocol.ModeGitlink
			} else if c.oid != "" {
				byName[name] = len(es)
				es = append(es, protocol.TreeEntry{Mode: protocol.ModeGitlink, Name: name, OID: c.oid})
			}
			continue
		}
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], c)
	}
	for _, name := range order {
		var sub string
		i, ok := byName[name]
		if ok && es[i].Mode == protocol.ModeTree {
			sub = es[i].OID
		}
		next, err := r.editTree(sub, groups[name], depth+1)
		if err != nil {
			return "", err
		}
		switch {
		case ok:
			es[i] = protocol.TreeEntry{Mode: protocol.ModeTree, Name: name, OID: next}
		case next != "":
			byName[name] = len(es)
			es = append(es, protocol.TreeEntry{Mode: protocol.ModeTree, Name: name, OID: next})
		}
	}
	kept := es[:0]
	for _, e := range es {
		if e.OID != "" {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return "", nil
	}
	return r.writeTreeEntries(kept)
}
