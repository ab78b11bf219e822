#!/usr/bin/env bash
# Git parity, end to end as a user types it, against git daemon on the same
# history on loopback:
#
#  - clone: `grove clone RID DIR --from ALICE` into an empty home with no
#    node running (fetch into storage, seed, working copy) against
#    `git clone git://127.0.0.1:PORT/bench.git`, paired runs (timeit -vs),
#    once Alice's node, idle, has settled her storage (one pack with a
#    bitmap, as git daemon's repository has after git gc);
#  - memory: the peak RSS of Alice's node (VmHWM, after serving the clones)
#    and of the git upload-pack it runs, against git upload-pack (with its
#    pack-objects) serving the same clone (/usr/bin/time);
#  - disk: Bob's storage plus working copy against that git clone (du -sk);
#  - pull: Alice pushes 10 new commits; once Bob's node has them (gossip),
#    `git pull` in Bob's working copy against `git pull` from git daemon in
#    the git clone, alternating, median of the paired ratios.
#
#   bench/parity.sh [-n RUNS] [-c COMMITS] [-b BRANCHES]
#
# Loopback only; a temporary directory, removed at the end. Needs Go, git
# and python3 (to ask the OS for a free port for git daemon, which cannot
# listen on port 0). docs/BENCHMARKS.md "Git parity" records a run.
set -euo pipefail
export CGO_ENABLED=0
runs=5
commits=3000
branches=30
while getopts "n:c:b:" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	c) commits=$OPTARG ;;
	b) branches=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-c COMMITS] [-b BRANCHES]" >&2; exit 2 ;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
