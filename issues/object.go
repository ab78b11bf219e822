package issues

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"example.com/grove/protocol"
)

// ErrNotFound is returned when no valid object has the given ID.
var ErrNotFound = errors.New("not found")

// MaxChanges bounds the changes one object may have; a DAG that is larger
// is refused rather than walked.
const MaxChanges = protocol.MaxChanges

// MaxObjectActions bounds the action JSON one object may hold in memory,
// all its changes together: anyone may write changes to a public
// project's objects, and each change may carry up to MaxActionsSize. An
// action blob that many changes share is held once.
const MaxObjectActions = protocol.MaxObjectActions

// ErrTooLarge is returned for an object over MaxChanges changes or
// MaxObjectActions bytes of actions: it is refused, not loaded.
var ErrTooLarge = errors.New("object too large")

// ObjectReader reads raw git objects by oid. *repo.Repo is one.
type ObjectReader interface {
	ReadObject(oid string, limit int64) (kind string, data []byte, err error)
}

// ObjectWriter stores raw git objects and returns their oids. *repo.Repo
// is one.
type ObjectWriter interface {
	WriteObject(kind string, data []byte) (string, error)
}

// Change is one verified change of an object.
type Change struct {
	OID     string
	Parents []string // the valid parents, sorted
	Author  protocol.NID
	Time    time.Time
	Actions []json.RawMessage
	// Files are the change's attachments: file name → blob oid.
	Files map[string]string
	// commitParents are the parents as the commit lists them, valid or
	// not, for the memo.
	commitParents []string
}

// Object is the DAG of an object's valid changes.
type Object struct {
	Type string
	ID   string
	// Changes are the valid changes in the order they apply: topological,
	// ties broken by the smaller oid first.
	Changes []*Change
	// Heads are the valid changes nothing valid builds on, sorted: the
	// parents of the next change.
	Heads []string
}

// Root returns the object's root change.
func (o *Object) Root() *Change { return o.Changes[0] }

// node is a change while the DAG is being loaded.
type node struct {
	raw     *rawChange
	ok      bool // well formed, canonical and signed
	valid   bool // ok and descends from the root through valid changes
	change  *Change
	pending int // parents not yet placed, during ordering
	kids    []string
}

// Load reads the object typ/id of project rid from the given tips (one per
// namespace that has it, in any order, duplicates allowed) and returns its
// valid changes in order. A change is valid when it is well formed,
// canonical and signed by its author, and is the root (oid id, no parents)
// or has at least one valid parent. Anything else is skipped, as is
// everything that reaches the root only through it. ErrNotFound means no
// valid root.
func Load(ctx context.Context, rd ObjectReader, rid protocol.RID, typ, id string, tips []string) (*Object, error) {
	obj, _, err := load(ctx, rd, rid, typ, id, tips, make(nidCache), nil)
	return obj, err
}

