package repo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"example.com/grove/protocol"
)

// ErrUnavailable is returned by UpdatePack when this storage cannot make
// the pack asked for: it lacks one of the two revisions, or the pack would
// be too large.
var ErrUnavailable = errors.New("update not available here")

// unpackLimit is the object count from which an update pack is kept as a
// pack rather than unpacked into loose objects (git's fetch.unpackLimit).
const unpackLimit = 100

// maxNegatives bounds the unchanged branches and tags UpdatePack names as
// known to the receiver, so a namespace of many refs costs git little.
const maxNegatives = 256

// RefChange is one ref that differs between two signed states of a
// namespace; Name is relative to the namespace.
type RefChange struct {
	Name     string
	Old, New string // "" for absent
}

// UpdatePack returns a pack, at most max bytes, of the objects that take
// nid's namespace from sigrefs commit have to want: everything reachable
// from want's signed refs (and the sigrefs commit itself) that is not
// reachable from have's. The pack is thin: its deltas may use objects a
// holder of have has. It returns ErrUnavailable when it cannot serve that.
//
// Only the refs that differ are read (the two ref trees are walked
// together and equal subtrees skipped), so an update of one ref among
// thousands is as cheap as in a namespace of one.
func (r *Repo) UpdatePack(ctx context.Context, nid protocol.NID, have, want string, max int64) ([]byte, error) {
	return r.updatePack(ctx, nid, have, want, nil, max)
}

// FirstUpdatePack is UpdatePack for a receiver that holds no revision of
// nid's namespace: everything reachable from want's signed refs that is
// not reachable from base, commits the receiver holds (its canonical tips;
// those this storage lacks are left out).
func (r *Repo) FirstUpdatePack(ctx context.Context, nid protocol.NID, want string, base []string, max int64) ([]byte, error) {
	var known []string
	for _, b := range base {
		if protocol.ValidOID(b) && r.HasObject(b) && len(known) < maxNegatives {
			known = append(known, b)
		}
	}
	return r.updatePack(ctx, nid, "", want, known, max)
}

func (r *Repo) updatePack(ctx context.Context, nid protocol.NID, have, want string, base []string, max int64) ([]byte, error) {
	var hs protocol.SignedRefs
	if have != "" {
		var err error
		if hs, err = r.readSigrefsHead(nid, have); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	ws, err := r.readSigrefsHead(nid, want)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	diffs, err := r.diffSigrefs(hs, ws)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var in bytes.Buffer
	fmt.Fprintf(&in, "%s\n", want)
	if have != "" {
		fmt.Fprintf(&in, "^%s\n", have)
	}
	for _, b := range base {
		fmt.Fprintf(&in, "^%s\n", b)
	}
	created := false
	for _, d := range diffs {
		if d.New != "" {
			fmt.Fprintf(&in, "%s\n", d.New)
		}
		if d.Old != "" {
			fmt.Fprintf(&in, "^%s\n", d.Old)
		} else {
			created = true
		}
	}
	if created && have != "" {
		// A new ref usually starts from an existing branch: name the
		// receiver's branches and tags so their history is not sent.
		known, err := r.branchesAt(hs)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		for _, oid := range known {
			fmt.Fprintf(&in, "^%s\n", oid)
		}
	}
	// The pack goes to a scratch file first, not to a growing slice: one
	// over max is never held (it is cut off at max+1 bytes on disk), and
	// one within it is read back into a slice of its exact size, once,
	// instead of a slice grown by doubling (whose copies, at up to twice
	// the pack, were the node's peak).
	spool, err := r.spoolFile()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer spool.Close()
	c := GitCommand(ctx, r.Path, "pack-objects", "--stdout", "--thin", "--revs", "--delta-base-offset", "-q")
	c.Stdin = &in
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("pack-objects: %w", err)
	}
	n, rerr := io.Copy(spool, io.LimitReader(out, max+1))
	if n > max {
		c.Process.Kill()
		c.Wait()
		return nil, fmt.Errorf("%w: pack over %d bytes", ErrUnavailable, max)
	}
	if err := c.Wait(); err != nil || rerr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, &GitError{Args: []string{"pack-objects"}, Stderr: errb.String(), Err: errors.Join(err, rerr)})
	}
	pack := make([]byte, n)
	if _, err := spool.ReadAt(pack, 0); err != nil {
		return nil, fmt.Errorf("%w: read the pack back: %v", ErrUnavailable, err)
	}
	return pack, nil
}

// spoolFile returns a new scratch file in the storage's grove-tmp,
// already unlinked where the system allows it (so a process that dies
// leaves nothing); Close removes it otherwise.
func (r *Repo) spoolFile() (*spooled, error) {
	dir := filepath.Join(r.Path, tmpDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "update-*")
	if err != nil {
		return nil, err
	}
	unlinked := os.Remove(f.Name()) == nil
	return &spooled{File: f, unlinked: unlinked}, nil
}

