#!/usr/bin/env bash
# Storage on disk: file N issues with 3 comments each through the grove
# CLI, one process per command as a user types them, and print what the
# project takes on disk: the storage, the issue index (cache/), loose
# objects, packs and loose refs. Nothing runs git gc or anything else in
# between: what is packed, Grove packed by itself.
#
#   bench/storage.sh [N]            (default 1000)
#   GROVE_BIN=DIR bench/storage.sh  (grove and git-remote-grove from DIR,
#                                    e.g. an older build, instead of this tree)
#
# docs/BENCHMARKS.md "Storage on disk" records a run.
set -euo pipefail
export CGO_ENABLED=0
cd "$(dirname "$0")/.."
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=${GROVE_BIN:-}
if [ -z "$bin" ]; then
	bin=$work/bin
	mkdir -p "$bin"
	go build -o "$bin/grove" ./cmd/grove
	go build -o "$bin/git-remote-grove" ./cmd/git-remote-grove
fi
export PATH=$bin:$PATH GROVE_HOME=$work/home
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$work/gitconfig
git config --global user.name bench
git config --global user.email bench@example.com
grove auth --alias bench >/dev/null
git init -q -b main "$work/w"
cd "$work/w"
git commit -q --allow-empty -m first
rid=$(grove init --name bench 2>/dev/null)
for i in $(seq 1 "$n"); do
	id=$(grove issue new --title "issue $i: crash on start in widget $i" --body "Steps: open the widget $i, press start, see the crash. Expected: no crash." 2>/dev/null)
	for c in 1 2 3; do
		grove issue comment "${id:0:10}" --body "comment $c on issue $i: it still happens with config $c" >/dev/null 2>&1
	done
done
grove issue list --state all >/dev/null  # the index, as the first listing builds it
s=$GROVE_HOME/storage/$rid.git
echo "issues:      $n, 3 comments each, $((n * 4)) grove commands"
echo "storage:     $(du -sk "$s" | cut -f1) KiB"
echo "index:       $(du -sk "$GROVE_HOME/cache" | cut -f1) KiB"
echo "total:       $(du -sk "$s" "$GROVE_HOME/cache" | awk '{t += $1} END {print t}') KiB"
git --git-dir="$s" count-objects -v | grep -E '^(count|size|packs|size-pack):' | sed 's/^/objects     /'
echo "loose refs:  $(find "$s/refs" -type f | wc -l)"
