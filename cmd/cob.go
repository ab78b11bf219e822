package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/cmd/internal/cli"
	"example.com/grove/issues"
	"example.com/grove/protocol"
	"example.com/grove/protocol/termtext"
	"example.com/grove/repo"
)

// What every kind of collaborative object offers, once for all of them:
// comment and reply, edit, close and reopen, label, assign, react, and the
// plumbing of show and list. A kind's own file (issue.go, patch.go) adds
// its cobKind and the commands only it has.

// cobKind is a kind of collaborative object as grove's commands see it.
type cobKind struct {
	*issues.Kind
	// thread materializes an object of the kind and returns what every
	// kind shares of it.
	thread func(obj *issues.Object, rules issues.Rules) (*issues.Thread, error)
	// states are what list --state takes besides all.
	states []string
	// lazy says that an object exists when its root change does, so a
	// change that needs no check (a comment) is written on the object's
	// heads without materializing it.
	lazy bool
	// example is an ID prefix and a label for the kind's examples.
	example, label string
}

// threadOf makes a cobKind's thread from its materializer.
func threadOf[T interface{ Shared() *issues.Thread }](materialize func(*issues.Object, issues.Rules) (T, error)) func(*issues.Object, issues.Rules) (*issues.Thread, error) {
	return func(obj *issues.Object, rules issues.Rules) (*issues.Thread, error) {
		x, err := materialize(obj, rules)
		if err != nil {
			return nil, err
		}
		return x.Shared(), nil
	}
}

// sharedCmds returns the commands every kind has, for kind k.
func sharedCmds(e *env, k *cobKind) []*cobra.Command {
	return []*cobra.Command{
		newCommentCmd(e, k), newEditCmd(e, k), newCloseCmd(e, k), newReopenCmd(e, k),
		newLabelCmd(e, k), newAssignCmd(e, k), newReactCmd(e, k),
	}
}

// objects is one command's view of a project's objects of one kind.
// Reading or changing one object works from the refs alone.
type objects struct {
	kind  *cobKind
	d     *deps
	r     *repo.Repo
	s     *issues.Store
	rules *issues.Rules // nil until rulesOf reads them
	nm    *cli.Names    // nil until names or namesIn reads them
}

func openObjects(ctx context.Context, d *deps, k *cobKind) (*objects, error) {
	r, err := d.Repo(ctx)
	if err != nil {
		return nil, err
	}
	h, err := d.Home()
	if err != nil {
		return nil, err
	}
	return &objects{kind: k, d: d, r: r, s: issues.NewCachedStore(r, h)}, nil
}

// names reads who the project's NIDs are, for printing (cli.Names).
func (o *objects) names(ctx context.Context) *cli.Names {
	if o.nm != nil {
		return o.nm
	}
	h, err := o.d.Home()
	if err != nil {
		return nil
	}
	o.nm = cli.LoadNames(ctx, h, o.r)
	return o.nm
}

// namesIn is names, with the project's person documents from its index
// ix, which keeps them verified by tip: reading them from the refs
// verifies every document's history each time.
func (o *objects) namesIn(ctx context.Context, ix *issues.Index) *cli.Names {
	if o.nm != nil {
		return o.nm
	}
	h, err := o.d.Home()
	if err != nil {
		return nil
	}
	ps, err := ix.PersonChains(ctx)
	if err != nil {
		return o.names(ctx)
	}
	o.nm = cli.NamesWith(h, repo.ResolvePeople(ps))
	return o.nm
}

// resolve returns the full ID of the object prefix names, helped by the
// project's list of IDs in the home's cache.
func (o *objects) resolve(prefix string) (string, error) {
	return o.s.Resolve(o.kind.Type, prefix)
}

// rulesOf returns who may triage and see objects, from the project's
// identity.
func (o *objects) rulesOf(ctx context.Context) (issues.Rules, error) {
	if o.rules == nil {
		r, err := o.s.Rules(ctx)
		if err != nil {
			return issues.Rules{}, err
		}
		o.rules = &r
	}
	return *o.rules, nil
}

