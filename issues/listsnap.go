package issues

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// A list snapshot is every issue's index row in List's order, with the
// signed refs and identity ref of each namespace it was read at. The
// index writes it whenever what it holds moved on; `grove issue list`
// without a search reads it, and opens no SQLite, while the refs are still
// at that state: opening the index and querying it were a third of listing
// 1,000 issues. Like the index it is only a cache, replaced by rename, and
// a snapshot that does not match the refs or does not parse is passed
// over for the index.
//
// On disk: the line "grove issue list 1 COUNT", one line "NID SIGREFS
// IDENT" for each namespace (IDENT "-" for none), sorted, an empty line,
// then COUNT rows, each its length in decimal, ":" and the row.

// ListPath is where the list snapshot of project rid lives in home.
func ListPath(h repo.Home, rid protocol.RID) string {
	return snapshotPath(IndexPath(h, rid))
}

// snapshotPath is the snapshot beside the index at path.
func snapshotPath(index string) string {
	return filepath.Join(filepath.Dir(index), "issues.list")
}

// snapshotState is the namespaces' part of a snapshot's head.
func snapshotState(nss map[string]nsState) string {
	var b strings.Builder
	for _, ns := range slices.Sorted(maps.Keys(nss)) {
		st := nss[ns]
		ident := st.ident
		if ident == "" {
			ident = "-"
		}
		b.WriteString(ns + " " + st.sigrefs + " " + ident + "\n")
	}
	b.WriteByte('\n')
	return b.String()
}

// snapshotOf reports whether data is a snapshot of state (snapshotState)
// and returns its count of rows and where they start.
func snapshotOf(data []byte, state string) (count, body int, ok bool) {
	first, _, found := bytes.Cut(data[:min(len(data), 128)], []byte("\n"))
	num, isHead := bytes.CutPrefix(first, []byte("grove issue list 1 "))
	count, err := strconv.Atoi(string(num))
	if !found || !isHead || err != nil || count < 0 {
		return 0, 0, false
	}
	body = len(first) + 1
	if !bytes.HasPrefix(data[body:], []byte(state)) {
		return 0, 0, false
	}
	return count, body + len(state), true
}

// storedNamespaces returns the namespaces' state the index holds.
func (ix *Index) storedNamespaces(ctx context.Context) (map[string]nsState, error) {
	rows, err := ix.db.QueryContext(ctx, "SELECT nid, sigrefs, ident FROM namespaces")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]nsState)
	for rows.Next() {
		var n string
		var s nsState
		if err := rows.Scan(&n, &s.sigrefs, &s.ident); err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, rows.Err()
}

// maxPatched bounds the issues a snapshot is patched for; past it every
// row is read from the index again.
const maxPatched = 2000

// writeSnapshot writes the list snapshot of what the index holds, unless
// the one on disk is of the same state already. When the last Refresh
// started from the state of the snapshot on disk, the snapshot is patched
// with the rows of the issues it changed: after one comment on one of
// 10,000 issues, reading every row from SQLite again was most of the
// next listing.
func (ix *Index) writeSnapshot(ctx context.Context) error {
	nss, err := ix.storedNamespaces(ctx)
	if err != nil {
		return err
	}
	state := snapshotState(nss)
	path := snapshotPath(ix.path)
	before := ""
	if ix.delta != nil && len(ix.delta.changed) <= maxPatched {
		before = ix.delta.before
	}
	same, old := readSnapshot(path, state, before)
	if same {
		return nil
	}
	var rows []string
	if old != nil {
		if rows, err = ix.patchRows(ctx, old, ix.delta.changed); err != nil {
			return err
		}
		if rows != nil {
			ix.patched++
		}
	}
	if rows == nil {
		if rows, err = ix.sortedRows(ctx, Filter{}); err != nil {
			return err
		}
	}
	ix.listed = rows
	return writeSnapshotRows(path, state, rows)
}

