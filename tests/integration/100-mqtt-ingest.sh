#!/usr/bin/env bash
# 100-mqtt-ingest: a stream of valid events, duplicates, an out-of-order
# pair and one of each kind of bad payload through a real mosquitto: the
# store holds exactly the valid unique events, the dead-letter topic gets one
# message per bad payload with its reason, the collector keeps running.
. "$SW_SRCDIR/tests/integration/lib.sh"
GEN="python3 $SW_SRCDIR/tests/integration/gen-events.py"

start_broker
write_collector_conf "max_payload = 2k"
start_collector
sw_spawn "$T_DIR/dead.txt" mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t slipwatch/deadletter
# Subscribed once a probe published after it started comes through.
probe() {
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t slipwatch/deadletter -m dl-probe &&
		sleep 0.2 && grep -q dl-probe "$T_DIR/dead.txt"
}
wait_for 15 probe || bail "the dead-letter subscriber did not start: $(cat "$T_DIR/dead.txt")"

$GEN blr1 20 >"$T_DIR/valid.txt"                 # 5 orders x 4 stages
publish_lines warehouse/blr1/events <"$T_DIR/valid.txt"
head -n 5 "$T_DIR/valid.txt" | publish_lines warehouse/blr1/events   # duplicates
# out of order: picked before created for a new order
$GEN blr1 2 --start 100 >"$T_DIR/ooo.txt"
tac "$T_DIR/ooo.txt" | publish_lines warehouse/blr1/events

bad() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "${2:-warehouse/blr1/events}" -m "$1"; }
bad 'this is not json'
bad '[1,2,3]'
bad '{"type":"order.picked","occurred_at":"2026-11-24T03:00:00Z","warehouse_id":"blr1","order_id":"X"}'
bad '{"event_id":17,"type":"order.picked","occurred_at":"2026-11-24T03:00:00Z","warehouse_id":"blr1","order_id":"X"}'
bad '{"event_id":"b5","type":"order.picked","occurred_at":"2026-11-24 03:00","warehouse_id":"blr1","order_id":"X"}'
bad '{"event_id":"b6","type":"order.picked","occurred_at":"2026-11-24T03:00:00Z","warehouse_id":"del2","order_id":"X"}'
bad '{"event_id":"b7","type":"order.teleported","occurred_at":"2026-11-24T03:00:00Z","warehouse_id":"blr1","order_id":"X"}'
bad "{\"event_id\":\"b8\",\"pad\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}"

check "all 22 valid unique events are journaled" wait_journal 22 30
check "the collector has handled everything published" collector_caught_up
is "$(journal_count)" 22 "no duplicate and no bad payload was journaled"
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM orders WHERE warehouse_id='blr1'")" 6 "six orders"
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM parcels")" 5 "five parcels shipped"
ooo=$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE order_id='ORD-25'")
is "$ooo" 2 "both events of the out-of-order pair are kept"
# One more bad payload, last: once its dead letter is here, the copies of
# the others (published in the order they were rejected) are too.
bad 'not json dl-marker'
check "the dead letters are published" wait_for 30 grep -q dl-marker "$T_DIR/dead.txt"
grep -v -e dl-probe -e dl-marker "$T_DIR/dead.txt" >"$T_DIR/dead8.txt"
dead=$(cat "$T_DIR/dead8.txt")
is "$(grep -c . "$T_DIR/dead8.txt")" 8 "one dead letter per bad payload"
for reason in not_json not_object missing_field wrong_type bad_timestamp warehouse_mismatch bad_value too_big; do
	is "$(grep -c "\"reason\":\"$reason\"" "$T_DIR/dead8.txt")" 1 "dead letter with reason $reason"
done
contains "$dead" '"detail":' "dead letters carry a detail"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
contains "$(cat "$T_DIR/collector.log")" "rejected" "rejections are logged"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
