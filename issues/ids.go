package issues

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// An ID list is the sorted set of every ID of one object type in a
// project's signed namespaces, with the signed refs each namespace had
// when it was made. It lives in the home's cache, beside the index, and
// spares a command that names one object by a prefix the reading of a
// directory of every object's ref: 10,000 entries cost 3-7 ms to list,
// while a binary search in the mapped list touches a dozen pages. A list
// is brought up to date with the diff of each moved namespace's signed
// ref trees (repo.DiffSigrefs), which reads only what changed, and is
// written anew when its IDs changed or the diff grew long. It is only a cache: made from the refs when it is
// missing, malformed or cannot be caught up, and replaced by rename, so a
// reader sees one whole list or another.
//
// On disk: the line "grove ids 1 TYPE COUNT", one line "NID SIGREFS" for
// each namespace, sorted, an empty line, then COUNT lines of one ID each,
// sorted. Readers check the count against the size and every line they
// look at.

// IDsPath is where the ID list of project rid's objects of type typ lives
// in home.
func IDsPath(h repo.Home, rid protocol.RID, typ string) string {
	return filepath.Join(CacheDir(h, rid), typ+".ids")
}

// idsPath is the ID list of type typ in s's CacheDir (IDsPath).
func (s *Store) idsPath(typ string) string {
	return filepath.Join(s.CacheDir, typ+".ids")
}

// idsRewriteAfter is how many refs may differ from a list's heads before
// the list is written anew even though its IDs are the same: until then
// each reader diffs the same few refs again (comments on one issue move
// one ref however many there are), which costs less than writing a list
// of 10,000; past it the diff would keep growing.
const idsRewriteAfter = 16

// idRecord is the size of one ID's line.
const idRecord = 41

// maxIDsHead bounds the namespaces' part of a list.
const maxIDsHead = 1 << 20

type idList struct {
	heads map[string]string // NID → sigrefs the list holds the IDs of
	body  []byte            // COUNT lines of 40 hex digits and "\n", mapped
	unmap func()
	sum   string // hex SHA-256 of the list's head, naming this list
}

// A list's heads may be moved on without writing the list again: a
// command that moved a namespace without adding or removing an ID (a
// comment), or that caught up with such moves, writes the newer heads to
// a small file beside the list ("TYPE.ids.heads"): the line "grove ids
// heads 1 SUM", SUM the hex SHA-256 of the head of the list it is for,
// then one line "NID SIGREFS" for each of that list's namespaces. A heads
// file for another list, or that does not parse, is ignored. Without it
// every command after a comment diffed the signed refs the comment moved.

// headsPath is the heads file of the list at path.
func headsPath(path string) string { return path + ".heads" }

// maxHeadsFile bounds a heads file.
const maxHeadsFile = 1 << 20

// readIDList maps the list of type typ at path; ok is false when there is
// none or its head is malformed. close unmaps it.
func readIDList(path, typ string) (l *idList, ok bool) {
	data, unmap, ok := mapFile(path)
	if !ok {
		return nil, false
	}
	l = &idList{unmap: unmap}
	defer func() {
		if !ok {
			l.close()
		}
	}()
	head, _, found := bytes.Cut(data[:min(len(data), maxIDsHead)], []byte("\n\n"))
	if !found {
		return l, false
	}
	body := data[len(head)+2:]
	sum := sha256.Sum256(head)
	l.sum = hex.EncodeToString(sum[:])
	lines := strings.Split(string(head), "\n")
	if lines[0] != idsHeader(typ, len(body)/idRecord) || len(body)%idRecord != 0 {
		return l, false
	}
	l.heads, l.body = make(map[string]string, len(lines)-1), body
	for _, line := range lines[1:] {
		ns, sr, ok := strings.Cut(line, " ")
		if !ok || !protocol.ValidOID(sr) || l.heads[ns] != "" {
			return l, false
		}
		l.heads[ns] = sr
	}
	if heads := readHeads(headsPath(path), l); heads != nil {
		l.heads = heads
	}
	return l, true
}