cleanup() {
	GROVE_HOME=$tmp/alice grove node stop >/dev/null 2>&1 || true
	GROVE_HOME=$tmp/bob grove node stop >/dev/null 2>&1 || true
	[ -f "$tmp/daemon.pid" ] && kill "$(cat "$tmp/daemon.pid")" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$root" && GOBIN=$tmp/bin go install ./cmd/... ./bench/cmd/gitgen ./bench/cmd/timeit)
export PATH=$tmp/bin:$PATH
export HOME=$tmp GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/gitconfig
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
alice=$tmp/alice bob=$tmp/bob

# The history, in Alice's project and in git daemon's repository.
git init -q -b main "$tmp/src"
gitgen -commits "$commits" -branches "$branches" -merges 12 -tags 20 -files 200 -seed 1 "$tmp/src"
export GROVE_HOME=$alice
grove auth --alias alice >/dev/null
rid=$(cd "$tmp/src" && grove init --name bench)
(cd "$tmp/src" && git push -q grove 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*')
# The first address, read from a file: under pipefail, 'head -1' closing
# the pipe before the next line is written fails the script (SIGPIPE).
grove node start >"$tmp/alice.addrs"
addr=$(head -1 "$tmp/alice.addrs")
mkdir -p "$tmp/daemon"
git clone -q --bare "$tmp/src" "$tmp/daemon/bench.git"
git -C "$tmp/daemon/bench.git" gc -q
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git daemon --reuseaddr --listen=127.0.0.1 --port="$port" --base-path="$tmp/daemon" --export-all \
	--pid-file="$tmp/daemon.pid" --detach
url=git://127.0.0.1:$port/bench.git
for _ in $(seq 100); do git ls-remote "$url" HEAD >/dev/null 2>&1 && break; sleep 0.1; done
export GROVE_HOME=$bob
grove auth --alias bob >/dev/null

# Alice's node settles her storage once it has been idle a minute.
t0=$(date +%s)
for _ in $(seq 600); do
	ls "$alice/storage/$rid.git/objects/pack/"*.bitmap >/dev/null 2>&1 && break
	sleep 0.5
done
ls "$alice/storage/$rid.git/objects/pack/"*.bitmap >/dev/null 2>&1 || { echo "Alice's storage was not settled" >&2; exit 1; }
echo "Alice's node settled her storage $(($(date +%s) - t0)) s after the setup"

objects=$(git -C "$tmp/daemon/bench.git" count-objects -v | awk '/^in-pack/ {print $2}')
echo "history: $commits commits, $objects objects; $(git -C "$tmp/src" for-each-ref | wc -l) refs"

# Clone: each run starts from an empty home (the key kept) and no node.
clone_grove="sh -c 'rm -rf $bob/storage $bob/cache $bob/policy.json $tmp/a && exec grove clone $rid $tmp/a --from $addr 2>/dev/null'"
clone_git="sh -c 'rm -rf $tmp/b && exec git clone -q $url $tmp/b'"
echo "clone (ms, grove vs git daemon): $(eval timeit -n "$runs" -vs "\"$clone_git\"" -- "$clone_grove")"
[ "$(git -C "$tmp/a" rev-parse HEAD)" = "$(git -C "$tmp/b" rev-parse HEAD)" ] || { echo "clones differ" >&2; exit 1; }

# Memory: Alice's node's peak after serving the clones, and the peak of
# a git upload-pack (pack-objects included) serving the same clone, which
# is also what the node runs.
up=$(git clone -q --no-local --upload-pack="/usr/bin/time -f %M -o $tmp/upload-pack.rss git-upload-pack" "$tmp/daemon/bench.git" "$tmp/m" && tail -1 "$tmp/upload-pack.rss")
rm -rf "$tmp/m"
node=$(awk '/^VmHWM/ {print $2}' "/proc/$(cat "$alice/node/pid")/status")
echo "memory serving a clone (KiB, peak RSS): node $node + its upload-pack $up, git upload-pack $up: $(awk -v a="$node" -v b="$up" 'BEGIN {printf "%.2f", (a+b)/b}')x"

# Disk: Bob's storage and working copy against the git clone.
g=$(du -sk "$bob/storage/$rid.git" "$tmp/a" | awk '{t += $1} END {print t}')
n=$(du -sk "$tmp/b" | cut -f1)
echo "disk (KiB): grove $g (storage $(du -sk "$bob/storage/$rid.git" | cut -f1), working copy $(du -sk "$tmp/a" | cut -f1)), git clone $n: $(awk -v a="$g" -v b="$n" 'BEGIN {printf "%.3f", a/b}')x"

# Pull: Bob's node follows Alice's; each round Alice pushes 10 commits to
# both, Bob's node receives them by gossip, then both pulls are timed.
grove node start >/dev/null
grove connect "$addr" >/dev/null
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
gt=() nt=() ratios=()
for i in $(seq 0 "$runs"); do
	for j in $(seq 10); do
		echo "round $i commit $j" >>"$tmp/src/pull.txt"
		git -C "$tmp/src" add pull.txt
		git -C "$tmp/src" commit -q -m "round $i commit $j"
	done
	head=$(git -C "$tmp/src" rev-parse HEAD)
	GROVE_HOME=$alice git -C "$tmp/src" push -q grove main 2>/dev/null
	git -C "$tmp/src" push -q "$tmp/daemon/bench.git" main
	for _ in $(seq 300); do
		[ "$(git --git-dir="$bob/storage/$rid.git" rev-parse -q --verify refs/heads/main)" = "$head" ] && break
		sleep 0.1
	done
	if [ $((i % 2)) = 0 ]; then
		t0=$(now); git -C "$tmp/a" pull -q --ff-only 2>/dev/null; t1=$(now)
		git -C "$tmp/b" pull -q --ff-only; t2=$(now)
		g=$(((t1 - t0) / 1000000)) n=$(((t2 - t1) / 1000000))
	else
		t0=$(now); git -C "$tmp/b" pull -q --ff-only; t1=$(now)
		git -C "$tmp/a" pull -q --ff-only 2>/dev/null; t2=$(now)
		n=$(((t1 - t0) / 1000000)) g=$(((t2 - t1) / 1000000))
	fi
	[ "$(git -C "$tmp/a" rev-parse HEAD)" = "$head" ] && [ "$(git -C "$tmp/b" rev-parse HEAD)" = "$head" ] ||
		{ echo "pull round $i did not arrive" >&2; exit 1; }
	[ "$i" -eq 0 ] && continue # warm-up
	gt+=("$g") nt+=("$n") ratios+=("$(awk -v a="$g" -v b="$n" 'BEGIN {printf "%.3f", a/b}')")
done
echo "pull of 10 new commits (ms): grove $(printf '%s\n' "${gt[@]}" | median), git daemon $(printf '%s\n' "${nt[@]}" | median), $(printf '%s\n' "${ratios[@]}" | median)x (median of $runs paired runs)"
uptime
