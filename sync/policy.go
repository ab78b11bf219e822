package sync

import (
	"example.com/grove/protocol"
	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

// Policy is what a node does on the user's behalf (control.Policy).
type Policy = control.Policy

// LoadPolicy reads h's policy; a missing file is an empty policy.
func LoadPolicy(h repo.Home) (*Policy, error) { return control.LoadPolicy(h) }

// MayRead reports whether peer n may fetch a project described by doc:
// public projects are served to anyone not blocked; private ones only to
// delegates and the allow list.
func MayRead(doc *protocol.Identity, n protocol.NID) bool {
	if doc.Visibility.Type == protocol.Public || doc.IsDelegate(n) {
		return true
	}
	for _, a := range doc.Visibility.Allow {
		if a.Equal(n) {
			return true
		}
	}
	return false
}
