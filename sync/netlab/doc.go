// Package netlab is the network lab: netlab.sh builds a small internet in
// network namespaces (a public segment with a bootstrap/relay node, two
// homes behind masquerading NAT routers), and the tests here run real
// grove binaries in it to check NAT traversal: relay reservations, a clone
// by RID alone through the relay, hole punching, and a push crossing the
// NATs. They need root (CI runs as root) and skip elsewhere.
// bench/nat.sh runs them many times for docs/BENCHMARKS.md.
package netlab