// spooled is a scratch file that Close also removes.
type spooled struct {
	*os.File
	unlinked bool
}

func (s *spooled) Close() error {
	err := s.File.Close()
	if !s.unlinked {
		os.Remove(s.Name())
	}
	return err
}

// DiffSigrefs returns the refs that differ between nid's sigrefs commits
// older and newer, sorted by name, after checking both signatures. Only
// the parts of the two ref trees that differ are read, so it costs the
// same for one changed ref among thousands as among a few.
func (r *Repo) DiffSigrefs(nid protocol.NID, older, newer string) ([]RefChange, error) {
	a, err := r.readSigrefsHead(nid, older)
	if err != nil {
		return nil, err
	}
	b, err := r.readSigrefsHead(nid, newer)
	if err != nil {
		return nil, err
	}
	d, err := r.diffSigrefs(a, b)
	if err != nil {
		return nil, fmt.Errorf("sigrefs %.7s..%.7s: %w", older, newer, err)
	}
	return d, nil
}

// diffSigrefs lists the refs that differ between two signed states of one
// namespace, sorted by name.
func (r *Repo) diffSigrefs(a, b protocol.SignedRefs) ([]RefChange, error) {
	var out []RefChange
	if a.Tree != "" && b.Tree != "" {
		if err := r.diffRefTrees(a.Tree, b.Tree, "", 0, &out); err != nil {
			return nil, err
		}
	} else {
		am, err := r.sigrefsMap(a)
		if err != nil {
			return nil, err
		}
		bm, err := r.sigrefsMap(b)
		if err != nil {
			return nil, err
		}
		for name, oid := range bm {
			if am[name] != oid {
				out = append(out, RefChange{Name: name, Old: am[name], New: oid})
			}
		}
		for name, oid := range am {
			if _, ok := bm[name]; !ok {
				out = append(out, RefChange{Name: name, Old: oid})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// sigrefsMap returns every ref sr signs, reading its ref tree if it has
// one.
func (r *Repo) sigrefsMap(sr protocol.SignedRefs) (map[string]string, error) {
	if sr.Tree == "" {
		return sr.Refs.Map(), nil
	}
	refs, err := r.readRefTree(sr.Tree)
	if err != nil {
		return nil, err
	}
	return refs.Map(), nil
}

// diffRefTrees appends the refs that differ between ref trees a and b
// ("" for none) under prefix. Subtrees with equal oids are not read.
func (r *Repo) diffRefTrees(a, b, prefix string, depth int, out *[]RefChange) error {
	if a == b {
		return nil
	}
	if depth > maxRefTreeDepth+1 {
		return fmt.Errorf("ref tree nested deeper than %d", maxRefTreeDepth)
	}
	if len(*out) > protocol.MaxRefs {
		return fmt.Errorf("more than %d refs", protocol.MaxRefs)
	}
	read := func(oid string) ([]protocol.TreeEntry, error) {
		if oid == "" {
			return nil, nil
		}
		return r.readTree(oid)
	}
	ae, err := read(a)
	if err != nil {
		return err
	}
	be, err := read(b)
	if err != nil {
		return err
	}
	// Walk the two trees side by side by name (tree order sorts a
	// directory as if its name ended in "/", so sort by name first;
	// ParseTree hands them over nearly sorted already).
	byName := func(x, y protocol.TreeEntry) int { return strings.Compare(x.Name, y.Name) }
	slices.SortFunc(ae, byName)
	slices.SortFunc(be, byName)
	for i, j := 0, 0; i < len(ae) || j < len(be); {
		var x, y protocol.TreeEntry
		switch {
		case j == len(be) || i < len(ae) && ae[i].Name < be[j].Name:
			x = ae[i]
			i++
		case i == len(ae) || be[j].Name < ae[i].Name:
			y = be[j]
			j++
		default:
			x, y = ae[i], be[j]
			i, j = i+1, j+1
		}
		name := x.Name
		if name == "" {
			name = y.Name
		}
		if x.OID == y.OID && x.Mode == y.Mode {
			continue
		}
		// A bucket directory holds gitlinks named by the ref's last
		// component; it adds nothing to the name.
		sub := prefix + name + "/"
		if protocol.IsRefBucket(name) {
			sub = prefix
		}
		// Inside a bucket every entry is a ref; elsewhere every entry is
		// a directory (readRefTree checks the form on the receiving side).
		if x.Mode == protocol.ModeGitlink || y.Mode == protocol.ModeGitlink {
			d := RefChange{Name: prefix + name}
			if x.Mode == protocol.ModeGitlink {
				d.Old = x.OID
			}
			if y.Mode == protocol.ModeGitlink {
				d.New = y.OID
			}
			*out = append(*out, d)
			continue
		}
		if err := r.diffRefTrees(treeOID(x), treeOID(y), sub, depth+1, out); err != nil {
			return err
		}
	}
	return nil
}

// treeOID is e's oid if it is a tree, else "".
func treeOID(e protocol.TreeEntry) string {
	if e.Mode == protocol.ModeTree {
		return e.OID
	}
	return ""
}

// branchesAt returns the oids of up to maxNegatives branches and tags that
// sr signs.
func (r *Repo) branchesAt(sr protocol.SignedRefs) ([]string, error) {
	var out []string
	if sr.Tree == "" {
		for _, ref := range sr.Refs {
			if (strings.HasPrefix(ref.Name, "refs/heads/") || strings.HasPrefix(ref.Name, "refs/tags/")) && len(out) < maxNegatives {
				out = append(out, ref.OID)
			}
		}
		return out, nil
	}
	es, err := r.readTree(sr.Tree)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Name != "refs" || e.Mode != protocol.ModeTree {
			continue
		}
		kinds, err := r.readTree(e.OID)
		if err != nil {
			return nil, err
		}
		for _, k := range kinds {
			if (k.Name != "heads" && k.Name != "tags") || k.Mode != protocol.ModeTree {
				continue
			}
			var refs protocol.RefList
			if err := r.walkRefTree(k.OID, "refs/"+k.Name+"/", 2, &refs); err != nil {
				return nil, err
			}
			for _, ref := range refs {
				if len(out) < maxNegatives {
					out = append(out, ref.OID)
				}
			}
		}
	}
	return out, nil
}

// AcceptPack takes an update of nid's namespace to sigrefs commit want
// that arrived as pack (made by UpdatePack on a peer): git unpacks it
// into a quarantine with fsck checks (--strict also refuses objects whose
// links lead nowhere), the refs want signs are read from it,
// every ref that moves must point at an object that is here, and then
// Accept verifies the namespace and moves it exactly as after a fetch.
// consider is the policy, as for Accept.
func (r *Repo) AcceptPack(ctx context.Context, nid protocol.NID, want string, pack []byte, consider func(protocol.NID) bool) (*AcceptResult, error) {
	local, err := r.NamespaceRefs(ctx, nid)
	if err != nil {
		return nil, err
	}
	q, err := r.NewQuarantine("fetch", nil, "", nil)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	// Few objects become loose objects, as git's own fetch.unpackLimit
	// does: a pack per update would pile up, and every reader of the
	// storage pays for each pack index it has.
	args := []string{"unpack-objects", "--strict", "-q"}
	if len(pack) < 12 || binary.BigEndian.Uint32(pack[8:12]) >= unpackLimit {
		args = []string{"index-pack", "--strict", "--fix-thin", "--stdin"}
	}
	args = append(args, "--max-input-size="+strconv.Itoa(protocol.MaxUpdatePack))
	if _, err := runGitEnv(ctx, q.Dir(), ObjectLimitEnv(protocol.MaxObject), pack, args...); err != nil {
		if ge := (*GitError)(nil); errors.As(err, &ge) && ObjectOverLimit(ge.Stderr) {
			return nil, fmt.Errorf("update pack: %w (%d bytes)", ErrObjectTooLarge, protocol.MaxObject)
		}
		return nil, fmt.Errorf("update pack: %w", err)
	}
	view, err := q.View()
	if err != nil {
		return nil, err
	}
	sr, err := view.ReadSigrefs(nid, want)
	if err != nil {
		return nil, err
	}
	refs := sr.Refs.Map()
	refs[protocol.SigrefsRef] = want
	full := make(map[string]string, len(refs))
	p := NamespacePrefix(nid)
	for name, oid := range refs {
		if local[name] != oid && !view.HasObject(oid) {
			return nil, fmt.Errorf("update pack: %s points at %.7s, which did not arrive", name, oid)
		}
		full[p+name] = oid
	}
	if err := q.setRefs(full); err != nil {
		return nil, err
	}
	return r.Accept(ctx, q, func(n protocol.NID) bool {
		return n.Equal(nid) && (consider == nil || consider(n))
	})
}

// setRefs replaces the quarantine's refs with refs (full names).
func (q *Quarantine) setRefs(refs map[string]string) error {
	var b strings.Builder
	for _, name := range sortedKeys(refs) {
		fmt.Fprintf(&b, "%s %s\n", refs[name], name)
	}
	tmp := filepath.Join(q.dir, "packed-refs.new")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("quarantine refs: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(q.dir, "packed-refs")); err != nil {
		return fmt.Errorf("quarantine refs: %w", err)
	}
	return nil
}

// SigrefsParent returns the previous revision of nid's sigrefs commit oid
// ("" for the first), after checking its signature.
func (r *Repo) SigrefsParent(nid protocol.NID, oid string) (string, error) {
	sr, err := r.readSigrefsHead(nid, oid)
	if err != nil {
		return "", err
	}
	return sr.Parent, nil
}
