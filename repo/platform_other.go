//go:build !unix

package repo

// Grove runs on Unix-like systems only (README.md, "Platforms"): storage
// is locked with flock(2), a push runs a /bin/sh hook, and commands reach
// the node over a unix socket. Elsewhere the build stops at the line below
// rather than make a grove that half works.
const _ = grove_needs_a_Unix_like_system_see_README_Platforms
