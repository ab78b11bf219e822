package repo

import (
	"context"
	"errors"
	"fmt"

	"example.com/grove/protocol"
)

// ErrDelegateNamespace refuses to drop a delegate's namespace: the
// project's canonical refs are derived from the delegates' namespaces.
var ErrDelegateNamespace = errors.New("is a delegate of the project")

// DropNamespace removes every ref of nid's namespace from the storage, in
// one ref transaction under the writer lock, and returns how many refs it
// removed (0 when there were none). It is what blocking a peer does to
// what the peer already wrote: its issues, comments and branches stop
// being listed, and its objects, which nothing else reaches, go at the
// next maintenance. A delegate's namespace is refused
// (ErrDelegateNamespace).
func (r *Repo) DropNamespace(ctx context.Context, nid protocol.NID) (int, error) {
	doc, _, err := r.Identity(ctx)
	if err != nil {
		return 0, err
	}
	if doc.IsDelegate(nid) {
		return 0, fmt.Errorf("%s %w", nid, ErrDelegateNamespace)
	}
	unlock, err := r.Lock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	refs, err := r.RefFiles().List(NamespacePrefix(nid))
	if err != nil {
		return 0, fmt.Errorf("list %s's refs: %w", nid, err)
	}
	updates := make([]RefUpdate, 0, len(refs))
	for name, oid := range refs {
		updates = append(updates, RefUpdate{Name: name, Old: oid})
	}
	if err := r.UpdateRefs(ctx, updates); err != nil {
		return 0, fmt.Errorf("drop %s's namespace: %w", nid, err)
	}
	return len(updates), nil
}
