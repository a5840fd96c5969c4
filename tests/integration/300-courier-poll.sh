#!/usr/bin/env bash
# 300-courier-poll: parcels shipped over MQTT are polled at a fake DHL and a
# fake FedEx (tests/fakecourier/server.py, the documented formats): courier
# events land in the journal once, parcels get their canonical status; an
# API answering 500 changes no parcel's status and is backed off; a 429 with
# Retry-After pauses the courier; an expired FedEx token is refreshed once.
# Every wait is for a state (the store's, or the fake server's own records
# of the requests it took); what is said about timing is read from the
# server's arrival times with bounds that hold on a loaded machine.
. "$SW_SRCDIR/tests/integration/lib.sh"

python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 300 >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
FAKE=$(head -n 1 "$T_DIR/fake.out")
URL=http://127.0.0.1:$FAKE
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$URL/_control" >/dev/null; }
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
TN=00340434161094042557 # the in-transit DHL parcel
# fake EXPR: a Python expression over the fake server's own records of the
# requests it took: L, its log; times(courier, number=None, kind="track",
# fault=ANY, status=ANY, after=-1), the arrival times (the server's
# monotonic clock, seconds) of the matching requests in order.  Timing is
# judged only on these, never on how long this script slept.
fake() {
	curl -s "$URL/_stats" | python3 -c '
import json, sys
S = json.load(sys.stdin)
L = S["log"]
ANY = object()
def times(courier, number=None, kind="track", fault=ANY, status=ANY, after=-1.0):
    return [e["t"] for e in L if e["courier"] == courier and e["kind"] == kind
            and (number is None or number in e["numbers"])
            and (fault is ANY or e["fault"] == fault)
            and (status is ANY or e["status"] == status) and e["t"] > after]
print(eval(sys.argv[1]))' "$1"
}
check "the in-transit DHL parcel is polled" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT status FROM parcels WHERE tracking_number='$TN'\")\" = in_transit ]"
check "the delivered DHL parcel is marked delivered" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT status FROM parcels WHERE tracking_number='DL340434161094042558'\")\" = delivered ]"
check "the FedEx parcels are polled (one batch)" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE courier='fedex' AND status != 'pending'\")\" = 2 ]"
is "$(status_of NF340434161094042559)" pending "a parcel the courier does not know stays pending"
dhl_events() { sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE source='courier:dhl' AND tracking_number='$TN'"; }
is "$(dhl_events)" 6 "the in-transit fixture's 6 DHL events are journaled"
# The same data polled again: wait until the server has answered the parcel
# twice more.  The engine has one request per parcel in flight and sends the
# next only after the previous answer is committed, so by the second one at
# least one repeated answer has been applied in full.
n0=$(fake "len(times('dhl', '$TN', status=200))")
check "the parcel is polled twice more" wait_for 60 at_least "fake \"len(times('dhl', '$TN', status=200))\"" $((n0 + 2))
is "$(dhl_events)" 6 "polling the same data again journals nothing new"
is "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM poll_schedule p JOIN parcels c ON c.id = p.parcel_ref WHERE c.status = 'delivered'")" 0 "delivered parcels are no longer scheduled"

# 500s: the in-transit parcel keeps its status; the courier backs off
# (backoff_min 2 s doubling to backoff_max 4 s, +-10% jitter).  Judged on
# the server's arrival times of the requests it answered 500, until it has
# answered the in-transit parcel's third one.
ctl '{"fault":"500","courier":"dhl"}'
check "the in-transit parcel is asked three times during the 500s" \
	wait_for 60 at_least "fake \"len(times('dhl', '$TN', fault='500'))\"" 3
is "$(status_of $TN)" in_transit "a 500 does not change the parcel's status"
contains "$(cat "$T_DIR/collector.log")" "courier dhl: HTTP 500" "the 500 is logged"
# Without backoff a 500 leaves the parcels due and they go again at once
# (rate = 50/s); with it, at most the 2 due DHL parcels go after each pause
# of 1.8 s or more: far fewer than one request a second over the same span
# of the server's clock (bound W + 4, true even if every pause were cut by
# a second of scheduling delay).
read -r n w <<<"$(fake "' '.join(map(str, (len(times('dhl', fault='500')), round(times('dhl', fault='500')[-1] - times('dhl', fault='500')[0], 2))))")"
check "backoff: $n DHL requests answered 500 in ${w} s of the server's clock, at most W + 4 (no backoff: ~50/s)" \
	python3 -c "import sys; sys.exit(not $n <= $w + 4)"
# The pause grows: after the courier's second 500 it is backoff_max (4 s,
# at least 3.6 s with jitter); 3.0 leaves 0.6 s for the engine's loop clock
# (a pause counts from the loop iteration that read the answer).
gaps=$(fake "[round(b - a, 2) for a, b in zip(times('dhl', '$TN', fault='500'), times('dhl', '$TN', fault='500')[1:])]")
check "backoff grows to backoff_max: the parcel's gaps $gaps (server's clock) reach 3.0 s" \
	test "$(fake "max($gaps) >= 3.0")" = True
ctl '{"clear_faults":true}'
# Failures of one courier are logged rate-limited until it recovers.
check "recovery is logged once the API answers again" wait_for 15 grep -q 'courier dhl: API answering again' "$T_DIR/collector.log"

# 429 with Retry-After: 3 -> that parcel is not asked again for 3 s.
ctl '{"fault":"429","courier":"dhl","retry_after":3,"count":1}'
check "the 429 is logged with its delay" wait_for 15 grep -q 'courier dhl: HTTP 429, retry in 3 s' "$T_DIR/collector.log"
read -r t429 n429 <<<"$(fake "' '.join(str(x) for e in L if e['status'] == 429 for x in (e['t'], e['numbers'][0]))")"
check "the parcel answered 429 is asked again" wait_for 30 at_least "fake \"len(times('dhl', '$n429', after=$t429))\"" 1
gap=$(fake "round(times('dhl', '$n429', after=$t429)[0] - $t429, 2)")
check "after Retry-After: 3 the parcel is asked again $gap s later (server's clock; at least 2.5)" \
	test "$(fake "$gap >= 2.5")" = True

# Expired FedEx token: exactly one new token, polling goes on with it.
t_exp=$(fake "S['now']")
ctl '{"expire_tokens":true}'
check "FedEx polls twice with a new token" wait_for 60 at_least \
	"fake \"len(times('fedex', status=200, after=(times('fedex', kind='auth', after=$t_exp) or [1e18])[0]))\"" 2
is "$(fake "len(times('fedex', kind='auth', after=$t_exp))")" 1 "an expired token is refreshed once"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