// load is Load, taking the changes in memo (by oid) as verified rather
// than reading them; fresh is how many of the result's changes memo
// lacks.
func load(ctx context.Context, rd ObjectReader, rid protocol.RID, typ, id string, tips []string, nids nidCache, memo map[string]*memoChange) (obj *Object, fresh int, err error) {
	nodes := make(map[string]*node)
	var fromMemo int
	// blobs are the action blobs read, by oid: changes that share one
	// share its parse. size is the action JSON held.
	blobs := make(map[string][]json.RawMessage)
	var size int
	tooLarge := func() error {
		return fmt.Errorf("%s %.7s: %w: over %d MiB of actions", typ, id, ErrTooLarge, MaxObjectActions>>20)
	}
	queue := append([]string(nil), tips...)
	rs := rid.String()
	var buf []byte
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		oid := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if _, seen := nodes[oid]; seen || !protocol.ValidOID(oid) {
			continue
		}
		if len(nodes) >= MaxChanges {
			return nil, 0, fmt.Errorf("%s %.7s: %w: over %d changes", typ, id, ErrTooLarge, MaxChanges)
		}
		n := &node{}
		nodes[oid] = n
		if m := memo[oid]; m != nil {
			if author, err := nids.get(m.Author); err == nil {
				n.raw = &rawChange{oid: oid, parents: m.Parents}
				n.change = &Change{OID: oid, Author: author, Time: changeTime(m.Time), Actions: m.Actions, Files: m.Files, commitParents: m.Parents}
				n.ok = true
				fromMemo++
				if size += actionsSize(m.Actions); size > MaxObjectActions {
					return nil, 0, tooLarge()
				}
				queue = append(queue, m.Parents...)
				continue
			}
		}
		kind, data, err := rd.ReadObject(oid, maxCommitSize)
		if err != nil || kind != "commit" {
			continue // missing or not a commit: not a change
		}
		raw, err := parseCommit(oid, data)
		if err != nil {
			continue
		}
		n.raw = raw
		author, b, err := raw.verify(rs, typ, data, nids, buf)
		buf = b
		if err != nil {
			continue
		}
		ch, read, err := readChangeTree(rd, raw, blobs)
		if err != nil {
			continue
		}
		if size += read; size > MaxObjectActions {
			return nil, 0, tooLarge()
		}
		ch.Author = author
		ch.commitParents = raw.parents
		n.change, n.ok = ch, true
		queue = append(queue, raw.parents...)
	}
	// Validity flows from the root down through valid parents.
	state := make(map[string]int8, len(nodes)) // 0 unvisited, 1 on the stack, 2 settled
	order := make([]string, 0, len(nodes))
	for oid := range nodes {
		order = append(order, oid)
	}
	sort.Strings(order)
	for _, oid := range order {
		validateIter(oid, nodes, state, id)
	}
	if r := nodes[id]; r == nil || !r.valid {
		return nil, 0, fmt.Errorf("%s %s: %w", typ, id, ErrNotFound)
	}
	// Order the valid changes: Kahn's algorithm, smallest oid first.
	var valid []string
	for oid, n := range nodes {
		if !n.valid {
			continue
		}
		valid = append(valid, oid)
		var ps []string
		for _, p := range n.raw.parents {
			if pn := nodes[p]; pn != nil && pn.valid {
				ps = append(ps, p)
			}
		}
		sort.Strings(ps)
		ps = dedup(ps)
		n.change.Parents = ps
		n.pending = len(ps)
		for _, p := range ps {
			nodes[p].kids = append(nodes[p].kids, oid)
		}
	}
	obj = &Object{Type: typ, ID: id, Changes: make([]*Change, 0, len(valid))}
	ready := &oidHeap{id}
	for ready.Len() > 0 {
		oid := heap.Pop(ready).(string)
		n := nodes[oid]
		obj.Changes = append(obj.Changes, n.change)
		if len(n.kids) == 0 {
			obj.Heads = append(obj.Heads, oid)
		}
		for _, k := range n.kids {
			kn := nodes[k]
			if kn.pending--; kn.pending == 0 {
				heap.Push(ready, k)
			}
		}
	}
	sort.Strings(obj.Heads)
	return obj, len(valid) - fromMemo, nil
}

// validateIter settles validity of oid and its ancestors without recursion.
func validateIter(start string, nodes map[string]*node, state map[string]int8, root string) {
	type frame struct {
		oid string
		i   int
	}
	if state[start] == 2 {
		return
	}
	stack := []frame{{oid: start}}
	state[start] = 1
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		n := nodes[f.oid]
		if n == nil || !n.ok || f.oid == root {
			if n != nil && n.ok && f.oid == root {
				n.valid = len(n.raw.parents) == 0
			}
			state[f.oid] = 2
			stack = stack[:len(stack)-1]
			continue
		}
		if f.i < len(n.raw.parents) {
			p := n.raw.parents[f.i]
			f.i++
			if state[p] == 0 && nodes[p] != nil {
				state[p] = 1
				stack = append(stack, frame{oid: p})
			}
			continue
		}
		for _, p := range n.raw.parents {
			if pn := nodes[p]; pn != nil && state[p] == 2 && pn.valid {
				n.valid = true
			}
		}
		state[f.oid] = 2
		stack = stack[:len(stack)-1]
	}
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// readChangeTree reads a verified commit's tree and actions, taking the
// actions from blobs when another change had the same blob, and adding
// them there otherwise. read is the bytes of actions it read (none for a
// shared blob).
func readChangeTree(rd ObjectReader, raw *rawChange, blobs map[string][]json.RawMessage) (ch *Change, read int, err error) {
	kind, data, err := rd.ReadObject(raw.tree, 64<<10)
	if err != nil || kind != "tree" {
		return nil, 0, fmt.Errorf("%w %.7s: tree missing", ErrInvalidChange, raw.oid)
	}
	ents, err := parseTree(raw.tree, data)
	if err != nil {
		return nil, 0, err
	}
	ch = &Change{OID: raw.oid, Time: changeTime(raw.unix)}
	var actions string
	for _, e := range ents {
		if e.name == ActionsFile {
			actions = e.oid
			continue
		}
		if ch.Files == nil {
			ch.Files = make(map[string]string)
		}
		ch.Files[e.name] = e.oid
	}
	if actions == "" {
		return nil, 0, fmt.Errorf("%w %.7s: no %s", ErrInvalidChange, raw.oid, ActionsFile)
	}
	if acts, ok := blobs[actions]; ok {
		ch.Actions = acts
		return ch, 0, nil
	}
	kind, data, err = rd.ReadObject(actions, MaxActionsSize)
	if err != nil || kind != "blob" {
		return nil, 0, fmt.Errorf("%w %.7s: actions missing", ErrInvalidChange, raw.oid)
	}
	// Actions that do not parse are the author's mistake: the change still
	// counts in the DAG, with nothing to apply.
	var acts []json.RawMessage
	if json.Unmarshal(data, &acts) == nil && len(acts) <= MaxActions {
		ch.Actions = acts
	}
	blobs[actions] = ch.Actions
	return ch, len(data), nil
}

