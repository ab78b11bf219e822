package issues

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoadBoundsActions: a stranger may write changes to any issue of a
// public project. Many changes that share one large action blob are held
// once (before, 200 such changes held 199 MiB); distinct large blobs past
// MaxObjectActions refuse the object (ErrTooLarge) instead of filling
// memory.
func TestLoadBoundsActions(t *testing.T) {
	k := testKey(t, 1)
	rid := testRID(t)
	m := memObjects{}
	big := strings.Repeat("x", MaxActionsSize-100)
	root := mustWrite(t, m, k, rid, nil, "n", t0, Action{Type: "open", Title: "t", Body: "b"})

	// 100 changes, one blob: 100 MiB if each held its own copy.
	tip := root
	for i := range 100 {
		tip = mustWrite(t, m, k, rid, []string{tip}, "", t0.Add(time.Duration(i+1)*time.Second), Action{Type: "comment", Body: big})
	}
	obj, err := Load(context.Background(), m, rid, IssueType, root, []string{tip})
	if err != nil {
		t.Fatalf("shared blob: %v", err)
	}
	if len(obj.Changes) != 101 {
		t.Fatalf("%d changes, want 101", len(obj.Changes))
	}
	first := obj.Changes[1].Actions[0]
	for _, c := range obj.Changes[2:] {
		if &c.Actions[0][0] != &first[0] {
			t.Fatalf("change %.7s holds its own copy of a shared action blob", c.OID)
		}
	}
	// Its memo would hold 100 copies: none is written, and loads still
	// work from git.
	path := filepath.Join(t.TempDir(), "memo")
	if err := writeMemo(path, rid.String(), obj); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("memo of a shared-blob object written: %v", err)
	}

	// Distinct large blobs, past the bound: refused.
	tip = root
	n := MaxObjectActions/MaxActionsSize + 1
	for i := range n {
		body := big[:len(big)-i-1] + "y"
		tip = mustWrite(t, m, k, rid, []string{tip}, "", t0.Add(time.Duration(i+1)*time.Second), Action{Type: "comment", Body: body})
	}
	if _, err := Load(context.Background(), m, rid, IssueType, root, []string{tip}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d distinct %d KiB blobs: %v, want ErrTooLarge", n, MaxActionsSize>>10, err)
	}
}

// TestChangeTimesAreClamped: an author's clock is theirs to set. A change
// dated past year 9999 (or before 1970) loads with a time that every view,
// --json included, can write.
func TestChangeTimesAreClamped(t *testing.T) {
	k := testKey(t, 1)
	rid := testRID(t)
	m := memObjects{}
	root := mustWrite(t, m, k, rid, nil, "n", t0, Action{Type: "open", Title: "t", Body: "b"})
	late := mustWrite(t, m, k, rid, []string{root}, "", time.Unix(1099511627776, 0), Action{Type: "comment", Body: "from year 36812"})
	early := mustWrite(t, m, k, rid, []string{late}, "", time.Unix(-1e10, 0), Action{Type: "comment", Body: "from year 1653"})
	is := mustMaterialize(t, m, rid, root, Rules{}, early)
	if len(is.Comments) != 2 {
		t.Fatalf("%d comments, want 2", len(is.Comments))
	}
	for _, c := range is.Comments {
		if y := c.Created.Year(); y < 1970 || y > 9999 {
			t.Errorf("comment %q dated %v", c.Body, c.Created)
		}
	}
	if _, err := json.Marshal(is); err != nil {
		t.Errorf("issue with clamped times does not encode: %v", err)
	}
}

// TestCyclicDAGIsRefused: change oids name their content, so a cycle
// takes a SHA-1 collision, or a store that lies about what an oid holds.
// Given one (the reader here returns, under a change's oid, another
// change whose parent is a descendant of it), a load ends: it refuses the
// object or returns each change once, and never loops.
func TestCyclicDAGIsRefused(t *testing.T) {
	k := testKey(t, 1)
	rid := testRID(t)
	for _, tt := range []struct {
		name string
		lie  func(m memObjects, root, a, b string) (tips []string)
	}{
		{"through the root", func(m memObjects, root, a, b string) []string {
			// root's oid holds a change on top of a: root ↔ a.
			m[root] = m[mustWrite(t, m, k, rid, []string{a}, "", t0.Add(3*time.Second), Action{Type: "comment", Body: "lie"})]
			return []string{b}
		}},
		{"below the root", func(m memObjects, root, a, b string) []string {
			// a's oid holds a change on top of b: a ↔ b, root unreached.
			m[a] = m[mustWrite(t, m, k, rid, []string{b}, "", t0.Add(3*time.Second), Action{Type: "comment", Body: "lie"})]
			return []string{b}
		}},
		{"beside the root", func(m memObjects, root, a, b string) []string {
			// a's oid holds a change on top of root and b: a ↔ b, with
			// the root reached.
			m[a] = m[mustWrite(t, m, k, rid, []string{root, b}, "", t0.Add(3*time.Second), Action{Type: "comment", Body: "lie"})]
			return []string{b}
		}},
		{"a self-loop", func(m memObjects, root, a, b string) []string {
			// b's oid holds a change whose parent is b itself.
			m[b] = m[mustWrite(t, m, k, rid, []string{b}, "", t0.Add(3*time.Second), Action{Type: "comment", Body: "lie"})]
			return []string{b}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := memObjects{}
			root := mustWrite(t, m, k, rid, nil, "n", t0, Action{Type: "open", Title: "t", Body: "b"})
			a := mustWrite(t, m, k, rid, []string{root}, "", t0.Add(time.Second), Action{Type: "comment", Body: "a"})
			b := mustWrite(t, m, k, rid, []string{a}, "", t0.Add(2*time.Second), Action{Type: "comment", Body: "b"})
			tips := tt.lie(m, root, a, b)
			obj, err := Load(context.Background(), m, rid, IssueType, root, tips)
			if err != nil {
				t.Logf("refused: %v", err)
				return
			}
			seen := map[string]bool{}
			for _, c := range obj.Changes {
				if seen[c.OID] {
					t.Fatalf("change %.7s loaded twice", c.OID)
				}
				seen[c.OID] = true
			}
			if len(obj.Changes) > 4 {
				t.Fatalf("%d changes from a store of 4", len(obj.Changes))
			}
			t.Logf("loaded %d changes", len(obj.Changes))
		})
	}
}
