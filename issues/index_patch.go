package issues

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"example.com/grove/repo"
)

// Patches in the index. A patch's state depends on more than its changes:
// it is merged once a revision is in the canonical default branch. The
// index keeps the branch's name and the commit it resolved merges against
// (meta branch and tip); when a refresh finds the branch moved, a
// fast-forward re-resolves only the unmerged patches one of whose heads or
// merge commits it brought in (the heads table), anything else (a rewind,
// another branch) every patch.

// Review verdicts a patch list filters on: the newest revision's.
const (
	ReviewAccepted = "accepted" // at least one accept and no reject
	ReviewRejected = "rejected" // at least one reject
	ReviewNone     = "none"     // no verdict yet
)

// maxNewCommits bounds the commits a fast-forward of the default branch
// is read as; past it every patch is re-resolved instead.
const maxNewCommits = 100_000

// PatchSummary is a patch as listed from the index.
type PatchSummary struct {
	Summary
	Revisions int `json:"revisions"`
	// Accepted and Rejected count the reviewers whose verdict on the
	// newest revision is accept or reject.
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
}

// Hit is one object a search found.
type Hit struct {
	// Type is issue or patch.
	Type string `json:"type"`
	Summary
}

// indexedPatch is what the index writes of a materialized patch.
func indexedPatch(p *Patch) (indexedObject, error) {
	x := indexedObject{typ: PatchType, th: &p.Thread, p: p}
	for _, v := range p.Verdicts(p.Latest().ID) {
		if v == VerdictAccept {
			x.acc++
		} else {
			x.rej++
		}
	}
	switch {
	case x.rej > 0:
		x.verdict = ReviewRejected
	case x.acc > 0:
		x.verdict = ReviewAccepted
	}
	doc, err := marshalCanonical(p)
	if err != nil {
		return indexedObject{}, err
	}
	x.doc = doc
	if p.State != StateMerged {
		for _, r := range p.Revisions {
			x.heads = append(x.heads, r.Head)
		}
		for _, m := range p.Merges {
			x.heads = append(x.heads, m.Commit)
		}
	}
	return x, nil
}

// appendPatchRow appends a patch's own fields to its row: its revisions,
// accepts and rejects.
func appendPatchRow(b []byte, x indexedObject) []byte {
	b = appendNum(b, int64(len(x.p.Revisions)))
	b = appendNum(b, int64(x.acc))
	return appendNum(b, int64(x.rej))
}

// patchSummary decodes a patch's row into s.
func (r *rowReader) patchSummary(row string, s *PatchSummary) bool {
	r.thread(row, &s.Summary)
	s.Revisions = int(r.num())
	s.Accepted = int(r.num())
	s.Rejected = int(r.num())
	return !r.bad && r.s == ""
}

// EachPatch calls fn with each patch f selects (f.Type is taken as
// PatchType), newest first, and how many there are at most; the summary
// is fn's only until it returns.
func (ix *Index) EachPatch(ctx context.Context, f Filter, fn func(n int, p *PatchSummary) error) error {
	f.Type = PatchType
	rows, err := ix.sortedRows(ctx, f)
	if err != nil {
		return err
	}
	var rd rowReader
	var sum PatchSummary
	for _, row := range rows {
		if !rd.patchSummary(row, &sum) {
			return fmt.Errorf("%w: patch row %.60q", errCorrupt, row)
		}
		if err := fn(len(rows), &sum); err != nil {
			return err
		}
	}
	return nil
}

// PatchDocs returns the JSON of each patch f selects (f.Type is taken as
// PatchType), newest first: the patch as materialized when the index last
// saw it change, merged or not.
func (ix *Index) PatchDocs(ctx context.Context, f Filter) ([]json.RawMessage, error) {
	f.Type = PatchType
	_, docs, err := ix.sortedRowsDocs(ctx, f, true)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(docs))
	for i, d := range docs {
		out[i] = json.RawMessage(d)
		if !json.Valid(out[i]) {
			return nil, fmt.Errorf("%w: patch document %.60q", errCorrupt, d)
		}
	}
	return out, nil
}

