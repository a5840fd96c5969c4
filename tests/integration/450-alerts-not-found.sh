#!/usr/bin/env bash
# 450-alerts-not-found: "not found" is the courier's answer, a 503 is not.
# Two orders shipped three hours ago (the no_first_scan deadline, 1 h, has
# passed) reach a real slipwatch-collector over MQTT; it polls the fake
# courier server: DHL answers "not found" (404 problem+json, its documented
# not-found body) for the first parcel, FedEx answers 503 for the second.
# slipwatch-alerts then sends exactly one no_first_scan email, for the
# parcel the courier said it does not know, to a real SMTP server, and none
# for the parcel whose courier's API is failing; a restart sends nothing
# again.  Only states and counts are asserted, each waited for with a
# generous limit.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }

python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 600 >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
URL=http://127.0.0.1:$(head -n 1 "$T_DIR/fake.out")
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$URL/_control" >/dev/null; }
stat() { # stat COURIER FIELD: a counter from the fake server's /_stats
	curl -s "$URL/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['couriers'].get('$1',{}).get('$2',0))" 2>/dev/null || echo 0
}
export SW_TEST_DHL_KEY=dhl-test-key SW_TEST_FEDEX_ID=fx-id SW_TEST_FEDEX_SECRET=fx-secret

NF_TN=NF00340434161094099001 # the fake DHL's not-found numbers start with NF
FX_TN=794843185999
# Every FedEx tracking request answers 503 (its token requests still work).
ctl '{"fault":"500","status":503,"courier":"fedex","on":"track"}'

start_broker
write_collector_conf "[courier dhl]
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 2s
interval_near = 2s
interval_max = 4s
rate = 50
burst = 10
[courier fedex]
base_url = $URL/fedex
api_key_env = SW_TEST_FEDEX_ID
api_secret_env = SW_TEST_FEDEX_SECRET
interval = 2s
interval_near = 2s
interval_max = 4s
backoff_min = 1s
backoff_max = 2s
rate = 50
burst = 10"
start_collector

# Created four hours ago, shipped three hours ago, ship-by two hours ago
# (kept), delivery promised in five days (not late).
python3 - "$NF_TN" "$FX_TN" >"$T_DIR/events.txt" <<'PY'
import json, sys
from datetime import datetime, timedelta, timezone
ist = timezone(timedelta(hours=5, minutes=30))
now = datetime.now(ist).replace(microsecond=0)
def ev(eid, typ, order, at, **kw):
    e = {"event_id": eid, "type": typ, "occurred_at": at.isoformat(),
         "warehouse_id": "blr1", "order_id": order}
    e.update(kw)
    print(json.dumps(e))
for order, email, courier, tn in (("ORD-NF", "nf@c.example", "dhl", sys.argv[1]),
                                  ("ORD-503", "fx@c.example", "fedex", sys.argv[2])):
    ev(order + "-c", "order.created", order, now - timedelta(hours=4),
       customer={"name": "Ravi Kumar", "email": email, "locale": "en-IN",
                 "timezone": "Asia/Kolkata", "phone": "+919812345678", "notify": "email"},
       promised_ship_by=(now - timedelta(hours=2)).isoformat(),
       promised_delivery_by=(now + timedelta(days=5)).date().isoformat())
    ev(order + "-s", "order.shipped", order, now - timedelta(hours=3),
       courier=courier, tracking_number=tn)
PY
publish_lines warehouse/blr1/events <"$T_DIR/events.txt"
check "the collector journals the four events" wait_journal 4 60
is "$(sql "SELECT customer_phone || ' ' || customer_channel FROM orders WHERE order_id = 'ORD-NF'")" \
	"+919812345678 email" "the order carries the customer's phone and channel"

poll_of() { sql "SELECT s.failures || '|' || coalesce(s.last_error, '') || '|' || (s.last_polled_at IS NOT NULL) FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$1'"; }
nf_answered() { case "$(poll_of "$NF_TN")" in "0|not found"*"|1") return 0 ;; esac; return 1; }
check "DHL answers not found: the poll is recorded as an answer (failures 0)" wait_for 60 nf_answered
contains "$(poll_of "$NF_TN")" "No shipment with given tracking number found" "  with DHL's own words"
is "$(sql "SELECT status FROM parcels WHERE tracking_number = '$NF_TN'")" pending "  the parcel stays pending"
check "DHL's feed counts as answering" test "$(sql "SELECT last_ok_at IS NOT NULL FROM courier_health WHERE courier = 'dhl'")" = 1
check "FedEx is asked and answers 503" wait_for 60 at_least "stat fedex track" 1
check "the 503 is logged" wait_for 60 grep -q "courier fedex: HTTP 503" "$T_DIR/collector.log"
is "$(poll_of "$FX_TN")" "0||0" "a 503 is no answer: the FedEx parcel's schedule is untouched (never answered)"

start_sink
# settle: no hold before sending (the engine's default is minutes)
SETTLE=0s write_alerts_conf
"$ALERTS" -t -c "$T_DIR/alerts.conf" >"$T_DIR/alerts-t.log" 2>&1
is "$?" 0 "the alerts configuration (settle = 0s) is accepted"
start_alerts
check "one email arrives" wait_sink 1 60
check "its outbox row is sent" wait_for 60 at_least \
	"sql \"SELECT count(*) FROM outbox WHERE entity = 'parcel:dhl:$NF_TN' AND state = 'sent'\"" 1
stop_alerts
is "$EXIT_STATUS" 0 "alerts exits cleanly"

is "$(sink_count)" 1 "exactly one email"
is "$(sink_json "L[0]['rcpt']")" "['nf@c.example']" "to the customer whose parcel the courier does not know"
is "$(sink_json "L[0]['subject']")" "Your order ORD-NF: no courier scan yet" "the no_first_scan email"
is "$(sql "SELECT kind || ' ' || stage FROM alerts WHERE entity = 'parcel:dhl:$NF_TN'")" "no_first_scan courier" \
	"not found: the no_first_scan slip, on the courier's word"
is "$(sql "SELECT count(*) FROM outbox")" 1 "one outbox row in all"
is "$(sql "SELECT count(*) FROM alerts WHERE entity LIKE '%$FX_TN%' OR entity = 'order:blr1:ORD-503'")" 0 \
	"503: no slip for the parcel whose courier's API fails"
is "$(sink_json "sum(1 for m in L if m['rcpt'] == ['fx@c.example'])")" 0 "503: no email to its customer"

# A restart re-evaluates both parcels (the FedEx API still failing) and
# queues nothing new.
start_alerts alerts2
check "the restarted engine is idle" wait_for 30 alerts_idle
is "$(sql "SELECT count(*) FROM outbox")" 1 "after a restart: still one outbox row"
is "$(sql "SELECT count(*) FROM alerts WHERE entity LIKE '%$FX_TN%'")" 0 "still no slip for the 503 parcel"
stop_alerts
is "$(sink_count)" 1 "still one email"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
