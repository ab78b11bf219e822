package repo

import (
	"context"
	"sort"
	"strings"

	"example.com/grove/protocol"
)

// PatchHeadsPrefix holds the heads of patch revisions in their authors'
// namespaces; they are never canonical branches.
const PatchHeadsPrefix = "refs/heads/patches/"

func isCanonicalName(name string) bool {
	return (strings.HasPrefix(name, "refs/heads/") && !strings.HasPrefix(name, PatchHeadsPrefix)) ||
		strings.HasPrefix(name, "refs/tags/")
}

// DeriveCanonical computes the project's canonical branches and tags from
// the delegates' namespaces (ns, keyed by NID string). A branch is the
// newest commit that at least threshold delegates have in their history; a
// tag needs threshold delegates to agree on its exact value. When
// qualifying tips diverge, the current value (cur) is kept if it still
// qualifies, so canonical refs never flap between forks.
func (r *Repo) DeriveCanonical(ctx context.Context, doc *protocol.Identity, ns map[string]map[string]string, cur map[string]string) (map[string]string, error) {
	tips := make(map[string][]string) // ref name → one tip per delegate that has it
	for _, d := range doc.Delegates {
		for name, oid := range ns[d.String()] {
			if isCanonicalName(name) {
				tips[name] = append(tips[name], oid)
			}
		}
	}
	out := make(map[string]string, len(tips))
	for name, ts := range tips {
		oid, ok, err := r.pick(ctx, name, ts, doc.Threshold, cur[name])
		if err != nil {
			return nil, err
		}
		if ok {
			out[name] = oid
		}
	}
	return out, nil
}

func (r *Repo) pick(ctx context.Context, name string, tips []string, threshold int, cur string) (string, bool, error) {
	exact := make(map[string]int)
	for _, t := range tips {
		exact[t]++
	}
	if len(exact) == 1 {
		return tips[0], len(tips) >= threshold, nil
	}
	votes := exact
	if strings.HasPrefix(name, "refs/heads/") {
		// A delegate votes for every candidate in its history.
		votes = make(map[string]int)
		for c := range exact {
			for _, t := range tips {
				ok, err := r.IsAncestor(ctx, c, t)
				if err != nil {
					return "", false, err
				}
				if ok {
					votes[c]++
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
	// The newest: a qualifying candidate that descends from all the others.
	for _, c := range q {
		newest := true
		for _, o := range q {
			if o == c {
				continue
			}
			ok, err := r.IsAncestor(ctx, o, c)
			if err != nil {
				return "", false, err
			}
			if !ok {
				newest = false
				break
			}
		}
		if newest {
			return c, true, nil
		}
	}
	for _, c := range q {
		if c == cur {
			return cur, true, nil
		}
	}
	return q[0], true, nil
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
	sort.Slice(ups, func(i, j int) bool { return ups[i].Name < ups[j].Name })
	return ups
}
