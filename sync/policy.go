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

// MayRead reports whether peer n may fetch a project described by doc,
// whose namespaces resolve to persons people (nil: keys alone): public
// projects are served to anyone not blocked; private ones only to the
// delegates and the allow list, each as its person: any current device
// of a listed person, and no device removed from its person
// (repo.People.MayRead).
func MayRead(doc *protocol.Identity, people *repo.People, n protocol.NID) bool {
	return people.MayRead(doc, n)
}
