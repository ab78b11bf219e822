// Package gitstore is Grove's own reading and writing of git's objects
// and refs, in process, in one bare repository:
//
//   - objects: loose objects written and read (objects.go, reader.go),
//     packs mapped once and read with their deltas (pack.go), and go-git's
//     object store for what those do not read (alternates, a pack they
//     cannot map);
//   - commits: the commit codec Grove's own commits use (commit.go);
//   - refs: loose and packed refs read (refs.go: Get, and List and Names,
//     Grove's one way to list refs) and written in one transaction with
//     git's lock-file protocol (reftx.go).
//
// Everything else about git (serving and receiving packs, merge-base,
// fetch) is left to the git binary and to go-git. Only package repo
// imports this one. conformance_test.go runs every reader and writer here
// against real git; docs/STORAGE.md ("Grove's own git code") says why each
// piece is here rather than left to go-git or git, with the measurements.
package gitstore
