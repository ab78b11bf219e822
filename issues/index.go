package issues

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	sqlite "modernc.org/sqlite"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// indexSchema is the version of the index's tables; an index of another
// version is rebuilt.
const indexSchema = "grove-issues-index 1"

const schemaSQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE namespaces(nid TEXT PRIMARY KEY, sigrefs TEXT NOT NULL, ident TEXT NOT NULL);
CREATE TABLE tips(id TEXT NOT NULL, nid TEXT NOT NULL, oid TEXT NOT NULL, PRIMARY KEY(id, nid)) WITHOUT ROWID;
CREATE INDEX tips_nid ON tips(nid, id);
CREATE TABLE issues(
	n INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	state TEXT NOT NULL,
	reason TEXT NOT NULL,
	author TEXT NOT NULL,
	labels TEXT NOT NULL,
	assignees TEXT NOT NULL,
	comments INTEGER NOT NULL,
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL
);
CREATE INDEX issues_created ON issues(created DESC, id);
CREATE TABLE labels(label TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(label, id)) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(title, body, comments, tokenize = 'unicode61 remove_diacritics 2');
`

// ErrAmbiguous is returned for an ID prefix that more than one object has.
var ErrAmbiguous = errors.New("ambiguous")

// AmbiguousError names how many objects share a prefix.
type AmbiguousError struct {
	Prefix  string
	Matches int
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s is ambiguous: %d match, give more characters", e.Prefix, e.Matches)
}

// Unwrap returns ErrAmbiguous.
func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// Summary is an issue as listed: everything but the texts.
type Summary struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	State        string    `json:"state"`
	Reason       string    `json:"reason,omitempty"`
	Author       string    `json:"author"`
	Labels       []string  `json:"labels"`
	Assignees    []string  `json:"assignees"`
	CommentCount int       `json:"commentCount"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// Filter selects issues to list. Empty fields select everything.
type Filter struct {
	State  string // open, closed or "" for all
	Label  string
	Author string
	Search string // words, each matched as a prefix, all must match
}

// Index is the on-disk cache of one project's materialized issues, in
// SQLite, keyed by the tips it was built from. It is only a cache: it is
// rebuilt whenever it is missing, of another version, or corrupt.
type Index struct {
	path  string
	db    *sql.DB
	store *Store
	rules *Rules
	unlk  func()
	// progress, if set, is told after each issue rematerialize writes.
	progress func(done, total int)
}

// IndexOption changes how OpenIndex opens an index.
type IndexOption func(*Index)

// WithProgress has the index call f(done, total) after each issue it
// materializes while opening or refreshing; total is that batch's size.
func WithProgress(f func(done, total int)) IndexOption {
	return func(ix *Index) { ix.progress = f }
}

// IndexPath is where the index of project rid lives in home.
func IndexPath(h repo.Home, rid protocol.RID) string {
	return filepath.Join(h.Dir, "cache", rid.String(), "issues.db")
}

// OpenIndex opens (or creates) the index at path for s's project and
// brings it up to date with the refs. A corrupt index is deleted and
// rebuilt.
func OpenIndex(ctx context.Context, path string, s *Store, opts ...IndexOption) (*Index, error) {
	ix, err := openIndex(ctx, path, s, opts)
	if err == nil {
		if _, err = ix.Refresh(ctx); err == nil {
			return ix, nil
		}
		ix.db.Close()
		ix.unlk()
	}
	if ctx.Err() != nil || !isCorrupt(err) {
		return nil, err
	}
	removeIndex(path)
	ix, err = openIndex(ctx, path, s, opts)
	if err != nil {
		return nil, err
	}
	if _, err := ix.Refresh(ctx); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// errCorrupt marks an index that cannot be trusted.
var errCorrupt = errors.New("index is corrupt")

func isCorrupt(err error) bool {
	if errors.Is(err, errCorrupt) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return true
		}
	}
	return err != nil && (strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "not a database"))
}

func removeIndex(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".stamp"} {
		os.Remove(p)
	}
}

// stamp is the size and modification time of the database file as this
// package last left it; a file that does not match was changed by
// something else and is checked before it is trusted.
func stamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
}

