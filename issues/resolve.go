package issues

import (
	"context"
	"fmt"
	"strings"

	"example.com/grove/protocol"
)

// Resolve returns the full ID of the object of type typ that prefix (hex,
// any case) names in any namespace. It reads the refs only, not the
// index, so a command that changes one object need not open the index;
// with a CacheDir, it is helped by the type's ID list there.
func (s *Store) Resolve(typ, prefix string) (string, error) {
	var path string
	if s.CacheDir != "" {
		path = s.idsPath(typ)
	}
	return s.ResolveWith(path, typ, prefix)
}

// ResolveWith is Resolve helped by the ID list at path (IDsPath; "" for
// none), which it brings up to date or makes: with it, a prefix among
// 10,000 objects is found without listing their refs.
func (s *Store) ResolveWith(path, typ, prefix string) (string, error) {
	what := typeNoun(typ)
	prefix = strings.ToLower(prefix)
	if prefix == "" || len(prefix) > 40 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s %s: %w", what, prefix, ErrNotFound)
	}
	if len(prefix) == 40 {
		// A whole ID: one ref file in each namespace to look at.
		tips, err := s.Tips(typ, prefix)
		if err != nil {
			return "", err
		}
		if len(tips) == 0 {
			return "", fmt.Errorf("%s %s: %w", what, prefix, ErrNotFound)
		}
		return prefix, nil
	}
	found, err := s.matching(path, typ, prefix)
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%s %s: %w", what, prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%s %w", what, &AmbiguousError{Prefix: prefix, Matches: len(found)})
}

// typeNoun is how errors name an object of type typ.
func typeNoun(typ string) string {
	switch typ {
	case IssueType:
		return "issue"
	case PatchType:
		return "patch"
	}
	return typ
}

// Rules returns the rules the project's current identity sets for its
// issues: who may triage, and who may see them.
func (s *Store) Rules(ctx context.Context) (Rules, error) {
	doc, _, err := s.Repo.Identity(ctx)
	if err != nil {
		return Rules{}, err
	}
	return s.rulesOf(ctx, doc)
}

// rulesOf returns the rules doc sets with the persons of the store's
// namespaces: which NIDs are devices of one person, and what each removed
// device's removal kept of its changes.
func (s *Store) rulesOf(ctx context.Context, doc *protocol.Identity) (Rules, error) {
	r := RulesOf(doc)
	people, err := s.Repo.People(ctx)
	if err != nil {
		return Rules{}, err
	}
	if devs := people.Devices(); len(devs) > 0 {
		r.Persons = devs
	}
	kept, err := s.Repo.KeptRefs(ctx, people, "refs/cobs/")
	if err != nil {
		return Rules{}, err
	}
	if len(kept) > 0 {
		r.Removed = kept
	}
	return r, nil
}
