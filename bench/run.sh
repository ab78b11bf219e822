#!/usr/bin/env bash
# All benchmarks in one run, each side by side with native git on the same
# generated data, written as one markdown block into docs/BENCHMARKS.md
# (between the bench/run.sh begin/end markers, replacing the previous block).
#
#   bench/run.sh [-s small|medium|large] [-q] [-o FILE]
#
#   -s SIZE  history size from bench/cmd/gitgen: small = 1,000 commits,
#            medium = 3,000 (default), large = 10,000
#   -q       quick: fewer runs, issues at 1,000 only, size small unless -s
#            is given; about 5 minutes on 2 cores
#   -o FILE  the markdown file to update (default docs/BENCHMARKS.md),
#            created if it does not exist; the block is printed too
#
# It reuses the pieces and keeps their output: bench/clone.sh (grove:// vs
# git clone --no-local), bench/cmd/netbench (libp2p vs git daemon: clone,
# incremental fetch, propagation to 2, 5 and 10 peers), bench/issues.sh;
# and adds the node's memory (VmRSS of `grove node start --foreground`, idle
# and seeding 100 small projects). Loopback only; everything happens in a
# temporary directory that is removed at the end.
set -euo pipefail
# Built as the README installs: static, without cgo (see README).
export CGO_ENABLED=0

size= quick=0 out=
while getopts "s:qo:" opt; do
	case $opt in
	s) size=$OPTARG ;;
	q) quick=1 ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-s small|medium|large] [-q] [-o FILE]" >&2; exit 2 ;;
	esac
done
cmdline="bench/run.sh $*"
[ -n "$size" ] || { [ "$quick" = 1 ] && size=small || size=medium; }
case $size in
small) commits=1000 ;;
medium) commits=3000 ;;
large) commits=10000 ;;
*) echo "run.sh: -s small|medium|large, not $size" >&2; exit 2 ;;
esac
if [ "$quick" = 1 ]; then clone_runs=3 net_runs=3 issue_sizes=(1000); else clone_runs=7 net_runs=5 issue_sizes=(1000 10000); fi

root=$(cd "$(dirname "$0")/.." && pwd)
out=${out:-$root/docs/BENCHMARKS.md}
tmp=$(mktemp -d)
cleanup() {
	# The memory step's node, if the script stopped before it did.
	if [ -s "$tmp/node.pid" ]; then kill -TERM "$(cat "$tmp/node.pid")" 2>/dev/null || true; sleep 1; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
log() { echo "run.sh: $*" >&2; }

# Build every binary once into the temporary directory.
bin=$tmp/bin
mkdir -p "$bin"
# All of cmd: grove starts its node as grove-node, found next to it.
(cd "$root" && go build -o "$bin/" ./cmd/... ./bench/cmd/gitgen ./bench/cmd/netbench)

rows=$tmp/rows.md
: >"$rows"
row() { printf '%s\n' "$*" >>"$rows"; }
# verdict FIGURE LIMIT says whether a figure met its target (at most LIMIT).
verdict() { awk -v v="$1" -v l="$2" 'BEGIN { if (v == "") print "?"; else if (v + 0 <= l + 0) print "met"; else print "**missed**" }'; }

# Data: the deterministic generator, with the options every piece uses
# (clone.sh and netbench generate the same history from the same seed).
gen="gitgen -commits $commits -branches 30 -merges 12 -tags 20 -files 200 -seed 1"
git init -q --bare "$tmp/data.git"
HOME=$tmp GIT_CONFIG_NOSYSTEM=1 "$bin/gitgen" -commits "$commits" -branches 30 -merges 12 -tags 20 -files 200 -seed 1 "$tmp/data.git"
data_head=$(git -C "$tmp/data.git" rev-parse refs/heads/main)
data_objects=$(git -C "$tmp/data.git" rev-list --all --objects | wc -l)
rm -rf "$tmp/data.git"

# 1. Clone through the remote helper (bench/clone.sh).
log "clone.sh -n $clone_runs -c $commits"
if r=$("$root/bench/clone.sh" -n "$clone_runs" -c "$commits"); then
	v=$(printf '%s\n' "$r" | awk -F'|' '{print $5+0}')
	row "$r $(verdict "$v" 1.1) (≤ 1.1x) |"
else
	row "| clone, $commits commits (bench/clone.sh) | failed (exit $?) | | | |"
fi

# 2. Network (bench/cmd/netbench).
log "netbench -commits $commits -runs $net_runs -peers 2,5,10"
if r=$(cd "$root" && "$bin/netbench" -commits "$commits" -runs "$net_runs" -peers 2,5,10); then
	while IFS= read -r l; do
		case $l in
		'| clone from a peer'*)
			v=$(printf '%s\n' "$l" | awk -F'|' '{print $5+0}')
			row "$l $(verdict "$v" 1.25) (≤ 1.25x) |" ;;
		'| fetch,'*)
			v=$(printf '%s\n' "$l" | awk -F'|' '{split($5, a, ","); print a[2]+0}')
			row "$l $(verdict "$v" 1.2) (≤ 1.2x bytes) |" ;;
		'| push reaches 10 '*)
			v=$(printf '%s\n' "$l" | awk -F'|' '{gsub(/[^0-9.]/, "", $3); print $3}')
			# < 1 s: a median of exactly 1000 ms misses.
			row "$l $(verdict "$v" 999) (< 1 s median) |" ;;
		'|'*) row "$l |" ;;
		esac
	done <<<"$r"