// Search returns every issue and patch whose title, description, comments
// or reviews hold every word of q (as a word or the start of one), best
// match first (see searchScores: a word in a title counts most, a rare
// word more than a common one), then newest first, then by ID.
func (ix *Index) Search(ctx context.Context, q string) ([]Hit, error) {
	hits, err := ix.SearchHits(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Hit, 0, hits.Len())
	err = hits.each(false, func(h *Hit) error {
		out = append(out, *h)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// searchFields are the FTS5 columns a search scores, each with what a
// word found in it is worth: a title ten, a description four, comments
// and reviews one.
var searchFields = [...]struct {
	column string
	weight float64
}{{"title", 10}, {"body", 4}, {"comments", 1}}

// searchScores scores every object that holds a word of terms (FTS5
// terms, from ftsTerms), by its index row n: each word adds its rarity
// (BM25's inverse document frequency, log(1 + (N-n+0.5)/(n+0.5)) for a
// word n of the N objects hold; N is the index's largest row number)
// times the weights of the fields that hold it (searchFields). How often
// a field holds the word and how long the field is do not count: FTS5's
// bm25 weighs them, but it reads each hit's column sizes with a statement
// of its own, the largest part of a broad search's time. Column filters
// ({title} : "word"*) find where each word is, one value per word and
// field (group_concat of the rowids).
//
// It also returns which rows hold every word (the hits) and how many do.
func (ix *Index) searchScores(ctx context.Context, terms []string) (scores []float64, hit []bool, hits int, err error) {
	most, err := ix.most(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	scores = make([]float64, most+1)
	hit = make([]bool, most+1)
	fields := make([]uint8, most+1) // the fields (bits) holding this word
	var list string
	for i, t := range terms {
		held := 0 // how many objects hold t
		for f, sf := range searchFields {
			err := ix.db.QueryRowContext(ctx, "SELECT coalesce(group_concat(rowid), '') FROM fts WHERE fts MATCH ?", "{"+sf.column+"} : "+t).Scan(&list)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("index: %w", err)
			}
			for len(list) > 0 {
				var v string
				v, list, _ = strings.Cut(list, ",")
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 1<<30 {
					return nil, nil, 0, fmt.Errorf("%w: search row %.20q", errCorrupt, v)
				}
				if n >= len(scores) {
					scores = append(scores, make([]float64, n+1-len(scores))...)
					hit = append(hit, make([]bool, n+1-len(hit))...)
					fields = append(fields, make([]uint8, n+1-len(fields))...)
				}
				if fields[n] == 0 {
					held++
				}
				fields[n] |= 1 << f
			}
		}
		var weight [1 << len(searchFields)]float64 // by fields
		idf := math.Log(1 + (float64(len(scores)-1)-float64(held)+0.5)/(float64(held)+0.5))
		for m := range weight {
			for f, sf := range searchFields {
				if m&(1<<f) != 0 {
					weight[m] += idf * sf.weight
				}
			}
		}
		hits = 0
		for n, m := range fields {
			if m != 0 {
				scores[n] += weight[m]
				fields[n] = 0
			}
			hit[n] = m != 0 && (i == 0 || hit[n])
			if hit[n] {
				hits++
			}
		}
	}
	return scores, hit, hits, nil
}

// searchScanShare is the share of the index's objects a search must hit
// for SearchHits to read every row, one scan of the issues table, rather
// than look up each hit's: the scan reads a row in less time than a
// lookup, and needs no FTS5 query of its own.
const searchScanShare = 0.75

// Hits is what a search found, in Search's order, as the index keeps it:
// one encoded row per object (see Listing), decoded as Each hands it out.
// It outlives the index, and a caller may read it more than once (a table
// measures its columns, then prints): a broad search finds every object,
// and nothing of it need be held decoded.
type Hits struct {
	rows  []string
	patch []bool
}

// SearchHits returns the hits of q, in Search's order.
//
// searchScores finds and scores the hits; their rows are read by a
// lookup of each, or when they are most objects (searchScanShare) by one
// scan of the issues table, and ordered here, by small keys with no
// pointers: an ORDER BY made SQLite's sorter copy every hit's whole row,
// most of a broad search's time.
func (ix *Index) SearchHits(ctx context.Context, q string) (*Hits, error) {
	terms := ftsTerms(q)
	if len(terms) == 0 {
		return &Hits{}, nil
	}
	scores, hit, hits, err := ix.searchScores(ctx, terms)
	if err != nil {
		return nil, err
	}
	if hits == 0 {
		return &Hits{}, nil
	}
	q, args := "SELECT i.n, i.type = ?, i.row FROM fts JOIN issues i ON i.n = fts.rowid WHERE fts MATCH ?", []any{PatchType, strings.Join(terms, " AND ")}
	if float64(hits) >= ix.scanShare*float64(len(scores)) {
		q, args = "SELECT n, type = ?, row FROM issues", args[:1]
	}
	rows, err := ix.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	type key struct {
		score   float64
		created int64
		pre     uint64 // the ID's first 8 bytes, big-endian
		i       int32
		patch   bool
	}
	keys := make([]key, 0, hits)
	all := make([]string, 0, hits)
	var rd rowReader
	// One of each destination, not one per row: Scan's destinations
	// escape.
	var n int64
	var patch bool
	var row string
	dest := []any{&n, &patch, &row}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if n < 0 || n >= int64(len(hit)) || !hit[n] {
			continue // scanned, not a hit
		}
		c, id, ok := rd.key(row)
		if !ok || len(id) < 8 {
			return nil, fmt.Errorf("%w: row %.60q", errCorrupt, row)
		}
		keys = append(keys, key{scores[n], c, binary.BigEndian.Uint64([]byte(id[:8])), int32(len(all)), patch})
		all = append(all, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	// Best (highest) score first, then newest first, then by ID.
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.score != b.score:
			return cmp.Compare(b.score, a.score)
		case a.created != b.created:
			return cmpDesc(a.created, b.created)
		case a.pre != b.pre:
			return cmp.Compare(a.pre, b.pre)
		}
		_, ida, _ := rd.key(all[a.i])
		_, idb, _ := rd.key(all[b.i])
		return strings.Compare(ida, idb)
	})
	h := &Hits{rows: all, patch: make([]bool, len(keys))}
	from := make([]int32, len(keys))
	for j, k := range keys {
		h.patch[j], from[j] = k.patch, k.i
	}
	permute(from, all)
	return h, nil
}

// Len is how many objects h holds.
func (h *Hits) Len() int { return len(h.rows) }

// Each calls fn with each hit of h, in order. The hit and its slices are
// reused: they are fn's only until it returns; its strings stay valid.
func (h *Hits) Each(fn func(h *Hit) error) error {
	return h.each(true, fn)
}

// each is Each; without reuse, the hits' slices stay valid too (Search
// keeps them).
func (h *Hits) each(reuse bool, fn func(h *Hit) error) error {
	rd := rowReader{reuse: reuse}
	var hit Hit
	for i, row := range h.rows {
		hit.Type = "issue"
		if h.patch[i] {
			hit.Type = "patch"
		}
		if rd.thread(row, &hit.Summary); rd.bad {
			return fmt.Errorf("%w: row %.60q", errCorrupt, row)
		}
		if err := fn(&hit); err != nil {
			return err
		}
	}
	return nil
}

// defaultTip returns the canonical default branch's commit, which patches
// are resolved against, and marks changed the patches whose merged state a
// move of it may have changed since the last refresh. branch is the
// default branch's name when this refresh read the identity, "" if not.
func (ix *Index) defaultTip(ctx context.Context, tx *sql.Tx, branch string, changed map[string]bool) (string, error) {
	var oldBranch, oldTip string
	err := tx.QueryRowContext(ctx, "SELECT (SELECT value FROM meta WHERE key = 'branch'), (SELECT value FROM meta WHERE key = 'tip')").Scan(&oldBranch, &oldTip)
	if err != nil {
		return "", err
	}
	all := false
	if branch != "" && branch != oldBranch {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'branch'", branch); err != nil {
			return "", err
		}
		all = true
	}
	if branch == "" {
		branch = oldBranch
	}
	if branch == "" {
		return "", nil
	}
	r := ix.store.Repo
	tip, err := r.RefFiles().Get("refs/heads/" + branch)
	if err != nil {
		return "", err
	}
	if tip != oldTip {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'tip'", tip); err != nil {
			return "", err
		}
		if !all {
			all, err = ix.movedOn(ctx, tx, oldTip, tip, changed)
			if err != nil {
				return "", err
			}
		}
	}
	if all {
		rows, err := tx.QueryContext(ctx, "SELECT DISTINCT id FROM tips WHERE type = ?", PatchType)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return "", err
			}
			changed[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	}
	return tip, nil
}

