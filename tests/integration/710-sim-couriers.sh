#!/usr/bin/env bash
# 710-sim-couriers: a real slipwatch-collector configured with the
# couriers.conf slipwatch-sim writes polls the sim's DHL, FedEx and UPS
# APIs: parcels get statuses from it, and every parcel the collector saw
# delivered is delivered in the sim's truth.  The broker is restarted
# while the sim publishes: it reconnects and the journal loses nothing it
# was acknowledged.  SIGTERM stops the sim cleanly (exit 0, summary).
# The collector runs on the sim's clock (one SLIPWATCH_CLOCK, one anchor).
# Waits are for states (the store's, the sim's progress file); the run
# is long (4 simulated days at 5000x, about 70 s) and is stopped once the
# states are reached (about 1.5 simulated days), so that they come first.
. "$SW_SRCDIR/tests/integration/lib.sh"

SIM="$SW_BUILDDIR/sim/slipwatch-sim"
start_broker
cat >"$T_DIR/sim.conf" <<CONF
[sim]
seed = 9
start = 2026-03-02T00:00:00+05:30
length = 4d
orders_per_hour = 4
out = $T_DIR/sim
[mqtt]
port = $BROKER_PORT
CONF
ANCHOR_MS=$(($(date +%s%N) / 1000000 + 4000))
export SLIPWATCH_CLOCK="2026-03-01T18:30:00Z*5000@$((ANCHOR_MS / 1000)).$(printf %03d $((ANCHOR_MS % 1000)))"
"$SIM" -c "$T_DIR/sim.conf" >"$T_DIR/sim.out" 2>"$T_DIR/sim.log" &
SIM_PID=$!
T_PIDS+=("$SIM_PID")
wait_for 30 test -s "$T_DIR/sim/couriers.conf" || bail "no couriers.conf: $(tail -n 5 "$T_DIR/sim.log")"

polls=$(sed -e '/^\[courier /a interval = 1h\ninterval_near = 30m\ninterval_max = 2h\nbackoff_min = 5m\nbackoff_max = 30m\nrate = 50\nburst = 20' "$T_DIR/sim/couriers.conf")
write_collector_conf "$polls
[simulation]
enabled = yes"
start_collector
unset SLIPWATCH_CLOCK

progress() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$T_DIR/sim/progress" 2>/dev/null; }
check "the sim publishes" wait_for 60 sh -c "[ \"\$(sed -n 's/.* events_acked=\([0-9]*\).*/\1/p' '$T_DIR/sim/progress')\" -gt 20 ]"
is "$(progress done)" 0 "the run is still on when the broker restarts"
restart_broker
count() { sql "SELECT count(*) FROM parcels WHERE courier='$1' AND status IN ($2)" 2>/dev/null; }
for c in dhl fedex ups; do
	check "$c parcels are polled at the sim's API and move" \
		wait_for 120 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE courier='$c' AND status IN ('in_transit','out_for_delivery','delivered')\")\" -gt 0 ]"
done
check "some parcels are delivered" \
	wait_for 120 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE status='delivered'\")\" -gt 0 ]"
check "the sim counts API requests" sh -c "[ \"\$(sed -n 's/.* api_requests=\([0-9]*\).*/\1/p' '$T_DIR/sim/progress')\" -gt 0 ]"
is "$(progress done)" 0 "the run is still on when it is stopped"

kill -TERM "$SIM_PID"
wait_exit "$SIM_PID" 30
is "$EXIT_STATUS" 0 "SIGTERM: the sim exits 0"
contains "$(cat "$T_DIR/sim.log")" "stopped by a signal" "SIGTERM: it says so in its summary"

# Every parcel the collector saw delivered is delivered in the truth.
sql "SELECT courier || ' ' || tracking_number FROM parcels WHERE status='delivered'" >"$T_DIR/delivered"
BAD=$(python3 - "$T_DIR/sim/truth.json" "$T_DIR/delivered" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
known = {(p["courier"], p["tracking_number"]): p["delivered_at"] for o in t["orders"] for p in o["parcels"]}
bad = [l for l in open(sys.argv[2]).read().split("\n") if l and known.get(tuple(l.split(" "))) is None]
print(len(bad))
PY
)
is "$BAD" 0 "the collector's delivered parcels are delivered in the truth"

# After the broker's restart nothing acknowledged was lost: every event the
# sim published is journaled once (its published count includes duplicates,
# so the journal holds at most that and at least the events of orders
# created before the first acknowledged event... checked as: every order the
# journal knows has its order.created).
PUB=$(sed -n 's/.*published \([0-9]*\) events (\([0-9]*\) acknowledged).*/\1 \2/p' "$T_DIR/sim.log")
set -- $PUB
is "${1:-x}" "${2:-y}" "every published event was acknowledged"
collector_caught_up || bail "collector did not catch up"
J=$(sql "SELECT count(*) FROM journal WHERE source LIKE 'warehouse:%' AND warehouse_id != '$MARKER_WH'")
check "the journal holds the published events at most once ($J of $1 published)" sh -c "[ $J -gt 0 ] && [ $J -le $1 ]"
is "$(sql "SELECT count(*) FROM orders o WHERE warehouse_id IN ('w1','w2') AND customer_email IS NULL")" 0 \
	"every order in the store has its order.created"
done_testing
