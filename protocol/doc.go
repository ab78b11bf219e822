// Package protocol holds Grove's identifiers and signed formats: repository
// IDs (RID), node IDs (NID), the identity document and signed refs. It is pure
// data, encoding and verification and imports nothing else of Grove, so every
// other package (and every other implementation) can agree on the bytes.
//
// # Identifiers
//
//   - RID: CIDv1, codec git-raw (0x78), multihash sha1, of the root identity
//     commit, printed in multibase base32 ("baf…").
//   - NID: the libp2p peer ID of a user's ed25519 key ("12D3KooW…"), also
//     printable as did:key ("did:key:z6Mk…").
//
// # Signed refs (version 3)
//
// A namespace's refs, without the sigrefs ref itself, form a ref tree: a git
// tree in which each ref name's components are directories and each ref is
// a gitlink (mode 160000) naming its oid, placed in a bucket directory
// RefBucket(last component) just above it (RefTreePath). The owner signs,
// with ed25519, the bytes
//
//	grove sigrefs v3\n
//	rid <RID>\n
//	parent <oid of previous sigrefs commit, or "none">\n
//	refs <oid of the ref tree>\n
//	time <Unix seconds>\n
//
// Binding the RID stops replay into another project; binding the parent stops
// an old list from being re-wrapped as a newer commit (rollback). The
// commit that carries it has one encoding, fixed by these bytes (the owner
// as author and committer at that time in UTC, the message "grove sigrefs
// v3"), so a signed revision has one oid (see repo and docs/STORAGE.md).
//
// # Signed refs (versions 1 and 2, read only)
//
// Version 2 signed the version 3 bytes without the time line, as "grove
// sigrefs v2". Version 1 listed the refs one per line as "<oid>
// <refname>\n", sorted by refname, signed as "grove sigrefs v1\nrid
// <RID>\nparent <oid|none>\n\n<list>". Their commits could be wrapped
// anew, so revisions are compared by what they sign (SameRevision).
//
// # Identity document (version 1)
//
// Canonical JSON (keys sorted, no insignificant space, lists sorted and
// unique) of name, description, default branch, delegates, threshold and
// visibility. A document commit carries one "Grove-Signature: <NID> <sig>"
// trailer per signing delegate; each signs (commit version 2)
//
//	grove identity v2\n
//	tree <tree oid>\n
//	parent <oid>\n    (one line per parent, none for the root)
//	time <Unix seconds>\n
//
// and the commit has one encoding fixed by these bytes and the signatures
// (see repo and docs/STORAGE.md), so a root, and so a RID, cannot be
// wrapped anew. Version 1 commits, still read, signed "grove identity v1"
// with the tree and parent lines only.
package protocol