// movedOn marks changed the unmerged patches that the default branch's
// move from old to tip merged, when it is a fast-forward of a bounded
// number of commits; otherwise it reports that every patch must be
// resolved again.
func (ix *Index) movedOn(ctx context.Context, tx *sql.Tx, old, tip string, changed map[string]bool) (all bool, err error) {
	r := ix.store.Repo
	if old == "" || tip == "" {
		return true, nil
	}
	if ok, err := r.IsAncestor(ctx, old, tip); err != nil || !ok {
		return true, nil // a rewind, or history this storage lacks
	}
	out, err := r.Git(ctx, nil, "rev-list", fmt.Sprintf("--max-count=%d", maxNewCommits+1), old+".."+tip)
	if err != nil {
		return true, nil
	}
	commits := strings.Fields(string(out))
	if len(commits) > maxNewCommits {
		return true, nil
	}
	st, err := tx.PrepareContext(ctx, "SELECT id FROM heads WHERE oid = ?")
	if err != nil {
		return false, err
	}
	defer st.Close()
	for _, c := range commits {
		rows, err := st.QueryContext(ctx, c)
		if err != nil {
			return false, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return false, err
			}
			changed[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, err
		}
	}
	return false, nil
}

// reach answers whether a commit is in the default branch's history (tip)
// for the patches one refresh resolves: for a few, one git merge-base
// --is-ancestor per commit asked about; for many (full), the branch's
// whole history, listed once by git rev-list. Safe for the refresh's
// workers to share.
type reach struct {
	ctx  context.Context
	r    *repo.Repo
	tip  string
	full bool
	once sync.Once
	set  map[string]bool
	mu   sync.Mutex
	memo map[string]bool
}

