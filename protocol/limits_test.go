package protocol_test

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/grove/protocol"
)

var updateDoc = flag.Bool("update", false, "rewrite docs/SECURITY.md's limits table from protocol.LimitTable")

const (
	securityDoc = "../docs/SECURITY.md"
	limitsBegin = "<!-- limits: generated from protocol.LimitTable; go test ./protocol -run TestSecurityDocLimits -update -->\n"
	limitsEnd   = "<!-- end of limits -->\n"
)

// limitValue writes a limit as the docs do: 4 KiB, 100,000, 10 s.
func limitValue(l protocol.Limit) string {
	switch l.Unit {
	case protocol.Bytes:
		for _, u := range []struct {
			name string
			size int64
		}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if l.Value >= u.size && l.Value%u.size == 0 {
				return fmt.Sprintf("%d %s", l.Value/u.size, u.name)
			}
		}
		return thousands(l.Value) + " bytes"
	case protocol.Duration:
		d := time.Duration(l.Value)
		if d >= time.Hour && d%time.Hour == 0 {
			return fmt.Sprintf("%d h", d/time.Hour)
		}
		if d >= time.Minute && d%time.Minute == 0 {
			return fmt.Sprintf("%d min", d/time.Minute)
		}
		return fmt.Sprintf("%g s", d.Seconds())
	}
	return thousands(l.Value)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func limitsTable() string {
	var b strings.Builder
	b.WriteString("| what | limit | constant |\n|---|---|---|\n")
	for _, l := range protocol.LimitTable() {
		fmt.Fprintf(&b, "| %s | %s | `protocol.%s` |\n", l.What, limitValue(l), l.Name)
	}
	return b.String()
}

// TestSecurityDocLimits: docs/SECURITY.md's limits table is LimitTable.
func TestSecurityDocLimits(t *testing.T) {
	doc, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, limitsBegin), strings.Index(s, limitsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no limits table between %q and %q", securityDoc, limitsBegin, limitsEnd)
	}
	got, want := s[i+len(limitsBegin):j], limitsTable()
	if *updateDoc {
		if err := os.WriteFile(securityDoc, []byte(s[:i+len(limitsBegin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("%s's limits table is not protocol.LimitTable's: run go test ./protocol -run TestSecurityDocLimits -update\n--- doc\n%s--- code\n%s", securityDoc, got, want)
	}
}

// TestLimitTableComplete: every constant of limits.go is in LimitTable
// once, so none is left out of the docs.
func TestLimitTableComplete(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "limits.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range protocol.LimitTable() {
		if slices.Contains(names, l.Name) {
			t.Errorf("%s is in LimitTable twice", l.Name)
		}
		names = append(names, l.Name)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		if id, ok := g.Specs[0].(*ast.ValueSpec).Type.(*ast.Ident); ok && id.Name == "Unit" {
			continue // the units, not limits
		}
		for _, spec := range g.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if n.Name != "_" && !slices.Contains(names, n.Name) {
					t.Errorf("limit %s is not in LimitTable (nor in docs/SECURITY.md)", n.Name)
				}
			}
		}
	}
}
