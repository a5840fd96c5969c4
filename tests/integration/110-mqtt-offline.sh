#!/usr/bin/env bash
# 110-mqtt-offline: events published while the collector is down wait in its
# persistent session and all arrive when it returns (10k events).
. "$SW_SRCDIR/tests/integration/lib.sh"
N=10000

start_broker
write_collector_conf
start_collector
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector stopped cleanly"
python3 "$SW_SRCDIR/tests/integration/gen-events.py" wh1 $N | publish_lines warehouse/wh1/events
is "$(journal_count)" 0 "nothing ingested while down"
start_collector collector2 "started (slipwatch"
check "all $N events published while down arrive" wait_journal $N 180
check "the collector has handled everything published" collector_caught_up
is "$(journal_count)" $N "exactly $N events in the journal"
done_testing