func newReach(ctx context.Context, r *repo.Repo, tip string, full bool) *reach {
	return &reach{ctx: ctx, r: r, tip: tip, full: full, memo: make(map[string]bool)}
}

// reachable reports whether a is an ancestor of b, which must be the tip.
func (x *reach) reachable(a, b string) bool {
	if b == "" || b != x.tip {
		return false
	}
	if a == b {
		return true
	}
	if x.full {
		x.once.Do(func() {
			x.set = make(map[string]bool)
			out, err := x.r.Git(x.ctx, nil, "rev-list", x.tip)
			if err != nil {
				return // nothing is merged rather than a wrong merge
			}
			for _, c := range strings.Fields(string(out)) {
				x.set[c] = true
			}
		})
		return x.set[a]
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if v, ok := x.memo[a]; ok {
		return v
	}
	ok, err := x.r.IsAncestor(x.ctx, a, b)
	v := err == nil && ok
	x.memo[a] = v
	return v
}

// Describe returns the kind (issue or patch) and title of object id, and
// false when the index holds no such object.
func (ix *Index) Describe(ctx context.Context, id string) (kind, title string, ok bool, err error) {
	var typ, row string
	err = ix.db.QueryRowContext(ctx, "SELECT type, row FROM issues WHERE id = ?", id).Scan(&typ, &row)
	if err == sql.ErrNoRows {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("index: %w", err)
	}
	var rd rowReader
	var s Summary
	rd.thread(row, &s)
	if rd.bad {
		return "", "", false, fmt.Errorf("%w: row %.60q", errCorrupt, row)
	}
	return typeNoun(typ), s.Title, true, nil
}
