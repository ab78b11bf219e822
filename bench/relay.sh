#!/usr/bin/env bash
# What an always-on relay costs: the resident memory (VmRSS) of a node
# started `grove node start --public --relay-service`, idle, then with two
# nodes behind NATs holding reservations, then carrying a relayed
# connection; and the bytes it sends and receives while idle in each state.
# Runs in the network lab (sync/netlab/netlab.sh, symmetric NATs, so the relayed
# connection stays relayed); nothing leaves the machine.
#
#   bench/relay.sh [-i SECONDS]
#
#   -i SECONDS  how long each idle measurement lasts (default 300)
#
# Needs root (network namespaces), ip and iptables.
set -euo pipefail
export CGO_ENABLED=0

idle=300
while getopts "i:" opt; do
	case $opt in
	i) idle=$OPTARG ;;
	*) echo "usage: $0 [-i SECONDS]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "relay.sh: needs root (network namespaces)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
id=r$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
	bash "$root/sync/netlab/netlab.sh" down "$id" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "relay.sh: $*" >&2; }

bin=$tmp/bin
mkdir -p "$bin"
(cd "$root" && go build -o "$bin/" ./cmd/...)
bash "$root/sync/netlab/netlab.sh" up "$id" symmetric

# as NAME NS CMD...: run CMD as person NAME in namespace NS.
as() {
	local who=$1 ns=$2
	shift 2
	mkdir -p "$tmp/$who"
	ip netns exec "$id-$ns" env PATH="$bin:$PATH" HOME="$tmp/$who" GROVE_HOME="$tmp/$who/.grove" \
		GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$tmp/$who/.gitconfig" \
		GIT_AUTHOR_NAME="$who" GIT_AUTHOR_EMAIL="$who@example.com" \
		GIT_COMMITTER_NAME="$who" GIT_COMMITTER_EMAIL="$who@example.com" "$@"
}
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$(cat "$tmp/relay/.grove/node/pid")/status"; }
# the bytes the relay's own network stack received and sent on the public segment
bytes() { ip netns exec "$id-pub" cat /sys/class/net/br0/statistics/rx_bytes /sys/class/net/br0/statistics/tx_bytes | paste -sd' '; }
# measure LABEL: idle for $idle seconds, then print a row with RSS and bytes per minute
measure() {
	local b0 b1
	b0=$(bytes)
	sleep "$idle"
	b1=$(bytes)
	read -r r0 t0 <<<"$b0"
	read -r r1 t1 <<<"$b1"
	echo "| $1 | $(rss) MB | $(((r1 - r0) * 60 / idle)) B/min in, $(((t1 - t0) * 60 / idle)) B/min out |"
}

as relay pub grove auth --alias relay >/dev/null
relay=$(as relay pub grove node start --public --relay-service | grep '^/ip4/7.7.7.10/tcp/')
log "relay at $relay; idle ${idle}s"
rows=$tmp/rows
echo "| relay | VmRSS at the end | traffic while idle (relay's own interface) |" >"$rows"
echo "|---|---|---|" >>"$rows"
measure "idle, no peers, ${idle} s" >>"$rows"

for p in alice:a bob:b; do
	as "${p%%:*}" "${p#*:}" grove auth --alias "${p%%:*}" >/dev/null
	as "${p%%:*}" "${p#*:}" grove node start --bootstrap "$relay" --relay "$relay" >/dev/null
done
for _ in $(seq 1 100); do
	as alice a grove node status --json | grep -q '"reservations"' && as bob b grove node status --json | grep -q '"reservations"' && break
	sleep 0.1
done
log "two reservations; idle ${idle}s"
measure "two nodes behind NATs holding reservations, ${idle} s" >>"$rows"

# A project of about 1 MB, cloned by Bob through the relay; the relayed
# connection stays open (symmetric NATs: no hole punching).
mkdir -p "$tmp/alice/work"
(cd "$tmp/alice/work" && as alice a git init -q -b main &&
	head -c 1000000 /dev/urandom | base64 >data.txt &&
	as alice a git add data.txt && as alice a git commit -q -m data &&
	as alice a grove init --name data >"$tmp/rid")
rid=$(cat "$tmp/rid")
b0=$(bytes)
for _ in $(seq 1 50); do
	(cd "$tmp/bob" && as bob b grove clone "$rid" >/dev/null 2>&1) && break
	sleep 0.2
done
[ -d "$tmp/bob/data" ] || { log "bob's clone through the relay failed"; exit 1; }
b1=$(bytes)
read -r r0 t0 <<<"$b0"
read -r r1 t1 <<<"$b1"
echo "| clone through the relay of a project with a 1.3 MB file (about 1 MB packed) | $(rss) MB | $((r1 - r0)) B in, $((t1 - t0)) B out during the clone |" >>"$rows"
log "relayed connection open; idle ${idle}s"
measure "the same with the relayed connection open, ${idle} s" >>"$rows"

cat "$rows"
echo
echo "Command: bench/relay.sh -i $idle ($(date -u '+%Y-%m-%d %H:%M UTC'))."
