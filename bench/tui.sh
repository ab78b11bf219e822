#!/usr/bin/env bash
# TUI benchmark: time grove-tui in a real terminal (tmux, 120x40) on a
# project of many issues, from launching the program until the first issue
# row is on screen, warm (index up to date) and cold (no index), and how
# long the screen takes to answer a few keys.
#
#   bench/tui.sh [-r RUNS] [-b BINDIR] [-n ISSUES] [-w] [HOME]
#
# HOME is a Grove home holding one project (bench/issues makes one); without
# it the script makes one of ISSUES issues (default 10000, about a minute).
# BINDIR holds a grove-tui to time instead of building one from the tree;
# -w skips the cold run (which deletes the index).
# Times are wall clock, medians of RUNS runs (default 7); the screen is
# polled every few ms with capture-pane, so each number carries a few ms
# of polling, which the round trip of a key echoed by cat measures. The
# time grove-tui --help takes is the part of an open spent before main;
# the launch floor is the same launch of a program that prints at once.
# docs/BENCHMARKS.md ("TUI") records a run.
set -euo pipefail
# Built as the README installs: static, without cgo (see README).
export CGO_ENABLED=0
cd "$(dirname "$0")/.."
runs=7 bindir= n=10000 cold=1
while getopts r:b:n:w o; do
	case $o in
	r) runs=$OPTARG ;;
	b) bindir=$OPTARG ;;
	n) n=$OPTARG ;;
	w) cold= ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
command -v tmux >/dev/null || { echo "tui.sh: tmux is not installed" >&2; exit 1; }
work=$(mktemp -d)
sock=$work/tmux.sock
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "$bindir" ]; then
	bindir=$work/bin
	go build -o "$bindir/grove-tui" ./cmd/grove-tui
fi
home=${1:-}
if [ -z "$home" ]; then
	go build -o "$work/issuesgen" ./bench/issues
	home=$work/home
	"$work/issuesgen" -home "$home" -n "$n"
