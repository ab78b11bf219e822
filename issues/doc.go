// Package issues is Grove's collaborative-object engine and the issue type
// built on it.
//
// A collaborative object is a DAG of signed changes stored as git commits
// (change.go, object.go); each peer keeps its tip of an object at
// refs/cobs/<type>/<id> in its own namespace (store.go), so objects travel
// with the namespaces that carry them. Object types supply actions and a
// reducer on top of the engine (issue.go). Materialized issues are cached in
// an on-disk SQLite index keyed by the tips it was built from (index.go).
//
// docs/COBS.md describes the bytes and the rules.
package issues
