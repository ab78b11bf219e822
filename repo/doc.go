// Package repo is Grove's local storage: one bare git repository per project
// under $GROVE_HOME/storage/<RID>.git, with each peer's refs in its own git
// namespace, signed ref lists, the project's identity document, canonical
// refs derived from the delegates, and pushes that land through a
// quarantine in one ref transaction. It knows git; it knows nothing of the
// network. See docs/STORAGE.md.
package repo
