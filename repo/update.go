package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"example.com/grove/protocol"
)

// UpdateNamespace moves refs in the signer's own namespace (names inside
// the namespace, e.g. refs/heads/main), writes the new signed refs and
// recomputes the canonical refs, all in one ref transaction under the
// project's lock.
func (r *Repo) UpdateNamespace(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) error {
	_, _, err := r.UpdateNamespaceSigned(ctx, s, updates, now)
	return err
}

// UpdateNamespaceSigned is UpdateNamespace, and returns the signer's
// signed refs commit before and after ("" for none), both read under the
// storage's lock: no other update falls between them, so a caller that
// knows what its updates were knows all that moved.
func (r *Repo) UpdateNamespaceSigned(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) (from, to string, err error) {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	ref := NamespacePrefix(s.NID()) + protocol.SigrefsRef
	if from, err = r.RefFiles().Get(ref); err != nil {
		return "", "", err
	}
	if err := r.updateNamespaceLocked(ctx, s, updates, now); err != nil {
		return "", "", err
	}
	if to, err = r.RefFiles().Get(ref); err != nil {
		return "", "", err
	}
	r.maintainLocked(ctx)
	return from, to, nil
}

func (r *Repo) updateNamespaceLocked(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) error {
	me := s.NID()
	p := NamespacePrefix(me)
	// Only the refs that change are read, from the ref files: a namespace
	// may hold tens of thousands of collaborative objects, and listing
	// them all on every change would dominate.
	f := r.RefFiles()
	prev, err := f.Get(p + protocol.SigrefsRef)
	if err != nil {
		return err
	}
	if updates, err = r.withPerson(ctx, s, updates, now); err != nil {
		return err
	}
	changes := make(map[string]string, len(updates))
	var tx []RefUpdate
	shaped := false // whether branches, tags or the identity move
	for _, u := range updates {
		if err := protocol.CheckRefName(u.Name); err != nil {
			return err
		}
		if u.Name == protocol.SigrefsRef {
			return fmt.Errorf("ref %s is written by grove only", u.Name)
		}
		if _, dup := changes[u.Name]; dup {
			return fmt.Errorf("ref %s updated twice in one change", u.Name)
		}
		cur, err := f.Get(p + u.Name)
		if err != nil {
			return err
		}
		if cur != u.Old {
			return fmt.Errorf("ref %s moved while updating it: try again", u.Name)
		}
		changes[u.Name] = u.New
		tx = append(tx, RefUpdate{Name: p + u.Name, Old: u.Old, New: u.New})
		shaped = shaped || u.Name == protocol.IdentityRef || IsProjectRef(u.Name) || u.Name == protocol.PersonRef
	}
	sig, err := r.resign(s, prev, changes, now)
	if err != nil {
		return err
	}
	if sig != nil {
		tx = append(tx, *sig)
	}
	if !shaped {
		// Collaborative objects and the like: no canonical ref can move.
		return r.UpdateRefs(ctx, tx)
	}
	ids, err := r.identityRefs()
	if err != nil {
		return err
	}
	if id, ok := changes[protocol.IdentityRef]; ok {
		if id == "" {
			delete(ids, me.String())
		} else {
			ids[me.String()] = map[string]string{protocol.IdentityRef: id}
		}
	}
	doc, _, err := r.identityOf(ids)
	if err != nil {
		return err
	}
	all, cur, err := r.delegateRefs(ctx, doc, me)
	if err != nil {
		return err
	}
	mine := all[me.String()]
	if mine == nil {
		mine = make(map[string]string)
		all[me.String()] = mine
	}
	for name, oid := range changes {
		switch {
		case name == protocol.PersonRef:
			mine[name] = oid
		case !IsProjectRef(name):
		case oid == "":
			delete(mine, name)
		default:
			mine[name] = oid
		}
	}
	want, err := r.DeriveCanonical(ctx, doc, all, cur)
	if err != nil {
		return err
	}
	tx = append(tx, canonicalUpdates(cur, want)...)
	if err := r.UpdateRefs(ctx, tx); err != nil {
		return err
	}
	if err := r.setNamespaceHEAD(ctx, me, doc.DefaultBranch, mine); err != nil {
		return err
	}
	return r.setHEAD(ctx, doc.DefaultBranch)
}

// setHEAD points the storage's HEAD at the canonical default branch.
func (r *Repo) setHEAD(ctx context.Context, branch string) error {
	want := "ref: refs/heads/" + branch + "\n"
	path := filepath.Join(r.Path, "HEAD")
	if b, err := os.ReadFile(path); err == nil && string(b) == want {
		return nil
	}
	return writeSymref(path, want)
}

// writeSymref writes a symbolic ref file the way git does (a HEAD is a
// loose file even when refs are packed), atomically, without a git process.
func writeSymref(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteFileAtomic(path, []byte(content), 0o644)
}

// identityRefs returns each namespace's identity ref, read from the ref
// files without a git process, shaped like Namespaces' result.
func (r *Repo) identityRefs() (map[string]map[string]string, error) {
	idents, err := r.RefFiles().Namespaced(protocol.IdentityRef)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(idents))
	for ns, oid := range idents {
		out[ns] = map[string]string{protocol.IdentityRef: oid}
	}
	return out, nil
}

// delegateRefs returns the branches and tags of the delegates, of the
// devices that act for them, and of also (keyed by NID, each with its
// person ref), and the canonical refs, read from the ref files.
func (r *Repo) delegateRefs(ctx context.Context, doc *protocol.Identity, also protocol.NID) (map[string]map[string]string, map[string]string, error) {
	cur, err := r.CanonicalRefs(ctx)
	if err != nil {
		return nil, nil, err
	}
	f := r.RefFiles()
	// The devices of delegates that are persons act for them: their
	// namespaces count too, with every person ref DeriveCanonical reads.
	persons, err := f.Namespaced(protocol.PersonRef)
	if err != nil {
		return nil, nil, err
	}
	nids := append(slices.Clone(doc.Delegates), also)
	if len(persons) > 0 {
		seeds := make([]string, len(doc.Delegates))
		for i, d := range doc.Delegates {
			seeds[i] = d.String()
		}
		people := r.peopleOf(ctx, persons, seeds)
		for _, d := range seeds {
			for _, n := range people.Acting(d) {
				if nid, err := protocol.ParseNID(n); err == nil {
					nids = append(nids, nid)
				}
			}
		}
	}
	all := make(map[string]map[string]string)
	for _, d := range nids {
		ns := d.String()
		if all[ns] != nil {
			continue
		}
		all[ns] = make(map[string]string)
		if t := persons[ns]; t != "" {
			all[ns][protocol.PersonRef] = t
		}
		p := NamespacePrefix(d)
		for _, kind := range ProjectRefPrefixes {
			refs, err := f.List(p + kind)
			if err != nil {
				return nil, nil, err
			}
			for full, oid := range refs {
				all[ns][strings.TrimPrefix(full, p)] = oid
			}
		}
	}
	return all, cur, nil
}
