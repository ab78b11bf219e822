package repo

import (
	"context"
	"fmt"
	"sort"

	"example.com/grove/protocol"
)

// maxSigrefsChain bounds how many sigrefs revisions Verify walks back.
const maxSigrefsChain = protocol.MaxSigrefsChain

// Problem is one thing Verify found wrong.
type Problem struct {
	Namespace string // NID, or "" for the project's canonical refs
	Ref       string // the ref concerned, if one
	Err       error
}

func (p Problem) String() string {
	where := "canonical refs"
	if p.Namespace != "" {
		where = "namespace " + p.Namespace
	}
	if p.Ref != "" {
		where += " " + p.Ref
	}
	return where + ": " + p.Err.Error()
}

// Report is the result of Verify.
type Report struct {
	Namespaces int       `json:"namespaces"`
	Refs       int       `json:"refs"`
	Problems   []Problem `json:"-"`
}

// Verify checks the whole project: every namespace's identity history,
// every signed-refs revision's signature, that each namespace's refs are
// exactly those its newest signed refs list, and that the canonical refs
// are what the delegates' namespaces derive. It returns an error only when
// it could not look; what it found wrong is in the report.
func (r *Repo) Verify(ctx context.Context) (*Report, error) {
	all, err := r.Namespaces(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Namespaces: len(all)}
	add := func(ns, ref string, err error) {
		rep.Problems = append(rep.Problems, Problem{Namespace: ns, Ref: ref, Err: err})
	}
	names := make([]string, 0, len(all))
	for ns := range all {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		refs := all[ns]
		rep.Refs += len(refs)
		nid, err := protocol.ParseNID(ns)
		if err != nil {
			add(ns, "", err)
			continue
		}
		if id := refs[protocol.IdentityRef]; id != "" {
			if _, _, err := r.VerifyIdentity(id); err != nil {
				add(ns, protocol.IdentityRef, err)
			}
		}
		if p := refs[protocol.PersonRef]; p != "" {
			if _, err := r.VerifyPerson(nid, p); err != nil {
				add(ns, protocol.PersonRef, err)
			}
		}
		tip := refs[protocol.SigrefsRef]
		if tip == "" {
			add(ns, "", fmt.Errorf("refs are not signed (no %s)", protocol.SigrefsRef))
			continue
		}
		if err := r.verifySigrefsChain(ctx, nid, tip); err != nil {
			add(ns, protocol.SigrefsRef, err)
			continue
		}
		sr, err := r.ReadSigrefs(nid, tip)
		if err != nil {
			add(ns, protocol.SigrefsRef, err)
			continue
		}
		signed := sr.Refs.Map()
		for _, name := range sortedKeys(refs) {
			if name == protocol.SigrefsRef {
				continue
			}
			want, ok := signed[name]
			switch {
			case !ok:
				add(ns, name, fmt.Errorf("ref is not in the signed refs"))
			case want != refs[name]:
				add(ns, name, fmt.Errorf("ref is at %.7s but signed at %.7s", refs[name], want))
			}
		}
		for _, name := range sortedKeys(signed) {
			if _, ok := refs[name]; !ok {
				add(ns, name, fmt.Errorf("signed ref is missing"))
			}
		}
	}
	if people, err := r.People(ctx); err == nil {
		for _, ns := range names {
			tip := all[ns][protocol.SigrefsRef]
			if caps, ok := people.Removed(ns); ok && tip != "" && !r.withinRemoval(ctx, caps, tip) {
				add(ns, protocol.SigrefsRef, fmt.Errorf("%w: signed refs %.7s are past what its removal kept", ErrDeviceRemoved, tip))
			}
		}
	}
	doc, _, err := r.Identity(ctx)
	if err != nil {
		add("", "", fmt.Errorf("no valid identity: %w", err))
		return rep, nil
	}
	cur, err := r.CanonicalRefs(ctx)
	if err != nil {
		return nil, err
	}
	want, err := r.DeriveCanonical(ctx, doc, all, cur)
	if err != nil {
		return nil, err
	}
	for _, u := range canonicalUpdates(cur, want) {
		switch {
		case u.New == "":
			add("", u.Name, fmt.Errorf("no delegate has this ref"))
		case u.Old == "":
			add("", u.Name, fmt.Errorf("missing: delegates have it at %.7s", u.New))
		default:
			add("", u.Name, fmt.Errorf("is at %.7s but delegates have %.7s", u.Old, u.New))
		}
	}
	return rep, nil
}

// verifySigrefsChain checks the signature of every sigrefs revision from
// tip back to the first.
func (r *Repo) verifySigrefsChain(ctx context.Context, nid protocol.NID, tip string) error {
	for i, oid := 0, tip; oid != ""; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > maxSigrefsChain {
			return fmt.Errorf("signed refs history longer than %d", maxSigrefsChain)
		}
		sr, err := r.readSigrefsHead(nid, oid)
		if err != nil {
			return err
		}
		oid = sr.Parent
	}
	return nil
}