// readHeads returns the heads in the heads file at path when it is for
// list l and names the same namespaces, else nil.
func readHeads(path string, l *idList) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > maxHeadsFile {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "grove ids heads 1 "+l.sum || len(lines)-1 != len(l.heads) {
		return nil
	}
	heads := make(map[string]string, len(l.heads))
	for _, line := range lines[1:] {
		ns, sr, ok := strings.Cut(line, " ")
		if _, known := l.heads[ns]; !ok || !known || !protocol.ValidOID(sr) || heads[ns] != "" {
			return nil
		}
		heads[ns] = sr
	}
	return heads
}

// writeHeads replaces the heads file of the list at path, l, with heads
// (which name l's namespaces).
func writeHeads(path string, l *idList, heads map[string]string) error {
	return replaceFile(headsPath(path), func(w *bufio.Writer) error {
		w.WriteString("grove ids heads 1 " + l.sum + "\n")
		for _, ns := range slices.Sorted(maps.Keys(heads)) {
			w.WriteString(ns + " " + heads[ns] + "\n")
		}
		return nil
	})
}

// noteMoved records that namespace ns moved from signed refs from to to
// adding no ID of type typ but those in created (IDs whose ref ns made,
// which another namespace may have had), in the ID list of typ in s's
// cache, when the list is at from for ns. Tx.Commit calls it; it is a
// cache, so failing to write is no error.
func (s *Store) noteMoved(typ, ns, from, to string, created []string) {
	path := s.idsPath(typ)
	l, ok := readIDList(path, typ)
	if !ok {
		return
	}
	defer l.close()
	if l.heads[ns] != from {
		return
	}
	for _, id := range created {
		if !l.has(id) {
			return // a new ID: the next reader adds it
		}
	}
	heads := maps.Clone(l.heads)
	heads[ns] = to
	writeHeads(path, l, heads)
}

