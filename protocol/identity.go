package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// IdentityFile is the name of the document's blob in an identity commit's tree.
const IdentityFile = "identity.json"

// Visibility types.
const (
	Public  = "public"
	Private = "private"
)

// ErrInvalidIdentity is returned for a malformed or non-canonical identity
// document.
var ErrInvalidIdentity = errors.New("invalid identity document")

// Identity is a project's identity document. Its JSON field order is
// alphabetical so that encoding/json output is canonical.
type Identity struct {
	DefaultBranch string `json:"defaultBranch"`
	Delegates     []NID  `json:"delegates"`
	Description   string `json:"description"`
	Name          string `json:"name"`
	// Persons groups delegates that are devices of one person: each
	// group is one voter toward the threshold (version 2; absent, and
	// version 1, when there is none).
	Persons    [][]NID    `json:"persons,omitempty"`
	Threshold  int        `json:"threshold"`
	Version    int        `json:"version"`
	Visibility Visibility `json:"visibility"`
}

// Visibility says who may see a project.
type Visibility struct {
	Allow []NID  `json:"allow,omitempty"`
	Type  string `json:"type"`
}

// IsDelegate reports whether n is one of the document's delegates.
func (d *Identity) IsDelegate(n NID) bool {
	for _, x := range d.Delegates {
		if x.Equal(n) {
			return true
		}
	}
	return false
}

// Voter returns whom delegate n votes as toward the threshold: the first
// NID of its persons group, or n itself.
func (d *Identity) Voter(n NID) string {
	for _, g := range d.Persons {
		if slices.ContainsFunc(g, n.Equal) && len(g) > 0 {
			return g[0].String()
		}
	}
	return n.String()
}

// Voters returns how many voters the delegates are: each persons group
// counts once.
func (d *Identity) Voters() int {
	seen := map[string]bool{}
	for _, n := range d.Delegates {
		seen[d.Voter(n)] = true
	}
	return len(seen)
}

// Normalize sorts and de-duplicates the lists, drops persons groups of
// fewer than two NIDs, and fills the version: 2 with persons groups, else
// 1.
func (d *Identity) Normalize() {
	d.Delegates = sortNIDs(d.Delegates)
	d.Visibility.Allow = sortNIDs(d.Visibility.Allow)
	var groups [][]NID
	for _, g := range d.Persons {
		if g = sortNIDs(g); len(g) >= 2 {
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i][0].String() < groups[j][0].String() })
	d.Persons = groups
	d.Version = 1
	if len(groups) > 0 {
		d.Version = 2
	}
}

func sortNIDs(in []NID) []NID {
	if len(in) == 0 {
		return nil
	}
	out := make([]NID, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, n := range in {
		if !seen[n.String()] {
			seen[n.String()] = true
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Validate checks the document's fields.
func (d *Identity) Validate() error {
	switch {
	case d.Version != 1 && d.Version != 2:
		return fmt.Errorf("%w: version %d is not supported", ErrInvalidIdentity, d.Version)
	case d.Version == 1 && len(d.Persons) > 0:
		return fmt.Errorf("%w: version 1 has no persons", ErrInvalidIdentity)
	case d.Version == 2 && len(d.Persons) == 0:
		return fmt.Errorf("%w: version 2 groups delegates into persons, and has none", ErrInvalidIdentity)
	case strings.TrimSpace(d.Name) == "" || len(d.Name) > 255:
		return fmt.Errorf("%w: name must be 1 to 255 characters", ErrInvalidIdentity)
	case len(d.Description) > 4096:
		return fmt.Errorf("%w: description over 4096 characters", ErrInvalidIdentity)
	case len(d.Delegates) == 0 || len(d.Delegates) > 255:
		return fmt.Errorf("%w: needs 1 to 255 delegates", ErrInvalidIdentity)
	case d.Threshold < 1 || d.Threshold > len(d.Delegates):
		return fmt.Errorf("%w: threshold %d with %d delegates", ErrInvalidIdentity, d.Threshold, len(d.Delegates))
	case d.Threshold > d.Voters():
		return fmt.Errorf("%w: threshold %d with %d delegate persons (devices of one person count once)", ErrInvalidIdentity, d.Threshold, d.Voters())
	case d.Visibility.Type != Public && d.Visibility.Type != Private:
		return fmt.Errorf("%w: visibility %q is neither public nor private", ErrInvalidIdentity, d.Visibility.Type)
	case d.Visibility.Type == Public && len(d.Visibility.Allow) > 0:
		return fmt.Errorf("%w: a public project has no allow list", ErrInvalidIdentity)
	}
	grouped := map[string]bool{}
	for _, g := range d.Persons {
		if len(g) < 2 {
			return fmt.Errorf("%w: a persons group has fewer than 2 delegates", ErrInvalidIdentity)
		}
		for _, n := range g {
			if !d.IsDelegate(n) {
				return fmt.Errorf("%w: persons group member %s is not a delegate", ErrInvalidIdentity, n)
			}
			if grouped[n.String()] {
				return fmt.Errorf("%w: %s is in two persons groups", ErrInvalidIdentity, n)
			}
			grouped[n.String()] = true
		}
	}
	if err := CheckRefName("refs/heads/" + d.DefaultBranch); err != nil || d.DefaultBranch == "" {
		return fmt.Errorf("%w: default branch %q is not a valid branch name", ErrInvalidIdentity, d.DefaultBranch)
	}
	for _, n := range append(append([]NID(nil), d.Delegates...), d.Visibility.Allow...) {
		if n.IsZero() {
			return fmt.Errorf("%w: empty node ID", ErrInvalidIdentity)
		}
	}
	return nil
}

// Encode returns the canonical JSON of a normalized, valid document.
func (d *Identity) Encode() ([]byte, error) {
	c := *d
	c.Normalize()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(&c); err != nil {
		return nil, fmt.Errorf("encode identity: %w", err)
	}
	return b.Bytes(), nil // ends in one "\n", like a text file
}

// ParseIdentity parses a document and rejects anything that is not its
// canonical encoding.
func ParseIdentity(b []byte) (*Identity, error) {
	if len(b) > MaxIdentity {
		return nil, fmt.Errorf("%w: %d bytes", ErrInvalidIdentity, len(b))
	}
	var d Identity
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidIdentity, err)
	}
	want, err := d.Encode()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, b) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrInvalidIdentity)
	}
	return &d, nil
}