func openIndex(ctx context.Context, path string, s *Store, opts []IndexOption) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	// One writer per index at a time, across processes.
	lf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		lf.Close()
		return nil, fmt.Errorf("index lock: %w", err)
	}
	unlk := func() { syscall.Flock(int(lf.Fd()), syscall.LOCK_UN); lf.Close() }
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	check := false
	if !fresh {
		want, _ := os.ReadFile(path + ".stamp")
		_, walErr := os.Stat(path + "-wal")
		check = string(want) != stamp(path) || walErr == nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		unlk()
		return nil, fmt.Errorf("index: %w", err)
	}
	db.SetMaxOpenConns(1)
	ix := &Index{path: path, db: db, store: s, unlk: unlk}
	for _, o := range opts {
		o(ix)
	}
	fail := func(err error) (*Index, error) {
		db.Close()
		unlk()
		return nil, err
	}
	if fresh {
		if err := ix.create(ctx); err != nil {
			return fail(err)
		}
		return ix, nil
	}
	if check {
		var res string
		if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
			return fail(err)
		}
		if res != "ok" {
			return fail(fmt.Errorf("%w: %s", errCorrupt, res))
		}
	}
	var ver, rid string
	err = db.QueryRowContext(ctx, "SELECT (SELECT value FROM meta WHERE key = 'schema'), (SELECT value FROM meta WHERE key = 'rid')").Scan(&ver, &rid)
	if err != nil || ver != indexSchema || rid != s.Repo.RID.String() {
		// Another version, another project or half made: start again.
		db.Close()
		removeIndex(path)
		db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
		if err != nil {
			unlk()
			return nil, fmt.Errorf("index: %w", err)
		}
		db.SetMaxOpenConns(1)
		ix.db = db
		if err := ix.create(ctx); err != nil {
			return fail(err)
		}
	}
	return ix, nil
}

// create makes the tables in one transaction; the schema row is written
// last, so a half-made index is never taken for a whole one.
func (ix *Index) create(ctx context.Context) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("index schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('rid', ?), ('rules', ''), ('schema', ?)", ix.store.Repo.RID.String(), indexSchema); err != nil {
		return fmt.Errorf("index schema: %w", err)
	}
	return tx.Commit()
}

// Close closes the index and records the file's stamp.
func (ix *Index) Close() error {
	err := ix.db.Close()
	if err == nil {
		if _, werr := os.Stat(ix.path + "-wal"); errors.Is(werr, fs.ErrNotExist) {
			st := stamp(ix.path)
			if old, _ := os.ReadFile(ix.path + ".stamp"); string(old) != st {
				tmp := ix.path + ".stamp.tmp"
				if os.WriteFile(tmp, []byte(st), 0o600) == nil {
					os.Rename(tmp, ix.path+".stamp")
				}
			}
		}
	}
	ix.unlk()
	return err
}

// Rules returns the rules the index materialized issues with.
func (ix *Index) Rules(ctx context.Context) (Rules, error) {
	if ix.rules != nil {
		return *ix.rules, nil
	}
	var s string
	if err := ix.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'rules'").Scan(&s); err != nil {
		return Rules{}, fmt.Errorf("index: %w", err)
	}
	r, err := decodeRules(s)
	if err != nil {
		return Rules{}, err
	}
	ix.rules = &r
	return r, nil
}

type rulesJSON struct {
	Delegates []protocol.NID `json:"delegates"`
	Allow     []protocol.NID `json:"allow"`
}

func encodeRules(r Rules) string {
	b, _ := json.Marshal(rulesJSON(r))
	return string(b)
}

func decodeRules(s string) (Rules, error) {
	var j rulesJSON
	if s == "" {
		return Rules{}, nil // not computed yet
	}
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Rules{}, fmt.Errorf("%w: rules: %v", errCorrupt, err)
	}
	return Rules(j), nil
}

// nsState is what the index knows of one namespace: its signed refs (which
// move whenever any of its refs does) and its identity ref.
type nsState struct{ sigrefs, ident string }

func (ix *Index) readNamespaces() (map[string]nsState, error) {
	f := ix.store.Repo.RefFiles()
	nss, err := f.Namespaces()
	if err != nil {
		return nil, err
	}
	out := make(map[string]nsState, len(nss))
	for _, ns := range nss {
		p := "refs/namespaces/" + ns + "/"
		sr, err := f.Get(p + protocol.SigrefsRef)
		if err != nil {
			return nil, err
		}
		id, err := f.Get(p + protocol.IdentityRef)
		if err != nil {
			return nil, err
		}
		out[ns] = nsState{sr, id}
	}
	return out, nil
}

