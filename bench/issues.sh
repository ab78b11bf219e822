#!/usr/bin/env bash
# Issues benchmark: fill a home with N issues of 3 comments each and N
# patches (bench/issues -patches: a tenth fixing an issue, a third accepted,
# a seventh rejected, a fifth closed) through the library, then time the
# CLI (new, comment, list, search; patch list and search over both) warm
# and after a cold index rebuild of issues and patches, both as whole
# processes and in process; last, the cold rebuild again after git
# repack, from packed objects.
#
#   bench/issues.sh [N...]        (default: 1000 10000)
#
# GROVE_BENCH_FROM=DIR times a copy of DIR, a home bench/issues made
# before (-n N -patches N, for one N), instead of generating one: the
# 10,000-object home takes longer to make than to time.
#
# Results go to stdout; docs/BENCHMARKS.md "## Issues" records a run.
set -euo pipefail
# Built as the README installs: static, without cgo (see README).
export CGO_ENABLED=0
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$work/bin
mkdir -p "$bin"
go build -o "$bin/grove" ./cmd/grove
go build -o "$bin/git-remote-grove" ./cmd/git-remote-grove
go build -o "$bin/issuesgen" ./bench/issues
go build -o "$bin/timeit" ./bench/cmd/timeit
export PATH=$bin:$PATH

# peak runs a command once and prints its peak resident memory in MiB.
peak() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'
	else
		"$@" >/dev/null
		printf '?'
	fi
}

# ms runs a command K times and prints the median wall time in ms, timed
# from a Go parent (bench/cmd/timeit): a shell's date around each run would
# add its own forks, several ms.
ms() {
	local k=$1; shift
	timeit -warmup 0 -n "$k" -- "$@" || echo "?"
}

if [ $# -eq 0 ]; then set -- 1000 10000; fi
for n in "$@"; do
	home=$work/home-$n
	echo "== $n issues"
	if [ -n "${GROVE_BENCH_FROM:-}" ]; then
		cp -a "$GROVE_BENCH_FROM" "$home"
		echo "   library: a copy of $GROVE_BENCH_FROM, made by bench/issues beforehand"
	else
		issuesgen -home "$home" -n "$n" -patches "$n" | sed 's/^/   /'
	fi
	# The generator leaves tens of thousands of new files for the kernel
	# to write back; let it finish, so that the timings below measure
	# grove and not that.
	sync
	export GROVE_HOME=$home
	echo "   load at the start: $(uptime | sed 's/.*load average: //')"
	rid=$(basename "$home"/storage/*.git .git)
	# The project's whole cache: the index, the ID lists and the memos.
	db=$home/cache/$rid
	rm -rf "$db"
	echo "   cold rebuild, $n issues + $n patches (grove issue list, no index): $(ms 1 grove issue list -R "$rid" --state all) ms"
	echo "   cold rebuild, median of 3 (incl. rm):       $(ms 3 sh -c "rm -rf '$db'; grove issue list -R '$rid' --state all") ms"
	rm -rf "$db"
	echo "   cold rebuild, peak memory:                  $(peak grove issue list -R "$rid" --state all) MiB"
	echo "   grove issue list --state all (warm):        $(ms 11 grove issue list -R "$rid" --state all) ms"
	echo "   grove issue list --json (warm):             $(ms 11 grove issue list -R "$rid" --state all --json) ms"
	echo "   grove issue list --search 'timeout' (warm): $(ms 11 grove issue list -R "$rid" --state all --search timeout) ms"
	echo "   grove issue list --search 'crash 17':       $(ms 11 grove issue list -R "$rid" --state all --search 'crash 17') ms"
	echo "   grove issue new:                            $(ms 11 grove issue new -R "$rid" --title 'bench issue' --body 'from the bench') ms"
	id=$(grove issue new -R "$rid" --title 'comment target')
	echo "   grove issue comment:                        $(ms 11 grove issue comment -R "$rid" "${id:0:10}" --body 'a bench comment') ms"
	echo "   grove issue show (with backlinks):          $(ms 11 grove issue show -R "$rid" "${id:0:10}") ms"
	echo "   grove patch list (warm):                    $(ms 11 grove patch list -R "$rid") ms"
	echo "   grove patch list --state all (warm):        $(ms 11 grove patch list -R "$rid" --state all) ms"
	echo "   grove patch list --json (warm):             $(ms 11 grove patch list -R "$rid" --state all --json) ms"
	echo "   grove patch list --review accepted (warm):  $(ms 11 grove patch list -R "$rid" --state all --review accepted) ms"
	echo "   grove patch list --search 'timeout' (warm): $(ms 11 grove patch list -R "$rid" --state all --search timeout) ms"
	echo "   grove search 'timeout' (warm, both kinds):  $(ms 11 grove search -R "$rid" timeout) ms"
	echo "   grove search 'crash 17' (warm, both kinds): $(ms 11 grove search -R "$rid" crash 17) ms"
	echo "   grove --help (process start, no work):      $(ms 11 grove --help) ms"
	echo "   in process (go test -bench, no process start):"
	GROVE_BENCH_HOME=$home go test -run '^$' -bench . -benchtime 10x ./bench/issues | grep '^Benchmark' | sed 's/^/     /'
	# The same rebuild from packs, as a storage is after fetches or gc.
	git -C "$home/storage/$rid.git" repack -a -d -q
	git -C "$home/storage/$rid.git" prune-packed
	rm -rf "$db"
	echo "   cold rebuild, packed storage:               $(ms 1 grove issue list -R "$rid" --state all) ms"
	rm -rf "$db"
	echo "   cold rebuild, packed storage, peak memory:  $(peak grove issue list -R "$rid" --state all) MiB"
	echo "   load at the end: $(uptime | sed 's/.*load average: //')"
done
