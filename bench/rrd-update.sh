#!/usr/bin/env bash
# bench/rrd-update.sh - RRD updates per second through slipwatch's writer
# (lib/rrd.c via bench/rrd_bench) against `rrdtool -` (rrdtool's pipe mode:
# one process reading "update FILE T:v:..." commands from stdin) on the same
# files in the same run, once writing the files directly and once through a
# private rrdcached.
#
# Per mode: rrd_bench creates FILES warehouse files (timed apart, not in
# the rate), writes STEPS steps to each through sw_rrd_flush (only the
# flush calls are timed), and leaves pipe.txt: the same number of updates,
# same number of values, for the same files at the next STEPS steps; then
# `rrdtool -` applies pipe.txt (timed from start to exit, every answer must
# be OK, and the files must end at the baseline's last step).  Each round
# uses fresh files (and a fresh rrdcached); the rrdcached figures vary a lot
# between rounds (two processes ping-ponging on a unix socket, at the
# scheduler's mercy), so each mode runs ROUNDS rounds and the summary gives
# the medians.  Prints every round's rates, then the median rates and the
# median of the per-round ratios writer/rrdtool, rrd_bench's peak RSS (the
# largest of the rounds) and a RESULT line per mode (bench/lib.sh).
# FILES: SW_BENCH_RRD_FILES (default 200); STEPS: SW_BENCH_RRD_STEPS (30);
# ROUNDS: SW_BENCH_RRD_ROUNDS (3).
set -u
: "${SW_BUILDDIR:?run through make bench}"
FILES=${SW_BENCH_RRD_FILES:-200}
STEPS=${SW_BENCH_RRD_STEPS:-30}
ROUNDS=${SW_BENCH_RRD_ROUNDS:-3}
BENCH=$SW_BUILDDIR/bench/rrd_bench
. "$(dirname "$0")/lib.sh"
export LC_ALL=C TZ=UTC

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-rrd-bench.XXXXXX") || exit 1
CACHED_PID=
cleanup() {
	if [ -n "$CACHED_PID" ]; then
		kill -TERM "$CACHED_PID" 2>/dev/null
		wait "$CACHED_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }

# run_writer DIR [ADDR]: prints "CREATE_S UPDATES WRITER_S"; rrd_bench's
# peak RSS goes to $RSSF.
run_writer() {
	local out
	out=$(bench_run_rss "$RSSF" "$BENCH" "$@" 2>"$T/bench.err") || fail "rrd_bench: $(cat "$T/bench.err")"
	awk '/^create/ { c = $4 } /^updates/ { n = $2; s = $4 } END { print c, n, s }' <<<"$out"
}

# run_pipe DIR: applies DIR/pipe.txt with `rrdtool -`, prints its seconds.
run_pipe() {
	local t0 t1 n ok
	n=$(wc -l <"$1/pipe.txt")
	t0=$(now)
	rrdtool - <"$1/pipe.txt" >"$1/pipe.out" 2>&1 || fail "rrdtool - failed"
	t1=$(now)
	ok=$(grep -c '^OK' "$1/pipe.out")
	[ "$ok" -eq "$n" ] || fail "rrdtool: $ok of $n updates OK: $(grep -m1 -v '^OK' "$1/pipe.out")"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

# check_last DIR: the baseline's last step is the files' last update.
check_last() {
	local want got file
	want=$(tail -1 "$1/pipe.txt" | awk '{ split($3, a, ":"); print a[1] }')
	file=$(tail -1 "$1/pipe.txt" | awk '{ print $2 }')
	got=$(rrdtool last "$file") || fail "rrdtool last $file"
	[ "$got" = "$want" ] || fail "$file: last update $got, expected $want"
}

# round_direct DIR: one round on local files; prints "CREATE N WRITER RRDTOOL".
round_direct() {
	local c n w r
	mkdir -p "$1" || fail "mkdir $1"
	read -r c n w <<<"$(run_writer "$1" "$FILES" "$STEPS")"
	[ -n "${w:-}" ] || exit 1
	r=$(run_pipe "$1") || exit 1
	check_last "$1"
	echo "$c $n $w $r"
}

# round_cached DIR: the same through a private rrdcached started for the
# round (both send their updates to it; it writes them out when stopped).
round_cached() {
	local c n w r d=$1
	mkdir -p "$d/rrd" "$d/journal" || fail "mkdir $d"
	rrdcached -g -B -R -F -b "$d/rrd" -l "unix:$d/sock" -p "$d/pid" -j "$d/journal" \
		-w 3600 -f 7200 >"$d/rrdcached.log" 2>&1 &
	CACHED_PID=$!
	for _ in $(seq 100); do
		[ -S "$d/sock" ] && break
		kill -0 "$CACHED_PID" 2>/dev/null || fail "rrdcached died: $(cat "$d/rrdcached.log")"
		sleep 0.05
	done
	[ -S "$d/sock" ] || fail "rrdcached: no socket"
	read -r c n w <<<"$(run_writer "$d/rrd" "$FILES" "$STEPS" "unix:$d/sock")"
	[ -n "${w:-}" ] || exit 1
	r=$(RRDCACHED_ADDRESS=unix:$d/sock run_pipe "$d/rrd") || exit 1
	kill -TERM "$CACHED_PID"
	wait "$CACHED_PID"
	CACHED_PID=
	check_last "$d/rrd"
	echo "$c $n $w $r"
}

# summary MODE < rounds: per-round lines, then the medians (also, as
# "WRITER RRDTOOL" updates/s, to $T/medians.txt).
summary() {
	awk -v mode="$1" -v f="$FILES" -v medians="$T/medians.txt" '
	function median(a, k,   i, j, t) {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	{
		k++; c[k] = $1; wr[k] = $2 / $3; rr[k] = $2 / $4; ra[k] = $4 / $3
		printf "  %s round %d: writer %7.0f/s  rrdtool %7.0f/s  ratio %.2f  (%d updates; creating %d files %.1f s, not in the rates)\n",
			mode, k, wr[k], rr[k], ra[k], $2, f, $1
	}
	END {
		printf "  %s median: writer %7.0f updates/s  rrdtool - %7.0f updates/s  ratio writer/rrdtool %.2f\n",
			mode, median(wr, k), median(rr, k), median(ra, k)
		printf "%.0f %.0f\n", median(wr, k), median(rr, k) >medians
	}'
}

command -v rrdtool >/dev/null || fail "rrdtool not found (Debian: rrdtool)"
command -v rrdcached >/dev/null || fail "rrdcached not found (Debian: rrdcached)"
echo "bench rrd-update: $FILES warehouse files x $STEPS steps, $ROUNDS rounds, $(rrdtool --version | head -1 | cut -d' ' -f1-2)"

for mode in direct cached; do
	for i in $(seq "$ROUNDS"); do
		RSSF=$T/rss-$mode-$i
		"round_$mode" "$T/$mode-$i" || exit 1
		rm -rf "${T:?}/$mode-$i"
	done >"$T/$mode.txt"
	name=$([ $mode = cached ] && echo rrdcached || echo direct)
	summary "$name" <"$T/$mode.txt"
	rss=$(bench_rss_max "$T/rss-$mode-"*)
	echo "  $name rrd_bench peak RSS: $rss kB"
	read -r w r <"$T/medians.txt" || fail "no medians"
	bench_result "RRD updates, $name, $FILES files x $STEPS steps" "$w" "$r" updates/s "keep (~1.0 x rrdtool -)" "$rss"
done
