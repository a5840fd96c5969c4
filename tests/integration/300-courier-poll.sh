#!/usr/bin/env bash
# 300-courier-poll: parcels shipped over MQTT are polled at a fake DHL and a
# fake FedEx (tests/fakecourier/server.py, the documented formats): courier
# events land in the journal once, parcels get their canonical status; an
# API answering 500 changes no parcel's status and is backed off; a 429 with
# Retry-After pauses the courier; an expired FedEx token is refreshed once.
. "$SW_SRCDIR/tests/integration/lib.sh"

python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 300 >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
FAKE=$(head -n 1 "$T_DIR/fake.out")
URL=http://127.0.0.1:$FAKE
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$URL/_control" >/dev/null; }
stat() { # stat COURIER FIELD: a counter from the fake server's /_stats
	curl -s "$URL/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['couriers'].get('$1',{}).get('$2',0))" 2>/dev/null || echo 0
}
export SW_TEST_DHL_KEY=dhl-test-key SW_TEST_FEDEX_ID=fx-id SW_TEST_FEDEX_SECRET=fx-secret

start_broker
write_collector_conf "[courier dhl]
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 2s
interval_near = 2s
interval_max = 4s
backoff_min = 2s
backoff_max = 4s
rate = 50
burst = 10
[courier fedex]
base_url = $URL/fedex
api_key_env = SW_TEST_FEDEX_ID
api_secret_env = SW_TEST_FEDEX_SECRET
interval = 2s
interval_near = 2s
interval_max = 4s
rate = 50
burst = 10"
start_collector

ship() { # ship ORDER COURIER TRACKING
	printf '{"event_id":"s-%s","type":"order.shipped","occurred_at":"2026-11-24T03:30:00+05:30","warehouse_id":"wh9","order_id":"%s","courier":"%s","tracking_number":"%s"}\n' \
		"$3" "$1" "$2" "$3"
}
{
	ship O1 dhl 00340434161094042557     # in transit (fixture)
	ship O2 dhl DL340434161094042558     # delivered
	ship O3 dhl NF340434161094042559     # not found
	ship O4 fedex 794843185271           # in transit
	ship O5 fedex DL4843185272           # delivered
} | publish_lines warehouse/wh9/events

status_of() { sqlite3 "$T_DIR/store.db" "SELECT status FROM parcels WHERE tracking_number='$1'"; }
check "the in-transit DHL parcel is polled" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT status FROM parcels WHERE tracking_number='00340434161094042557'\")\" = in_transit ]"
check "the delivered DHL parcel is marked delivered" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT status FROM parcels WHERE tracking_number='DL340434161094042558'\")\" = delivered ]"
check "the FedEx parcels are polled (one batch)" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE courier='fedex' AND status != 'pending'\")\" = 2 ]"
is "$(status_of NF340434161094042559)" pending "a parcel the courier does not know stays pending"
dhl_events=$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE source='courier:dhl' AND tracking_number='00340434161094042557'")
is "$dhl_events" 6 "the in-transit fixture's 6 DHL events are journaled"
sleep 5   # more polls of the same data
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE source='courier:dhl' AND tracking_number='00340434161094042557'")" 6 "polling the same data again journals nothing new"
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM poll_schedule p JOIN parcels c ON c.id = p.parcel_ref WHERE c.status = 'delivered'")" 0 "delivered parcels are no longer scheduled"

# 500s: the in-transit parcel keeps its status; the courier backs off.
before=$(stat dhl requests)
ctl '{"fault":"500","courier":"dhl"}'
sleep 6
is "$(status_of 00340434161094042557)" in_transit "a 500 does not change the parcel's status"
contains "$(cat "$T_DIR/collector.log")" "courier dhl: HTTP 500" "the 500 is logged"
after=$(stat dhl requests)
n=$((after - before))
check "backoff: at most 4 DHL requests in 6 s of 500s (saw $n)" test "$n" -le 4
ctl '{"reset":true}'
# Failures of one courier are logged rate-limited until it recovers.
check "recovery is logged once the API answers again" wait_for 15 grep -q 'courier dhl: API answering again' "$T_DIR/collector.log"

# 429 with Retry-After: 3 → nothing for ~3 s.
ctl '{"fault":"429","courier":"dhl","retry_after":3,"count":1}'
check "the 429 is logged with its delay" wait_for 15 grep -q 'courier dhl: HTTP 429, retry in 3 s' "$T_DIR/collector.log"

# Expired FedEx token: exactly one new token, polling goes on.
tokens_before=$(stat fedex auth)
ctl '{"expire_tokens":true}'
sleep 6
tokens_after=$(stat fedex auth)
is "$((tokens_after - tokens_before))" 1 "an expired token is refreshed once"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
