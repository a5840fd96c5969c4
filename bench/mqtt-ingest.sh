#!/usr/bin/env bash
# bench/mqtt-ingest.sh - durable ingest rate of slipwatch-collector against
# a bare libmosquitto subscriber (bench/bare_sub: no processing, no storage)
# draining the same stream from the same broker in the same run.
#
# Both sessions are primed, then N events are published once (queued for
# both), then each drains its queue alone; the time is from process start
# to the last event (bare_sub: received; collector: committed to the store).
# Prints both rates, the ratio and the collector's peak RSS (VmHWM, read
# just before it is stopped), then a RESULT line (bench/lib.sh).
# N: SW_BENCH_EVENTS (default 50000).
set -u
: "${SW_SRCDIR:?run through make bench}" "${SW_BUILDDIR:?run through make bench}"
N=${SW_BENCH_EVENTS:-50000}
. "$SW_SRCDIR/tests/integration/lib.sh"
. "$SW_SRCDIR/bench/lib.sh"

start_broker
write_collector_conf
sed -i 's/^level = info/level = notice/' "$T_DIR/slipwatch.conf"
BARE=$SW_BUILDDIR/bench/bare_sub
"$BARE" 127.0.0.1 "$BROKER_PORT" bench-bare 'warehouse/+/events' 1 1 --prime ||
	{ echo "bench: cannot prime the bare session" >&2; exit 1; }
start_collector
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15

echo "bench: publishing $N events (queued for both sessions)"
python3 "$SW_SRCDIR/tests/integration/gen-events.py" bench "$N" | publish_lines warehouse/bench/events ||
	{ echo "bench: publishing failed" >&2; exit 1; }

read -r got bare_s < <("$BARE" 127.0.0.1 "$BROKER_PORT" bench-bare 'warehouse/+/events' 1 "$N")
[ "${got:-0}" -eq "$N" ] || { echo "bench: bare subscriber got ${got:-0} of $N" >&2; exit 1; }

t0=$(date +%s.%N)
sw_spawn "$T_DIR/collector-bench.log" "$COLLECTOR" -f -c "$T_DIR/slipwatch.conf"
COLLECTOR_PID=$SPAWNED
while [ "$(journal_count)" -lt "$N" ]; do
	kill -0 "$COLLECTOR_PID" 2>/dev/null || { echo "bench: collector died" >&2; exit 1; }
	sleep 0.05
done
t1=$(date +%s.%N)
rss=$(bench_vmhwm "$COLLECTOR_PID")
commits=$(sqlite3 "$T_DIR/store.db" 'SELECT 1' >/dev/null; kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15; grep -o '[0-9]* commits' "$T_DIR/collector-bench.log" | tail -1)

python3 - "$N" "$bare_s" "$t0" "$t1" "$rss" <<'PY'
import sys
n, bare, t0, t1 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
col = t1 - t0
print(f"bench mqtt-ingest: {n} events")
print(f"  bare libmosquitto subscriber: {n / bare:10.0f} events/s ({bare:.2f} s)")
print(f"  slipwatch-collector (durable): {n / col:10.0f} events/s ({col:.2f} s)")
print(f"  ratio collector/bare: {bare / col:.2f}")
print(f"  collector peak RSS: {sys.argv[5]} kB")
PY
read -r col_rate bare_rate < <(awk -v n="$N" -v b="$bare_s" -v a="$t0" -v z="$t1" \
	'BEGIN { printf "%.0f %.0f\n", n / (z - a), n / b }')
bench_result "durable MQTT ingest, $N events" "$col_rate" "$bare_rate" events/s ">= 0.8" "$rss"