// loadObject resolves prefix and reads the object's changes.
func (o *objects) loadObject(ctx context.Context, prefix string) (*issues.Object, error) {
	id, err := o.resolve(prefix)
	if err != nil {
		return nil, err
	}
	obj, err := o.s.Load(ctx, o.kind.Type, id)
	if errors.Is(err, issues.ErrNotFound) {
		return nil, fmt.Errorf("%s %.7s: %w", o.kind.Noun, id, issues.ErrNotFound)
	}
	return obj, err
}

// load resolves prefix and materializes what every kind shares of the
// object.
func (o *objects) load(ctx context.Context, prefix string) (*issues.Thread, *issues.Object, issues.Rules, error) {
	obj, err := o.loadObject(ctx, prefix)
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	rules, err := o.rulesOf(ctx)
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	th, err := o.kind.thread(obj, rules)
	if errors.Is(err, issues.ErrNotFound) {
		return nil, nil, issues.Rules{}, fmt.Errorf("%s %.7s: %w", o.kind.Noun, obj.ID, issues.ErrNotFound)
	}
	if err != nil {
		return nil, nil, issues.Rules{}, err
	}
	return th, obj, rules, nil
}

// thread loads what every kind shares of the object o names, of kind k.
func (o *on) thread(ctx context.Context, k *cobKind) (*issues.Thread, error) {
	objs, err := openObjects(ctx, &o.deps, k)
	if err != nil {
		return nil, err
	}
	th, _, _, err := objs.load(ctx, o.ID)
	return th, err
}

// change writes one change to the object prefix names, after checking
// that the user may make it (issues.Kind.Allowed), and returns the
// change's oid. The object is materialized for the check and for build
// when need is set, or the kind is not lazy; of a lazy kind it is
// otherwise not, build gets nil, and the change is written on the
// object's verified heads without reading the project's identity or
// decoding its actions (a plain comment needs neither).
func (o *objects) change(ctx context.Context, prefix string, need bool, build func(th *issues.Thread) ([]issues.Action, error)) (string, error) {
	key, err := o.d.Key()
	if err != nil {
		return "", err
	}
	var (
		th    *issues.Thread
		obj   *issues.Object
		rules issues.Rules
	)
	if need || !o.kind.lazy {
		th, obj, rules, err = o.load(ctx, prefix)
	} else {
		obj, err = o.loadObject(ctx, prefix)
	}
	if err != nil {
		return "", err
	}
	acts, err := build(th)
	if err != nil {
		return "", err
	}
	if th != nil {
		if err := o.kind.Kind.Allowed(rules, key.NID(), th, acts...); err != nil {
			return "", err
		}
	}
	return o.write(ctx, key, obj, acts...)
}

// write writes one change with acts on top of obj's heads, signed by key,
// has it announced, and returns its oid.
func (o *objects) write(ctx context.Context, key *protocol.Key, obj *issues.Object, acts ...issues.Action) (string, error) {
	oid, err := o.s.Update(ctx, o.kind.Kind, key, o.d.Now(), obj, acts...)
	if err != nil {
		return "", usageIfInvalid(err)
	}
	o.d.Announce(ctx, o.r.RID)
	return oid, nil
}

func usageIfInvalid(err error) error {
	if errors.Is(err, issues.ErrInvalid) {
		return &UsageError{Err: err}
	}
	return err
}

// findComment resolves a comment ID prefix within th, an object of kind k.
func findComment(k *cobKind, th *issues.Thread, prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	var found []string
	for _, c := range th.Comments {
		if strings.HasPrefix(c.ID, prefix) {
			found = append(found, c.ID)
		}
	}
	switch {
	case prefix == "" || len(found) == 0:
		return "", fmt.Errorf("comment %s: %w in %s %.7s", prefix, issues.ErrNotFound, k.Noun, th.ID)
	case len(found) > 1:
		return "", fmt.Errorf("comment %w", &issues.AmbiguousError{Prefix: prefix, Matches: len(found)})
	}
	return found[0], nil
}

func parseNIDs(flag string, in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		n, err := protocol.ParseNID(s)
		if err != nil {
			return nil, usagef("--%s: %v", flag, err)
		}
		out = append(out, n.String())
	}
	return out, nil
}

func checkLabels(flag string, in []string) error {
	for _, l := range in {
		if !issues.ValidLabel(l) || !termtext.Safe(l) {
			return usagef("--%s %q: a label is 1 to %d characters, with no commas, control characters or outer spaces", flag, l, issues.MaxLabel)
		}
	}
	return nil
}

