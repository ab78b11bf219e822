package issues

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// indexSchema is the version of the index's tables; an index of another
// version is rebuilt.
const indexSchema = "grove-issues-index 9"

// The issues table holds issues and patches (type): what filters need in
// columns and everything List prints in one encoded column, row (see
// appendRow), so that listing reads one value per object; issues_list
// holds the rows again, by type and state, so that a listing reads its
// type's rows only, from the index alone: a scan of the table read every
// issue's page to list patches. fts is contentless: search needs only its
// index, and deleting by rowid is all the index ever does to it. links are
// the references objects make (Thread.Links), kept by target for
// backlinks. A patch's JSON (for list --json) is in docs, by the row's n:
// kept out of the issues table, whose every scan would read it otherwise;
// heads holds the commits that would make an unmerged patch merged (its
// revisions' heads, its merge records' commits), so that a move of the
// default branch re-resolves only the patches it reaches (index_patch.go).
// skipped holds the objects that failed to load or materialize from their
// tips (over a limit, corrupt), with why: listings leave them out and say
// so, until their tips move. persons caches the person documents that
// verified, by NID and the tip they were verified at (index_persons.go).
const schemaSQL = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE namespaces(nid TEXT PRIMARY KEY, sigrefs TEXT NOT NULL, ident TEXT NOT NULL);
CREATE TABLE tips(id TEXT NOT NULL, nid TEXT NOT NULL, oid TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY(id, nid)) WITHOUT ROWID;
CREATE INDEX tips_nid ON tips(nid, id);
CREATE TABLE issues(
	n INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	state TEXT NOT NULL,
	author TEXT NOT NULL,
	verdict TEXT NOT NULL,
	row TEXT NOT NULL
);
CREATE INDEX issues_list ON issues(type, state, row);
CREATE TABLE docs(n INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE heads(oid TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(oid, id)) WITHOUT ROWID;
CREATE INDEX heads_id ON heads(id);
CREATE TABLE links(target TEXT NOT NULL, src TEXT NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL, place TEXT NOT NULL, change TEXT NOT NULL, author TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(target, src)) WITHOUT ROWID;
CREATE INDEX links_src ON links(src);
CREATE TABLE labels(id TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY(id, label)) WITHOUT ROWID;
CREATE INDEX labels_label ON labels(label, id);
CREATE TABLE skipped(id TEXT PRIMARY KEY, type TEXT NOT NULL, err TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE persons(nid TEXT PRIMARY KEY, tip TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5(title, body, comments, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
`

// dsn opens the index with a rollback journal and SQLite's locks taken
// once for the connection: the index has one user at a time anyway (the
// lock file in openIndex), and WAL mode made every command create, map
// and recover its shared-memory index and checkpoint on close, a tenth of
// listing 1,000 issues. Reads go through a memory map, which spares a
// read system call per page: a command that lists issues reads each page
// of the table once. Pages are 64 KiB, SQLite's largest (indexPageSize;
// a page size applies to a new file, or to one VACUUM rewrites, which
// openIndex does once to an index made with smaller pages): a listing or
// a search touches a sixteenth as many pages as with 4 KiB, and each
// costs a fault of the map and SQLite's parse of its header when a
// lookup first reaches it.
//
// Where the machine's boot can be told apart (boot), the index is written
// without waiting for the disk (synchronous OFF): each command that writes
// it would otherwise wait for fsyncs that took 5-20 ms, as much as the
// rest of the command. SQLite stays consistent when a process dies (its
// journal is rolled back on the next open); only a crash of the machine
// can lose or tear its writes, and an index not stamped in this boot is
// rebuilt (openIndex), never trusted. Elsewhere it syncs as before
// (NORMAL).
// indexPageSize is the index's page size, in bytes (see dsn).
const indexPageSize = 65536

func dsn(path, boot string) string {
	sync := "NORMAL"
	if boot != "" {
		sync = "OFF"
	}
	return "file:" + path + "?_pragma=page_size(" + strconv.Itoa(indexPageSize) + ")&_pragma=busy_timeout(10000)&_pragma=locking_mode(EXCLUSIVE)&_pragma=journal_mode(TRUNCATE)&_pragma=synchronous(" + sync + ")&_pragma=mmap_size(1073741824)&_pragma=temp_store(MEMORY)"
}

// bootFile holds an ID the kernel draws anew at each boot.
const bootFile = "/proc/sys/kernel/random/boot_id"

// bootID returns this boot's ID, or "" where there is none to read.
func bootID() string {
	b, err := os.ReadFile(bootFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

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

// Filter selects issues (or patches) to list. Empty fields select
// everything.
type Filter struct {
	Type   string // IssueType ("" too) or PatchType
	State  string // open, closed or "" for all
	Label  string
	Author string
	Search string // words, each matched as a prefix, all must match
	// Review selects patches by the verdicts on their newest revision:
	// ReviewAccepted, ReviewRejected or ReviewNone.
	Review string
}

// Index is the on-disk cache of one project's materialized issues, in
// SQLite, keyed by the tips it was built from. It is only a cache: it is
// rebuilt whenever it is missing, of another version, or corrupt.
type Index struct {
	path  string
	boot  string // this boot's ID, "" if unknown: see dsn
	db    *sql.DB
	store *Store
	rules *Rules
	unlk  func()
	// progress, if set, is told after each issue rematerialize writes.
	progress func(done, total int)
	// listings counts the namespaces Refresh listed in full (tests tell
	// by it that a moved namespace was diffed instead).
	listings int
	// scanShare is searchScanShare, unless a test sets another.
	scanShare float64
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
	return filepath.Join(CacheDir(h, rid), "issues.db")
}

// SQLDriver is the database/sql driver the index opens:
// modernc.org/sqlite (pure Go, with FTS5). Package issues does not import
// it: a program that opens an index does (import _ "modernc.org/sqlite"),
// and one that never does, grove, starts without SQLite's package
// initialisers, a sixth of a grove command (docs/BENCHMARKS.md).
const SQLDriver = "sqlite"

// indexAvailable reports whether this program can open an index: whether
// it registered SQLDriver.
func indexAvailable() bool {
	return slices.Contains(sql.Drivers(), SQLDriver)
}

// OpenIndex opens (or creates) the index at path for s's project and
// brings it up to date with the refs. A corrupt index is deleted and
// rebuilt.
func OpenIndex(ctx context.Context, path string, s *Store, opts ...IndexOption) (*Index, error) {
	if !indexAvailable() {
		return nil, fmt.Errorf("index: this program has no SQLite driver: it must import modernc.org/sqlite")
	}
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
	var se interface{ Code() int } // modernc.org/sqlite's *Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return true
		}
	}
	return err != nil && (strings.Contains(err.Error(), "malformed") || strings.Contains(err.Error(), "not a database"))
}

func removeIndex(path string) {
	for _, p := range []string{path, path + "-journal", path + "-wal", path + "-shm", path + ".stamp"} {
		os.Remove(p)
	}
}

// pending reports whether the index at path has writes that did not
// finish: a journal with something in it (rolled back when SQLite next
// opens the file), or a WAL left by an older grove.
func pending(path string) bool {
	if fi, err := os.Stat(path + "-journal"); err == nil && fi.Size() > 0 {
		return true
	}
	_, err := os.Stat(path + "-wal")
	return err == nil
}

// stamp is the size and modification time of the database file as this
// package last left it, and the boot it was left in; a file that does not
// match was changed by something else and is checked before it is
// trusted, and one left in another boot is rebuilt (see dsn).
func stamp(path, boot string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	s := fmt.Sprintf("%d %d", fi.Size(), fi.ModTime().UnixNano())
	if boot != "" {
		s += " " + boot
	}
	return s
}

// stampedIn reports whether stamp st was written in boot.
func stampedIn(st, boot string) bool {
	f := strings.Fields(st)
	return len(f) == 3 && f[2] == boot
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
	boot := bootID()
	_, statErr := os.Stat(path)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	check := false
	if !fresh {
		want, _ := os.ReadFile(path + ".stamp")
		if boot != "" && !stampedIn(string(want), boot) {
			// Left unsynced in another boot (or by an older grove,
			// or never closed): a crash of the machine may have
			// lost or torn any of it.
			removeIndex(path)
			fresh = true
		} else {
			check = string(want) != stamp(path, boot) || pending(path)
		}
	}
	db, err := sql.Open(SQLDriver, dsn(path, boot))
	if err != nil {
		unlk()
		return nil, fmt.Errorf("index: %w", err)
	}
	db.SetMaxOpenConns(1)
	ix := &Index{path: path, boot: boot, db: db, store: s, unlk: unlk, scanShare: searchScanShare}
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
		db, err = sql.Open(SQLDriver, dsn(path, boot))
		if err != nil {
			unlk()
			return nil, fmt.Errorf("index: %w", err)
		}
		db.SetMaxOpenConns(1)
		ix.db = db
		if err := ix.create(ctx); err != nil {
			return fail(err)
		}
		return ix, nil
	}
	// An index made before its pages were 64 KiB is rewritten with them,
	// once: VACUUM took 0.75 s at 10,000 issues and 10,000 patches,
	// where a rebuild takes 9 s. If it fails (it writes a copy of the
	// file, which a full disk has no room for), SQLite rolls it back and
	// the index serves as it is, until an open that succeeds.
	var ps int
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&ps); err != nil {
		return fail(fmt.Errorf("index: %w", err))
	}
	if ps != indexPageSize {
		if _, err := db.ExecContext(ctx, "VACUUM"); err != nil && ctx.Err() != nil {
			return fail(ctx.Err())
		}
	}
	return ix, nil
}

// create makes the tables in one transaction; the schema row is written
// last, so a half-made index is never taken for a whole one. It also
// clears the cache directory of killed writers' temporary files.
func (ix *Index) create(ctx context.Context) error {
	removeStaleTemps(filepath.Dir(ix.path))
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaSQL); err != nil {
		return fmt.Errorf("index schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES ('rid', ?), ('rules', ''), ('branch', ''), ('tip', ''), ('schema', ?)", ix.store.Repo.RID.String(), indexSchema); err != nil {
		return fmt.Errorf("index schema: %w", err)
	}
	return tx.Commit()
}

// Close closes the index and records the file's stamp.
func (ix *Index) Close() error {
	err := ix.db.Close()
	if err == nil {
		if !pending(ix.path) {
			st := stamp(ix.path, ix.boot)
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
	r, _, err := decodeRules(s)
	if err != nil {
		return Rules{}, err
	}
	ix.rules = &r
	return r, nil
}

type rulesJSON struct {
	Delegates []protocol.NID      `json:"delegates"`
	Allow     []protocol.NID      `json:"allow"`
	Persons   map[string]string   `json:"persons,omitempty"`
	Removed   map[string][]string `json:"removed,omitempty"`
	// People is peopleKey when the rules were read: when it moves, the
	// persons are read again.
	People string `json:"people,omitempty"`
}

func encodeRules(r Rules, people string) string {
	b, _ := json.Marshal(rulesJSON{r.Delegates, r.Allow, r.Persons, r.Removed, people})
	return string(b)
}

func decodeRules(s string) (Rules, string, error) {
	var j rulesJSON
	if s == "" {
		return Rules{}, "", nil // not computed yet
	}
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return Rules{}, "", fmt.Errorf("%w: rules: %v", errCorrupt, err)
	}
	return Rules{j.Delegates, j.Allow, j.Persons, j.Removed}, j.People, nil
}

// peopleKey sums what the persons in the rules are read from: every
// namespace's person ref, and the signed refs of the removed devices
// (their removal keeps what they hold up to it).
func (ix *Index) peopleKey(cur map[string]nsState, removed map[string][]string) (string, error) {
	tips, err := ix.store.Repo.RefFiles().Namespaced(protocol.PersonRef)
	if err != nil {
		return "", err
	}
	if len(tips) == 0 {
		return "", nil
	}
	h := sha256.New()
	for _, ns := range slices.Sorted(maps.Keys(tips)) {
		fmt.Fprintf(h, "%s %s\n", ns, tips[ns])
	}
	for _, ns := range slices.Sorted(maps.Keys(removed)) {
		fmt.Fprintf(h, "removed %s %s\n", ns, cur[ns].sigrefs)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// nsState is what the index knows of one namespace: its signed refs (which
// move whenever any of its refs does) and its identity ref.
type nsState struct{ sigrefs, ident string }

func (ix *Index) readNamespaces() (map[string]nsState, error) {
	return readNamespaces(ix.store)
}

// readNamespaces reads each namespace's signed refs and identity ref from
// s's ref files.
func readNamespaces(s *Store) (map[string]nsState, error) {
	f := s.Repo.RefFiles()
	srs, err := f.Namespaced(protocol.SigrefsRef)
	if err != nil {
		return nil, err
	}
	ids, err := f.Namespaced(protocol.IdentityRef)
	if err != nil {
		return nil, err
	}
	out := make(map[string]nsState, len(srs))
	for ns, sr := range srs {
		out[ns] = nsState{sr, ids[ns]}
	}
	for ns, id := range ids {
		out[ns] = nsState{srs[ns], id}
	}
	return out, nil
}

// Refresh brings the index up to date with the refs: for a namespace
// whose signed refs moved, the refs that moved are found by diffing its
// old and new signed ref trees (the whole namespace is listed when that
// cannot be done: see movedIssues), and only issues whose set of tips
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
	rules, storedPeople, err := decodeRules(stored)
	if err != nil {
		return 0, err
	}
	people, err := ix.peopleKey(cur, rules.Removed)
	if err != nil {
		return 0, err
	}
	all := false
	var branch string // the default branch when the identity was read
	if identMoved || stored == "" || people != storedPeople {
		// The identity refs are read already (cur): repo.Identity would
		// read every namespace's again.
		idents := make(map[string]string, len(cur))
		for ns, s := range cur {
			idents[ns] = s.ident
		}
		doc, _, err := ix.store.Repo.IdentityOf(idents)
		if err != nil {
			return 0, err
		}
		branch = doc.DefaultBranch
		before := encodeRules(rules, "")
		if rules, err = ix.store.rulesOf(ctx, doc); err != nil {
			return 0, err
		}
		if people, err = ix.peopleKey(cur, rules.Removed); err != nil {
			return 0, err
		}
		if enc := encodeRules(rules, people); enc != stored {
			// Only rules that say something else take every object
			// again; a person ref that moved alone does not.
			all = stored == "" || encodeRules(rules, "") != before
			if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'rules'", enc); err != nil {
				return 0, err
			}
		}
	}
	changed := make(map[string]bool)
	for _, ns := range changedNS {
		s, ok := cur[ns]
		// A namespace that moved from signed refs the index has, with its
		// identity where it was, is diffed: only its refs that moved are
		// read. Anything else is listed.
		var moved map[string]tip
		diffed := false
		if o := old[ns]; ok && o.sigrefs != "" && o.ident == s.ident {
			moved, diffed = movedObjects(ix.store.Repo, ns, o.sigrefs, s.sigrefs)
		}
		if diffed {
			err = setTips(ctx, tx, ns, moved, changed)
		} else {
			var tips map[string]tip
			if ok {
				if tips, err = ix.namespaceTips(ns); err != nil {
					return 0, err
				}
			}
			err = diffTips(ctx, tx, ns, tips, changed)
		}
		if err != nil {
			return 0, err
		}
		if ok {
			_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO namespaces(nid, sigrefs, ident) VALUES (?, ?, ?)", ns, s.sigrefs, s.ident)
		} else {
			_, err = tx.ExecContext(ctx, "DELETE FROM namespaces WHERE nid = ?", ns)
		}
		if err != nil {
			return 0, err
		}
	}
	tip, err := ix.defaultTip(ctx, tx, branch, changed)
	if err != nil {
		return 0, err
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
	n, err := ix.rematerialize(ctx, tx, changed, rules, tip)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	ix.rules = &rules
	return n, nil
}

// tip is a namespace's tip of an object of type typ.
type tip struct{ oid, typ string }

// indexed are the types of objects the index holds.
var indexed = [...]string{IssueType, PatchType}

// movedObjects returns the objects whose tips differ between namespace
// ns's signed refs older and newer (id → its tip, oid "" where it is
// gone), having checked that each such ref is now where newer signs it.
// It reports false when it cannot tell: either state does not verify or
// is no longer here (a gc may drop the older), or the refs disagree with
// their signature; the namespace is then listed instead.
func movedObjects(r *repo.Repo, ns, older, newer string) (map[string]tip, bool) {
	nid, err := protocol.ParseNID(ns)
	if err != nil {
		return nil, false
	}
	diff, err := r.DiffSigrefs(nid, older, newer)
	if err != nil {
		return nil, false
	}
	f := r.RefFiles()
	p := "refs/namespaces/" + ns + "/"
	moved := make(map[string]tip)
	for _, d := range diff {
		for _, typ := range indexed {
			id, ok := strings.CutPrefix(d.Name, RefPrefix(typ))
			if !ok || !protocol.ValidOID(id) {
				continue
			}
			oid, err := f.Get(p + d.Name)
			if err != nil || oid != d.New {
				return nil, false
			}
			if t, dup := moved[id]; !dup || t.oid == "" {
				moved[id] = tip{d.New, typ}
			}
		}
	}
	return moved, true
}

// setTips sets namespace ns's tips of the objects in moved (id → tip, oid
// "" for none) and marks them changed.
func setTips(ctx context.Context, tx *sql.Tx, ns string, moved map[string]tip, changed map[string]bool) error {
	for id, t := range moved {
		var err error
		if t.oid == "" {
			_, err = tx.ExecContext(ctx, "DELETE FROM tips WHERE id = ? AND nid = ?", id, ns)
		} else {
			_, err = tx.ExecContext(ctx, "INSERT OR REPLACE INTO tips(id, nid, oid, type) VALUES (?, ?, ?, ?)", id, ns, t.oid, t.typ)
		}
		if err != nil {
			return err
		}
		changed[id] = true
	}
	return nil
}

// namespaceTips returns the tips of every object in namespace ns: id →
// tip. It reads every issue and patch ref of the namespace.
func (ix *Index) namespaceTips(ns string) (map[string]tip, error) {
	ix.listings++
	tips := make(map[string]tip)
	for _, typ := range indexed {
		p := "refs/namespaces/" + ns + "/" + RefPrefix(typ)
		refs, err := ix.store.Repo.RefFiles().List(p)
		if err != nil {
			return nil, err
		}
		for name, oid := range refs {
			if id, ok := strings.CutPrefix(name, p); ok && protocol.ValidOID(id) {
				if _, dup := tips[id]; !dup { // an issue's ID under patches: the issue's
					tips[id] = tip{oid, typ}
				}
			}
		}
	}
	return tips, nil
}

// diffTips replaces namespace ns's tips in the index by tips and marks the
// objects whose tip moved.
func diffTips(ctx context.Context, tx *sql.Tx, ns string, tips map[string]tip, changed map[string]bool) error {
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
	ins, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO tips(id, nid, oid, type) VALUES (?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer ins.Close()
	for id, t := range tips {
		if have[id] == t.oid {
			continue
		}
		if _, err := ins.ExecContext(ctx, id, ns, t.oid, t.typ); err != nil {
			return err
		}
		changed[id] = true
	}
	return nil
}

// rematerialize loads and materializes the given objects from the tips in
// the index and replaces their rows. Large batches run on every CPU, each
// worker with its own object reader; this goroutine writes the rows.
func (ix *Index) rematerialize(ctx context.Context, tx *sql.Tx, ids map[string]bool, rules Rules, tip string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tips := make(map[string][]string, len(ids))
	types := make(map[string]string, len(ids))
	if len(ids) <= 64 {
		st, err := tx.PrepareContext(ctx, "SELECT oid, type FROM tips WHERE id = ?")
		if err != nil {
			return 0, err
		}
		for id := range ids {
			if err := scanTips(ctx, st, id, tips, types); err != nil {
				st.Close()
				return 0, err
			}
		}
		st.Close()
	} else {
		rows, err := tx.QueryContext(ctx, "SELECT id, oid, type FROM tips")
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var id, oid, typ string
			if err := rows.Scan(&id, &oid, &typ); err != nil {
				rows.Close()
				return 0, err
			}
			if ids[id] {
				tips[id] = append(tips[id], oid)
				types[id] = tipType(types[id], typ)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	// Issues first, then patches, each by ID: a rebuild writes each
	// type's rows together.
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	slices.SortFunc(list, func(a, b string) int {
		if ta, tb := types[a] == PatchType, types[b] == PatchType; ta != tb {
			if ta {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	// An empty table (a rebuild) has no old rows to delete.
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM issues LIMIT 1)").Scan(&have); err != nil {
		return 0, err
	}
	w := newIssueWriter(tx, have == 0)
	defer w.close()
	type result struct {
		id  string
		obj indexedObject
		bad error // why the object was skipped
	}
	results := make(chan result, 64)
	workers := 1
	if len(list) > 32 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan string, 64)
	var wg sync.WaitGroup
	var werr error
	var once sync.Once
	r := ix.store.Repo
	reach := newReach(ctx, r, tip, len(list) > 64)
	objects := r.NewObjectReader() // its forks share the mapped packs
	defer objects.Close()
	for range workers {
		rd := objects.Fork()
		nids := make(nidCache)
		wg.Go(func() {
			defer rd.Close()
			for id := range jobs {
				var x indexedObject
				typ := types[id]
				obj, err := ix.store.loadMemo(ctx, rd, typ, id, tips[id], nids)
				if err == nil {
					x, err = materializeIndexed(obj, typ, rules, tip, reach.reachable)
				}
				var bad error
				switch {
				case err == nil || errors.Is(err, ErrNotFound):
				case ctx.Err() != nil:
					once.Do(func() { werr = err })
				default:
					// One bad object (over a limit, corrupt) is
					// left out, not the project's whole index.
					bad = err
				}
				results <- result{id, x, bad}
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
		err := w.put(ctx, res.id, res.obj)
		if err == nil {
			err = w.skip(ctx, res.id, types[res.id], res.bad)
		}
		if err != nil {
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

// tipType is the type of an object whose tips so far said have and now
// say typ: an issue if any says so (a ref under patches naming an
// issue's ID holds no valid patch change anyway).
func tipType(have, typ string) string {
	if have == IssueType {
		return have
	}
	return typ
}

// indexedObject is a materialized object as the index writes it: its
// thread, and the patch when it is one; th is nil for an ID with no valid
// object.
type indexedObject struct {
	typ string
	th  *Thread
	p   *Patch
	// A patch's verdict on its newest revision (accepted, rejected or
	// ""), its counts, its JSON, and the commits that would merge it.
	verdict  string
	acc, rej int
	doc      []byte
	heads    []string
}

func materializeIndexed(obj *Object, typ string, rules Rules, tip string, reachable func(a, b string) bool) (indexedObject, error) {
	if typ == PatchType {
		p, err := MaterializePatch(obj, rules)
		if err != nil {
			return indexedObject{}, err
		}
		ResolveMerged(p, tip, reachable)
		return indexedPatch(p)
	}
	is, err := Materialize(obj, rules)
	if err != nil {
		return indexedObject{}, err
	}
	return indexedObject{typ: typ, th: &is.Thread}, nil
}

func scanTips(ctx context.Context, st *sql.Stmt, id string, tips map[string][]string, types map[string]string) error {
	rows, err := st.QueryContext(ctx, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var oid, typ string
		if err := rows.Scan(&oid, &typ); err != nil {
			return err
		}
		tips[id] = append(tips[id], oid)
		types[id] = tipType(types[id], typ)
	}
	return rows.Err()
}

// issueWriter replaces issue rows. Each statement is prepared when first
// needed and then reused: a rebuild runs them thousands of times, a
// refresh after one change once or not at all.
type issueWriter struct {
	tx    *sql.Tx
	fresh bool // no rows yet: nothing to delete
	stmts [nStmts]*sql.Stmt
	row   []byte
	text  []byte
}

const (
	stFind = iota
	stDelFTS
	stDel
	stDelLabels
	stIns
	stInsFTS
	stInsLabel
	stDelSkipped
	stInsSkipped
	stDelLinks
	stInsLink
	stDelHeads
	stInsHead
	stDelDoc
	stInsDoc
	nStmts
)

var writerSQL = [nStmts]string{
	stFind:       "SELECT n FROM issues WHERE id = ?",
	stDelFTS:     "DELETE FROM fts WHERE rowid = ?",
	stDel:        "DELETE FROM issues WHERE n = ?",
	stDelLabels:  "DELETE FROM labels WHERE id = ?",
	stIns:        "INSERT INTO issues(id, type, state, author, verdict, row) VALUES (?, ?, ?, ?, ?, ?)",
	stInsFTS:     "INSERT INTO fts(rowid, title, body, comments) VALUES (?, ?, ?, ?)",
	stInsLabel:   "INSERT OR IGNORE INTO labels(id, label) VALUES (?, ?)",
	stDelSkipped: "DELETE FROM skipped WHERE id = ?",
	stInsSkipped: "INSERT INTO skipped(id, type, err) VALUES (?, ?, ?)",
	stDelLinks:   "DELETE FROM links WHERE src = ?",
	stInsLink:    "INSERT OR IGNORE INTO links(target, src, type, title, place, change, author, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	stDelHeads:   "DELETE FROM heads WHERE id = ?",
	stInsHead:    "INSERT OR IGNORE INTO heads(oid, id) VALUES (?, ?)",
	stDelDoc:     "DELETE FROM docs WHERE n = ?",
	stInsDoc:     "INSERT INTO docs(n, doc) VALUES (?, ?)",
}

func newIssueWriter(tx *sql.Tx, fresh bool) *issueWriter {
	return &issueWriter{tx: tx, fresh: fresh}
}

func (w *issueWriter) stmt(ctx context.Context, i int) (*sql.Stmt, error) {
	if w.stmts[i] == nil {
		st, err := w.tx.PrepareContext(ctx, writerSQL[i])
		if err != nil {
			return nil, err
		}
		w.stmts[i] = st
	}
	return w.stmts[i], nil
}

func (w *issueWriter) exec(ctx context.Context, i int, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, i)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (w *issueWriter) close() {
	for _, s := range w.stmts {
		if s != nil {
			s.Close()
		}
	}
}

// remove deletes issue id's rows, if it has any.
func (w *issueWriter) remove(ctx context.Context, id string) error {
	find, err := w.stmt(ctx, stFind)
	if err != nil {
		return err
	}
	var n int64
	err = find.QueryRowContext(ctx, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := w.exec(ctx, stDelFTS, n); err != nil {
		return err
	}
	if _, err := w.exec(ctx, stDel, n); err != nil {
		return err
	}
	if _, err := w.exec(ctx, stDelDoc, n); err != nil {
		return err
	}
	if _, err := w.exec(ctx, stDelLinks, id); err != nil {
		return err
	}
	if _, err := w.exec(ctx, stDelHeads, id); err != nil {
		return err
	}
	_, err = w.exec(ctx, stDelLabels, id)
	return err
}

// skip records that object id, of type typ, was skipped because of bad,
// or, with bad nil, that it no longer is.
func (w *issueWriter) skip(ctx context.Context, id, typ string, bad error) error {
	if !w.fresh {
		if _, err := w.exec(ctx, stDelSkipped, id); err != nil {
			return err
		}
	}
	if bad == nil {
		return nil
	}
	_, err := w.exec(ctx, stInsSkipped, id, typ, bad.Error())
	return err
}

func (w *issueWriter) put(ctx context.Context, id string, x indexedObject) error {
	if !w.fresh {
		if err := w.remove(ctx, id); err != nil {
			return err
		}
	}
	is := x.th
	if is == nil {
		return nil // no valid object under this ID
	}
	w.row = appendRow(w.row[:0], is)
	if x.p != nil {
		w.row = appendPatchRow(w.row, x)
	}
	res, err := w.exec(ctx, stIns, id, x.typ, is.State, is.Author, x.verdict, string(w.row))
	if err != nil {
		return err
	}
	n, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if x.p != nil {
		if _, err := w.exec(ctx, stInsDoc, n, string(x.doc)); err != nil {
			return err
		}
	}
	w.text = w.text[:0]
	for _, c := range is.Comments {
		w.text = append(w.text, c.Body...)
		w.text = append(w.text, '\n')
	}
	body := is.Body
	if p := x.p; p != nil {
		// A patch's revisions describe it too; its reviews discuss it.
		for _, r := range p.Revisions {
			if r.Description != "" {
				body += "\n" + r.Description
			}
		}
		for _, r := range p.Reviews {
			w.text = append(w.text, r.Body...)
			w.text = append(w.text, '\n')
			for _, c := range r.Comments {
				w.text = append(w.text, c.Body...)
				w.text = append(w.text, '\n')
			}
		}
	}
	if _, err := w.exec(ctx, stInsFTS, n, is.Title, body, string(w.text)); err != nil {
		return err
	}
	for _, l := range is.Labels {
		if _, err := w.exec(ctx, stInsLabel, id, l); err != nil {
			return err
		}
	}
	for _, l := range is.Links {
		if _, err := w.exec(ctx, stInsLink, l.ID, id, x.typ, is.Title, l.In, l.Change, l.Author, l.Created.Unix()); err != nil {
			return err
		}
	}
	for _, h := range x.heads {
		if _, err := w.exec(ctx, stInsHead, h, id); err != nil {
			return err
		}
	}
	return nil
}

// appendRow encodes what List returns of an issue's thread: each string as its
// length in decimal, a colon and its bytes; each list as its length and a
// colon, then its strings; each number in decimal and a colon. The sort
// key, created and ID, comes first.
func appendRow(b []byte, is *Thread) []byte {
	b = appendNum(b, is.Created.Unix())
	for _, f := range [...]string{is.ID, is.Title, is.State, is.Reason, is.Author} {
		b = appendField(b, f)
	}
	for _, l := range [...][]string{is.Labels, is.Assignees} {
		b = appendNum(b, int64(len(l)))
		for _, f := range l {
			b = appendField(b, f)
		}
	}
	b = appendNum(b, int64(len(is.Comments)))
	return appendNum(b, is.Updated.Unix())
}

func appendNum(b []byte, n int64) []byte {
	return append(strconv.AppendInt(b, n, 10), ':')
}

func appendField(b []byte, f string) []byte {
	return append(appendNum(b, int64(len(f))), f...)
}

// rowReader decodes rows that appendRow encoded. Strings it returns share
// the row's memory; lists share one backing array across rows, which
// with reuse each row overwrites.
type rowReader struct {
	s     string
	bad   bool
	reuse bool
	strs  []string
}

// num decodes a number in the form appendNum writes, and only that form:
// no sign but a minus, no leading zero, no "-0".
func (r *rowReader) num() int64 {
	s := r.s
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		neg, i = true, 1
	}
	start := i
	var n int64
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int64(d)
	}
	digits := i - start
	if digits == 0 || digits > 18 || i == len(s) || s[i] != ':' || digits > 1 && s[start] == '0' || neg && n == 0 {
		r.bad = true
		return 0
	}
	r.s = s[i+1:]
	if neg {
		return -n
	}
	return n
}

func (r *rowReader) field() string {
	n := r.num()
	if n < 0 || n > int64(len(r.s)) {
		r.bad = true
		return ""
	}
	f := r.s[:n]
	r.s = r.s[n:]
	return f
}

func (r *rowReader) list() []string {
	n := r.num()
	if n < 0 || n > int64(len(r.s)) {
		r.bad = true
		return nil
	}
	if r.strs == nil || cap(r.strs)-len(r.strs) < int(n) {
		r.strs = make([]string, 0, max(256, int(n)))
	}
	a := len(r.strs)
	for range n {
		r.strs = append(r.strs, r.field())
	}
	return r.strs[a:len(r.strs):len(r.strs)]
}

// key decodes the sort key at the start of a row.
func (r *rowReader) key(row string) (created int64, id string, ok bool) {
	r.s, r.bad = row, false
	created = r.num()
	id = r.field()
	return created, id, !r.bad
}

// summary decodes one row into s.
func (r *rowReader) summary(row string, s *Summary) bool {
	r.thread(row, s)
	return !r.bad && r.s == ""
}

// thread decodes what every kind's row starts with into s, leaving the
// rest of the row (a patch's own fields) in r.s.
func (r *rowReader) thread(row string, s *Summary) {
	r.s, r.bad = row, false
	if r.reuse {
		r.strs = r.strs[:0]
	}
	s.Created = unixTime(r.num())
	s.ID = r.field()
	s.Title = r.field()
	s.State = r.field()
	s.Reason = r.field()
	s.Author = r.field()
	s.Labels = r.list()
	s.Assignees = r.list()
	s.CommentCount = int(r.num())
	s.Updated = unixTime(r.num())
}

// ftsQuery turns what a user typed into an FTS5 query: every word must
// appear, as a word or the start of one.
func ftsQuery(q string) string {
	return strings.Join(ftsTerms(q), " AND ")
}

// ftsTerms returns the FTS5 term of each word in q ("word"*: the word or
// a word it starts), each once, in order. Nothing else in q is FTS5
// syntax.
func ftsTerms(q string) []string {
	var parts []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f)
	}) {
		if t := `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`; !slices.Contains(parts, t) {
			parts = append(parts, t)
		}
	}
	return parts
}

// List returns the issues f selects, newest first (then by ID).
func (ix *Index) List(ctx context.Context, f Filter) ([]Summary, error) {
	var out []Summary
	err := ix.Each(ctx, f, func(n int, s *Summary) error {
		if out == nil {
			out = make([]Summary, 0, n)
		}
		out = append(out, *s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Summary{}
	}
	return out, nil
}

// Each calls fn with each issue f selects, in List's order, and how many
// there are at most. The summary is fn's only until it returns (its strings and
// slices stay valid): a caller that prints a list need not hold all of it.
func (ix *Index) Each(ctx context.Context, f Filter, fn func(n int, s *Summary) error) error {
	l, err := ix.Listing(ctx, f)
	if err != nil {
		return err
	}
	return l.each(false, func(s *Summary) error { return fn(l.Len(), s) })
}

// Listing is what a filter selected, in List's order, as the index keeps
// it: one encoded row per object, decoded as Each hands it out. It
// outlives the index, and a caller may read it more than once (a table
// measures its columns, then prints) without holding every summary
// decoded.
type Listing struct {
	rows  []string
	patch bool
}

// Listing returns what f selects, in List's order.
func (ix *Index) Listing(ctx context.Context, f Filter) (*Listing, error) {
	rows, err := ix.sortedRows(ctx, f)
	if err != nil {
		return nil, err
	}
	return &Listing{rows: rows, patch: f.Type == PatchType}, nil
}

// Len is how many objects l holds.
func (l *Listing) Len() int { return len(l.rows) }

// Each calls fn with the summary of each object of l, in order. The
// summary and its slices are reused: they are fn's only until it
// returns; its strings stay valid.
func (l *Listing) Each(fn func(s *Summary) error) error {
	return l.each(true, fn)
}

// each is Each; without reuse, the summaries' slices stay valid too
// (Index.Each's callers keep them).
func (l *Listing) each(reuse bool, fn func(s *Summary) error) error {
	rd := rowReader{reuse: reuse}
	var sum Summary
	var ps PatchSummary
	for _, row := range l.rows {
		ok := false
		if l.patch {
			ok = rd.patchSummary(row, &ps)
			sum = ps.Summary
		} else {
			ok = rd.summary(row, &sum)
		}
		if !ok {
			return fmt.Errorf("%w: issue row %.60q", errCorrupt, row)
		}
		if err := fn(&sum); err != nil {
			return err
		}
	}
	return nil
}

// sortedRows returns the encoded rows of the issues f selects, newest
// first (then by ID).
func (ix *Index) sortedRows(ctx context.Context, f Filter) ([]string, error) {
	rows, _, err := ix.sortedRowsDocs(ctx, f, false)
	return rows, err
}

// sortedRowsDocs is sortedRows, with each row's doc (a patch's JSON) when
// withDocs is set.
func (ix *Index) sortedRowsDocs(ctx context.Context, f Filter, withDocs bool) ([]string, []string, error) {
	from, where, args := pageQuery(f)
	if from == "" {
		return nil, nil, nil
	}
	cols := "i.row"
	if withDocs {
		cols = "i.row, coalesce(d.doc, '')"
		from += " LEFT JOIN docs d ON d.n = i.n"
	}
	q := "SELECT " + cols + " FROM " + from + where
	most, err := ix.most(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows, err := ix.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	all := make([]string, 0, most)
	var docs []string
	var row, doc string // one of each, not one per row: Scan's destinations escape
	dest := []any{&row}
	if withDocs {
		dest = append(dest, &doc)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("index: %w", err)
		}
		all = append(all, row)
		if withDocs {
			docs = append(docs, doc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("index: %w", err)
	}
	if err := sortRows(all, docs); err != nil {
		return nil, nil, err
	}
	return all, docs, nil
}

// sortRows puts encoded rows in List's order, newest first, then by ID,
// in place, and docs (when not nil) beside them.
//
// Rows are sorted by their keys: sorting small keys with no pointers
// moves far less than sorting rows. What is held per row is kept small (a
// 10,000-issue list touches each page of it for the first time): no ID
// beside its row (a row's ID is decoded again only when two rows share a
// time and their ID's first 8 bytes), no second array of rows.
func sortRows(all, docs []string) error {
	type key struct {
		created int64
		pre     uint64 // the ID's first 8 bytes, big-endian
		i       int
	}
	keys := make([]key, len(all))
	var rd rowReader
	for i, row := range all {
		c, id, ok := rd.key(row)
		if !ok || len(id) < 8 {
			return fmt.Errorf("%w: issue row %.60q", errCorrupt, row)
		}
		keys[i] = key{c, binary.BigEndian.Uint64([]byte(id[:8])), i}
	}
	cmp := func(a, b key) int {
		switch {
		case a.created != b.created:
			return cmpDesc(a.created, b.created)
		case a.pre != b.pre:
			if a.pre < b.pre {
				return -1
			}
			return 1
		}
		_, ida, _ := rd.key(all[a.i])
		_, idb, _ := rd.key(all[b.i])
		return strings.Compare(ida, idb)
	}
	if slices.IsSortedFunc(keys, cmp) {
		return nil
	}
	slices.SortFunc(keys, cmp)
	from := make([]int32, len(keys))
	for j, k := range keys {
		from[j] = int32(k.i)
	}
	if docs != nil {
		permute(from, all, docs)
	} else {
		permute(from, all)
	}
	return nil
}

// permute reorders each of lists in place so that position j holds what
// was at from[j] (the order a sort left in its keys), with no second copy
// of the lists: each cycle of the permutation is followed once. It spends
// from (every entry is -1 after).
func permute(from []int32, lists ...[]string) {
	held := make([]string, len(lists))
	for j := range from {
		if from[j] < 0 {
			continue
		}
		for l, list := range lists {
			held[l] = list[j]
		}
		k := j
		for {
			f := int(from[k])
			from[k] = -1
			if f == j {
				for l, list := range lists {
					list[k] = held[l]
				}
				break
			}
			for _, list := range lists {
				list[k] = list[f]
			}
			k = f
		}
	}
}

// most bounds how many rows a query of the issues table returns, to size
// what holds them: the largest rowid, found with no scan (at most 1<<20).
func (ix *Index) most(ctx context.Context) (int, error) {
	var most int64
	if err := ix.db.QueryRowContext(ctx, "SELECT coalesce(max(n), 0) FROM issues").Scan(&most); err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	return int(min(max(most, 0), 1<<20)), nil
}

func cmpDesc(a, b int64) int {
	if a > b {
		return -1
	}
	return 1
}

// Resolve returns the ID of the one issue whose ID starts with prefix.
func (ix *Index) Resolve(ctx context.Context, prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	if prefix == "" || len(prefix) > 40 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("issue %s: %w", prefix, ErrNotFound)
	}
	rows, err := ix.db.QueryContext(ctx, "SELECT DISTINCT id FROM tips WHERE id >= ? AND id < ? AND type = ? LIMIT 100", prefix, prefix+"g", IssueType)
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

// Skipped is an object that a listing leaves out because it fails to load
// or materialize from its tips: over a limit (ErrTooLarge), corrupt, or
// badly signed. The project's other objects are listed as ever.
type Skipped struct {
	Type string // IssueType or PatchType
	ID   string
	Err  string // why, one line
}

func (s Skipped) String() string {
	noun := "issue"
	if s.Type == PatchType {
		noun = "patch"
	}
	return fmt.Sprintf("%s %.7s: %s", noun, s.ID, s.Err)
}

// Skipped lists the objects of type typ the index leaves out, by ID.
// They are tried again when their tips move.
func (ix *Index) Skipped(ctx context.Context, typ string) ([]Skipped, error) {
	q := "SELECT id, type, err FROM skipped WHERE type = ? ORDER BY id"
	rows, err := ix.db.QueryContext(ctx, q, typ)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []Skipped
	for rows.Next() {
		var sk Skipped
		if err := rows.Scan(&sk.ID, &sk.Type, &sk.Err); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		out = append(out, sk)
	}
	return out, rows.Err()
}

// Backlinks returns the references other objects make to object id,
// oldest first (then by the referring object's ID): one per referring
// object, its first.
func (ix *Index) Backlinks(ctx context.Context, id string) ([]Backlink, error) {
	rows, err := ix.db.QueryContext(ctx, "SELECT src, type, title, place, change, author, created FROM links WHERE target = ? ORDER BY created, src", id)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	out := []Backlink{}
	for rows.Next() {
		var b Backlink
		var typ string
		var created int64
		if err := rows.Scan(&b.ID, &typ, &b.Title, &b.In, &b.Change, &b.Author, &created); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		b.Type, b.Created = typeNoun(typ), unixTime(created)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return out, nil
}
