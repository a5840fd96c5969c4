#!/usr/bin/env bash
# 205-rrdcached-tcp: the collector writes its RRD files through a real
# rrdcached over TCP on loopback (relative names, resolved against the
# daemon's -b directory), and nothing is lost when rrdcached is killed
# with kill -9 in the middle of the stream and restarted on the same
# journal (-j): every warehouse event published (three batches: before,
# during and after the outage) is counted exactly once in the RRD file.
#
# rrdcached 1.7 journals through a stdio buffer, so a kill -9 loses the
# updates it accepted last; the collector keeps them and sends them again
# after seeing the restart (lib/rrd.c).  Every wait is for a state (the
# store's journal count, the daemon's last update), never for a time.
. "$SW_SRCDIR/tests/integration/lib.sh"
GEN="python3 $SW_SRCDIR/tests/integration/gen-events.py"
RRDCACHED_BIN=${SW_RRDCACHED:-$(command -v rrdcached || echo /usr/bin/rrdcached)}
RRDTOOL_CLI="$SW_BUILDDIR/tools/slipwatch-rrd"

STEP=2
WH=w205
BASE="$T_DIR/rrd-base"     # rrdcached's -b: where the files really are
JDIR="$T_DIR/rrd-journal"  # rrdcached's -j
PORT=$(free_port)
ADDR="127.0.0.1:$PORT"
FILE="warehouse/$WH.rrd"   # the name sent over TCP
mkdir -p "$BASE" "$JDIR"
T_START=$(date +%s)

# IPv6 loopback, when this machine has it: rrdcached listens there too.
V6=
python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null && V6=yes

can_connect() {
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)' "$PORT"
}
start_rrdcached() { # start_rrdcached LOGNAME
	sw_spawn "$T_DIR/$1.log" "$RRDCACHED_BIN" -g -B -R -F -b "$BASE" -l "$ADDR" \
		${V6:+-l "[::1]:$PORT"} -p "$T_DIR/rrdcached.pid" -j "$JDIR" -w 3600 -z 1 -f 7200
	RRDCACHED_PID=$SPAWNED
	wait_for 10 can_connect || bail "rrdcached did not start on $ADDR: $(tail -n 5 "$T_DIR/$1.log")"
}
# daemon_last: the last update rrdcached holds for the file (memory and
# journal included), 0 if none.
daemon_last() { rrdtool last --daemon "$ADDR" "$FILE" 2>/dev/null || echo 0; }
# written_after T: rrdcached holds a step stamped after T, so every event
# counted by T is in an update it accepted (a step's update is sent at or
# after its stamp and carries what was counted until then).
written_after() { [ "$(daemon_last)" -gt "$1" ]; }
# publish_batch START: 40 events (10 orders x created, picked, packed,
# shipped), waits until they are in the store, then until rrdcached has them.
publish_batch() {
	$GEN "$WH" 40 --start "$1" | publish_lines "warehouse/$WH/events"
	wait_journal $(($1 + 40)) 30 || bail "the collector did not journal $(($1 + 40)) events"
	local counted_by
	counted_by=$(date +%s)
	check "events $1..$(($1 + 39)) reached rrdcached" wait_for 30 written_after "$counted_by"
}
# sum_ds DS: events counted in DS (ABSOLUTE: rate x step, summed) since the
# test began, read from the file itself (rrdcached stopped and flushed).
sum_ds() {
	rrdtool fetch "$BASE/$FILE" AVERAGE -r "$STEP" -s $((T_START - 10)) -e $(($(date +%s) + 2 * STEP)) |
		awk -v ds="$1" -v step="$STEP" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
		NF > 1 && col && $col !~ /nan/ { sum += $col * step }
		END { printf "%.0f\n", sum }'
}

start_broker
start_rrdcached rrdcached-1
write_collector_conf "[rrd]
dir = $T_DIR/rrd-local
step = ${STEP}s
rrdcached = $ADDR
reconnect_max = 2s"
start_collector

# 1. Before the outage: written through rrdcached, kept in its memory.
publish_batch 0
check "the file was created in rrdcached's -b directory" test -s "$BASE/$FILE"
check "no file under the collector's own [rrd] dir" test ! -e "$T_DIR/rrd-local/$FILE"
on_disk=$(rrdtool last "$BASE/$FILE")
check "the accepted steps are only in rrdcached's memory and journal (-w 3600)" \
	test "$on_disk" -lt "$(daemon_last)"
echo "# journal on disk before kill -9: $(cat "$JDIR"/* | wc -c) bytes"

# 2. kill -9 in the middle of the stream; events keep coming.
kill -KILL "$RRDCACHED_PID"
wait_exit "$RRDCACHED_PID" 10
$GEN "$WH" 40 --start 40 | publish_lines "warehouse/$WH/events"
check "events keep being stored while rrdcached is down" wait_journal 80 30
check "the collector queues steps while rrdcached is down" \
	wait_for 20 grep -q "rrdcached $ADDR: .*steps queued" "$T_DIR/collector.log"
check "the collector keeps running" kill -0 "$COLLECTOR_PID"

# 3. The same journal directory: rrdcached replays what reached it.
start_rrdcached rrdcached-2
counted_by=$(date +%s)
check "events 40..79 reached the restarted rrdcached" wait_for 30 written_after "$counted_by"
publish_batch 80
grep -q "replaying from journal" "$T_DIR/rrdcached-2.log" &&
	echo "# rrdcached replayed its journal: $(grep -c 'update' "$T_DIR/rrdcached-2.log" || true) log lines"

# The project's own client through the IPv6 form of the address.
if [ -n "$V6" ]; then
	sed "s|^rrdcached = .*|rrdcached = [::1]:$PORT|" "$T_DIR/slipwatch.conf" >"$T_DIR/v6.conf"
	out=$("$RRDTOOL_CLI" -c "$T_DIR/v6.conf" check "warehouse/$WH" 2>&1)
	is "$(echo $out)" "ok warehouse/$WH.rrd" "slipwatch-rrd checks the file through [::1]:$PORT"
else
	echo "# no IPv6 loopback here: [::1]:PORT not tried"
fi

# 4. Stop everything; -F makes rrdcached write what it holds.
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
check "rrdtool flushcached over TCP" rrdtool flushcached --daemon "$ADDR" "$FILE"
kill -TERM "$RRDCACHED_PID"; wait_exit "$RRDCACHED_PID" 15
is "$EXIT_STATUS" 0 "rrdcached stops cleanly"
check "rrdcached wrote everything at its stop (-F): the journal is gone" \
	test -z "$(ls -A "$JDIR")"

# 5. 120 events: 30 of each stage, each counted exactly once.
for ds in created picked packed shipped; do
	is "$(sum_ds "$ds")" 30 "30 $ds events in the file: none lost, none twice"
done
check "no update was refused" sh -c "! grep -q 'refused' '$T_DIR/collector.log'"
done_testing
