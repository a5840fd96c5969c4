#!/usr/bin/env bash
# 470-alerts-out-of-order: warehouse events over a real mosquitto through
# the collector, in the orders MQTT really delivers them across
# publishers, with a customer notice settle time (10 minutes):
#   OOO-1: order.shipped arrives before order.created (ship-by passed, the
#          order shipped on time): no slip, no notice;
#   OOO-2: order.created arrives first (its ship-by passed: ship_late is
#          found) and order.shipped a moment later: the waiting notice
#          turns obsolete, with its reason, and is never sent, also not
#          after a restart.
# No step waits for a time to pass: each waits for a state in the store.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }

start_broker
write_collector_conf
start_collector
start_sink
SETTLE=10m write_alerts_conf
start_alerts

NOW=$(date -u +%s)
iso() { date -u -d "@$1" +%FT%TZ; }
SHIP_BY=$(iso $((NOW - 3600)))
SHIPPED=$(iso $((NOW - 4000)))   # before the ship-by: on time
DELIV=$(date -u -d "@$((NOW + 3 * 86400))" +%F)
created() {
	printf '{"event_id":"c-%s","type":"order.created","occurred_at":"%s","warehouse_id":"blr1","order_id":"%s","customer":{"name":"Om","email":"%s@c.example","locale":"en-IN","timezone":"Asia/Kolkata"},"promised_ship_by":"%s","promised_delivery_by":"%s"}\n' \
		"$1" "$(iso $((NOW - 7200)))" "$1" "$1" "$SHIP_BY" "$DELIV"
}
shipped() {
	printf '{"event_id":"s-%s","type":"order.shipped","occurred_at":"%s","warehouse_id":"blr1","order_id":"%s","courier":"dhl","tracking_number":"T%s"}\n' \
		"$1" "$SHIPPED" "$1" "$1"
}
# engine_caught_up: the alert engine has read every journal event.
engine_caught_up() {
	[ "$(sql "SELECT coalesce((SELECT seq FROM cursors WHERE name = 'alerts'), 0) >= coalesce((SELECT max(seq) FROM journal), 0)")" = 1 ]
}

shipped OOO-1 | publish_lines warehouse/blr1/events
created OOO-1 | publish_lines warehouse/blr1/events
created OOO-2 | publish_lines warehouse/blr1/events
check "OOO-2: ship_late found while its order.shipped is still on the way" \
	wait_for 30 at_least "sql \"SELECT count(*) FROM outbox WHERE entity = 'order:blr1:OOO-2' AND slip_kind = 'ship_late'\"" 1
is "$(sql "SELECT state FROM outbox WHERE entity = 'order:blr1:OOO-2'")" queued "OOO-2: its notice waits (settle)"
is "$(sql "SELECT next_attempt_at - created_at >= 600 FROM outbox WHERE entity = 'order:blr1:OOO-2'")" 1 \
	"OOO-2: not before the 10 minute settle time"
shipped OOO-2 | publish_lines warehouse/blr1/events
check "OOO-2: the notice turns obsolete once the order shipped" \
	wait_for 30 at_least "sql \"SELECT count(*) FROM outbox WHERE entity = 'order:blr1:OOO-2' AND state = 'obsolete'\"" 1
is "$(sql "SELECT last_error FROM outbox WHERE entity = 'order:blr1:OOO-2'")" "the slip resolved before the notice went" \
	"OOO-2: the obsolete row says why"
is "$(sql "SELECT resolved_at IS NOT NULL FROM alerts WHERE entity = 'order:blr1:OOO-2'")" 1 "OOO-2: the slip is resolved"
check "the engine read every event" wait_for 30 engine_caught_up
is "$(sql "SELECT count(*) FROM alerts WHERE entity = 'order:blr1:OOO-1'")" 0 "OOO-1 (shipped first): no slip"
is "$(sql "SELECT count(*) FROM outbox WHERE entity = 'order:blr1:OOO-1'")" 0 "OOO-1: no notice"

stop_alerts
start_alerts alerts2
check "after a restart the engine is caught up" wait_for 30 engine_caught_up
is "$(sql "SELECT group_concat(state) FROM outbox")" obsolete "after a restart: still the one obsolete row, nothing queued"
is "$(sink_count)" 0 "no email was sent"
stop_alerts
is "$EXIT_STATUS" 0 "slipwatch-alerts exits cleanly"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
done_testing