// IdentityPayload returns the bytes a delegate signs to approve an identity
// commit with the given tree and parents.
func IdentityPayload(tree string, parents []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "grove identity v1\ntree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	return b.Bytes()
}

// IdentityPayloadV2 returns the bytes a delegate signs, in version 2, to
// approve an identity commit with the given tree and parents made at time
// t (Unix seconds). With the time signed, the commit has one encoding
// (repo writes and checks it), so a signed revision, and above all a
// project's root and so its RID, cannot be wrapped anew.
func IdentityPayloadV2(tree string, parents []string, t int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "grove identity v2\ntree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "time %d\n", t)
	return b.Bytes()
}

// SignatureTrailer is the commit trailer key carrying a delegate's signature.
const SignatureTrailer = "Grove-Signature"

// IdentitySignature is one delegate's signature of an identity commit.
type IdentitySignature struct {
	NID       NID
	Signature []byte
}

// Trailer returns the signature as a commit-message trailer line.
func (s IdentitySignature) Trailer() string {
	return fmt.Sprintf("%s: %s %s", SignatureTrailer, s.NID, base64.RawStdEncoding.EncodeToString(s.Signature))
}

// ParseIdentitySignatures returns the signature trailers of a commit message.
// Malformed trailers are errors: a signed commit has nothing to hide.
func ParseIdentitySignatures(msg string) ([]IdentitySignature, error) {
	var out []IdentitySignature
	for _, line := range strings.Split(msg, "\n") {
		rest, ok := strings.CutPrefix(line, SignatureTrailer+": ")
		if !ok {
			continue
		}
		n, s, ok := strings.Cut(rest, " ")
		if !ok {
			return nil, fmt.Errorf("%w: malformed %s trailer", ErrInvalidIdentity, SignatureTrailer)
		}
		nid, err := ParseNID(n)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidIdentity, err)
		}
		sig, err := base64.RawStdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: signature of %s: %v", ErrInvalidIdentity, n, err)
		}
		out = append(out, IdentitySignature{NID: nid, Signature: sig})
	}
	return out, nil
}

// VerifyIdentitySignatures checks that at least threshold of delegates signed
// the payload. Signatures by others, and duplicates, do not count.
func VerifyIdentitySignatures(payload []byte, sigs []IdentitySignature, delegates []NID, threshold int) error {
	return VerifyIdentityBy(payload, sigs, &Identity{Delegates: delegates, Threshold: threshold})
}

// VerifyIdentityBy checks that the payload is signed by at least the
// threshold of signers' voters: its delegates, the devices of one persons
// group counting once. Signatures by others, and duplicates, do not count;
// a wrong signature by a delegate is an error.
func VerifyIdentityBy(payload []byte, sigs []IdentitySignature, signers *Identity) error {
	ok := make(map[string]bool)
	for _, s := range sigs {
		for _, d := range signers.Delegates {
			if d.Equal(s.NID) {
				if !d.Verify(payload, s.Signature) {
					return fmt.Errorf("%w by %s on identity", ErrBadSignature, s.NID)
				}
				ok[signers.Voter(d)] = true
			}
		}
	}
	if len(ok) < signers.Threshold {
		return fmt.Errorf("%w: identity signed by %d of the %d delegates it needs", ErrBadSignature, len(ok), signers.Threshold)
	}
	return nil
}