// actionsSize is the bytes of JSON in acts.
func actionsSize(acts []json.RawMessage) int {
	n := 0
	for _, a := range acts {
		n += len(a)
	}
	return n
}

// oidHeap is a min-heap of oids.
type oidHeap []string

func (h oidHeap) Len() int           { return len(h) }
func (h oidHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h oidHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *oidHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *oidHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// NewChange is a change to write: its actions (each encoded as canonical
// JSON by encoding/json) and attachments.
type NewChange struct {
	Actions []any
	Files   map[string][]byte
}

// writeChange stores a change's blobs, tree and signed commit and returns
// the commit's oid. nonce, if not empty, goes into the tree (root changes).
func writeChange(w ObjectWriter, s protocol.Signer, rid protocol.RID, typ string, parents []string, c NewChange, nonce string, now time.Time) (string, error) {
	acts, err := encodeActions(c.Actions)
	if err != nil {
		return "", err
	}
	if len(acts) > MaxActionsSize {
		return "", fmt.Errorf("actions are %d bytes, over the limit of %d", len(acts), MaxActionsSize)
	}
	files := make(map[string]string, len(c.Files)+2)
	put := func(name string, data []byte) error {
		oid, err := w.WriteObject("blob", data)
		files[name] = oid
		return err
	}
	if err := put(ActionsFile, acts); err != nil {
		return "", err
	}
	if nonce != "" {
		if err := put(NonceFile, []byte(nonce)); err != nil {
			return "", err
		}
	}
	for name, data := range c.Files {
		if !validFileName(name) || name == ActionsFile || name == NonceFile {
			return "", fmt.Errorf("attachment name %q is not allowed", name)
		}
		if len(data) > MaxAttachment {
			return "", fmt.Errorf("attachment %s is over %d bytes", name, MaxAttachment)
		}
		if err := put(name, data); err != nil {
			return "", err
		}
	}
	tree, err := w.WriteObject("tree", encodeTree(files))
	if err != nil {
		return "", err
	}
	ps := append([]string(nil), parents...)
	sort.Strings(ps)
	ps = dedup(ps)
	unix := now.Unix()
	sig, err := s.Sign(Payload(rid, typ, tree, ps, s.NID(), unix))
	if err != nil {
		return "", fmt.Errorf("sign change: %w", err)
	}
	return w.WriteObject("commit", encodeCommit(typ, tree, ps, s.NID(), unix, sig))
}

// encodeActions returns the canonical JSON array of actions.
func encodeActions(actions []any) ([]byte, error) {
	if len(actions) == 0 || len(actions) > MaxActions {
		return nil, fmt.Errorf("a change holds 1 to %d actions, not %d", MaxActions, len(actions))
	}
	var b []byte
	b = append(b, '[')
	for i, a := range actions {
		if i > 0 {
			b = append(b, ',')
		}
		j, err := marshalCanonical(a)
		if err != nil {
			return nil, err
		}
		b = append(b, j...)
	}
	return append(b, ']'), nil
}
