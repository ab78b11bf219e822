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

// cachedPeople is a project's persons and the person refs they were
// resolved from.
type cachedPeople struct {
	key    string
	people *repo.People
}

// people returns the persons of r's namespaces (repo.People) for policy
// decisions: which keys are devices of a delegate or of a person a
// private project is shared with, and which devices were removed. Kept
// per project and resolved again only when a person ref moved; nil (keys
// alone) when no namespace holds a person history, or it cannot be read.
func (n *Node) people(ctx context.Context, r *repo.Repo) *repo.People {
	tips, err := r.RefFiles().Namespaced(gproto.PersonRef)
	if err != nil || len(tips) == 0 {
		return nil
	}
	var b strings.Builder
	for _, ns := range slices.Sorted(maps.Keys(tips)) {
		b.WriteString(ns + " " + tips[ns] + "\n")
	}
	key := b.String()
	n.mu.Lock()
	c, ok := n.persons[r.RID]
	n.mu.Unlock()
	if ok && c.key == key {
		return c.people
	}
	p, err := r.People(ctx)
	if err != nil {
		return nil
	}
	n.mu.Lock()
	n.persons[r.RID] = cachedPeople{key: key, people: p}
	n.mu.Unlock()
	return p
}

// mayRead reports whether nid may read r, described by doc: MayRead with
// r's persons, read only for a private project.
func (n *Node) mayRead(ctx context.Context, r *repo.Repo, doc *gproto.Identity, nid gproto.NID) bool {
	if doc.Visibility.Type == gproto.Public {
		return true
	}
	return MayRead(doc, n.people(ctx, r), nid)
}

// isDelegate reports whether nid acts as a delegate of r, described by
// doc: one, or a current device of a delegate's person.
func (n *Node) isDelegate(ctx context.Context, r *repo.Repo, doc *gproto.Identity, nid gproto.NID) bool {
	return n.people(ctx, r).IsDelegate(doc, nid)
}

// follows reports whether this node takes nid's namespace of r, described
// by doc: the policy's FollowsIn, or in a private project a device of a
// person it is shared with (repo.People.MayRead), by people (nil: r's as
// stored).
func (n *Node) follows(ctx context.Context, r *repo.Repo, pol *Policy, doc *gproto.Identity, nid gproto.NID, people *repo.People) bool {
	if pol.FollowsIn(doc, nid) {
		return true
	}
	if doc == nil || doc.Visibility.Type == gproto.Public || pol.IsBlocked(nid) {
		return false
	}
	if people == nil {
		people = n.people(ctx, r)
	}
	return people.MayRead(doc, nid)
}
