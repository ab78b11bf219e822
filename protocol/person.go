package protocol

import (
	"bytes"
	"fmt"
)

// PersonRef is the ref, inside a namespace, of its owner's person
// document: the alias (and optional name and email) people see for the
// namespace's NID, signed by that NID. Like every ref of a namespace it is
// listed in the signed refs.
const PersonRef = "refs/grove/person"

// PersonPayload returns the bytes a namespace's owner nid signs, in
// version 1, to make the person commit with the given tree and parent (""
// for the first revision) at time t (Unix seconds). The commit has one
// encoding given these (repo writes and checks it), so a signed revision
// cannot be wrapped anew.
func PersonPayload(nid NID, tree, parent string, t int64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "grove person v1\nnid %s\ntree %s\n", nid, tree)
	if parent != "" {
		fmt.Fprintf(&b, "parent %s\n", parent)
	}
	fmt.Fprintf(&b, "time %d\n", t)
	return b.Bytes()
}
