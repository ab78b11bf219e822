package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalidRefs is returned for a malformed ref list.
var ErrInvalidRefs = errors.New("invalid ref list")

// Ref is one ref of a namespace, by its name inside the namespace
// (e.g. "refs/heads/main").
type Ref struct {
	Name string `json:"name"`
	OID  string `json:"oid"`
}

// RefList is a namespace's refs sorted by name, names unique.
type RefList []Ref

// NewRefList returns the refs of m as a sorted list.
func NewRefList(m map[string]string) RefList {
	l := make(RefList, 0, len(m))
	for name, oid := range m {
		l = append(l, Ref{Name: name, OID: oid})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}

// Map returns the list as name → oid.
func (l RefList) Map() map[string]string {
	m := make(map[string]string, len(l))
	for _, r := range l {
		m[r.Name] = r.OID
	}
	return m
}

// Get returns the oid of the ref with the given name.
func (l RefList) Get(name string) (string, bool) {
	i := sort.Search(len(l), func(i int) bool { return l[i].Name >= name })
	if i < len(l) && l[i].Name == name {
		return l[i].OID, true
	}
	return "", false
}

// Encode returns the canonical bytes: "<oid> <name>\n" per ref.
func (l RefList) Encode() []byte {
	var b bytes.Buffer
	for _, r := range l {
		b.WriteString(r.OID)
		b.WriteByte(' ')
		b.WriteString(r.Name)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseRefList parses and validates the canonical encoding; anything not
// canonical (unsorted, duplicate, bad oid or name) is rejected.
func ParseRefList(b []byte) (RefList, error) {
	if len(b) > MaxRefList {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d", ErrInvalidRefs, len(b), MaxRefList)
	}
	if len(b) == 0 {
		return RefList{}, nil
	}
	if b[len(b)-1] != '\n' {
		return nil, fmt.Errorf("%w: no final newline", ErrInvalidRefs)
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	if len(lines) > MaxRefs {
		return nil, fmt.Errorf("%w: %d refs is over the limit of %d", ErrInvalidRefs, len(lines), MaxRefs)
	}
	l := make(RefList, 0, len(lines))
	for i, line := range lines {
		oid, name, ok := strings.Cut(line, " ")
		if !ok || !ValidOID(oid) {
			return nil, fmt.Errorf("%w: line %d: want \"<oid> <ref>\"", ErrInvalidRefs, i+1)
		}
		if err := CheckRefName(name); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidRefs, i+1, err)
		}
		if i > 0 && l[i-1].Name >= name {
			return nil, fmt.Errorf("%w: line %d: not sorted or duplicate", ErrInvalidRefs, i+1)
		}
		l = append(l, Ref{Name: name, OID: oid})
	}
	return l, nil
}

// ValidOID reports whether s is a lower-case hex sha1 object ID.
func ValidOID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CheckRefName checks a ref name inside a namespace with git's rules
// (git check-ref-format) plus Grove's: it starts with "refs/" and never
// reaches into another namespace.
func CheckRefName(name string) error {
	if validRefName(name) {
		return nil
	}
	return refNameError(name)
}

// validRefName reports whether CheckRefName accepts name, in one pass
// over it: a fetch checks every ref of every namespace that arrives.
func validRefName(name string) bool {
	if len(name) > MaxRefName || !strings.HasPrefix(name, "refs/") || strings.HasPrefix(name, "refs/namespaces/") {
		return false
	}
	var prev byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case ' ', '~', '^', ':', '?', '*', '[', '\\', 0x7f:
			return false
		case '.':
			if prev == '.' || prev == '/' {
				return false
			}
		case '{':
			if prev == '@' {
				return false
			}
		case '/':
			if prev == '/' || strings.HasSuffix(name[:i], ".lock") {
				return false
			}
		}
		if c < 0x20 {
			return false
		}
		prev = c
	}
	return prev != '/' && prev != '.' && !strings.HasSuffix(name, ".lock")
}

// refNameError says why CheckRefName refuses name, nil if it does not.
func refNameError(name string) error {
	switch {
	case len(name) > MaxRefName:
		return fmt.Errorf("ref name longer than %d bytes", MaxRefName)
	case !strings.HasPrefix(name, "refs/"):
		return fmt.Errorf("ref %q is not under refs/", name)
	case strings.HasPrefix(name, "refs/namespaces/"):
		return fmt.Errorf("ref %q reaches into another namespace", name)
	}
	for _, c := range []string{"..", "@{", "//", "/.", "\\"} {
		if strings.Contains(name, c) {
			return fmt.Errorf("ref %q contains %q", name, c)
		}
	}
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") || strings.HasSuffix(name, ".lock") ||
		strings.Contains(name, ".lock/") { // git refuses any component ending in .lock
		return fmt.Errorf("ref %q has a bad ending", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[", c) >= 0 {
			return fmt.Errorf("ref %q contains a forbidden character", name)
		}
	}
	return nil
}
