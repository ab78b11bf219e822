#!/usr/bin/env bash
# Clone benchmark: `git clone grove://RID` (through git-remote-grove) against
# `git clone --no-local` of the project's storage itself, on the same
# generated history, alternating runs and comparing medians.
#
#   bench/clone.sh [-n RUNS] [-c COMMITS]
#
# Prints one markdown table row per measurement. Needs only Go and git; all
# work happens in a temporary directory that is removed at the end.
set -euo pipefail
# Built as the README installs: static, without cgo (see README).
export CGO_ENABLED=0

runs=9
commits=3000
while getopts "n:c:" opt; do
	case $opt in
	n) runs=$OPTARG ;;
	c) commits=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-c COMMITS]" >&2; exit 2 ;;
	esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Build first, with the caller's Go caches.
(cd "$root" && GOBIN=$tmp/bin go install ./cmd/... ./bench/cmd/gitgen)
export PATH=$tmp/bin:$PATH
export HOME=$tmp GROVE_HOME=$tmp/grove GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/gitconfig
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

git init -q -b main "$tmp/src"
gitgen -commits "$commits" -branches 30 -merges 12 -tags 20 -files 200 -seed 1 "$tmp/src"
grove auth >/dev/null
rid=$(cd "$tmp/src" && grove init --name bench)
(cd "$tmp/src" && git push -q grove 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*')
storage=$GROVE_HOME/storage/$rid.git
# Pack the storage as a served repository would be; both sides read it.
git -C "$storage" gc -q

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

grove_t=() git_t=() ratios=()
for i in $(seq 0 "$runs"); do
	rm -rf "$tmp/a" "$tmp/b"
	t0=$(now); git clone -q "grove://$rid" "$tmp/a"; t1=$(now)
	git clone -q --no-local "$storage" "$tmp/b"; t2=$(now)
	[ "$i" -eq 0 ] && continue # warm-up
	g=$(( (t1 - t0) / 1000000 )) n=$(( (t2 - t1) / 1000000 ))
	grove_t+=("$g") git_t+=("$n")
	ratios+=("$(awk -v a="$g" -v b="$n" 'BEGIN {printf "%.3f", a/b}')")
done
[ "$(git -C "$tmp/a" rev-parse HEAD)" = "$(git -C "$tmp/b" rev-parse HEAD)" ] || { echo "clones differ" >&2; exit 1; }

objects=$(git -C "$storage" count-objects -v | awk '/^in-pack/ {print $2}')
size=$(du -sk "$storage/objects/pack" | cut -f1)
gm=$(printf '%s\n' "${grove_t[@]}" | median)
nm=$(printf '%s\n' "${git_t[@]}" | median)
rm_=$(printf '%s\n' "${ratios[@]}" | median)
echo "| clone, $commits commits ($objects objects, ${size} KiB packed) | grove:// ${gm} ms | git clone --no-local ${nm} ms | ${rm_}x (median of $runs paired runs) |"
