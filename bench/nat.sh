#!/usr/bin/env bash
# NAT traversal in the network lab (sync/netlab/netlab.sh), run many times: the
# time to a relay reservation, to the first clone by RID through the relay,
# to a direct (hole-punched) connection, to a push's arrival at the other
# node, and the share of runs in which hole punching succeeded. Each run is
# one TestNAT subtest (sync/netlab/lab_test.go) in a fresh lab; its "lab figures"
# line is collected here.
#
#   bench/nat.sh [-n RUNS] [-m cone|symmetric|both]
#
#   -n RUNS  runs per NAT variant (default 10)
#   -m MODE  which variant: cone (hole punching can work), symmetric
#            (routers randomise ports: it cannot), or both (default)
#
# Needs root (network namespaces), ip and iptables. Prints a markdown table
# and the raw lines; nothing leaves the machine.
set -euo pipefail
export CGO_ENABLED=0

runs=10 mode=both
while getopts "n:m:" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	m) mode=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-m cone|symmetric|both]" >&2; exit 2 ;;
	esac
done
case $mode in cone | symmetric) modes=("$mode") ;; both) modes=(cone symmetric) ;; *) echo "nat.sh: -m cone|symmetric|both" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "nat.sh: needs root (network namespaces)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
(cd "$root" && go build -o "$tmp/bin/" ./cmd/... &&
	go test -c -o "$tmp/lab.test" ./sync/netlab)
export GROVE_LAB_BIN=$tmp/bin

lines=$tmp/lines
: >"$lines"
for m in "${modes[@]}"; do
	for i in $(seq 1 "$runs"); do
		# The test binary runs in its package's directory, as go test does.
		if out=$(cd "$root/sync/netlab" && "$tmp/lab.test" -test.run "^TestNAT$/^$m$" -test.v -test.count 1 2>&1); then
			grep -o 'lab figures: .*' <<<"$out" >>"$lines" || true
		else
			echo "nat.sh: $m run $i failed" >&2
			echo "lab figures: mode=$m failed=1" >>"$lines"
			grep -v '^ *{' <<<"$out" | tail -20 >&2
		fi
		echo "nat.sh: $m run $i/$runs done" >&2
	done
done

# stat PATTERN FIELD: median and max of FIELD (ms) over the lines that
# match PATTERN
stat() {
	grep -e "$1" "$lines" | grep -o "$2=[0-9]*" | cut -d= -f2 | sort -n |
		awk '{a[NR]=$1} END {if (NR==0) {print "–"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%d ms / %d ms\n", m, a[NR]}'
}
echo
echo "| NAT | runs | failed | reservation | first clone (via relay) | direct connection after the clone | push arrives | hole punching succeeded |"
echo "|---|---|---|---|---|---|---|---|"
for m in "${modes[@]}"; do
	n=$(grep -c "mode=$m " "$lines" || true)
	failed=$(grep -c "mode=$m failed=1" "$lines" || true)
	direct=$(grep -c "mode=$m .*direct=true" "$lines" || true)
	relayed=$(grep "mode=$m " "$lines" | grep -c "via=relay" || true)
	echo "| $m | $n | $failed | $(stat "mode=$m " reservation_ms) | $(stat "mode=$m " clone_ms) ($relayed of $n via relay) |" \
		"$(stat "mode=$m .*direct=true" direct_ms) | $(stat "mode=$m " update_ms) | $direct of $n |"
done
echo
echo "Cells are median / max. Command: bench/nat.sh $*"
echo
sed 's/^/    /' "$lines"
