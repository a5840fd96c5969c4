#!/usr/bin/env bash
# 200-rrd-collector: the collector writes its warehouse metrics to RRD,
# once per step and on SIGUSR1, directly with librrd and through a real
# rrdcached (unix socket); rrdtool fetch reads back exactly the events sent.
. "$SW_SRCDIR/tests/integration/lib.sh"
GEN="python3 $SW_SRCDIR/tests/integration/gen-events.py"
RRDCACHED_BIN=${SW_RRDCACHED:-$(command -v rrdcached || echo /usr/bin/rrdcached)}

# sum_ds FILE DS [fetch options...]: events counted in data source DS over
# the last 10 minutes (ABSOLUTE: rate x step, summed over the rows).
sum_ds() {
	local file=$1 ds=$2; shift 2
	rrdtool fetch "$file" AVERAGE -s end-600 -e now "$@" | awk -v ds="$ds" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
		NF > 1 && col && $col != "-nan" && $col != "nan" { sum += $col * step }
		END { printf "%.0f\n", sum }' step="$STEP"
}

STEP=2
start_broker
run_case() { # run_case NAME EXTRA-RRD-LINES FETCH-OPTS...
	local name=$1 extra=$2; shift 2
	local dir="$T_DIR/rrd-$name"
	mkdir -p "$dir"
	write_collector_conf "[rrd]
dir = $dir
step = ${STEP}s
$extra"
	start_collector "collector-$name"
	$GEN "r$name" 40 | publish_lines "warehouse/r$name/events"
	wait_journal_wh "r$name" 40
	sleep 0.3
	kill -USR1 "$COLLECTOR_PID"
	check "$name: warehouse file created" wait_for 10 test -s "$dir/warehouse/r$name.rrd"
	# SIGUSR1 wrote the current step ahead (its end): let the clock reach
	# it, so that fetch ... -e now shows that step, then stop.
	check "$name: the written step has begun" wait_for 10 rrd_step_passed "$dir/warehouse/r$name.rrd" "$@"
	kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
	is "$EXIT_STATUS" 0 "$name: collector exits cleanly"
	[ -n "$extra" ] && rrdtool flushcached --daemon "unix:$T_DIR/rrdcached.sock" "$dir/warehouse/r$name.rrd" 2>/dev/null
	for ds in created picked packed shipped; do
		is "$(sum_ds "$dir/warehouse/r$name.rrd" "$ds" "$@")" 10 "$name: 10 $ds events in the RRD"
	done
	# Every order went all the way: the backlogs are 0 (known), not U.
	last=$(rrdtool lastupdate "$dir/warehouse/r$name.rrd" "$@" | awk '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "backlog_pick") col = i + 1 }
		NF > 2 { v = $col } END { print v }')
	is "$last" 0 "$name: backlog_pick is 0 once every order shipped"
	info=$(rrdtool info "$dir/warehouse/r$name.rrd")
	contains "$info" "step = $STEP" "$name: the file has the configured step"
	contains "$info" "ds[backlog_pick].type = \"GAUGE\"" "$name: backlog is a gauge"
	contains "$info" "ds[pick_p50].type = \"GAUGE\"" "$name: pick quantiles are kept"
	contains "$info" 'rra[0].cf = "AVERAGE"' "$name: AVERAGE archive"
	contains "$info" 'cf = "MAX"' "$name: MAX archive"
	contains "$info" 'cf = "MIN"' "$name: MIN archive"
}
wait_journal_wh() {
	local end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		[ "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE warehouse_id='$1'" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

run_case direct ""

mkdir -p "$T_DIR/rrd-cached"
sw_spawn "$T_DIR/rrdcached.log" "$RRDCACHED_BIN" -g -B -R -F -b "$T_DIR/rrd-cached" \
	-l "unix:$T_DIR/rrdcached.sock" -p "$T_DIR/rrdcached.pid" -j "$T_DIR/rrdcached-journal" -w 3600 -f 7200
mkdir -p "$T_DIR/rrdcached-journal"
check "rrdcached started" wait_for 10 test -S "$T_DIR/rrdcached.sock"
run_case cached "rrdcached = unix:$T_DIR/rrdcached.sock" --daemon "unix:$T_DIR/rrdcached.sock"

# A file whose layout differs from the catalogue is refused, named, kept.
mkdir -p "$T_DIR/rrd-bad/warehouse"
rrdtool create "$T_DIR/rrd-bad/warehouse/rbad.rrd" --step 300 DS:x:GAUGE:600:U:U RRA:AVERAGE:0.5:1:10
cp "$T_DIR/rrd-bad/warehouse/rbad.rrd" "$T_DIR/rbad.orig"
write_collector_conf "[rrd]
dir = $T_DIR/rrd-bad
step = ${STEP}s"
start_collector collector-bad
$GEN rbad 8 | publish_lines warehouse/rbad/events
wait_journal_wh rbad 8
kill -USR1 "$COLLECTOR_PID"
check "a mismatched file is reported" wait_for 10 grep -q 'rbad.rrd: step is 300 s' "$T_DIR/collector-bad.log"
check "and left untouched" cmp -s "$T_DIR/rbad.orig" "$T_DIR/rrd-bad/warehouse/rbad.rrd"
check "the collector keeps running" kill -0 "$COLLECTOR_PID"
done_testing
