package gitstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"example.com/grove/protocol"
)

// A transaction of more than one ref is made crash-atomic by a journal:
// git's files backend renames one "<ref>.lock" at a time, so a process
// killed between two renames would leave some refs moved and others not
// (in Grove, a namespace whose refs differ from its signed refs). Once
// every ref is locked, checked and its new value written to its lock, the
// transaction writes the journal, a file "grove-reftx-<random>" in the
// storage naming every ref with its old and new value and ending in a
// trailer, and syncs it (writeJournal): that is the commit point. Then
// come the renames, then the journal is removed; should a rename fail,
// the refs moved are put back first. A journal found later (FinishInterrupted,
// run by the next writer holding the storage's writer lock, and by
// whoever opens the storage when no writer holds it) is a transaction
// whose process died after its commit point: its refs are rolled forward
// to their new values, or, should a new value's object be missing (a
// power loss that lost unsynced loose objects), back to their old ones. A
// journal without its trailer was cut short before the commit point, when
// no ref had moved.
//
// Why not one packed-refs rewrite per transaction, which git renames
// atomically? A loose ref shadows its packed value, so moving refs into
// packed-refs means deleting their loose files afterwards: a second step
// a crash can separate from the first, the same problem again. Keeping
// every ref packed instead would rewrite the whole file (every namespace,
// tens of thousands of refs) on each issue comment, and any git that
// writes a loose ref (update-ref, a fetch into the storage) would break
// the scheme. The journal leaves the storage in git's own format at every
// step: git reads and serves it unchanged, it merely ignores the journal.

// journalPrefix starts a journal's file name in the storage directory.
const journalPrefix = "grove-reftx-"

// journalHeader and journalTrailer open and close a complete journal.
const (
	journalHeader  = "# grove ref transaction 1\n"
	journalTrailer = "# end "
)

// maxJournal bounds a journal's file (a transaction of one clone's refs).
const maxJournal = 256 << 20

// writeJournal writes updates as a new journal in dir, synced, and
// returns its path. Its directory is not synced, as git syncs none: a
// journaling file system such as ext4 writes metadata changes in order,
// so its name is on disk before the renames that follow are.
func writeJournal(dir string, updates []RefUpdate) (string, error) {
	var b bytes.Buffer
	b.WriteString(journalHeader)
	orZero := func(oid string) string {
		if oid == "" {
			return zeroOID
		}
		return oid
	}
	for _, u := range updates {
		fmt.Fprintf(&b, "%s %s %s\n", orZero(u.Old), orZero(u.New), u.Name)
	}
	fmt.Fprintf(&b, "%s%d\n", journalTrailer, len(updates))
	var path string
	var f *os.File
	for tries := 0; ; tries++ {
		path = filepath.Join(dir, journalPrefix+strconv.FormatUint(rand.Uint64(), 36))
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || tries >= 10 {
			return "", fmt.Errorf("write ref journal: %w", err)
		}
	}
	_, err := f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write ref journal: %w", err)
	}
	return path, nil
}

// readJournal parses the journal at path. complete is false when the
// file lacks its trailer (or is not a journal at all): it was cut short.
func readJournal(path string) (updates []RefUpdate, complete bool, err error) {
	b, err := readSmall(path, maxJournal)
	if err != nil {
		return nil, false, err
	}
	rest, ok := bytes.CutPrefix(b, []byte(journalHeader))
	if !ok {
		return nil, false, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(rest))
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, journalTrailer); ok {
			count, err := strconv.Atoi(n)
			complete = err == nil && count == len(updates) && !sc.Scan()
			return updates, complete, nil
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || !protocol.ValidOID(f[0]) || !protocol.ValidOID(f[1]) || checkFullRefName(f[2]) != nil {
			return updates, false, nil
		}
		u := RefUpdate{Name: f[2], Old: f[0], New: f[1]}
		if u.Old == zeroOID {
			u.Old = ""
		}
		if u.New == zeroOID {
			u.New = ""
		}
		updates = append(updates, u)
	}
	return updates, false, nil
}

// journals returns the paths of the journals in dir.
func journals(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), journalPrefix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// Interrupted reports whether the storage holds the journal of a ref
// transaction that has not finished: a live one, or one whose process
// died (FinishInterrupted).
func (s *Store) Interrupted() bool {
	js, err := journals(s.dir)
	return err == nil && len(js) > 0
}

// FinishInterrupted completes the ref transactions whose process died
// after their commit point, as their journals say, and removes their lock
// files and journals; it returns how many it finished. Only the holder of
// the storage's writer lock may call it: every journal and ref lock file
// it finds must be a dead writer's.
func (s *Store) FinishInterrupted() (int, error) {
	js, err := journals(s.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("finish interrupted ref transactions: %w", err)
	}
	done := 0
	for _, j := range js {
		if err := s.finish(j); err != nil {
			return done, fmt.Errorf("finish the ref transaction of %s: %w", filepath.Base(j), err)
		}
		done++
	}
	return done, nil
}

// finish completes the transaction of journal j (see the comment at the
// top of this file) and removes j.
func (s *Store) finish(j string) error {
	updates, complete, err := readJournal(j)
	if err != nil {
		return err
	}
	t := &refTx{dir: s.dir}
	// The dead writer's lock files: of its refs and, for a deletion,
	// packed-refs.
	for _, u := range updates {
		if err := removeIfExists(t.lockPath(u.Name)); err != nil {
			return err
		}
	}
	if err := removeIfExists(t.lockPath("packed-refs")); err != nil {
		return err
	}
	if complete {
		if err := s.rollForward(updates); err != nil {
			return err
		}
	}
	// Cut short: written before any ref moved, so nothing to do.
	if err := os.Remove(j); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// rollForward moves every ref of updates to its new value or, when a new
// value's object is missing, back to its old one (settle).
func (s *Store) rollForward(updates []RefUpdate) error {
	var rd *ObjectReader
	defer func() {
		if rd != nil {
			rd.Close()
		}
	}()
	target := func(u RefUpdate) string { return u.New }
	for _, u := range updates {
		if u.New != "" && !s.hasObject(&rd, u.New) {
			target = func(u RefUpdate) string { return u.Old }
			break
		}
	}
	return settle(s.dir, updates, target)
}

// settle moves every ref of updates that is at its old or new value to
// target's value for it, in a transaction without a journal of its own:
// the journal being finished covers it, and stays until it is done, so a
// crash here is finished again from it. A ref at neither value is left
// alone: nothing but the transaction could have moved it before its
// journal was finished, unless someone wrote the storage without its
// writer lock.
func settle(dir string, updates []RefUpdate, target func(RefUpdate) string) error {
	f := &Refs{dir: dir}
	defer f.release()
	packed, err := f.packedRefs()
	if err != nil {
		return err
	}
	probe := &refTx{dir: dir}
	var tx []RefUpdate
	for _, u := range updates {
		cur, err := probe.current(packed, u.Name)
		if err != nil {
			return err
		}
		want := target(u)
		if cur == want || (cur != u.Old && cur != u.New) {
			continue
		}
		tx = append(tx, RefUpdate{Name: u.Name, Old: cur, New: want})
	}
	if len(tx) == 0 {
		return nil
	}
	t := &refTx{dir: dir, updates: tx, noJournal: true}
	return t.commit()
}
