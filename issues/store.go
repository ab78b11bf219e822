package issues

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// RefPrefix is where, inside a namespace, the tips of objects of typ live.
func RefPrefix(typ string) string { return "refs/cobs/" + typ + "/" }

// RefName is the ref, inside a namespace, of a peer's tip of object typ/id.
func RefName(typ, id string) string { return RefPrefix(typ) + id }

// Store reads and writes one project's collaborative objects.
type Store struct {
	Repo *repo.Repo
	// Rand supplies root nonces (crypto/rand when nil).
	Rand io.Reader
	// CacheDir, when set, is the project's cache directory (CacheDir), where
	// loads keep each object's verified changes (memo.go).
	CacheDir string
	nids     nidCache
	// listings counts the ref directories read to resolve a prefix, and
	// diffs the signed refs diffed to catch an ID list up, for tests to
	// tell which way an answer came.
	listings, diffs int
}

// NewStore returns the object store of project r.
func NewStore(r *repo.Repo) *Store { return &Store{Repo: r, nids: make(nidCache)} }

// NewCachedStore returns the object store of project r with its CacheDir
// in home h: what it verifies and the moves it makes are kept there.
func NewCachedStore(r *repo.Repo, h repo.Home) *Store {
	s := NewStore(r)
	s.CacheDir = CacheDir(h, r.RID)
	return s
}

// Tips returns each namespace's tip of object typ/id, keyed by NID. It
// reads ref files directly and starts no git process.
func (s *Store) Tips(typ, id string) (map[string]string, error) {
	return s.Repo.RefFiles().Namespaced(RefName(typ, id))
}

// Load reads object typ/id from every namespace's tip.
func (s *Store) Load(ctx context.Context, typ, id string) (*Object, error) {
	if !protocol.ValidOID(id) {
		return nil, fmt.Errorf("%s %s: %w", typ, id, ErrNotFound)
	}
	tips, err := s.Tips(typ, id)
	if err != nil {
		return nil, err
	}
	return s.loadTips(ctx, typ, id, tips)
}

func (s *Store) loadTips(ctx context.Context, typ, id string, tips map[string]string) (*Object, error) {
	if len(tips) == 0 {
		return nil, fmt.Errorf("%s %s: %w", typ, id, ErrNotFound)
	}
	list := make([]string, 0, len(tips))
	for _, t := range tips {
		list = append(list, t)
	}
	// A change is three small objects (commit, tree, actions); reading
	// them with plain system calls and one buffer (repo.ObjectReader)
	// costs a fraction of opening each through the os package.
	rd := s.Repo.NewObjectReader()
	defer rd.Close()
	return s.loadMemo(ctx, rd, typ, id, list, s.nids)
}

// loadMemo loads object typ/id from tips, helped by its memo when s has a
// CacheDir, and writes the memo anew when the load verified enough
// changes the memo did not hold.
func (s *Store) loadMemo(ctx context.Context, rd ObjectReader, typ, id string, tips []string, nids nidCache) (*Object, error) {
	rid := s.Repo.RID.String()
	var path string
	var memo map[string]*memoChange
	if s.CacheDir != "" {
		path = memoPath(s.CacheDir, typ, id)
		memo = readMemo(path, rid, typ, id)
	}
	obj, fresh, err := load(ctx, rd, s.Repo.RID, typ, id, tips, nids, memo)
	if err == nil && fresh >= memoRewriteAfter && path != "" {
		writeMemo(path, rid, obj) // a cache: the next load verifies again without it
	}
	return obj, err
}

// Tx collects changes by one signer and moves the signer's refs for all of
// them in one namespace update (one signed-refs revision).
type Tx struct {
	s      *Store
	signer protocol.Signer
	now    time.Time
	old    map[string]string // ref → value before the transaction
	new    map[string]string // ref → value after it
	order  []string
}

// Begin starts a transaction of changes signed by signer at time now.
func (s *Store) Begin(signer protocol.Signer, now time.Time) *Tx {
	return &Tx{s: s, signer: signer, now: now, old: map[string]string{}, new: map[string]string{}}
}

// write runs fn in a transaction of changes signed by signer at time now
// and commits what fn wrote, unless fn fails.
func (s *Store) write(ctx context.Context, signer protocol.Signer, now time.Time, fn func(tx *Tx) error) error {
	tx := s.Begin(signer, now)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Create writes the root change of a new object of typ and returns the
// object's ID.
func (tx *Tx) Create(typ string, c NewChange) (string, error) {
	rnd := tx.s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	id, err := writeChange(tx.s.Repo, tx.signer, tx.s.Repo.RID, typ, nil, c, hex.EncodeToString(b[:]), tx.now)
	if err != nil {
		return "", err
	}
	return id, tx.move(RefName(typ, id), id)
}

// Append writes a change to object typ/id on top of parents (normally the
// loaded object's Heads) and returns its oid.
func (tx *Tx) Append(typ, id string, parents []string, c NewChange) (string, error) {
	if len(parents) == 0 {
		return "", fmt.Errorf("%s %.7s: a change needs parents", typ, id)
	}
	oid, err := writeChange(tx.s.Repo, tx.signer, tx.s.Repo.RID, typ, parents, c, "", tx.now)
	if err != nil {
		return "", err
	}
	return oid, tx.move(RefName(typ, id), oid)
}

func (tx *Tx) move(ref, oid string) error {
	if _, ok := tx.old[ref]; !ok {
		cur, err := tx.s.Repo.RefFiles().Get(repo.NamespacePrefix(tx.signer.NID()) + ref)
		if err != nil {
			return err
		}
		tx.old[ref] = cur
		tx.order = append(tx.order, ref)
	}
	tx.new[ref] = oid
	return nil
}

// Commit moves the signer's refs to the new changes, re-signs the
// namespace and updates canonical refs, atomically (repo.UpdateNamespace).
func (tx *Tx) Commit(ctx context.Context) error {
	if len(tx.order) == 0 {
		return nil
	}
	ups := make([]repo.RefUpdate, 0, len(tx.order))
	for _, ref := range tx.order {
		ups = append(ups, repo.RefUpdate{Name: ref, Old: tx.old[ref], New: tx.new[ref]})
	}
	from, to, err := tx.s.Repo.UpdateNamespaceSigned(ctx, tx.signer, ups, tx.now)
	if err != nil {
		return err
	}
	if tx.s.CacheDir != "" && from != "" && from != to {
		// Tell the ID lists what moved, so that the next command does not
		// diff the signed refs to find out (a cache: ignore failure).
		// type → IDs whose ref is new here; a type none of whose refs
		// moved kept its IDs too.
		created := map[string][]string{IssueType: nil, PatchType: nil}
		for _, ref := range tx.order {
			rest, cob := strings.CutPrefix(ref, "refs/cobs/")
			typ, id, ok := strings.Cut(rest, "/")
			if cob && ok && tx.old[ref] == "" {
				created[typ] = append(created[typ], id)
			}
		}
		for typ, ids := range created {
			tx.s.noteMoved(typ, tx.signer.NID().String(), from, to, ids)
		}
	}
	tx.order, tx.old, tx.new = nil, map[string]string{}, map[string]string{}
	return nil
}

// marshalCanonical encodes v with encoding/json (struct fields in their
// declared order, no HTML escaping, no trailing newline).
func marshalCanonical(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
