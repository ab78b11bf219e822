#!/usr/bin/env bash
# When does grove-tui write its frames? Runs grove-tui under strace in tmux
# (120x40) on a Grove home and prints, for each run, the ms from exec to
# each frame of more than 300 bytes it writes to the terminal: the first is
# the empty screen, the next the list. Unlike bench/tui.sh, no harness polls
# the screen meanwhile (it competes for the CPU with the program and tmux);
# strace slows the program a little instead. With -p it opens on the
# project list (grove tui outside a working copy) instead of the project.
#
#   bench/tuitrace.sh [-r RUNS] [-p] BINDIR HOME
set -euo pipefail
runs=3 list=
while getopts r:p o; do
	case $o in
	r) runs=$OPTARG ;;
	p) list=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: bench/tuitrace.sh [-r RUNS] [-p] BINDIR HOME" >&2; exit 2; }
command -v strace >/dev/null && command -v tmux >/dev/null || { echo "tuitrace.sh: needs strace and tmux" >&2; exit 1; }
bin=$(cd "$1" && pwd) home=$(cd "$2" && pwd)
rid=$(basename "$home"/storage/*.git .git)
if [ -n "$list" ]; then rid=; fi
work=$(mktemp -d)
sock=$work/tmux.sock
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq "$runs"); do
	rm -f "$work/trace"
	tmux -S "$sock" new-session -d -s t -x 120 -y 40 -c "$work" \
		"env GROVE_HOME=$home TERM=xterm-256color strace -f -ttt -e trace=execve,write -s 0 -o $work/trace $bin/grove-tui $rid"
	sleep 2
	tmux -S "$sock" send-keys -t t q
	sleep 0.5
	tmux -S "$sock" kill-server 2>/dev/null || true
	awk '
		$3 ~ /^execve\(/ && t0 == "" { t0 = $2 }
		$3 ~ /^write\(1,/ && $NF + 0 > 300 { printf "%s%.0f ms (%d bytes)", sep, ($2 - t0) * 1000, $NF; sep = ", " }
		END { print "" }' "$work/trace"
done
