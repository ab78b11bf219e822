#!/usr/bin/env bash
# Spam benchmark: a project of N issues (one comment each) whose public
# namespace space also holds F junk issues from one other key (a spammer;
# bench/issues -flood), then `grove block` of that key. Times grove issue
# list (cold index rebuild and warm) and measures its output before and
# after the block, with the load average at each step, as the machine may
# be shared.
#
#   bench/flood.sh [N F]        (default: 1000 10000)
#
# Results go to stdout; docs/BENCHMARKS.md "## Spam and block" records a
# run.
set -euo pipefail
export CGO_ENABLED=0
cd "$(dirname "$0")/.."
n=${1:-1000}
f=${2:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/grove" ./cmd/grove
go build -o "$bin/git-remote-grove" ./cmd/git-remote-grove
go build -o "$bin/issuesgen" ./bench/issues
go build -o "$bin/timeit" ./bench/cmd/timeit
export PATH=$bin:$PATH
home=$work/home
export GROVE_HOME=$home

load() { cut -d' ' -f1-3 /proc/loadavg; }
ms() {
	local k=$1; shift
	timeit -warmup 0 -n "$k" -- "$@" || echo "?"
}

echo "== $n issues, then $f junk issues from one key"
issuesgen -home "$home" -n "$n" -comments 1 -flood "$f" | tee "$work/gen" | sed 's/^/   /'
sync
spammer=$(awk '/^flood /{print $2}' "$work/gen")
rid=$(basename "$home"/storage/*.git .git)
db=$home/cache/$rid
list() { grove issue list -R "$rid" --state all "$@"; }
report() {
	rm -rf "$db"
	echo "   cold rebuild (grove issue list, no index): $(ms 1 grove issue list -R "$rid" --state all) ms   (load $(load))"
	echo "   grove issue list --state all (warm):       $(ms 11 grove issue list -R "$rid" --state all) ms   (load $(load))"
	echo "   grove issue list --json (warm):            $(ms 11 grove issue list -R "$rid" --state all --json) ms"
	echo "   rows listed: $(list | wc -l); output: $(list | wc -c) bytes; --json: $(list --json | wc -c) bytes"
	echo "   storage: $(du -sk "$home/storage/$rid.git" | cut -f1) KiB, refs under the spammer's namespace: $(git -C "$home/storage/$rid.git" for-each-ref "refs/namespaces/$spammer" | wc -l)"
}
echo "-- before the block"
report
echo "-- grove block $spammer: $(ms 1 grove block "$spammer") ms   (load $(load))"
echo "-- after the block"
report
echo "-- after git gc --prune=now (what maintenance does later)"
git -C "$home/storage/$rid.git" gc -q --prune=now
echo "   storage: $(du -sk "$home/storage/$rid.git" | cut -f1) KiB"