else
	row "| network (netbench) | failed (exit $?) | | | |"
fi

# 3. Node memory: VmRSS of a foreground node, idle, then seeding 100 projects.
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
log "node memory"
(
	export PATH=$bin:$PATH HOME=$tmp/mem GROVE_HOME=$tmp/mem/grove GROVE_PASSPHRASE= GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$tmp/mem/gitconfig
	export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
	mkdir -p "$HOME"
	grove auth >/dev/null 2>&1
	grove node start --foreground >/dev/null 2>&1 &
	pid=$!
	echo "$pid" >"$tmp/node.pid"
	for _ in $(seq 200); do [ -s "$GROVE_HOME/node/pid" ] && break; sleep 0.05; done
	[ -s "$GROVE_HOME/node/pid" ] || { echo "node did not start" >&2; exit 1; }
	sleep 10
	idle=$(rss "$pid")
	t0=$(date +%s)
	for i in $(seq 100); do
		w=$HOME/w/p$i
		git init -q -b main "$w"
		echo "project $i" >"$w/README"
		git -C "$w" add README
		git -C "$w" commit -q -m "project $i"
		rid=$(cd "$w" && grove init --name "p$i" 2>/dev/null)
		grove seed "$rid" >/dev/null 2>&1
	done
	t1=$(date +%s)
	sleep 10
	seeding=$(rss "$pid")
	kill -TERM "$pid"
	wait "$pid" || true
	rm -f "$tmp/node.pid"
	echo "$idle $seeding $((t1 - t0))"
) >"$tmp/mem.out" || true
read -r idle seeding mk <"$tmp/mem.out" || true
row "| node idle 10 s after \`grove node start --foreground\` (VmRSS) | ${idle:-?} MB | | | $(verdict "${idle:-}" 60) (< 60 MB) |"
row "| node seeding 100 one-commit projects (\`grove init\` + \`grove seed\` each, ${mk:-?} s), 10 s later (VmRSS) | ${seeding:-?} MB | | | |"

# 4. Issues (bench/issues.sh): its lines become rows.
log "issues.sh ${issue_sizes[*]}"
issues=$tmp/issues.out
if ! "$root/bench/issues.sh" "${issue_sizes[@]}" >"$issues" 2>&1; then
	echo "   issues.sh failed" >>"$issues"
fi
n=
while IFS= read -r l; do
	case $l in
	'== '*) n=${l#== }; n=${n% issues} ;;
	*Benchmark*) row "| issues ($n): \`$(echo "$l" | awk '{print $1}')\` in process | $(echo "$l" | awk '{for (i = 3; i <= NF; i++) printf "%s%s", $i, (i < NF ? " " : "")}') | | | |" ;;
	*'in process (go test'*|' '*'rid '*) ;;
	*': '*)
		k=$(echo "$l" | sed 's/^ *//; s/: .*//') v=$(echo "$l" | sed 's/^[^:]*: *//')
		row "| issues ($n): $k | $v | | | |" ;;
	*) [ -n "${l// /}" ] && row "| issues ($n): $(echo "$l" | sed 's/^ *//') | | | | |" ;;
	esac
done <"$issues"

# The block.
load=$(awk '{print $1}' /proc/loadavg)
block=$tmp/block.md
{
	echo "<!-- bench/run.sh begin -->"
	echo "Command: \`$cmdline\` (run from the repository root), $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); $(go version | awk '{print $3}'), git $(git version | awk '{print $3}')."
	echo "Data: \`$gen\` ($data_objects objects, main at \`${data_head:0:12}\`); clone.sh and netbench generate the same history. Runs: clone.sh -n $clone_runs, netbench -runs $net_runs -peers 2,5,10, issues at ${issue_sizes[*]}."
	echo
	echo "\`uptime\` at the end: \`$(uptime | sed 's/^ *//')\`"
	if awk -v l="$load" 'BEGIN {exit !(l > 2)}'; then
		echo
		echo "**The machine was shared and noisy during this run (load average $load > 2): absolute times are high; read the ratios.**"
	fi
	echo
	echo "| what | grove | native git | ratio | target |"
	echo "|---|---|---|---|---|"
	cat "$rows"
	echo "<!-- bench/run.sh end -->"
} >"$block"

if [ ! -e "$out" ]; then
	{ echo "# Benchmarks"; echo; cat "$block"; } >"$tmp/new.md"
elif grep -q '^<!-- bench/run.sh begin -->' "$out"; then
	awk -v f="$block" '
		/^<!-- bench\/run.sh begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/^<!-- bench\/run.sh end -->/ { skip = 0; next }
		!skip' "$out" >"$tmp/new.md"
else
	{ cat "$out"; echo; echo "## All benchmarks (bench/run.sh)"; echo; cat "$block"; } >"$tmp/new.md"
fi
cp "$tmp/new.md" "$out"
cat "$block"
