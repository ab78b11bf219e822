package issues

import (
	"bufio"
	"bytes"
	"context"
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
	type keyed struct {
		created int64
		id      string
		row     string
	}
	less := func(a, b keyed) int {
		if a.created != b.created {
			return cmpDesc(a.created, b.created)
		}
		return strings.Compare(a.id, b.id)
	}
	var rd rowReader
	var fresh []keyed
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
			fresh = append(fresh, keyed{c, id, row})
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	slices.SortFunc(fresh, less)
	out := make([]string, 0, len(old)+len(fresh))
	var prev keyed
	for i, row := range old {
		c, id, ok := rd.key(row)
		if !ok {
			return nil, nil
		}
		k := keyed{c, id, row}
		if i > 0 && less(prev, k) >= 0 {
			return nil, nil // out of order: not a snapshot this index wrote
		}
		prev = k
		if changed[id] {
			continue
		}
		for len(fresh) > 0 && less(fresh[0], k) < 0 {
			out = append(out, fresh[0].row)
			fresh = fresh[1:]
		}
		out = append(out, row)
	}
	for _, f := range fresh {
		out = append(out, f.row)
	}
	return out, nil
}

// EachListed calls fn with each issue f selects, in List's order, from the
// list snapshot at path (ListPath), when it was written at the state the
// refs of s's project are in now. ok is false, and fn never called, when
// there is no such snapshot or f searches (only the index can); the
// caller then asks the index, which writes a new snapshot.
func EachListed(path string, s *Store, f Filter, fn func(n int, s *Summary) error) (ok bool, err error) {
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
		return false, nil
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
