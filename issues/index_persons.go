package issues

import (
	"context"
	"encoding/json"
	"fmt"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// Persons returns the project's person documents that verify, by NID
// string, as repo.Repo.Persons does, from the index where it can: a
// document is verified once per tip (its whole signed history read) and
// kept in the persons table, and the tips are read from the refs on every
// call, so a moved person ref is verified again at once. What fails to
// verify is left out and tried again next time.
func (ix *Index) Persons(ctx context.Context) (map[string]*repo.Person, error) {
	chains, err := ix.PersonChains(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*repo.Person, len(chains))
	for ns, c := range chains {
		out[ns] = c.Doc
	}
	return out, nil
}

// PersonChains is Persons with each document's verified history (what
// repo.ResolvePeople groups into persons).
func (ix *Index) PersonChains(ctx context.Context) (map[string]*repo.PersonChain, error) {
	r := ix.store.Repo
	tips, err := r.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		return nil, err
	}
	type cached struct{ tip, doc string }
	have := make(map[string]cached)
	rows, err := ix.db.QueryContext(ctx, "SELECT nid, tip, doc FROM persons")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	for rows.Next() {
		var nid string
		var c cached
		if err := rows.Scan(&nid, &c.tip, &c.doc); err != nil {
			rows.Close()
			return nil, fmt.Errorf("index: %w", err)
		}
		have[nid] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	out := make(map[string]*repo.PersonChain, len(tips))
	put := make(map[string]cached) // rows to write: doc "" deletes
	for ns, tip := range tips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		nid, err := protocol.ParseNID(ns)
		if err != nil || tip == "" {
			continue
		}
		if c, ok := have[ns]; ok && c.tip == tip {
			var p repo.PersonChain
			if json.Unmarshal([]byte(c.doc), &p) == nil && p.Doc != nil && len(p.Revs) > 0 {
				out[ns] = &p
				continue
			}
		}
		p, err := r.VerifyPersonChain(nid, tip)
		if err != nil {
			if _, ok := have[ns]; ok {
				put[ns] = cached{}
			}
			continue
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		out[ns] = p
		put[ns] = cached{tip, string(b)}
	}
	for ns := range have {
		if _, ok := tips[ns]; !ok {
			put[ns] = cached{}
		}
	}
	if len(put) == 0 {
		return out, nil
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	for ns, c := range put {
		if c.doc == "" {
			_, err = tx.ExecContext(ctx, "DELETE FROM persons WHERE nid = ?", ns)
		} else {
			_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO persons(nid, tip, doc) VALUES (?, ?, ?)", ns, c.tip, c.doc)
		}
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return out, nil
}
