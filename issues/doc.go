// Package issues is Grove's collaborative-object engine and the two kinds
// built on it: issues and patches.
//
// A collaborative object is a DAG of signed changes stored as git commits
// (change.go, object.go); each peer keeps its tip of an object at
// refs/cobs/<type>/<id> in its own namespace (store.go), so objects travel
// with the namespaces that carry them. What every kind of object shares
// (a Thread: title, description, state, labels, assignees, comments,
// reactions) has one action type and one reducer (thread.go); a kind adds
// its own actions on top (issue.go has none, patch.go has revisions,
// reviews and merges). Materialized issues are cached in
// an on-disk SQLite index keyed by the tips it was built from (index.go).
//
// docs/COBS.md describes the bytes and the rules.
package issues
