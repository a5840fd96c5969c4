#!/usr/bin/env bash
# 140-two-collectors: two collectors share the warehouse stream through one
# MQTT v5 shared subscription (shared_group, persistent sessions, QoS 1)
# and write one store.  A burst of N events is published; collector a is
# killed with kill -9 once the store holds some of them, then started again
# with the same client id (its session, with what mosquitto had queued or
# in flight for it, is still at the broker).  From the store: every event's
# journal row is there, none twice, and the orders derived from them are
# what N/4 orders of four stages each make.  How many events each
# collector applied (and the duplicates redelivered) is printed from their
# own counts at stop; the killed one's share is what the two others did
# not apply.  N is 20,000 on SQLite (130-mqtt-kill9 carries SQLite's
# 100,000); 142-two-collectors-pg sets 100,000 for PostgreSQL, the store
# several machines share (10,000 under the sanitizers: SW_SANITIZERS, set
# by make check in an --enable-sanitizers build).  SW_TWO_COLLECTORS_EVENTS
# overrides it.  Nothing depends on when the kill lands.
. "$SW_SRCDIR/tests/integration/lib.sh"
# 142-two-collectors-pg runs this on a PostgreSQL store
[ "${SW_TEST_STORE:-}" = pg ] && use_pg_store
N=${SW_TWO_COLLECTORS_EVENTS:-20000}

start_broker
# collector_conf NAME: $T_DIR/NAME.conf, its own client id, instance and
# RRD dir (two writers of one RRD file would refuse each other's steps).
collector_conf() {
	write_collector_conf "protocol = v5
shared_group = slipwatch
qos = 1
[collector]
instance = $1
backlog_interval = 1s
[rrd]
dir = $T_DIR/rrd-$1"
	sed "s/^client_id = .*/client_id = slipwatch-test-$$-$1/" "$T_DIR/slipwatch.conf" >"$T_DIR/$1.conf"
}
# run_collector NAME LOG WAIT-FOR: starts collector NAME, sets PID_<NAME>.
run_collector() {
	sw_spawn "$T_DIR/$2.log" "$COLLECTOR" -f -c "$T_DIR/$1.conf"
	eval "PID_$1=$SPAWNED"
	wait_for 15 grep -q "$3" "$T_DIR/$2.log" || bail "collector $1 did not log '$3': $(tail -n 5 "$T_DIR/$2.log")"
}
# applied LOG: "APPLIED DUPLICATES" from the collector's count at stop.
applied() { sed -n 's/.*ingest: at stop: \([0-9]*\) applied, \([0-9]*\) duplicates.*/\1 \2/p' "$T_DIR/$1.log" | tail -n 1; }
db() { sql "$1"; }

collector_conf a
collector_conf b
run_collector a a1 "subscribed to"
run_collector b b "subscribed to"
python3 "$SW_SRCDIR/tests/integration/gen-events.py" wh4 "$N" >"$T_DIR/burst.txt"
publish_lines warehouse/wh4/events <"$T_DIR/burst.txt" &
pub=$!
check "ingest is under way" wait_journal $((N / 5)) 120
kill -KILL "$PID_a"
wait_exit "$PID_a" 10
at_kill=$(journal_count)
ok "collector a killed with $at_kill of $N events journaled"
run_collector a a2 "started (slipwatch"
wait_exit "$pub" 300
is "$EXIT_STATUS" 0 "the publisher delivered all $N to the broker"
check "all $N events arrive" wait_journal "$N" 300
for name in a b; do
	pid=PID_$name
	kill -TERM "${!pid}"
	wait_exit "${!pid}" 30
	is "$EXIT_STATUS" 0 "collector $name stops cleanly"
done

is "$(journal_count)" "$N" "0 lost: the journal holds exactly $N events"
is "$(db "SELECT count(DISTINCT source_event_id) FROM journal WHERE warehouse_id = 'wh4'")" "$N" \
	"0 applied twice: $N distinct event ids, one row each"
is "$(db "SELECT count(*) FROM (SELECT source, source_event_id FROM journal GROUP BY 1, 2 HAVING count(*) > 1) AS dup")" 0 \
	"no journal key twice"
orders=$((N / 4))
is "$(db "SELECT count(*) FROM orders WHERE warehouse_id = 'wh4'")" "$orders" "$orders orders"
is "$(db "SELECT count(*) FROM orders WHERE warehouse_id = 'wh4' AND status = 'shipped'")" "$orders" \
	"every order shipped (all four stages applied)"
is "$(db "SELECT count(*) FROM parcels WHERE tracking_number LIKE 'JDWH4%'")" "$orders" "one parcel per order"
is "$(db "SELECT count(*) FROM (SELECT j.order_id FROM journal j WHERE j.warehouse_id = 'wh4' GROUP BY j.order_id HAVING count(*) != 4) AS odd")" 0 \
	"every order has exactly its 4 journal rows"

read -r a2 a2_dup <<<"$(applied a2)"
read -r b b_dup <<<"$(applied b)"
if [ -n "${a2:-}" ] && [ -n "${b:-}" ]; then
	a1=$((N - a2 - b))
	ok "events applied: a before the kill $a1, a after the restart $a2, b $b; redelivered duplicates: a $a2_dup, b $b_dup"
	check "both collectors took part" test "$((a1 + a2))" -gt 0 -a "$b" -gt 0
else
	not_ok "the collectors' counts at stop are in their logs"
fi
done_testing
