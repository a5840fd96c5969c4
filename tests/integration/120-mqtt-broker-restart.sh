#!/usr/bin/env bash
# 120-mqtt-broker-restart: the broker restarts mid-stream; the collector
# logs the loss once, reconnects by itself, resubscribes, loses nothing.
. "$SW_SRCDIR/tests/integration/lib.sh"
GEN="python3 $SW_SRCDIR/tests/integration/gen-events.py"

start_broker
write_collector_conf
start_collector
$GEN wh2 4000 | publish_lines warehouse/wh2/events
stop_broker
sleep 1
start_broker
check "collector reconnects and subscribes again" wait_for 30 sh -c "[ \$(grep -c 'subscribed to' '$T_DIR/collector.log') -ge 2 ]"
$GEN wh2 4000 --start 4000 | publish_lines warehouse/wh2/events
check "all 8000 events arrive" wait_journal 8000 120
check "the collector has handled everything published" collector_caught_up
is "$(journal_count)" 8000 "exactly 8000 in the journal"
is "$(grep -c 'connection lost' "$T_DIR/collector.log")" 1 "the loss is logged once"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
done_testing
