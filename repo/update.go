package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"example.com/grove/protocol"
)

// UpdateNamespace moves refs in the signer's own namespace (names inside
// the namespace, e.g. refs/heads/main), writes the new signed refs and
// recomputes the canonical refs, all in one ref transaction under the
// project's lock.
func (r *Repo) UpdateNamespace(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) error {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return r.updateNamespaceLocked(ctx, s, updates, now)
}

func (r *Repo) updateNamespaceLocked(ctx context.Context, s protocol.Signer, updates []RefUpdate, now time.Time) error {
	me := s.NID()
	all, err := r.Namespaces(ctx)
	if err != nil {
		return err
	}
	refs := all[me.String()]
	if refs == nil {
		refs = make(map[string]string)
	}
	p := NamespacePrefix(me)
	var tx []RefUpdate
	for _, u := range updates {
		if err := protocol.CheckRefName(u.Name); err != nil {
			return err
		}
		if u.Name == protocol.SigrefsRef {
			return fmt.Errorf("ref %s is written by grove only", u.Name)
		}
		if refs[u.Name] != u.Old {
			return fmt.Errorf("ref %s moved while updating it: try again", u.Name)
		}
		if u.New == "" {
			delete(refs, u.Name)
		} else {
			refs[u.Name] = u.New
		}
		tx = append(tx, RefUpdate{Name: p + u.Name, Old: u.Old, New: u.New})
	}
	sig, err := r.signRefs(s, refs, now)
	if err != nil {
		return err
	}
	if sig != nil {
		tx = append(tx, *sig)
		refs[protocol.SigrefsRef] = sig.New
	}
	all[me.String()] = refs
	doc, _, err := r.identityOf(all)
	if err != nil {
		return err
	}
	cur, err := r.CanonicalRefs(ctx)
	if err != nil {
		return err
	}
	want, err := r.DeriveCanonical(ctx, doc, all, cur)
	if err != nil {
		return err
	}
	tx = append(tx, canonicalUpdates(cur, want)...)
	if err := r.UpdateRefs(ctx, tx); err != nil {
		return err
	}
	if err := r.setNamespaceHEAD(ctx, me, doc.DefaultBranch, refs); err != nil {
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
