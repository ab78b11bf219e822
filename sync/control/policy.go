package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// Policy is what a node does on the user's behalf, kept in
// $GROVE_HOME/policy.json so it holds with or without a running node.
type Policy struct {
	// Seeds are the projects this node hosts and keeps in sync.
	Seeds []string `json:"seeds"`
	// Follows are NIDs (with an alias) whose namespaces are fetched in
	// every project, besides delegates and, for public projects, everyone.
	Follows map[string]string `json:"follows"`
	// Blocked are NIDs whose namespaces are never fetched or served.
	Blocked []string `json:"blocked"`
	// Peers are addresses to dial at start (grove connect, --bootstrap).
	Peers []string `json:"peers"`
}

func policyPath(h repo.Home) string { return filepath.Join(h.Dir, "policy.json") }

// LoadPolicy reads h's policy; a missing file is an empty policy.
func LoadPolicy(h repo.Home) (*Policy, error) {
	p := &Policy{Follows: map[string]string{}}
	b, err := os.ReadFile(policyPath(h))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("policy %s: %w", policyPath(h), err)
	}
	if p.Follows == nil {
		p.Follows = map[string]string{}
	}
	return p, nil
}

// Save writes the policy atomically.
func (p *Policy) Save(h repo.Home) error {
	sort.Strings(p.Seeds)
	sort.Strings(p.Blocked)
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.Dir, 0o700); err != nil {
		return err
	}
	return repo.WriteFileAtomic(policyPath(h), append(b, '\n'), 0o600)
}

// Seeding reports whether the node hosts rid.
func (p *Policy) Seeding(rid protocol.RID) bool { return slices.Contains(p.Seeds, rid.String()) }

// AddSeed hosts rid; it reports whether that changed anything.
func (p *Policy) AddSeed(rid protocol.RID) bool {
	if p.Seeding(rid) {
		return false
	}
	p.Seeds = append(p.Seeds, rid.String())
	return true
}

// RemoveSeed stops hosting rid; it reports whether that changed anything.
func (p *Policy) RemoveSeed(rid protocol.RID) bool {
	i := slices.Index(p.Seeds, rid.String())
	if i < 0 {
		return false
	}
	p.Seeds = slices.Delete(p.Seeds, i, i+1)
	return true
}

// AddPeer remembers an address to dial at start.
func (p *Policy) AddPeer(addr string) {
	if !slices.Contains(p.Peers, addr) {
		p.Peers = append(p.Peers, addr)
	}
}

// IsBlocked reports whether n is blocked.
func (p *Policy) IsBlocked(n protocol.NID) bool { return slices.Contains(p.Blocked, n.String()) }

// FollowsIn reports whether the node fetches n's namespace of a project
// described by doc: never when blocked; always for delegates and followed
// NIDs; for everyone else when the project is public, and for those on
// its allow list when it is private (who else could have written to it?).
// A nil doc (a project not read yet) follows everyone not blocked.
func (p *Policy) FollowsIn(doc *protocol.Identity, n protocol.NID) bool {
	if p.IsBlocked(n) {
		return false
	}
	if doc == nil || doc.IsDelegate(n) {
		return true
	}
	if _, ok := p.Follows[n.String()]; ok {
		return true
	}
	if doc.Visibility.Type == protocol.Public {
		return true
	}
	return slices.ContainsFunc(doc.Visibility.Allow, n.Equal)
}
