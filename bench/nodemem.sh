#!/usr/bin/env bash
# What a serving node's memory is, stage by stage: Alice's node is started
# on a generated history pushed while it was off, and sampled
# (/proc/PID/status: VmHWM, VmRSS, RssAnon, RssFile) once started, once it
# has settled her storage (idle a minute: one pack with a bitmap), and
# after Bob, with no node of his own running, has cloned from it once.
# parity.sh's memory row is the last VmHWM against git upload-pack's peak;
# this breaks it down (RssFile is mostly the grove-node binary's pages).
#
#   bench/nodemem.sh [-c COMMITS] [-b BRANCHES]
#
# Loopback only; a temporary directory, removed at the end. Needs Go and
# git. docs/BENCHMARKS.md "What the node's memory is" records runs.
set -euo pipefail
export CGO_ENABLED=0
commits=3000
branches=30
while getopts "c:b:" opt; do
	case $opt in
	c) commits=$OPTARG ;;
	b) branches=$OPTARG ;;
	*) echo "usage: $0 [-c COMMITS] [-b BRANCHES]" >&2; exit 2 ;;
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
(cd "$root" && GOBIN=$tmp/bin go install ./cmd/... ./bench/cmd/gitgen)
export PATH=$tmp/bin:$PATH
export HOME=$tmp GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/gitconfig GROVE_PASSPHRASE=
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
alice=$tmp/alice bob=$tmp/bob

git init -q -b main "$tmp/src"
gitgen -commits "$commits" -branches "$branches" -merges 12 -tags 20 -files 200 -seed 1 "$tmp/src"
export GROVE_HOME=$alice
grove auth --alias alice >/dev/null
rid=$(cd "$tmp/src" && grove init --name bench)
(cd "$tmp/src" && git push -q grove 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*') 2>/dev/null
grove node start >"$tmp/alice.addrs"
addr=$(head -1 "$tmp/alice.addrs")
pid=$(cat "$alice/node/pid")
sample() {
	echo "$1: $(awk '/^(VmHWM|VmRSS|RssAnon|RssFile):/ {printf "%s %s KiB  ", $1, $2}' "/proc/$pid/status")"
}
echo "history: $commits commits, $branches branches; $(git -C "$tmp/src" for-each-ref | wc -l) refs"
sleep 1
sample started
for _ in $(seq 600); do
	ls "$alice/storage/$rid.git/objects/pack/"*.bitmap >/dev/null 2>&1 && break
	sleep 0.5
done
ls "$alice/storage/$rid.git/objects/pack/"*.bitmap >/dev/null 2>&1 || { echo "Alice's storage was not settled" >&2; exit 1; }
sample settled
export GROVE_HOME=$bob
grove auth --alias bob >/dev/null
grove clone "$rid" "$tmp/a" --from "$addr" >/dev/null 2>&1
sample "after a clone"
uptime
