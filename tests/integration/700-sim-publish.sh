#!/usr/bin/env bash
# 700-sim-publish: slipwatch-sim publishes a simulated day of two
# warehouses (duplicates, reordering, a feed held back and released as a
# backlog) to a real mosquitto at high clock speed, and a real
# slipwatch-collector ingests it: the journal holds exactly the distinct
# events of the sim's truth, each once.  The sim also serves its courier
# APIs (the port is the first line of its stdout), writes couriers.conf,
# progress and a truth byte-identical to that of --once-world.
. "$SW_SRCDIR/tests/integration/lib.sh"

SIM="$SW_BUILDDIR/sim/slipwatch-sim"
start_broker
write_collector_conf
start_collector

cat >"$T_DIR/sim.conf" <<CONF
[sim]
seed = 5
start = 2026-03-02T00:00:00+05:30
length = 1d
orders_per_hour = 6
duplicate_share = 0.2
reorder_share = 0.3
reorder_window = 2m
out = $T_DIR/sim
[mqtt]
port = $BROKER_PORT
[trouble w2-quiet]
kind = feed_stop
warehouse = w2
from = 8h
for = 3h
CONF

# The world alone: truth and summary, no network.
"$SIM" -c "$T_DIR/sim.conf" --once-world --out "$T_DIR/once" >"$T_DIR/once.out" 2>"$T_DIR/once.err"
is "$?" 0 "--once-world exits 0"
check "--once-world writes the truth" test -s "$T_DIR/once/truth.json"
is "$(cat "$T_DIR/once.out")" "" "--once-world prints nothing on stdout"
contains "$(cat "$T_DIR/once.err")" "orders" "--once-world prints a summary"

# The run: a simulated day in about 4 real seconds.
SLIPWATCH_CLOCK="2026-03-01T18:30:00Z*20000" "$SIM" -c "$T_DIR/sim.conf" \
	>"$T_DIR/sim.out" 2>"$T_DIR/sim.log" &
SIM_PID=$!
T_PIDS+=("$SIM_PID")
wait_exit "$SIM_PID" 120 || bail "slipwatch-sim did not finish: $(tail -n 5 "$T_DIR/sim.log")"
is "$EXIT_STATUS" 0 "slipwatch-sim exits 0 when the simulated day is over"
PORT=$(head -n 1 "$T_DIR/sim.out")
check "the first line of stdout is the API port" sh -c "[ '$PORT' -gt 0 ] 2>/dev/null"
contains "$(cat "$T_DIR/sim/couriers.conf")" "base_url = http://127.0.0.1:$PORT/dhl/track" \
	"couriers.conf points DHL at the API"
contains "$(cat "$T_DIR/sim/couriers.conf")" "[courier ups]" "couriers.conf has UPS"
check "the run's truth is the --once-world truth, byte for byte" \
	cmp -s "$T_DIR/sim/truth.json" "$T_DIR/once/truth.json"
contains "$(cat "$T_DIR/sim/progress")" "done=1" "progress says the run is done"

truth() { python3 -c "import json,sys; print(json.load(open('$T_DIR/sim/truth.json'))['totals'][sys.argv[1]])" "$1"; }
DISTINCT=$(truth events_in_run)
ALL=$(truth events)
check "the truth has duplicates to publish ($ALL events, $DISTINCT distinct)" \
	sh -c "[ $ALL -gt $DISTINCT ] && [ $DISTINCT -gt 100 ]"
PUBLISHED=$(sed -n 's/.*published \([0-9]*\) events.*/\1/p' "$T_DIR/sim.log")
is "$PUBLISHED" "$ALL" "every event was published, duplicates included"

collector_caught_up || bail "collector did not catch up"
is "$(journal_count)" "$DISTINCT" "the journal holds exactly the distinct events"
is "$(sql "SELECT count(*) FROM (SELECT source_event_id FROM journal WHERE warehouse_id != '$MARKER_WH' GROUP BY source_event_id HAVING count(*) > 1)")" 0 \
	"no event journaled twice"
ORDERS=$(truth orders)
is "$(sql "SELECT count(*) FROM orders WHERE warehouse_id IN ('w1','w2')")" "$ORDERS" \
	"every order of the truth is in the store"
done_testing