// mapFile maps the file at path read-only; ok is false when it is
// missing, empty or cannot be mapped. The caches of this package are
// replaced by rename, never written in place, so a mapping keeps its
// bytes until unmap.
func mapFile(path string) (data []byte, unmap func(), ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 || fi.Size() > 1<<31 {
		return nil, nil, false
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	return data, func() { syscall.Munmap(data) }, true
}

// replaceFile writes a new file at path with write and renames it into
// place, so that a reader sees the old file or the new one, whole.
func replaceFile(path string, write func(w *bufio.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// Unique to this write: two writers of one cache, in one process or
	// two, each rename a whole file of their own.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 32<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// staleTempAge is how old a temporary file of replaceFile must be before
// removeStaleTemps takes it for a killed writer's: a younger one may be
// another process's write in progress.
const staleTempAge = time.Hour

// removeStaleTemps removes what writers killed mid-write left in cache
// directory dir: replaceFile's temporary files (NAME.tmpN), in it and in
// its memo directories, older than staleTempAge. The index calls it when
// it is made anew (after a reboot, say), so that they do not pile up.
func removeStaleTemps(dir string) {
	for _, pat := range []string{filepath.Join(dir, "*.tmp*"), filepath.Join(dir, "cobs", "*", "*.tmp*")} {
		names, _ := filepath.Glob(pat)
		for _, name := range names {
			if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleTempAge {
				os.Remove(name)
			}
		}
	}
}

func (l *idList) close() {
	if l.unmap != nil {
		l.unmap()
		l.unmap = nil
	}
}

// idsHeader is the first line of a list of type typ with n IDs.
func idsHeader(typ string, n int) string {
	return fmt.Sprintf("grove ids 1 %s %d", typ, n)
}

func (l *idList) n() int { return len(l.body) / idRecord }

// at returns the i-th ID, ok false when that line is not one.
func (l *idList) at(i int) (string, bool) {
	r := l.body[i*idRecord : (i+1)*idRecord]
	id := string(r[:40])
	return id, r[40] == '\n' && protocol.ValidOID(id)
}

// search returns the index of the first ID not below id; ok is false when
// a line it looked at is not an ID.
func (l *idList) search(id string) (i int, ok bool) {
	ok = true
	i = sort.Search(l.n(), func(i int) bool {
		x, valid := l.at(i)
		ok = ok && valid
		return x >= id
	})
	return i, ok
}

// has reports whether id is in the list.
func (l *idList) has(id string) bool {
	i, ok := l.search(id)
	if !ok || i == l.n() {
		return false
	}
	x, _ := l.at(i)
	return x == id
}

// withPrefix returns the IDs of the list that start with prefix.
func (l *idList) withPrefix(prefix string) ([]string, bool) {
	i, ok := l.search(prefix)
	var out []string
	for ; ok && i < l.n(); i++ {
		id, valid := l.at(i)
		if !valid {
			return nil, false
		}
		if !strings.HasPrefix(id, prefix) {
			break
		}
		out = append(out, id)
	}
	return out, ok
}

// writeIDList replaces the list at path by one of the given namespaces'
// heads and IDs: the lines of old's body (nil for none) without gone,
// merged with added (sorted, none in old). It writes the old lines from
// their mapping, in runs, so that a list of 10,000 is copied by the
// kernel without a buffer of its own.
func writeIDList(path, typ string, heads map[string]string, old *idList, added []string, gone map[string]bool) error {
	return replaceFile(path, func(w *bufio.Writer) error { return writeIDs(w, typ, heads, old, added, gone) })
}

func writeIDs(w io.Writer, typ string, heads map[string]string, old *idList, added []string, gone map[string]bool) error {
	// Where each old line that goes, and each new one, sits among the old.
	type cut struct {
		at  int    // index in old
		add string // an ID to write before old's line at, or "" to drop it
	}
	var cuts []cut
	n := 0
	if old != nil {
		n = old.n()
		for id := range gone {
			if old.has(id) {
				i, _ := old.search(id)
				cuts = append(cuts, cut{at: i})
			}
		}
	}
	for _, id := range added {
		i := 0
		if old != nil {
			i, _ = old.search(id)
		}
		cuts = append(cuts, cut{at: i, add: id})
	}
	// Adds before the drop at the same place: an added ID sorts before
	// the old line it is placed at.
	sort.Slice(cuts, func(i, j int) bool {
		if cuts[i].at != cuts[j].at {
			return cuts[i].at < cuts[j].at
		}
		if (cuts[i].add == "") != (cuts[j].add == "") {
			return cuts[i].add != ""
		}
		return cuts[i].add < cuts[j].add
	})
	count := n + len(added)
	for _, c := range cuts {
		if c.add == "" {
			count--
		}
	}
	var head bytes.Buffer
	head.WriteString(idsHeader(typ, count) + "\n")
	for _, ns := range slices.Sorted(maps.Keys(heads)) {
		head.WriteString(ns + " " + heads[ns] + "\n")
	}
	head.WriteByte('\n')
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	from := 0 // the first old line not written yet
	for _, c := range cuts {
		if c.at > from {
			if _, err := w.Write(old.body[from*idRecord : c.at*idRecord]); err != nil {
				return err
			}
			from = c.at
		}
		if c.add != "" {
			if _, err := io.WriteString(w, c.add+"\n"); err != nil {
				return err
			}
		} else {
			from = c.at + 1
		}
	}
	if from < n {
		if _, err := w.Write(old.body[from*idRecord:]); err != nil {
			return err
		}
	}
	return nil
}

// matching returns the IDs of type typ that start with prefix in any
// namespace, from the list at path when it can be brought up to date,
// otherwise from the ref directories (and then writes the list).
func (s *Store) matching(path, typ, prefix string) ([]string, error) {
	f := s.Repo.RefFiles()
	nss, err := f.Namespaces()
	if err != nil {
		return nil, err
	}
	heads := make(map[string]string, len(nss)) // signed namespaces
	var unsigned []string
	for _, ns := range nss {
		sr, err := f.Get("refs/namespaces/" + ns + "/" + protocol.SigrefsRef)
		if err != nil {
			return nil, err
		}
		if sr == "" {
			unsigned = append(unsigned, ns)
		} else {
			heads[ns] = sr
		}
	}
	// A namespace without signed refs is listed every time: nothing
	// tells when its refs move.
	var extra []string
	for _, ns := range unsigned {
		ids, err := s.listIDs(f, ns, typ, prefix)
		if err != nil {
			return nil, err
		}
		extra = append(extra, ids...)
	}
	if path != "" {
		if l, ok := readIDList(path, typ); ok {
			ids, ok := s.catchUp(f, l, heads, path, typ, prefix)
			l.close()
			if ok {
				return union(ids, extra), nil
			}
		}
	}
	var all []string
	for ns := range heads {
		ids, err := s.listIDs(f, ns, typ, "")
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
	}
	all = union(all, nil)
	if path != "" {
		writeIDList(path, typ, heads, nil, all, nil) // a cache: the answer stands without it
	}
	var out []string
	for _, id := range all {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return union(out, extra), nil
}

// listIDs reads namespace ns's directory of type typ's refs.
func (s *Store) listIDs(f *repo.RefFiles, ns, typ, prefix string) ([]string, error) {
	s.listings++
	dir := "refs/namespaces/" + ns + "/" + RefPrefix(typ)
	names, err := f.Names(dir + prefix + "*")
	if err != nil {
		return nil, err
	}
	ids := names[:0]
	for _, n := range names {
		if id := n[len(dir):]; protocol.ValidOID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// catchUp returns the IDs starting with prefix that list l holds once
// each namespace's moves since l was made are applied, and writes the
// list anew when anything moved. ok is false when l cannot be caught up:
// a namespace went away, a diff failed (its old signed refs are gone), a
// ref disagrees with its signature, or a line of l is not an ID.
func (s *Store) catchUp(f *repo.RefFiles, l *idList, heads map[string]string, path, typ, prefix string) (ids []string, ok bool) {
	for ns := range l.heads {
		if _, ok := heads[ns]; !ok {
			return nil, false
		}
	}
	var added, removed []string
	differ := 0 // refs that differ from the list's heads, of any kind
	for ns, cur := range heads {
		old := l.heads[ns]
		if old == cur {
			continue
		}
		if old == "" {
			// New since the list was made: read its directory once.
			ids, err := s.listIDs(f, ns, typ, "")
			if err != nil {
				return nil, false
			}
			added = append(added, ids...)
			differ += idsRewriteAfter
			continue
		}
		nid, err := protocol.ParseNID(ns)
		if err != nil {
			return nil, false
		}
		s.diffs++
		d, err := s.Repo.DiffSigrefs(nid, old, cur)
		if err != nil {
			return nil, false
		}
		differ += len(d)
		for _, c := range d {
			id, ok := strings.CutPrefix(c.Name, RefPrefix(typ))
			if !ok || !protocol.ValidOID(id) || c.Old != "" && c.New != "" {
				continue
			}
			got, err := f.Get("refs/namespaces/" + ns + "/" + c.Name)
			if err != nil || got != c.New {
				return nil, false
			}
			if c.New != "" {
				added = append(added, id)
			} else {
				removed = append(removed, id)
			}
		}
	}
	// An ID one namespace dropped is gone only if no other has it; one
	// another namespace added may be in the list already.
	gone := make(map[string]bool)
	for _, id := range removed {
		held := false
		for ns := range heads {
			if oid, err := f.Get("refs/namespaces/" + ns + "/" + RefName(typ, id)); err != nil {
				return nil, false
			} else if oid != "" {
				held = true
				break
			}
		}
		if !held {
			gone[id] = true
		}
	}
	added = slices.DeleteFunc(union(added, nil), func(id string) bool { return gone[id] || l.has(id) })
	out, ok := l.withPrefix(prefix)
	if !ok {
		return nil, false
	}
	switch {
	case len(added) > 0 || len(gone) > 0 || differ >= idsRewriteAfter:
		writeIDList(path, typ, heads, l, added, gone)
	case !maps.Equal(heads, l.heads):
		writeHeads(path, l, heads) // the same IDs at newer heads
	}
	for _, id := range added {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return slices.DeleteFunc(union(out, nil), func(id string) bool { return gone[id] }), true
}

// union returns the sorted IDs of a and b without repeats; it may reuse
// a's array.
func union(a, b []string) []string {
	a = append(a, b...)
	sort.Strings(a)
	return slices.Compact(a)
}
