#!/usr/bin/env bash
# bench/store-ingest.sh - durable ingest into each store backend, with one
# and with two collectors, against one collector on SQLite in the same run.
#
# Four runs over the same N events from the same broker: SQLite with 1
# collector (the baseline), SQLite with 2, PostgreSQL with 1 and with 2
# (a private server, tests/tools/pg_tmp.sh: Unix socket, fsync on, as a
# real one).  Two collectors share the stream through an MQTT v5 shared
# subscription (as tests/integration/140).  Each run: the sessions are
# made, the N events queued for them, then the collectors start and the
# time runs until the store's journal holds all N.  Prints the rates and
# their ratios to the baseline, then RESULT lines (bench/lib.sh).
# N: SW_BENCH_EVENTS (default 20000).
set -u
: "${SW_SRCDIR:?run through make bench}" "${SW_BUILDDIR:?run through make bench}"
N=${SW_BENCH_EVENTS:-20000}
. "$SW_SRCDIR/tests/integration/lib.sh"
. "$SW_SRCDIR/bench/lib.sh"

PG_BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slipwatch-pgbench.XXXXXX")
trap '"$SW_SRCDIR/tests/tools/pg_tmp.sh" stop "$PG_BENCH_DIR" >/dev/null 2>&1; rm -rf "$PG_BENCH_DIR"; t_cleanup' EXIT
PG_INFO=$(SW_PG_FSYNC=on "$SW_SRCDIR/tests/tools/pg_tmp.sh" start "$PG_BENCH_DIR") ||
	fail "no PostgreSQL server could start (see above)"
PG_URL="postgresql://slipwatch@$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PG_BENCH_DIR/sock")/slipwatch"
start_broker
python3 "$SW_SRCDIR/tests/integration/gen-events.py" bench "$N" >"$T_DIR/events.txt"

# conf NAME STORE-LINE RUN: a collector's file for run RUN
conf() {
	STORE_URL= write_collector_conf "protocol = v5
shared_group = bench$3
qos = 1
[collector]
instance = $1
[rrd]
dir = $T_DIR/rrd-$3-$1"
	sed -e "s|^path = .*|$2|" -e "s/^client_id = .*/client_id = bench-$3-$1/" \
		-e 's/^level = info/level = notice/' "$T_DIR/slipwatch.conf" >"$T_DIR/$3-$1.conf"
}

# run BACKEND COLLECTORS: prints the rate in events/s
run() {
	local backend=$1 n=$2 tag="$1$2" store i pids=() t0 t1
	if [ "$backend" = pg ]; then
		PGOPTIONS="-c client_min_messages=warning" psql "$PG_INFO" -XAtq \
			-c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" || fail "cannot empty PostgreSQL"
		store="url = $PG_URL"
		PG_CONNINFO=$PG_INFO
	else
		rm -f "$T_DIR"/store.db*
		store="path = $T_DIR/store.db"
		PG_CONNINFO=
	fi
	for i in $(seq 1 "$n"); do
		conf "c$i" "$store" "$tag"
		sw_spawn "$T_DIR/$tag-c$i-prime.log" "$COLLECTOR" -f -c "$T_DIR/$tag-c$i.conf"
		pids+=("$SPAWNED")
		wait_for 30 grep -q "subscribed to" "$T_DIR/$tag-c$i-prime.log" || fail "$tag: collector $i did not subscribe"
	done
	for i in "${pids[@]}"; do kill -TERM "$i"; wait_exit "$i" 15; done
	publish_lines "warehouse/bench/events" <"$T_DIR/events.txt" || fail "publishing failed"
	pids=()
	t0=$(date +%s.%N)
	for i in $(seq 1 "$n"); do
		sw_spawn "$T_DIR/$tag-c$i.log" "$COLLECTOR" -f -c "$T_DIR/$tag-c$i.conf"
		pids+=("$SPAWNED")
	done
	while [ "$(journal_count)" -lt "$N" ]; do
		for i in "${pids[@]}"; do kill -0 "$i" 2>/dev/null || fail "$tag: a collector died"; done
		sleep 0.05
	done
	t1=$(date +%s.%N)
	for i in "${pids[@]}"; do kill -TERM "$i"; wait_exit "$i" 30; done
	awk -v n="$N" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f\n", n / (z - a) }'
}

lite1=$(run sqlite 1)
lite2=$(run sqlite 2)
pg1=$(run pg 1)
pg2=$(run pg 2)
echo "bench store-ingest: $N events, durable, per configuration"
for v in "SQLite, 1 collector:$lite1" "SQLite, 2 collectors:$lite2" \
	"PostgreSQL, 1 collector:$pg1" "PostgreSQL, 2 collectors:$pg2"; do
	awk -v l="${v%%:*}" -v r="${v##*:}" -v b="$lite1" \
		'BEGIN { printf "  %-26s %8d events/s  (%.2f of SQLite with 1)\n", l, r, r / b }'
done
bench_result "ingest, SQLite, 2 collectors, $N events" "$lite2" "$lite1" events/s "-" "-"
bench_result "ingest, PostgreSQL, 1 collector, $N events" "$pg1" "$lite1" events/s "-" "-"
bench_result "ingest, PostgreSQL, 2 collectors, $N events" "$pg2" "$lite1" events/s "-" "-"