// Refresh brings the index up to date with the refs: namespaces whose
// signed refs moved are re-listed, and only issues whose set of tips
// changed are materialized again (all of them when the identity's rules
// changed). It returns how many issues it materialized.
func (ix *Index) Refresh(ctx context.Context) (int, error) {
	cur, err := ix.readNamespaces()
	if err != nil {
		return 0, err
	}
	old := make(map[string]nsState)
	rows, err := ix.db.QueryContext(ctx, "SELECT nid, sigrefs, ident FROM namespaces")
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var n string
		var s nsState
		if err := rows.Scan(&n, &s.sigrefs, &s.ident); err != nil {
			rows.Close()
			return 0, err
		}
		old[n] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var changedNS []string
	identMoved := false
	for ns, s := range cur {
		if old[ns] != s {
			changedNS = append(changedNS, ns)
			identMoved = identMoved || old[ns].ident != s.ident
		}
	}
	for ns, s := range old {
		if _, ok := cur[ns]; !ok {
			changedNS = append(changedNS, ns)
			identMoved = identMoved || s.ident != ""
		}
	}
	if len(changedNS) == 0 {
		return 0, nil
	}
	sort.Strings(changedNS)
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var stored string
	if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'rules'").Scan(&stored); err != nil {
		return 0, err
	}
	rules, err := decodeRules(stored)
	if err != nil {
		return 0, err
	}
	all := false
	if identMoved || stored == "" {
		doc, _, err := ix.store.Repo.Identity(ctx)
		if err != nil {
			return 0, err
		}
		rules = RulesOf(doc)
		if enc := encodeRules(rules); enc != stored {
			all = true
			if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'rules'", enc); err != nil {
				return 0, err
			}
		}
	}
	changed := make(map[string]bool)
	for _, ns := range changedNS {
		var tips map[string]string
		if _, ok := cur[ns]; ok {
			if tips, err = ix.store.NamespaceTips(ctx, ns, IssueType); err != nil {
				return 0, err
			}
		}
		if err := diffTips(ctx, tx, ns, tips, changed); err != nil {
			return 0, err
		}
		if s, ok := cur[ns]; ok {
			_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO namespaces(nid, sigrefs, ident) VALUES (?, ?, ?)", ns, s.sigrefs, s.ident)
		} else {
			_, err = tx.ExecContext(ctx, "DELETE FROM namespaces WHERE nid = ?", ns)
		}
		if err != nil {
			return 0, err
		}
	}
	if all {
		rows, err := tx.QueryContext(ctx, "SELECT DISTINCT id FROM tips")
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id string
			rows.Scan(&id)
			changed[id] = true
		}
		rows.Close()
	}
	n, err := ix.rematerialize(ctx, tx, changed, rules)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	ix.rules = &rules
	return n, nil
}

// diffTips replaces namespace ns's tips in the index by tips and marks the
// issues whose tip moved.
func diffTips(ctx context.Context, tx *sql.Tx, ns string, tips map[string]string, changed map[string]bool) error {
	rows, err := tx.QueryContext(ctx, "SELECT id, oid FROM tips WHERE nid = ?", ns)
	if err != nil {
		return err
	}
	have := make(map[string]string)
	for rows.Next() {
		var id, oid string
		if err := rows.Scan(&id, &oid); err != nil {
			rows.Close()
			return err
		}
		have[id] = oid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id := range have {
		if _, ok := tips[id]; !ok {
			if _, err := tx.ExecContext(ctx, "DELETE FROM tips WHERE id = ? AND nid = ?", id, ns); err != nil {
				return err
			}
			changed[id] = true
		}
	}
	ins, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO tips(id, nid, oid) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer ins.Close()
	for id, oid := range tips {
		if have[id] == oid {
			continue
		}
		if _, err := ins.ExecContext(ctx, id, ns, oid); err != nil {
			return err
		}
		changed[id] = true
	}
	return nil
}

// Noted records a change this process just made in namespace nid (the
// given issues moved to the given tips) without re-listing the namespace,
// when the namespace's new signed refs directly follow the ones the index
// holds; otherwise it refreshes.
func (ix *Index) Noted(ctx context.Context, nid protocol.NID, moved map[string]string) error {
	ns := nid.String()
	f := ix.store.Repo.RefFiles()
	p := "refs/namespaces/" + ns + "/"
	sr, err := f.Get(p + protocol.SigrefsRef)
	if err != nil {
		return err
	}
	ident, err := f.Get(p + protocol.IdentityRef)
	if err != nil {
		return err
	}
	var had nsState
	err = ix.db.QueryRowContext(ctx, "SELECT sigrefs, ident FROM namespaces WHERE nid = ?", ns).Scan(&had.sigrefs, &had.ident)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	parent := ""
	if _, data, err := ix.store.Repo.ReadObject(sr, maxCommitSize); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "parent "); ok {
				parent = v
				break
			}
			if line == "" {
				break
			}
		}
	}
	if had.sigrefs == "" || parent != had.sigrefs || ident != had.ident {
		_, err := ix.Refresh(ctx)
		return err
	}
	rules, err := ix.Rules(ctx)
	if err != nil {
		return err
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	changed := make(map[string]bool)
	for id, oid := range moved {
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO tips(id, nid, oid) VALUES (?, ?, ?)", id, ns, oid); err != nil {
			return err
		}
		changed[id] = true
	}
	if _, err := tx.ExecContext(ctx, "UPDATE namespaces SET sigrefs = ? WHERE nid = ?", sr, ns); err != nil {
		return err
	}
	if _, err := ix.rematerialize(ctx, tx, changed, rules); err != nil {
		return err
	}
	return tx.Commit()
}

