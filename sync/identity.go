package sync

import (
	"context"
	"maps"
	"slices"
	"strings"

	gproto "example.com/grove/protocol"
	"example.com/grove/repo"
)

// cachedIdentity is a project's identity document and the identity refs it
// was derived from.
type cachedIdentity struct {
	key string
	doc *gproto.Identity
}

// identity returns rid's current identity document for policy decisions
// (whom to follow, who may read). repo.Identity verifies the identity
// history of every namespace, which reads objects and runs git; its result
// depends only on the namespaces' identity refs, so it is kept per project
// and computed again only when one of those refs moved. Accept never uses
// it: what a peer sends is verified from scratch.
func (n *Node) identity(ctx context.Context, r *repo.Repo) (*gproto.Identity, error) {
	key, err := identityKey(r)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	c, ok := n.idents[r.RID]
	n.mu.Unlock()
	if ok && c.key == key {
		return c.doc, nil
	}
	doc, _, err := r.Identity(ctx)
	if err != nil {
		return nil, err
	}
	// Keep it only if no identity ref moved while it was computed.
	if after, err := identityKey(r); err == nil && after == key {
		n.mu.Lock()
		n.idents[r.RID] = cachedIdentity{key: key, doc: doc}
		n.mu.Unlock()
	}
	return doc, nil
}

// identityKey lists every namespace's identity ref, read from the ref files
// without a git process.
func identityKey(r *repo.Repo) (string, error) {
	idents, err := r.RefFiles().Namespaced(gproto.IdentityRef)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, ns := range slices.Sorted(maps.Keys(idents)) {
		b.WriteString(ns + " " + idents[ns] + "\n")
	}
	return b.String(), nil
}