// checkTitle checks a --title flag, when given.
func checkTitle(t optString) error {
	if t.Given && (!issues.ValidTitle(t.Value) || !termtext.Safe(t.Value)) {
		return usagef("--title: 1 to %d characters on one line, without control characters", issues.MaxTitle)
	}
	return nil
}

// listState checks list --state against kind k's states and returns the
// state to filter on: "" for all.
func listState(k *cobKind, state string) (string, error) {
	switch {
	case state == "all":
		return "", nil
	case slices.Contains(k.states, state):
		return state, nil
	}
	return "", usagef("--state must be %s or all", strings.Join(k.states, ", "))
}

// jsonOptions are the options of a command whose one flag is --json.
type jsonOptions struct {
	on
	JSON bool
}

// flags adds --json to c.
func (o *jsonOptions) flags(c *cobra.Command) *cobra.Command {
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

// --- comment

type commentOptions struct {
	on
	jsonFlag
	Kind    *cobKind
	Body    bodyInput
	ReplyTo string
}

func newCommentCmd(e *env, k *cobKind) *cobra.Command {
	o := &commentOptions{Kind: k}
	c := o.object(e, doc("comment ID (--body B | --body-file F) [--reply-to COMMENT_ID]", "Comment on "+a(k.Noun)+", or reply to a comment; prints the comment's ID", "",
		fmt.Sprintf("  grove %[1]s comment %[2]s --body \"Fixed in main\"\n  grove %[1]s comment %[2]s --reply-to 9c1d --body-file -",
			k.Noun, k.example),
	), func(ctx context.Context) error { return commentRun(ctx, o) })
	o.Body.flags(c, "comment")
	c.Flags().StringVar(&o.ReplyTo, "reply-to", "", "reply to comment `COMMENT_ID` (a prefix is enough)")
	return o.add(c)
}

func commentRun(ctx context.Context, o *commentOptions) error {
	objs, err := openObjects(ctx, &o.deps, o.Kind)
	if err != nil {
		return err
	}
	body, ok, err := o.Body.read(ctx, &o.deps)
	if err != nil {
		return err
	}
	if !ok {
		return usagef("give the comment with --body or --body-file")
	}
	if strings.TrimSpace(body) == "" {
		return usagef("empty comment: nothing to send")
	}
	oid, err := objs.change(ctx, o.ID, o.ReplyTo != "", func(th *issues.Thread) ([]issues.Action, error) {
		act := issues.Action{Type: issues.ActComment, Body: body}
		if o.ReplyTo != "" {
			id, err := findComment(o.Kind, th, o.ReplyTo)
			if err != nil {
				return nil, err
			}
			act.ReplyTo = id
		}
		return []issues.Action{act}, nil
	})
	if err != nil {
		return err
	}
	return o.result(o.IO.Out, idJSON{ID: oid}, func() error { _, err := fmt.Fprintln(o.IO.Out, oid); return err })
}

// idJSON is what a command that writes one change prints with --json:
// the change's ID, the ID of the comment or review it makes.
type idJSON struct {
	ID string `json:"id"`
}

// --- edit

type editOptions struct {
	on
	Kind  *cobKind
	Title optString
	Body  bodyInput
}

func newEditCmd(e *env, k *cobKind) *cobra.Command {
	o := &editOptions{Kind: k}
	c := o.object(e, doc("edit ID [--title T] [--body B | --body-file F]", fmt.Sprintf("Change %s title (author or delegates) or %s (author)", a(k.Noun)+"'s", k.BodyNoun), "",
		fmt.Sprintf("  grove %[1]s edit %[2]s --title \"Crash on start with empty config\"\n  grove %[1]s edit %[2]s --body-file new.md",
			k.Noun, k.example),
	), func(ctx context.Context) error { return editRun(ctx, o) })
	c.Flags().VarP(&o.Title, "title", "t", "new title")
	o.Body.flags(c, k.BodyNoun)
	return c
}

func editRun(ctx context.Context, o *editOptions) error {
	if err := checkTitle(o.Title); err != nil {
		return err
	}
	objs, err := openObjects(ctx, &o.deps, o.Kind)
	if err != nil {
		return err
	}
	var body string
	bodied := false
	if !o.Title.Given || o.Body.given() {
		if body, bodied, err = o.Body.read(ctx, &o.deps); err != nil {
			return err
		}
	}
	if !o.Title.Given && !bodied {
		return usagef("nothing to change: give --title, --body or --body-file")
	}
	var id string
	_, err = objs.change(ctx, o.ID, true, func(th *issues.Thread) ([]issues.Action, error) {
		id = th.ID
		var acts []issues.Action
		if o.Title.Given {
			acts = append(acts, issues.Action{Type: issues.ActTitle, Title: o.Title.Value})
		}
		if bodied {
			acts = append(acts, issues.Action{Type: issues.ActBody, Body: body})
		}
		return acts, nil
	})
	if err != nil {
		return err
	}
	o.info("Edited %s %.7s", o.Kind.Noun, id)
	return nil
}

// --- close, reopen, label, assign: one triage change each

// triageOptions are what close, reopen, label and assign share.
type triageOptions struct {
	on
	Kind *cobKind
}

// errUnchanged stops a triage change that would change nothing.
var errUnchanged = errors.New("unchanged")

// triage writes act to the object, if the user may, and confirms on a
// terminal in one line, done ("Closed") and the object. A change of state
// to the state the object is in writes nothing and says so.
func (o *triageOptions) triage(ctx context.Context, act issues.Action, done string) error {
	objs, err := openObjects(ctx, &o.deps, o.Kind)
	if err != nil {
		return err
	}
	var id string
	_, err = objs.change(ctx, o.ID, true, func(th *issues.Thread) ([]issues.Action, error) {
		id = th.ID
		if act.Type == issues.ActState && th.State == act.State && (act.Reason == "" || th.Reason == act.Reason) {
			return nil, errUnchanged
		}
		return []issues.Action{act}, nil
	})
	if errors.Is(err, errUnchanged) {
		fmt.Fprintf(o.IO.Err, "grove: %s %.7s is %s already; nothing changed\n", o.Kind.Noun, id, act.State)
		return nil
	}
	if err != nil {
		return err
	}
	o.info("%s %s %.7s", done, o.Kind.Noun, id)
	return nil
}

type closeOptions struct {
	triageOptions
	Reason string // kinds whose closing takes a reason
}

func newCloseCmd(e *env, k *cobKind) *cobra.Command {
	o := &closeOptions{triageOptions: triageOptions{Kind: k}}
	c := o.object(e, doc("close ID", fmt.Sprintf("Close %s (author or delegates)", a(k.Noun)), "",
		fmt.Sprintf("  grove %s close %s", k.Noun, k.example),
	), func(ctx context.Context) error { return closeRun(ctx, o) })
	if k.Reasons {
		c.Use += " [--reason solved|other]"
		c.Example += fmt.Sprintf("\n  grove %s close %s --reason other", k.Noun, k.example)
		c.Flags().StringVar(&o.Reason, "reason", issues.ReasonSolved, "solved or other")
	}
	return c
}

func closeRun(ctx context.Context, o *closeOptions) error {
	if o.Kind.Reasons && o.Reason != issues.ReasonSolved && o.Reason != issues.ReasonOther {
		return usagef("--reason must be solved or other")
	}
	return o.triage(ctx, issues.Action{Type: issues.ActState, State: issues.StateClosed, Reason: o.Reason}, "Closed")
}

func newReopenCmd(e *env, k *cobKind) *cobra.Command {
	o := &triageOptions{Kind: k}
	return o.object(e, doc("reopen ID", fmt.Sprintf("Reopen a closed %s (author or delegates)", k.Noun), "",
		fmt.Sprintf("  grove %s reopen %s", k.Noun, k.example),
	), func(ctx context.Context) error { return reopenRun(ctx, o) })
}

func reopenRun(ctx context.Context, o *triageOptions) error {
	return o.triage(ctx, issues.Action{Type: issues.ActState, State: issues.StateOpen}, "Reopened")
}

// setOptions are the options of the commands that add to and remove from
// a set (labels, assignees).
type setOptions struct {
	triageOptions
	Add, Remove []string
}

func newSetCmd(e *env, k *cobKind, c *cobra.Command, what, add, remove string, run func(context.Context, *setOptions) error) *cobra.Command {
	o := &setOptions{triageOptions: triageOptions{Kind: k}}
	o.object(e, c, func(ctx context.Context) error { return run(ctx, o) })
	stringsVarP(c.Flags(), &o.Add, "add", "", add+" `"+what+"` (repeatable)")
	stringsVarP(c.Flags(), &o.Remove, "remove", "", remove+" `"+what+"` (repeatable)")
	return c
}

func (o *setOptions) check() error {
	if len(o.Add)+len(o.Remove) == 0 {
		return usagef("nothing to change: give --add or --remove")
	}
	return nil
}

func newLabelCmd(e *env, k *cobKind) *cobra.Command {
	return newSetCmd(e, k, doc("label ID [--add L]... [--remove L]...", "Add or remove labels (author or delegates)", "",
		fmt.Sprintf("  grove %s label %s --add %s --remove triage", k.Noun, k.example, k.label),
	), "L", "add label", "remove label", labelRun)
}

func labelRun(ctx context.Context, o *setOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	if err := checkLabels("add", o.Add); err != nil {
		return err
	}
	return o.triage(ctx, issues.Action{Type: issues.ActLabel, Add: o.Add, Remove: o.Remove}, "Changed the labels of")
}

func newAssignCmd(e *env, k *cobKind) *cobra.Command {
	return newSetCmd(e, k, doc("assign ID [--add NID]... [--remove NID]...", "Add or remove assignees (author or delegates)", "",
		fmt.Sprintf("  grove %s assign %s --add 12D3KooW...", k.Noun, k.example),
	), "NID", "assign", "unassign", assignRun)
}

func assignRun(ctx context.Context, o *setOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	add, err := parseNIDs("add", o.Add)
	if err != nil {
		return err
	}
	rm, err := parseNIDs("remove", o.Remove)
	if err != nil {
		return err
	}
	return o.triage(ctx, issues.Action{Type: issues.ActAssign, Add: add, Remove: rm}, "Changed the assignees of")
}

// --- react

type reactOptions struct {
	on
	Kind    *cobKind
	Emoji   string
	Comment string
	Undo    bool
}

func newReactCmd(e *env, k *cobKind) *cobra.Command {
	o := &reactOptions{Kind: k}
	c := o.bind(e, doc("react ID [--comment COMMENT_ID] EMOJI", fmt.Sprintf("React to %s or one of its comments", a(k.Noun)), "",
		fmt.Sprintf("  grove %[1]s react %[2]s 👍\n  grove %[1]s react %[2]s --comment 9c1d 🎉\n  grove %[1]s react %[2]s --undo 👍",
			k.Noun, k.example),
	), 2, true, func(ctx context.Context) error {
		o.Emoji = o.Args[1]
		return reactRun(ctx, o)
	})
	c.Flags().StringVar(&o.Comment, "comment", "", "react to comment `COMMENT_ID` instead of the "+k.Noun)
	c.Flags().BoolVar(&o.Undo, "undo", false, "take the reaction back")
	return c
}

func reactRun(ctx context.Context, o *reactOptions) error {
	if !issues.ValidEmoji(o.Emoji) || !termtext.Safe(o.Emoji) {
		return usagef("reaction %q: 1 to %d bytes with no spaces, commas or control characters", o.Emoji, issues.MaxEmoji)
	}
	objs, err := openObjects(ctx, &o.deps, o.Kind)
	if err != nil {
		return err
	}
	var id string
	_, err = objs.change(ctx, o.ID, true, func(th *issues.Thread) ([]issues.Action, error) {
		id = th.ID
		act := issues.Action{Type: issues.ActReact, Emoji: o.Emoji, Undo: o.Undo}
		if o.Comment != "" {
			id, err := findComment(o.Kind, th, o.Comment)
			if err != nil {
				return nil, err
			}
			act.Comment = id
		}
		return []issues.Action{act}, nil
	})
	if err != nil {
		return err
	}
	verb := "Reacted to"
	if o.Undo {
		verb = "Took back your reaction to"
	}
	o.info("%s %s %.7s", verb, o.Kind.Noun, id)
	return nil
}

// a returns noun with its indefinite article.
func a(noun string) string {
	if strings.IndexByte("aeiou", noun[0]) >= 0 {
		return "an " + noun
	}
	return "a " + noun
}
