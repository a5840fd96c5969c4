#!/usr/bin/env bash
# 130-mqtt-kill9: kill -9 the collector in the middle of a 100k burst and
# restart it: the journal holds every event exactly once.
. "$SW_SRCDIR/tests/integration/lib.sh"
N=${SW_KILL9_EVENTS:-100000}

start_broker
write_collector_conf
start_collector
python3 "$SW_SRCDIR/tests/integration/gen-events.py" wh3 $N >"$T_DIR/burst.txt"
publish_lines warehouse/wh3/events <"$T_DIR/burst.txt" &
pub=$!
check "ingest is under way" wait_journal $((N / 5)) 120
kill -KILL "$COLLECTOR_PID"
wait_exit "$COLLECTOR_PID" 10
at_kill=$(journal_count)
ok "collector killed with $at_kill of $N events journaled"
start_collector collector2 "started (slipwatch"
wait_exit "$pub" 300
is "$EXIT_STATUS" 0 "the publisher delivered all $N to the broker"
check "all $N events arrive after the restart" wait_journal $N 300
check "the collector has handled everything published" collector_caught_up
is "$(journal_count)" $N "the journal holds exactly $N events"
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(DISTINCT source_event_id) FROM journal WHERE warehouse_id = 'wh3'")" $N "each exactly once"
done_testing