fi
home=$(cd "$home" && pwd)
rid=$(basename "$home"/storage/*.git .git)
db=$home/cache/$rid/issues.db
tui=$bindir/grove-tui

now() { date +%s%N; }
screen() { tmux -S "$sock" capture-pane -p -t bench; }
keys() { tmux -S "$sock" send-keys -t bench "$@"; }

# waitfor REGEX [SECONDS]: poll the screen until a line matches (extended
# regex); print the ms since $t0. Screens seen on the way that match
# $watch are appended to $work/seen, and the ms until the first that
# counts issues indexed is written to $work/counting.
waitfor() {
	local deadline=$(( $(now) + ${2:-60} * 1000000000 )) sc
	while :; do
		sc=$(screen)
		if grep -Eq -- "$1" <<<"$sc"; then
			echo $(( ($(now) - t0) / 1000000 ))
			return
		fi
		if [ -n "${watch:-}" ] && grep -Eq -- "$watch" <<<"$sc"; then
			grep -E -- "$watch" <<<"$sc" | head -1 >>"$work/seen"
			if [ ! -s "$work/counting" ] && grep -q 'indexing issues: ' <<<"$sc"; then
				echo $(( ($(now) - t0) / 1000000 )) >"$work/counting"
			fi
		fi
		if [ "$(now)" -gt "$deadline" ]; then
			echo "tui.sh: /$1/ not on screen after ${2:-60}s:" >&2
			echo "$sc" >&2
			exit 1
		fi
		sleep 0.003
	done
}

# waitgone REGEX: poll until no line matches.
waitgone() {
	local deadline=$(( $(now) + 60000000000 ))
	while screen | grep -Eq -- "$1"; do
		[ "$(now)" -lt "$deadline" ] || { echo "tui.sh: /$1/ still on screen after 60s" >&2; exit 1; }
		sleep 0.003
	done
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row='^▌ [●✕] [0-9a-f]{7} '
# start: a fresh shell in a 120x40 pane, then exec grove-tui in it.
start() {
	tmux -S "$sock" kill-server 2>/dev/null || true
	tmux -S "$sock" new-session -d -s bench -x 120 -y 40 "env -i PATH=$PATH HOME=$HOME GROVE_HOME=$home TERM=xterm-256color bash --norc --noprofile"
	t0=$(now)
	waitfor '[$#] *$' 10 >/dev/null
	t0=$(now)
	keys "exec $tui $rid 2>$work/err" Enter
}

echo "grove-tui: $tui"
echo "home: $home ($rid), $(find "$home/storage/$rid.git/refs" -type f | wc -l) ref files"

# Cold first, so the warm runs find the index it leaves.
if [ -n "$cold" ]; then
	: >"$work/seen"
	rm -rf "$(dirname "$db")"
	start
	first=$(waitfor 'grove ›' 60)
	watch='ndex|%|issues…' coldms=$(waitfor "$row" 600)
	echo "cold open (no index), 1 run: first screen $first ms, first row $coldms ms"
	uniq "$work/seen" | sed 's/^ *//; s/  .*//' >"$work/seen.u"
	echo "  progress lines seen while it rebuilt: $(wc -l <"$work/seen.u") (first: $(head -1 "$work/seen.u"); last: $(tail -1 "$work/seen.u"))"
	echo "  first count of issues indexed on screen: $(cat "$work/counting" 2>/dev/null || echo never) ms"
	keys C-c
	sleep 0.2
fi

# sel prints the selected row.
sel() { screen | grep -E "$row" | head -1; }
for i in $(seq "$runs"); do
	start
	waitfor 'grove ›' >>"$work/first"
	waitfor "$row" >>"$work/open"
	# The header (project name) loads after the list; time keys after it.
	waitgone "^grove › ${rid:0:4}"
	# j: the marker moves to the next row.
	for _ in 1 2 3; do
		before=$(sel)
		t0=$(now); keys j
		while [ "$(sel)" = "$before" ]; do
			[ $(( ($(now) - t0) / 1000000000 )) -lt 60 ] || { echo "tui.sh: j did not move the cursor" >&2; exit 1; }
			sleep 0.003
		done
		echo $(( ($(now) - t0) / 1000000 )) >>"$work/j"
	done
	# pgdn: the window scrolls.
	t0=$(now); keys PageDown; waitfor ' [2-9][0-9]*-[0-9]+ of [0-9]+ *$' >>"$work/pgdn"
	# s: open → closed → all, each a new query.
	t0=$(now); keys s; waitfor 'no issues match|state: closed.*( of [0-9]{1,4}| [0-9]+ issues?) *$' >>"$work/state"
	t0=$(now); keys s; waitfor "$row" >>"$work/all"
	# / and a search typed at once, then enter: the list is the answer.
	# The search is typed once the prompt shows: a terminal read that
	# holds / and the letters together is one key of many runes to
	# bubbletea, which is not /, and enter then opens an issue.
	t0=$(now); keys /; waitfor '^ /( |$)' >/dev/null; keys -l 'timeout 17'; keys Enter
	waitfor 'search: timeout 17 .*(of [0-9]{1,4}|[0-9]+ issues?) *$' >>"$work/search"
	keys C-c
	sleep 0.2
done
# The launch floor: the same shell exec'ing a program that prints one line
# at once (sh), until that line is on screen.
for i in $(seq "$runs"); do
	tmux -S "$sock" kill-server 2>/dev/null || true
	tmux -S "$sock" new-session -d -s bench -x 120 -y 40 "env -i PATH=$PATH HOME=$HOME TERM=xterm-256color bash --norc --noprofile"
	t0=$(now)
	waitfor '[$#] *$' 10 >/dev/null
	t0=$(now)
	keys "exec sh -c 'echo launched; exec sleep 30'" Enter
	waitfor '^launched' >>"$work/floor"
	keys C-c
	sleep 0.2
done
# What the harness itself adds: cat echoing a key.
tmux -S "$sock" kill-server 2>/dev/null || true
tmux -S "$sock" new-session -d -s bench -x 120 -y 40 cat
for i in $(seq "$runs"); do
	t0=$(now); keys "k$i"; waitfor "k$i" >>"$work/echo"
done
# What starting the program costs before it draws anything: grove-tui
# --help is process start and package init, with no terminal.
for i in $(seq "$runs"); do
	t0=$(now); "$tui" --help >/dev/null; echo $(( ($(now) - t0) / 1000000 )) >>"$work/start"
done
echo "tmux round trip (a key echoed by cat), median: $(median <"$work/echo") ms"
echo "launch floor (the same shell exec'ing sh, which prints a line), median: $(median <"$work/floor") ms"
echo "grove-tui --help (process start and init), median: $(median <"$work/start") ms"
echo "warm open to first screen, median of $runs: $(median <"$work/first") ms (runs: $(paste -sd' ' "$work/first"))"
echo "warm open to first row, median of $runs: $(median <"$work/open") ms (runs: $(paste -sd' ' "$work/open"))"
echo "j, next row shown, median:             $(median <"$work/j") ms"
echo "pgdn, window scrolled, median:         $(median <"$work/pgdn") ms"
echo "s, open to closed list, median:        $(median <"$work/state") ms"
echo "s, closed to all list, median:         $(median <"$work/all") ms"
echo "/timeout 17 enter, answer shown:       $(median <"$work/search") ms"
