package issues

import (
	"context"
	"fmt"
	"strings"
)

// Page returns the issues f selects in List's order, skipping the first
// offset and at most limit of them, and how many f selects in all. A
// screen that shows the newest few of many issues reads only those: the
// sort and the cut happen in SQLite, and only the page's rows are decoded.
func (ix *Index) Page(ctx context.Context, f Filter, offset, limit int) ([]Summary, int, error) {
	from, where, args := pageQuery(f)
	if from == "" {
		return []Summary{}, 0, nil
	}
	var total int
	if err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM "+from+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("index: %w", err)
	}
	out := make([]Summary, 0, max(min(limit, total-offset), 0))
	if limit <= 0 || offset >= total {
		return out, total, nil
	}
	// A row starts with its creation time in decimal and a colon
	// (appendRow): newest first, then by ID, as List sorts.
	q := "SELECT i.row FROM " + from + where +
		" ORDER BY CAST(substr(i.row, 1, instr(i.row, ':') - 1) AS INTEGER) DESC, i.id LIMIT ? OFFSET ?"
	rows, err := ix.db.QueryContext(ctx, q, append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var rd rowReader
	for rows.Next() {
		var row string
		if err := rows.Scan(&row); err != nil {
			return nil, 0, fmt.Errorf("index: %w", err)
		}
		var s Summary
		if !rd.summary(row, &s) {
			return nil, 0, fmt.Errorf("%w: issue row %.60q", errCorrupt, row)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("index: %w", err)
	}
	return out, total, nil
}

// pageQuery returns the FROM and WHERE clauses (with their arguments) that
// select what f selects from the issues table, as i; from is "" when f
// selects nothing (a search of no words).
func pageQuery(f Filter) (from, where string, args []any) {
	from = "issues i"
	typ := f.Type
	if typ == "" {
		typ = IssueType
	}
	// With a label, the label's rows lead (labels_label, then each
	// object by its ID): led by issues_list, SQLite read every row of
	// the type and fetched its ID from the table to test the label. The
	// unary plus keeps type and state from picking issues_list.
	plus := ""
	if f.Label != "" {
		plus = "+"
	}
	conds := []string{plus + "i.type = ?"}
	args = append(args, typ)
	if f.Search != "" {
		fq := ftsQuery(f.Search)
		if fq == "" {
			return "", "", nil
		}
		from += " JOIN fts ON fts.rowid = i.n"
		conds = append(conds, "fts MATCH ?")
		args = append(args, fq)
	}
	if f.State != "" {
		conds = append(conds, plus+"i.state = ?")
		args = append(args, f.State)
	}
	if f.Label != "" {
		conds = append(conds, "i.id IN (SELECT id FROM labels WHERE label = ?)")
		args = append(args, f.Label)
	}
	if f.Author != "" {
		conds = append(conds, "i.author = ?")
		args = append(args, f.Author)
	}
	if f.Review != "" {
		v := f.Review
		if v == ReviewNone {
			v = ""
		}
		conds = append(conds, "i.verdict = ?")
		args = append(args, v)
	}
	where = " WHERE " + strings.Join(conds, " AND ")
	return from, where, args
}
