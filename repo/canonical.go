package repo

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"example.com/grove/protocol"
)

// PatchHeadsPrefix holds the heads of patch revisions in their authors'
// namespaces; they are never canonical branches.
const PatchHeadsPrefix = "refs/heads/patches/"

// ProjectRefPrefixes are the refs a push writes into its namespace and
// the canonical refs are derived for: branches, tags and git notes.
// Everything else under refs/ is Grove's (refs/grove/, refs/cobs/) or
// not shared.
var ProjectRefPrefixes = []string{"refs/heads/", "refs/tags/", "refs/notes/"}

// IsProjectRef reports whether name is a branch, tag or notes ref
// (ProjectRefPrefixes).
func IsProjectRef(name string) bool {
	for _, p := range ProjectRefPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func isCanonicalName(name string) bool {
	return IsProjectRef(name) && !strings.HasPrefix(name, PatchHeadsPrefix)
}

// DeriveCanonical computes the project's canonical branches, notes and tags from
// the delegates' namespaces (ns, keyed by NID string). A branch is the
// newest commit that at least threshold delegates have in their history; a
// tag needs threshold delegates to agree on its exact value. Notes refs
// are commits with a history, so they are derived like branches. When
// qualifying tips diverge, the current value (cur) is kept if it still
// qualifies, so canonical refs never flap between forks. A delegate that
// is a device of a person (People) acts through every current device of
// that person and the person counts once, however many of its devices
// agree or are delegates; so do the keys the identity document groups as
// one person.
func (r *Repo) DeriveCanonical(ctx context.Context, doc *protocol.Identity, ns map[string]map[string]string, cur map[string]string) (map[string]string, error) {
	seeds := make([]string, len(doc.Delegates))
	for i, d := range doc.Delegates {
		seeds[i] = d.String()
	}
	people := r.peopleOf(ctx, personTips(ns), seeds)
	// ref name → each voter's tips, a few voters a name: a slice
	// searched, not a map per name (a project has thousands of names).
	type ballot struct {
		voter string
		tips  []string
	}
	hint := 0 // the names of the largest namespace, grown once
	for _, refs := range ns {
		hint = max(hint, len(refs))
	}
	tips := make(map[string][]ballot, hint)
	for i, d := range seeds {
		// The identity's own grouping (protocol.Identity.Persons) joins
		// its keys into one voter even where no person document says so.
		voter := people.Voter(doc.Voter(doc.Delegates[i]))
		for _, n := range people.Acting(d) {
			for name, oid := range ns[n] {
				if !isCanonicalName(name) {
					continue
				}
				bs := tips[name]
				j := slices.IndexFunc(bs, func(b ballot) bool { return b.voter == voter })
				if j < 0 {
					bs = append(bs, ballot{voter: voter})
					j = len(bs) - 1
				}
				if !slices.Contains(bs[j].tips, oid) {
					bs[j].tips = append(bs[j].tips, oid)
				}
				tips[name] = bs
			}
		}
	}
	out := make(map[string]string, len(tips))
	for name, bs := range tips {
		slices.SortFunc(bs, func(a, b ballot) int { return strings.Compare(a.voter, b.voter) })
		voters := make([][]string, len(bs))
		for i, b := range bs {
			voters[i] = b.tips
		}
		oid, ok, err := r.pick(ctx, name, voters, doc.Threshold, cur[name])
		if err != nil {
			return nil, err
		}
		if ok {
			out[name] = oid
		}
	}
	return out, nil
}

// pick chooses the value of ref name from the tips each voter (a delegate,
// or a person) has: a voter counts once for a candidate however many of
// its tips hold it.
func (r *Repo) pick(ctx context.Context, name string, voters [][]string, threshold int, cur string) (string, bool, error) {
	if len(voters) == 1 && len(voters[0]) == 1 {
		return voters[0][0], threshold <= 1, nil // what the count below comes to, without its map
	}
	exact := make(map[string]int)
	for _, ts := range voters {
		for _, t := range ts {
			exact[t]++
		}
	}
	if len(exact) == 1 {
		return voters[0][0], len(voters) >= threshold, nil
	}
	votes := exact
	if !strings.HasPrefix(name, "refs/tags/") {
		// Branches and notes: the newest commit enough delegates share need not be anyone's
		// tip: their merge bases are candidates too.
		cands, err := r.mergeBaseClosure(ctx, exact)
		if err != nil {
			return "", false, err
		}
		// A voter votes for every candidate in the history of one of its tips.
		votes = make(map[string]int)
		for _, c := range cands {
			for _, ts := range voters {
				for _, t := range ts {
					ok, err := r.IsAncestor(ctx, c, t)
					if err != nil {
						return "", false, err
					}
					if ok {
						votes[c]++
						break
					}
				}
			}
		}
	}
	var q []string
	for c, n := range votes {
		if n >= threshold {
			q = append(q, c)
		}
	}
	if len(q) == 0 {
		return "", false, nil
	}
	sort.Slice(q, func(i, j int) bool {
		if votes[q[i]] != votes[q[j]] {
			return votes[q[i]] > votes[q[j]]
		}
		return q[i] < q[j]
	})
	// The newest: the qualifying candidates no other one descends from.
	var newest []string
	for _, c := range q {
		top := true
		for _, o := range q {
			if o == c {
				continue
			}
			ok, err := r.IsAncestor(ctx, c, o)
			if err != nil {
				return "", false, err
			}
			if ok {
				top = false
				break
			}
		}
		if top {
			newest = append(newest, c)
		}
	}
	if len(newest) == 1 {
		return newest[0], true, nil
	}
	for _, c := range q {
		if c == cur {
			return cur, true, nil
		}
	}
	return newest[0], true, nil
}

// maxCandidates bounds the commits pick weighs for one branch.
const maxCandidates = 64

// mergeBaseClosure returns the tips with their merge bases, and the merge
// bases of those: every commit that is the newest one some set of tips has
// in common.
func (r *Repo) mergeBaseClosure(ctx context.Context, tips map[string]int) ([]string, error) {
	list := make([]string, 0, len(tips))
	for t := range tips {
		list = append(list, t)
	}
	sort.Strings(list)
	seen := make(map[string]bool, len(list))
	for _, t := range list {
		seen[t] = true
	}
	for i := 1; i < len(list) && len(list) < maxCandidates; i++ {
		for j := 0; j < i; j++ {
			out, err := r.Git(ctx, nil, "merge-base", "--all", list[i], list[j])
			if err != nil {
				var ge *GitError
				var ee interface{ ExitCode() int }
				if errors.As(err, &ge) && errors.As(ge.Err, &ee) && ee.ExitCode() == 1 {
					continue // unrelated histories
				}
				return nil, err
			}
			for _, b := range strings.Fields(string(out)) {
				if !seen[b] {
					seen[b] = true
					list = append(list, b)
				}
			}
		}
	}
	return list, nil
}

// canonicalUpdates returns the updates that move the canonical refs from cur
// to want.
func canonicalUpdates(cur, want map[string]string) []RefUpdate {
	var ups []RefUpdate
	for name, oid := range want {
		if cur[name] != oid {
			ups = append(ups, RefUpdate{Name: name, Old: cur[name], New: oid})
		}
	}
	for name, oid := range cur {
		if _, ok := want[name]; !ok {
			ups = append(ups, RefUpdate{Name: name, Old: oid})
		}
	}
	slices.SortFunc(ups, func(a, b RefUpdate) int { return strings.Compare(a.Name, b.Name) })
	return ups
}
