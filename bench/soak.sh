#!/usr/bin/env bash
# Soak: two nodes on loopback work together for a while, as two people
# would, and the script watches whether the nodes' memory, goroutines and
# open files stay flat.
#
#   bench/soak.sh [-d SECONDS] [-s SECONDS]
#
#   -d  how long the two work (default 600: ten minutes)
#   -s  how often both nodes are sampled (default 30)
#
# Alice runs a node and `grove init`s a project; Bob runs a node and
# `grove clone`s it from her. Then, round after round until the time is up,
# Alice files an issue, Bob comments on it, and every fifth round each
# pushes a commit (Alice to main, Bob to a branch of his). Nobody runs a
# sync: the nodes carry everything. Each sample reads, for both nodes,
# VmRSS (/proc/PID/status), open file descriptors (/proc/PID/fd) and
# goroutines (`grove node status --json`). At the end both must hold the
# same issues with the same comments; the script prints the samples and a
# summary row (first sample after a minute's warm-up, last, highest) for
# docs/BENCHMARKS.md ("Soak").
#
# Loopback only; a temporary directory, removed at the end.
set -euo pipefail
[ -z "${SOAK_TRACE:-}" ] || { PS4='+ $EPOCHREALTIME '; set -x; }
export CGO_ENABLED=0
duration=600 every=30
while getopts "d:s:" opt; do
	case $opt in
	d) duration=$OPTARG ;;
	s) every=$OPTARG ;;
	*) echo "usage: $0 [-d SECONDS] [-s SECONDS]" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
cleanup() {
	GROVE_HOME=$tmp/alice grove node stop >/dev/null 2>&1 || true
	GROVE_HOME=$tmp/bob grove node stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$root" && GOBIN=$tmp/bin go install ./cmd/...)
export PATH=$tmp/bin:$PATH
export HOME=$tmp GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/gitconfig GROVE_PASSPHRASE=
export GIT_AUTHOR_NAME=soak GIT_AUTHOR_EMAIL=soak@example.com GIT_COMMITTER_NAME=soak GIT_COMMITTER_EMAIL=soak@example.com
alice=$tmp/alice bob=$tmp/bob
as() { local who=$1; shift; GROVE_HOME=$tmp/$who "$@"; }

git init -q -b main "$tmp/a"
echo soak >"$tmp/a/README"
git -C "$tmp/a" add README
git -C "$tmp/a" commit -qm start
as alice grove auth --alias alice >/dev/null
rid=$(cd "$tmp/a" && as alice grove init --name soak)
as alice grove node start >"$tmp/alice.addrs" # not piped to head: under pipefail, SIGPIPE
addr=$(head -1 "$tmp/alice.addrs")
as bob grove auth --alias bob >/dev/null
as bob grove node start >/dev/null
as bob grove clone "$rid" "$tmp/b" --from "$addr" >/dev/null 2>&1

pid() { cat "$tmp/$1/node/pid"; }
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$(pid "$1")/status"; }
fds() { ls "/proc/$(pid "$1")/fd" | wc -l; }
goroutines() { as "$1" grove node status --json | sed -n 's/^ *"goroutines": *\([0-9]*\).*/\1/p'; }
samples=$tmp/samples
: >"$samples"
sample() {
	local t=$1
	echo "$t $(rss alice) $(fds alice) $(goroutines alice) $(rss bob) $(fds bob) $(goroutines bob)" >>"$samples"
}

start=$(date +%s)
next=0 round=0 issues=0
while :; do
	now=$(($(date +%s) - start))
	[ "$now" -lt "$duration" ] || break
	if [ "$now" -ge "$next" ]; then
		sample "$now"
		next=$((next + every))
	fi
	round=$((round + 1))
	id=$(cd "$tmp/a" && as alice grove issue new --title "soak $round" --body "round $round" --json 2>/dev/null |
		sed -n 's/^  "id": "\([0-9a-f]*\)".*/\1/p')
	issues=$((issues + 1))
	# Bob comments once the issue reached him (by gossip; bounded wait).
	for _ in $(seq 100); do
		(cd "$tmp/b" && as bob grove issue show "$id" >/dev/null 2>&1) && break
		sleep 0.1
	done
	(cd "$tmp/b" && as bob grove issue comment "$id" --body "seen in round $round" >/dev/null 2>&1)
	if [ $((round % 5)) = 0 ]; then
		echo "$round" >>"$tmp/a/README"
		git -C "$tmp/a" commit -qam "round $round"
		as alice git -C "$tmp/a" push -q grove main 2>/dev/null
		echo "$round" >>"$tmp/b/bob"
		git -C "$tmp/b" add bob
		git -C "$tmp/b" commit -qm "bob's round $round"
		as bob git -C "$tmp/b" push -q grove HEAD:refs/heads/bob-work 2>/dev/null
	fi
done
sample "$(($(date +%s) - start))"

# Both hold the same issues and comments once the last change arrived.
state() {
	(cd "$tmp/$1" && as "$2" grove issue list --state all --json) |
		awk '/^    "id":/ {n++} /"commentCount":/ {gsub(/[^0-9]/, ""); c += $0} END {print n + 0, c + 0}'
}
for _ in $(seq 300); do
	[ "$(state a alice)" = "$(state b bob)" ] && break
	sleep 0.1
done
a=$(state a alice) b=$(state b bob)
echo "rounds: $round in ${duration}s; alice holds (issues comments): $a; bob: $b"
[ "$a" = "$b" ] || { echo "soak: the nodes differ" >&2; exit 1; }

echo "samples (s, then alice RSS MB, fds, goroutines, bob RSS MB, fds, goroutines):"
cat "$samples"
# Summary: the first sample after a minute's warm-up, the last, the highest.
awk -v warm=60 '
	$1 >= warm && !first { first = $0 }
	{ last = $0; for (i = 2; i <= 7; i++) if ($i > max[i]) max[i] = $i }
	END {
		split(first, f); split(last, l)
		names[2] = "alice RSS MB"; names[3] = "alice fds"; names[4] = "alice goroutines"
		names[5] = "bob RSS MB"; names[6] = "bob fds"; names[7] = "bob goroutines"
		printf "| what | after warm-up (%ss) | end (%ss) | highest |\n|---|---|---|---|\n", f[1], l[1]
		for (i = 2; i <= 7; i++) printf "| %s | %s | %s | %s |\n", names[i], f[i], l[i], max[i]
	}' "$samples"
