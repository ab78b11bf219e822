package issues

import (
	"context"
	"fmt"
	"strings"

	"example.com/grove/protocol"
)

// Resolve returns the full ID of the object of type typ that prefix (hex,
// any case) names in any namespace. It reads the refs only, not the
// index, so a command that changes one object need not open the index.
func (s *Store) Resolve(typ, prefix string) (string, error) {
	what := typeNoun(typ)
	prefix = strings.ToLower(prefix)
	if prefix == "" || len(prefix) > 40 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%s %s: %w", what, prefix, ErrNotFound)
	}
	f := s.Repo.RefFiles()
	nss, err := f.Namespaces()
	if err != nil {
		return "", err
	}
	found := make(map[string]bool)
	for _, ns := range nss {
		dir := "refs/namespaces/" + ns + "/" + RefPrefix(typ)
		if len(prefix) == 40 {
			// A whole ID: one ref file to look at, not a directory.
			if oid, err := f.Get(dir + prefix); err != nil {
				return "", err
			} else if oid != "" {
				return prefix, nil
			}
			continue
		}
		names, err := f.Names(dir, prefix)
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if protocol.ValidOID(n) {
				found[n] = true
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%s %s: %w", what, prefix, ErrNotFound)
	case 1:
		for id := range found {
			return id, nil
		}
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
	return RulesOf(doc), nil
}
