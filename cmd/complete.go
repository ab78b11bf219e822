package cmd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// Shell completion: `grove completion bash|zsh|fish|powershell` (cobra's)
// prints a script that asks `grove __complete ARGS…` for candidates. Here
// each command's arguments and flags get theirs: issue and patch IDs of
// the project the command would act on, the RIDs in local storage, the
// NIDs the home knows a name for, and each enum flag's values. They are
// registered only when a completion is asked for, so no other run pays.

// completing reports whether args ask cobra for completions.
func completing(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

// maxTitled bounds how many candidate IDs get their title as a
// description: each costs reading the object.
const maxTitled = 50

// addCompletions registers the completions of every command under root.
func addCompletions(e *env, root *cobra.Command) {
	enums := map[string][]string{
		"grove issue list --state":     {"open", "closed", "all"},
		"grove patch list --state":     {"open", "merged", "closed", "all"},
		"grove patch list --review":    {"accepted", "rejected", "none"},
		"grove issue close --reason":   {issues.ReasonSolved, issues.ReasonOther},
		"grove id update --visibility": {"public", "private"},
		"grove node start --log-level": {"debug", "info", "warn", "error"},
	}
	nidFlags := []string{"author", "add-delegate", "remove-delegate", "allow", "disallow"}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		path := c.CommandPath()
		c.Flags().VisitAll(func(f *pflag.Flag) {
			switch {
			case enums[path+" --"+f.Name] != nil:
				vals := enums[path+" --"+f.Name]
				c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
			case f.Name == "repo":
				c.RegisterFlagCompletionFunc(f.Name, func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
					return completeRIDs(c.Context(), e), cobra.ShellCompDirectiveNoFileComp
				})
			case f.Name == "revision" && strings.HasPrefix(path, "grove patch "):
				c.RegisterFlagCompletionFunc(f.Name, func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
					return completeRevisions(c, e, args), cobra.ShellCompDirectiveNoFileComp
				})
			case f.Name == "label" || (f.Name == "add" || f.Name == "remove") && strings.HasSuffix(path, " label"):
				typ := issues.IssueType
				if strings.HasPrefix(path, "grove patch ") {
					typ = issues.PatchType
				}
				c.RegisterFlagCompletionFunc(f.Name, func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
					return completeLabels(c, e, typ), cobra.ShellCompDirectiveNoFileComp
				})
			case slices.Contains(nidFlags, f.Name) || (f.Name == "add" || f.Name == "remove") && strings.HasSuffix(path, " assign"):
				c.RegisterFlagCompletionFunc(f.Name, func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
					return completeNIDs(c.Context(), e, "known"), cobra.ShellCompDirectiveNoFileComp
				})
			}
		})
		if c.ValidArgsFunction != nil || !c.Runnable() {
			return
		}
		first := func(list func(c *cobra.Command, toComplete string) []string) cobra.CompletionFunc {
			return func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return list(c, toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
		parent := ""
		if c.HasParent() {
			parent = c.Parent().Name()
		}
		switch {
		case (parent == "issue" || parent == "patch") && strings.HasPrefix(c.Use, c.Name()+" ID"):
			kind := issues.IssueType
			if parent == "patch" {
				kind = issues.PatchType
			}
			c.ValidArgsFunction = first(func(c *cobra.Command, prefix string) []string { return completeIDs(c, e, kind, prefix) })
		case path == "grove seed" || path == "grove unseed" || path == "grove sync" || path == "grove verify" || path == "grove tui":
			c.ValidArgsFunction = first(func(c *cobra.Command, _ string) []string { return completeRIDs(c.Context(), e) })
		case path == "grove unfollow":
			c.ValidArgsFunction = first(func(c *cobra.Command, _ string) []string { return completeNIDs(c.Context(), e, "followed") })
		case path == "grove device remove":
			c.ValidArgsFunction = first(func(c *cobra.Command, _ string) []string { return completeDevices(e) })
		case path == "grove unblock":
			c.ValidArgsFunction = first(func(c *cobra.Command, _ string) []string { return completeNIDs(c.Context(), e, "blocked") })
		case path == "grove follow" || path == "grove block" || path == "grove remote add" || path == "grove node forget" || path == "grove device add":
			c.ValidArgsFunction = first(func(c *cobra.Command, _ string) []string { return completeNIDs(c.Context(), e, "known") })
		}
	}
	walk(root)
}

