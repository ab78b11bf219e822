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
