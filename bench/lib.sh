# shellcheck shell=bash
# bench/lib.sh - sourced by the bench/*.sh scripts: one way to report a
# headline figure, and the peak RSS of the process a figure measures.
#
# Every script keeps its own human-readable output; bench_result adds one
# machine-readable line per headline figure, which bench/run collects
# (through SW_BENCH_RESULTS) into its table:
#
#   RESULT<TAB>FIGURE<TAB>VALUE<TAB>BASELINE<TAB>RATIO<TAB>UNIT<TAB>GOAL<TAB>RSS_KB
#
# Peak RSS is the kernel's high-water mark of resident memory (VmHWM, the
# same number getrusage reports as ru_maxrss), in kB; "-" when unknown.
# It is read without /usr/bin/time: from /proc/PID/status while the
# process still lives (bench_vmhwm), or by running the command under
# bench_run_rss, which reads the children's ru_maxrss once it has exited.

# Messages: a script that fails says why on stderr, "bench: ..." (fail),
# and the TAP helpers of tests/integration/lib.sh, which the scripts that
# start daemons source before this file, print nothing here but failures.
fail() { echo "bench: $*" >&2; exit 1; }
ok() { :; }
not_ok() { echo "bench: $1" >&2; }

# bench_result FIGURE VALUE BASELINE UNIT GOAL RSS_KB: print the RESULT
# line (RATIO = VALUE/BASELINE to 2 decimals, "-" when BASELINE is "-", 0
# or not a number) and append it to "$SW_BENCH_RESULTS" when that is set.
bench_result() {
	if [ $# -ne 6 ]; then
		echo "bench_result: 6 arguments wanted (FIGURE VALUE BASELINE UNIT GOAL RSS_KB), got $#" >&2
		return 2
	fi
	local line
	line=$(awk -v f="$1" -v v="$2" -v b="$3" -v u="$4" -v g="$5" -v r="${6:--}" 'BEGIN {
		num = "^[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?$"
		ratio = "-"
		if (v ~ num && b ~ num && b + 0 != 0)
			ratio = sprintf("%.2f", v / b)
		printf "RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f, v, b, ratio, u, g, r
	}') || return 1
	printf '%s\n' "$line"
	if [ -n "${SW_BENCH_RESULTS:-}" ]; then
		printf '%s\n' "$line" >>"$SW_BENCH_RESULTS"
	fi
}

# bench_vmhwm PID: the peak RSS in kB of a live process (VmHWM from
# /proc/PID/status), or "-" when it cannot be read (gone, not Linux).
# Call it just before stopping the process.
bench_vmhwm() {
	local kb
	kb=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null)
	echo "${kb:--}"
}

# bench_run_rss RSSFILE CMD...: run CMD (stdin, stdout and stderr as
# given) and write its peak RSS in kB to RSSFILE: the largest ru_maxrss of
# the processes it waited for, i.e. CMD itself unless a child of CMD
# grew larger.  Returns CMD's exit status.
bench_run_rss() {
	local out=$1
	shift
	python3 -c '
import os, resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=f)
sys.exit(rc if rc >= 0 else 128 - rc)' "$out" "$@"
}

# bench_rss_of RSSFILE: the number bench_run_rss wrote, or "-".
bench_rss_of() {
	local kb=
	[ -r "$1" ] && read -r kb <"$1"
	case $kb in '' | *[!0-9]*) kb=- ;; esac
	echo "$kb"
}

# bench_rss_max RSSFILE...: the largest number among those bench_run_rss
# wrote (a figure measured over rounds reports its worst round), or "-".
bench_rss_max() {
	local f r max=-
	for f in "$@"; do
		r=$(bench_rss_of "$f")
		[ "$r" = - ] && continue
		if [ "$max" = - ] || [ "$r" -gt "$max" ]; then max=$r; fi
	done
	echo "$max"
}