// completeRIDs lists the projects in local storage, each described by
// its name.
func completeRIDs(ctx context.Context, e *env) []string {
	h, err := e.home()
	if err != nil {
		return nil
	}
	rids, err := repo.List(h)
	if err != nil {
		return nil
	}
	var out []string
	for _, rid := range rids {
		s := rid.String()
		if r, err := repo.Open(h, rid); err == nil {
			if doc, _, err := r.Identity(ctx); err == nil && doc.Name != "" {
				s += "\t" + completionText(doc.Name)
			}
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// completeNIDs lists NIDs with their names: which "followed", "blocked"
// or every one the home knows a name for ("known").
func completeNIDs(ctx context.Context, e *env, which string) []string {
	h, err := e.home()
	if err != nil {
		return nil
	}
	pol, err := control.LoadPolicy(h)
	if err != nil {
		return nil
	}
	names := map[string]string{}
	switch which {
	case "followed":
		names = pol.Follows
	case "blocked":
		for _, nid := range pol.Blocked {
			names[nid] = ""
		}
	default:
		names = cli.LoadNames(ctx, h).Known()
	}
	var out []string
	for nid, name := range names {
		if name != "" {
			nid += "\t" + completionText(name)
		}
		out = append(out, nid)
	}
	slices.Sort(out)
	return out
}

// completeDevices lists the other devices of the user's person.
func completeDevices(e *env) []string {
	h, err := e.home()
	if err != nil {
		return nil
	}
	ph, err := h.Person()
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range ph.Devices {
		if d != ph.NID.String() {
			out = append(out, d)
		}
	}
	return out
}

// completeIDs lists the short IDs that begin with prefix of the objects of
// type typ in the project c would act on (--repo, or the working copy's),
// described by their state and title when there are few enough to read.
func completeIDs(c *cobra.Command, e *env, typ, prefix string) []string {
	ctx := c.Context()
	flag, _ := c.Flags().GetString("repo")
	r, err := e.project(ctx, flag)
	if err != nil {
		return nil
	}
	names, err := r.RefFiles().Names("refs/namespaces/*/" + issues.RefPrefix(typ))
	if err != nil {
		return nil
	}
	mid := "/" + issues.RefPrefix(typ)
	seen := map[string]bool{}
	var ids []string
	for _, n := range names {
		i := strings.Index(n, mid)
		if i < 0 {
			continue
		}
		if id := n[i+len(mid):]; len(id) == 40 && strings.HasPrefix(id, strings.ToLower(prefix)) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	h, err := e.home()
	if err != nil {
		return nil
	}
	s := issues.NewCachedStore(r, h)
	kind := issueKind
	if typ == issues.PatchType {
		kind = patchKind
	}
	rules, rerr := s.Rules(ctx)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:7]
		if len(ids) > maxTitled || rerr != nil {
			continue
		}
		obj, err := s.Load(ctx, typ, id)
		if err != nil {
			continue
		}
		if th, err := kind.thread(obj, rules); err == nil {
			out[i] += "\t" + completionText(fmt.Sprintf("%s: %s", th.State, th.Title))
		}
	}
	return out
}

// completionProject opens the project c would act on (--repo, or the
// working copy's) and the home; false when there is none.
func completionProject(c *cobra.Command, e *env) (*repo.Repo, repo.Home, bool) {
	flag, _ := c.Flags().GetString("repo")
	r, err := e.project(c.Context(), flag)
	if err != nil {
		return nil, repo.Home{}, false
	}
	h, err := e.home()
	if err != nil {
		return nil, repo.Home{}, false
	}
	return r, h, true
}

// completeLabels lists the labels the project's issues (or patches) carry,
// most used first, each described by how many carry it.
func completeLabels(c *cobra.Command, e *env, typ string) []string {
	ctx := c.Context()
	r, h, ok := completionProject(c, e)
	if !ok {
		return nil
	}
	ix, err := issues.OpenIndex(ctx, issues.IndexPath(h, r.RID), issues.NewCachedStore(r, h))
	if err != nil {
		return nil
	}
	defer ix.Close()
	count := map[string]int{}
	if err := ix.Each(ctx, issues.Filter{Type: typ}, func(_ int, s *issues.Summary) error {
		for _, l := range s.Labels {
			count[l]++
		}
		return nil
	}); err != nil {
		return nil
	}
	labels := slices.Collect(maps.Keys(count))
	slices.SortFunc(labels, func(a, b string) int {
		if d := count[b] - count[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	noun := "issue"
	if typ == issues.PatchType {
		noun = "patch"
	}
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = completionText(l) + "\t" + plural(count[l], noun)
	}
	return out
}

// completeRevisions lists the revisions of the patch args[0] names by
// number, each described by its head and whether it is merged.
func completeRevisions(c *cobra.Command, e *env, args []string) []string {
	if len(args) == 0 {
		return nil
	}
	ctx := c.Context()
	r, h, ok := completionProject(c, e)
	if !ok {
		return nil
	}
	s := issues.NewCachedStore(r, h)
	id, err := s.Resolve(issues.PatchType, args[0])
	if err != nil {
		return nil
	}
	v, err := s.PatchView(ctx)
	if err != nil {
		return nil
	}
	p, _, err := s.Patch(ctx, id, v)
	if err != nil {
		return nil
	}
	out := make([]string, len(p.Revisions))
	for i, rev := range p.Revisions {
		desc := "head " + short(rev.Head)
		if rev.Merged {
			desc += ", merged"
		}
		out[i] = fmt.Sprintf("%d\t%s", i+1, desc)
	}
	return out
}

// completionText makes text a peer wrote safe as a completion's
// description: one line, nothing a terminal acts on, no tab (which ends
// a candidate's description in cobra's protocol).
func completionText(s string) string {
	return strings.ReplaceAll(termtext.Line(s), "\t", " ")
}