// rematerialize loads and materializes the given issues from the tips in
// the index and replaces their rows. Large batches run on every CPU.
func (ix *Index) rematerialize(ctx context.Context, tx *sql.Tx, ids map[string]bool, rules Rules) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tips := make(map[string][]string, len(ids))
	if len(ids) <= 64 {
		st, err := tx.PrepareContext(ctx, "SELECT oid FROM tips WHERE id = ?")
		if err != nil {
			return 0, err
		}
		for id := range ids {
			if err := scanTips(ctx, st, id, tips); err != nil {
				st.Close()
				return 0, err
			}
		}
		st.Close()
	} else {
		rows, err := tx.QueryContext(ctx, "SELECT id, oid FROM tips")
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id, oid string
			if err := rows.Scan(&id, &oid); err != nil {
				rows.Close()
				return 0, err
			}
			if ids[id] {
				tips[id] = append(tips[id], oid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	w, err := newIssueWriter(ctx, tx)
	if err != nil {
		return 0, err
	}
	defer w.close()
	type result struct {
		id string
		is *Issue
	}
	results := make(chan result, 64)
	workers := 1
	if len(list) > 32 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan string)
	var wg sync.WaitGroup
	var werr error
	var once sync.Once
	for i := 0; i < workers; i++ {
		r := ix.store.Repo
		if workers > 1 {
			if r, err = r.Reopen(); err != nil {
				return 0, err
			}
		}
		nids := make(nidCache)
		wg.Go(func() {
			for id := range jobs {
				var is *Issue
				obj, err := load(ctx, r, r.RID, IssueType, id, tips[id], nids)
				if err == nil {
					is, err = Materialize(obj, rules)
				}
				if err != nil && !errors.Is(err, ErrNotFound) {
					once.Do(func() { werr = err })
				}
				results <- result{id, is}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, id := range list {
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	n := 0
	for res := range results {
		if err := w.put(ctx, res.id, res.is); err != nil {
			once.Do(func() { werr = err })
			continue
		}
		n++
		if ix.progress != nil {
			ix.progress(n, len(list))
		}
	}
	if werr != nil {
		return 0, werr
	}
	return n, ctx.Err()
}

func scanTips(ctx context.Context, st *sql.Stmt, id string, tips map[string][]string) error {
	rows, err := st.QueryContext(ctx, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid string
		if err := rows.Scan(&oid); err != nil {
			return err
		}
		tips[id] = append(tips[id], oid)
	}
	return rows.Err()
}

// issueWriter replaces issue rows with prepared statements.
type issueWriter struct {
	del, delFTS, delLabels, ins, insFTS, insLabel *sql.Stmt
}

func newIssueWriter(ctx context.Context, tx *sql.Tx) (*issueWriter, error) {
	w := &issueWriter{}
	for _, s := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&w.delFTS, "DELETE FROM fts WHERE rowid = (SELECT n FROM issues WHERE id = ?)"},
		{&w.del, "DELETE FROM issues WHERE id = ?"},
		{&w.delLabels, "DELETE FROM labels WHERE id = ?"},
		{&w.ins, "INSERT INTO issues(id, title, state, reason, author, labels, assignees, comments, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
		{&w.insFTS, "INSERT INTO fts(rowid, title, body, comments) VALUES (?, ?, ?, ?)"},
		{&w.insLabel, "INSERT OR IGNORE INTO labels(label, id) VALUES (?, ?)"},
	} {
		st, err := tx.PrepareContext(ctx, s.sql)
		if err != nil {
			w.close()
			return nil, err
		}
		*s.st = st
	}
	return w, nil
}

func (w *issueWriter) close() {
	for _, s := range []*sql.Stmt{w.del, w.delFTS, w.delLabels, w.ins, w.insFTS, w.insLabel} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *issueWriter) put(ctx context.Context, id string, is *Issue) error {
	for _, st := range []*sql.Stmt{w.delFTS, w.del, w.delLabels} {
		if _, err := st.ExecContext(ctx, id); err != nil {
			return err
		}
	}
	if is == nil {
		return nil // no valid issue under this ID
	}
	labels, _ := json.Marshal(is.Labels)
	assignees, _ := json.Marshal(is.Assignees)
	res, err := w.ins.ExecContext(ctx, id, is.Title, is.State, is.Reason, is.Author, string(labels), string(assignees), len(is.Comments), is.Created.Unix(), is.Updated.Unix())
	if err != nil {
		return err
	}
	n, err := res.LastInsertId()
	if err != nil {
		return err
	}
	var comments strings.Builder
	for _, c := range is.Comments {
		comments.WriteString(c.Body)
		comments.WriteByte('\n')
	}
	if _, err := w.insFTS.ExecContext(ctx, n, is.Title, is.Body, comments.String()); err != nil {
		return err
	}
	for _, l := range is.Labels {
		if _, err := w.insLabel.ExecContext(ctx, l, id); err != nil {
			return err
		}
	}
	return nil
}

// ftsQuery turns what a user typed into an FTS5 query: every word must
// appear, as a word or the start of one.
func ftsQuery(q string) string {
	var parts []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f)
	}) {
		parts = append(parts, `"`+strings.ReplaceAll(w, `"`, `""`)+`"*`)
	}
	return strings.Join(parts, " AND ")
}

// List returns the issues f selects, newest first.
func (ix *Index) List(ctx context.Context, f Filter) ([]Summary, error) {
	q := "SELECT i.id, i.title, i.state, i.reason, i.author, i.labels, i.assignees, i.comments, i.created, i.updated FROM issues i"
	var where []string
	var args []any
	if f.Search != "" {
		fq := ftsQuery(f.Search)
		if fq == "" {
			return []Summary{}, nil
		}
		q += " JOIN fts ON fts.rowid = i.n"
		where = append(where, "fts MATCH ?")
		args = append(args, fq)
	}
	if f.State != "" {
		where = append(where, "i.state = ?")
		args = append(args, f.State)
	}
	if f.Label != "" {
		where = append(where, "i.id IN (SELECT id FROM labels WHERE label = ?)")
		args = append(args, f.Label)
	}
	if f.Author != "" {
		where = append(where, "i.author = ?")
		args = append(args, f.Author)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY i.created DESC, i.id"
	rows, err := ix.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var s Summary
		var labels, assignees string
		var created, updated int64
		if err := rows.Scan(&s.ID, &s.Title, &s.State, &s.Reason, &s.Author, &labels, &assignees, &s.CommentCount, &created, &updated); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if json.Unmarshal([]byte(labels), &s.Labels) != nil || json.Unmarshal([]byte(assignees), &s.Assignees) != nil {
			return nil, fmt.Errorf("%w: issue %s", errCorrupt, s.ID)
		}
		s.Created, s.Updated = unixTime(created), unixTime(updated)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return out, nil
}

// Resolve returns the ID of the one issue whose ID starts with prefix.
func (ix *Index) Resolve(ctx context.Context, prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	if prefix == "" || len(prefix) > 40 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("issue %s: %w", prefix, ErrNotFound)
	}
	rows, err := ix.db.QueryContext(ctx, "SELECT DISTINCT id FROM tips WHERE id >= ? AND id < ? LIMIT 100", prefix, prefix+"g")
	if err != nil {
		return "", fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("issue %s: %w", prefix, ErrNotFound)
	case 1:
		return ids[0], rows.Err()
	}
	return "", fmt.Errorf("issue %w", &AmbiguousError{Prefix: prefix, Matches: len(ids)})
}