// writeSnapshotRows replaces the snapshot at path by rows, at state.
func writeSnapshotRows(path, state string, rows []string) error {
	return replaceFile(path, func(w *bufio.Writer) error {
		w.WriteString("grove issue list 1 " + strconv.Itoa(len(rows)) + "\n" + state)
		for _, row := range rows {
			w.WriteString(strconv.Itoa(len(row)))
			w.WriteByte(':')
			if _, err := w.WriteString(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// readSnapshot reports whether the snapshot at path is of state, and if
// not, returns its rows when it is of state before ("" for no such
// state).
func readSnapshot(path, state, before string) (same bool, rows []string) {
	data, unmap, ok := mapFile(path)
	if !ok {
		return false, nil
	}
	defer unmap()
	if _, _, same := snapshotOf(data, state); same {
		return true, nil
	}
	if before == "" {
		return false, nil
	}
	rows, _ = snapshotRows(data, before)
	return false, rows
}

// snapshotRows returns the rows of snapshot data when it is of state,
// copied out of data, or false when it is not or does not frame.
func snapshotRows(data []byte, state string) ([]string, bool) {
	count, start, ok := snapshotOf(data, state)
	if !ok {
		return nil, false
	}
	body := string(data[start:]) // one copy: the rows are cut from it
	rows := make([]string, 0, count)
	for len(body) > 0 {
		i := strings.IndexByte(body[:min(len(body), 12)], ':')
		n, err := strconv.Atoi(body[:max(i, 0)])
		if i <= 0 || err != nil || n <= 0 || n > len(body)-i-1 {
			return nil, false
		}
		rows = append(rows, body[i+1:i+1+n])
		body = body[i+1+n:]
	}
	return rows, len(rows) == count
}

// patchRows returns old, rows in list order, with the rows of the issues
// in changed replaced by what the index holds for them now (none for an
// issue it no longer has). It returns nil, and no error, when a row of old
// does not decode: the caller reads every row instead.
func (ix *Index) patchRows(ctx context.Context, old []string, changed map[string]bool) ([]string, error) {
	var rd rowReader
	var fresh []keyedRow
	ids := slices.Sorted(maps.Keys(changed))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		q := "SELECT row FROM issues WHERE id IN (?" + strings.Repeat(", ?", len(batch)-1) + ")"
		rs, err := ix.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		for rs.Next() {
			var row string
			if err := rs.Scan(&row); err != nil {
				rs.Close()
				return nil, fmt.Errorf("index: %w", err)
			}
			c, id, ok := rd.key(row)
			if !ok {
				rs.Close()
				return nil, fmt.Errorf("%w: issue row %.60q", errCorrupt, row)
			}
			fresh = append(fresh, keyedRow{c, id, row})
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	return mergeRows(old, changed, fresh), nil
}

// keyedRow is an issue's row with its sort key: newest first, then by ID.
type keyedRow struct {
	created int64
	id      string
	row     string
}

func compareRows(a, b keyedRow) int {
	if a.created != b.created {
		return cmpDesc(a.created, b.created)
	}
	return strings.Compare(a.id, b.id)
}

// mergeRows returns old, rows in list order, without the rows of the
// issues in changed and with fresh (rows of issues in changed, in any
// order) in their places. It returns nil when a row of old does not
// decode or old is out of order: not a snapshot this package wrote.
func mergeRows(old []string, changed map[string]bool, fresh []keyedRow) []string {
	slices.SortFunc(fresh, compareRows)
	out := make([]string, 0, len(old)+len(fresh))
	var rd rowReader
	var prev keyedRow
	for i, row := range old {
		c, id, ok := rd.key(row)
		if !ok {
			return nil
		}
		k := keyedRow{c, id, row}
		if i > 0 && compareRows(prev, k) >= 0 {
			return nil
		}
		prev = k
		if changed[id] {
			continue
		}
		for len(fresh) > 0 && compareRows(fresh[0], k) < 0 {
			out = append(out, fresh[0].row)
			fresh = fresh[1:]
		}
		out = append(out, row)
	}
	for _, f := range fresh {
		out = append(out, f.row)
	}
	return out
}

// EachListed calls fn with each issue f selects, in List's order, from the
// list snapshot at path (ListPath), when it was written at the state the
// refs of s's project are in now. ok is false, and fn never called, when
// there is no such snapshot or f searches (only the index can); the
// caller then asks the index, which writes a new snapshot.
func EachListed(path string, s *Store, f Filter, fn func(n int, s *Summary) error) (ok bool, err error) {
	return eachListed(context.Background(), path, s, f, fn, false)
}

// CatchUpListed is EachListed, but a snapshot the refs have moved past is
// first brought up to them when that needs no index (catchUp): after a
// comment, or a fetch of a few changes, a listing then reads no SQLite.
func CatchUpListed(ctx context.Context, path string, s *Store, f Filter, fn func(n int, s *Summary) error) (ok bool, err error) {
	return eachListed(ctx, path, s, f, fn, true)
}

func eachListed(ctx context.Context, path string, s *Store, f Filter, fn func(n int, s *Summary) error, catchUp bool) (ok bool, err error) {
	if f.Search != "" {
		return false, nil
	}
	data, unmap, ok := mapFile(path)
	if !ok {
		return false, nil
	}
	defer unmap()
	cur, err := readNamespaces(s)
	if err != nil {
		return false, err
	}
	count, start, ok := snapshotOf(data, snapshotState(cur))
	if !ok {
		if !catchUp {
			return false, nil
		}
		rows, err := catchUpSnapshot(ctx, path, data, s, cur)
		if rows == nil || err != nil {
			return false, err
		}
		return true, eachRow(rows, f, fn)
	}
	// Every row is framed and decodes before fn sees one: past this point
	// the snapshot is used whole or not at all.
	body := data[start:]
	var check, rd rowReader
	var sum Summary
	rows := make([][]byte, 0, count)
	for len(body) > 0 {
		i := bytes.IndexByte(body[:min(len(body), 12)], ':')
		n, err := strconv.Atoi(string(body[:max(i, 0)]))
		if i <= 0 || err != nil || n <= 0 || n > len(body)-i-1 {
			return false, nil
		}
		row := body[i+1 : i+1+n]
		// Decoding without a copy is safe here: nothing decoded is kept.
		if !check.summary(unsafe.String(&row[0], len(row)), &sum) {
			return false, nil
		}
		rows = append(rows, row)
		body = body[i+1+n:]
	}
	if len(rows) != count {
		return false, nil
	}
	for _, b := range rows {
		if !rd.summary(string(b), &sum) {
			return true, fmt.Errorf("%w: list snapshot row %.60q", errCorrupt, b)
		}
		if !f.selects(&sum) {
			continue
		}
		if err := fn(count, &sum); err != nil {
			return true, err
		}
	}
	return true, nil
}

// eachRow calls fn with each issue of rows, decoded rows in list order,
// that f selects.
func eachRow(rows []string, f Filter, fn func(n int, s *Summary) error) error {
	var rd rowReader
	var sum Summary
	for _, row := range rows {
		if !rd.summary(row, &sum) {
			return fmt.Errorf("%w: list snapshot row %.60q", errCorrupt, row)
		}
		if !f.selects(&sum) {
			continue
		}
		if err := fn(len(rows), &sum); err != nil {
			return err
		}
	}
	return nil
}

// maxCaughtUp bounds the issues a listing materializes to bring a
// snapshot forward itself; past it the index does (in parallel, and it
// has to catch up anyway).
const maxCaughtUp = 200

// catchUpSnapshot brings the list snapshot data, written at an older state
// of the refs, to cur without the index, writes it and returns its rows.
// That is possible when the refs moved by changes to issues alone: the
// namespaces are the ones the snapshot has, each identity ref where it
// was (the rules stand), and the signed refs of each moved namespace
// verify and diff against the ones the snapshot has (as Refresh diffs
// them). The issues whose refs moved are materialized again from the
// refs, as the index would, and their rows replaced. rows is nil, with no
// error, when it is not possible: the caller asks the index, which then
// writes the snapshot.
func catchUpSnapshot(ctx context.Context, path string, data []byte, s *Store, cur map[string]nsState) (rows []string, err error) {
	old, ok := parseSnapshotState(data)
	if !ok || len(old) != len(cur) {
		return nil, nil
	}
	changed := make(map[string]bool)
	idents := make(map[string]string, len(cur))
	for ns, c := range cur {
		o, ok := old[ns]
		if !ok || o.ident != c.ident || o.sigrefs == "" {
			return nil, nil
		}
		idents[ns] = c.ident
		if o.sigrefs == c.sigrefs {
			continue
		}
		moved, ok := movedIssues(s.Repo, ns, o.sigrefs, c.sigrefs)
		if !ok {
			return nil, nil
		}
		for id := range moved {
			changed[id] = true
		}
		if len(changed) > maxCaughtUp {
			return nil, nil
		}
	}
	oldRows, ok := snapshotRows(data, snapshotState(old))
	if !ok {
		return nil, nil
	}
	var rd rowReader
	var sum Summary
	for _, row := range oldRows {
		if !rd.summary(row, &sum) {
			return nil, nil
		}
	}
	doc, _, err := s.Repo.IdentityOf(idents)
	if err != nil {
		return nil, nil // the index says what is wrong with it
	}
	rules := RulesOf(doc)
	fresh := make([]keyedRow, 0, len(changed))
	for _, id := range slices.Sorted(maps.Keys(changed)) {
		obj, err := s.Load(ctx, IssueType, id)
		if errors.Is(err, ErrNotFound) {
			continue // no valid issue under this ID: no row
		}
		var is *Issue
		if err == nil {
			is, err = Materialize(obj, rules)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, nil
		}
		fresh = append(fresh, keyedRow{is.Created.Unix(), is.ID, string(appendRow(nil, is))})
	}
	if rows = mergeRows(oldRows, changed, fresh); rows == nil {
		return nil, nil
	}
	state := snapshotState(cur)
	writeSnapshotRows(path, state, rows) // a cache: this listing stands without it
	return rows, nil
}

// parseSnapshotState returns the namespaces' state a snapshot was written
// at, from its head (snapshotState).
func parseSnapshotState(data []byte) (map[string]nsState, bool) {
	first, rest, found := bytes.Cut(data, []byte("\n"))
	if !found || !bytes.HasPrefix(first, []byte("grove issue list 1 ")) {
		return nil, false
	}
	out := make(map[string]nsState)
	for {
		line, next, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			return nil, false
		}
		if len(line) == 0 {
			return out, true
		}
		f := strings.Fields(string(line))
		if len(f) != 3 || !protocol.ValidOID(f[1]) {
			return nil, false
		}
		if f[2] == "-" {
			f[2] = ""
		}
		out[f[0]] = nsState{sigrefs: f[1], ident: f[2]}
		rest = next
	}
}

// selects reports whether f selects the issue s sums up; it does not
// search.
func (f Filter) selects(s *Summary) bool {
	switch {
	case f.State != "" && s.State != f.State:
		return false
	case f.Author != "" && s.Author != f.Author:
		return false
	case f.Label != "":
		for _, l := range s.Labels {
			if l == f.Label {
				return true
			}
		}
		return false
	}
	return true
}
