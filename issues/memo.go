package issues

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// A memo keeps one object's verified changes in the home's cache
// (cache/RID/cobs/TYPE/ID). Loading an object otherwise reads three git
// objects and checks a signature for every change it has, so a command on
// an issue grew with its history: `grove issue show` of an issue of 170
// changes spent most of its time there. A change's oid is the hash of the
// commit that carries its signature, tree and parents, and what was
// verified under an oid holds for good; the memo only saves redoing that
// work. What an object is still comes from the refs: a load walks the DAG
// from the current tips and takes from the memo only the changes it
// reaches, verifying anything else. A memo that is missing, malformed or
// fails its checksum is ignored and written anew; writes replace the file
// by rename.
//
// On disk: the line "grove cob memo 1 SHA256", SHA256 the hex digest of
// the rest, then a JSON memoDoc.

// maxMemoSize bounds a memo's file: a larger one is not read. A memo
// holds each change's actions, so only objects whose changes hold at most
// MaxObjectActions of them, counting shared blobs once per change, are
// memoized (writeMemo), and their memos stay within this.
const maxMemoSize = 2 * MaxObjectActions

// memoRewriteAfter is how many changes a load must verify before it
// writes the memo anew. Each comment adds one change, which the next load
// verifies for less than rewriting the memo costs.
const memoRewriteAfter = 8

const memoMagic = "grove cob memo 1 "

// CacheDir is project rid's cache directory in home: the index, the ID
// lists and the memos.
func CacheDir(h repo.Home, rid protocol.RID) string {
	return filepath.Join(h.Dir, "cache", rid.String())
}

// memoPath is where object typ/id's memo lives under cache directory dir.
func memoPath(dir, typ, id string) string {
	return filepath.Join(dir, "cobs", typ, id)
}

type memoDoc struct {
	RID     string        `json:"rid"`
	Type    string        `json:"type"`
	ID      string        `json:"id"`
	Changes []*memoChange `json:"changes"`
}

// memoChange is a change that was verified: the commit's fields and tree,
// parents as the commit lists them.
type memoChange struct {
	OID     string            `json:"oid"`
	Parents []string          `json:"parents,omitempty"`
	Author  string            `json:"author"`
	Time    int64             `json:"time"`
	Actions []json.RawMessage `json:"actions"`
	Files   map[string]string `json:"files,omitempty"`
}

// readMemo returns the changes in object typ/id's memo at path by oid, or
// nil when there is no usable memo.
func readMemo(path, rid, typ, id string) map[string]*memoChange {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() > maxMemoSize {
		return nil
	}
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil
	}
	line, body, ok := bytes.Cut(data, []byte("\n"))
	sum, ok2 := bytes.CutPrefix(line, []byte(memoMagic))
	if !ok || !ok2 {
		return nil
	}
	want := sha256.Sum256(body)
	if got, err := hex.DecodeString(string(sum)); err != nil || !bytes.Equal(got, want[:]) {
		return nil
	}
	var doc memoDoc
	if json.Unmarshal(body, &doc) != nil || doc.RID != rid || doc.Type != typ || doc.ID != id || len(doc.Changes) > MaxChanges {
		return nil
	}
	out := make(map[string]*memoChange, len(doc.Changes))
	for _, c := range doc.Changes {
		if c == nil || !protocol.ValidOID(c.OID) {
			return nil
		}
		for _, p := range c.Parents {
			if !protocol.ValidOID(p) {
				return nil
			}
		}
		out[c.OID] = c
	}
	return out
}

// writeMemo replaces the memo at path with obj's changes. An object
// whose changes share action blobs so much that copies of them would take
// more than MaxObjectActions gets no memo: it is read from git each time.
func writeMemo(path, rid string, obj *Object) error {
	size := 0
	for _, c := range obj.Changes {
		size += actionsSize(c.Actions)
	}
	if size > MaxObjectActions {
		os.Remove(path)
		return nil
	}
	doc := memoDoc{RID: rid, Type: obj.Type, ID: obj.ID, Changes: make([]*memoChange, len(obj.Changes))}
	for i, c := range obj.Changes {
		doc.Changes[i] = &memoChange{OID: c.OID, Parents: c.commitParents, Author: c.Author.String(), Time: c.Time.Unix(), Actions: c.Actions, Files: c.Files}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return replaceFile(path, func(w *bufio.Writer) error {
		w.WriteString(memoMagic)
		w.WriteString(hex.EncodeToString(sum[:]))
		w.WriteByte('\n')
		_, err := w.Write(body)
		return err
	})
}
