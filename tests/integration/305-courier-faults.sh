#!/usr/bin/env bash
# 305-courier-faults: the poll engine against the fake courier server's
# faults (tests/fakecourier/server.py; doc/polling.md).
#  - A FedEx batch of 30 with one invalid number, refused whole with a 400
#    naming it: the 29 good parcels get their status, each answered once;
#    the invalid one is rejected alone; one token, no token loop.
#  - A Shiprocket batch with one unknown AWB, refused whole with a 404
#    naming none: bisected; the good AWBs get their status, only the
#    unknown one is "not found" (asked alone, on the single endpoint).
#  - Bad bodies (truncated JSON, HTML with 200, oversized, malformed) for a
#    DHL parcel: its status never changes, the courier backs off.
#  - An invalid FedEx number polled alone: its interval grows (doubling, read
#    from poll_schedule.interval_s) up to not_found_max, failures stay 0;
#    invalid and unknown numbers shipped 20 days ago are given up.
# Every assertion is on states and on the fake server's own log (counts,
# order, and lower bounds on its arrival gaps, which a loaded machine only
# makes longer); waits are for states, with generous limits.
. "$SW_SRCDIR/tests/integration/lib.sh"

python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 600 >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
URL=http://127.0.0.1:$(head -n 1 "$T_DIR/fake.out")
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$URL/_control" >/dev/null; }
export SW_TEST_DHL_KEY=dhl-test-key SW_TEST_FEDEX_ID=fx-id SW_TEST_FEDEX_SECRET=fx-secret \
	SW_TEST_SR_PASSWORD=sr-pass
# fake EXPR: a Python expression over the fake server's log L (one entry
# per request: courier, kind, path, numbers, status, fault, t; courier is
# the API, not the section), reqs(courier, number=None, kind="track"), the
# matching entries in order, upto_first_ok(courier, number) and fx().
fake() {
	curl -s "$URL/_stats" | python3 -c '
import json, sys
S = json.load(sys.stdin)
L = S["log"]
def reqs(courier, number=None, kind="track"):
    return [e for e in L if e["courier"] == courier and e["kind"] == kind
            and (number is None or number in e["numbers"])]
def upto_first_ok(courier, number):
    """The requests holding number up to its first 200 answer."""
    out = []
    for e in reqs(courier, number):
        out.append(e)
        if e["status"] == 200:
            return out
    return out + [None]
def fx():
    """FedEx requests of the [courier fedex] section (fxiv numbers: IVX)."""
    return [e for e in reqs("fedex") if not any(n.startswith("IVX") for n in e["numbers"])]
print(eval(sys.argv[1]))' "$1"
}
sql1() { sqlite3 -cmd '.timeout 10000' "$T_DIR/store.db" "$1"; }
status_of() { sql1 "SELECT status FROM parcels WHERE tracking_number='$1'"; }
sched_of() { # sched_of TN: failures|interval_s|last_error
	sql1 "SELECT s.failures || '|' || s.interval_s || '|' || coalesce(s.last_error, '') FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$1'"
}

# Batches are refused whole when one number is bad.
ctl '{"batch_errors":"whole"}'

# The parcels are shipped while the collector polls no courier; it is then
# restarted with the courier sections and schedules them all at once (one
# FedEx batch of 30, one Shiprocket batch of 21).
start_broker
write_collector_conf ""
start_collector collector0
COURIERS="[courier fedex]
base_url = $URL/fedex
api_key_env = SW_TEST_FEDEX_ID
api_secret_env = SW_TEST_FEDEX_SECRET
interval = 10s
rate = 50
burst = 10
[courier shiprocket]
base_url = $URL/shiprocket
username = ops@example.com
password_env = SW_TEST_SR_PASSWORD
interval = 10s
rate = 50
burst = 10
[courier dhl]
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 1s
interval_near = 1s
interval_max = 4s
backoff_min = 1s
backoff_max = 4s
max_response = 64k
rate = 50
burst = 10
[courier fxiv]
adapter = fedex
base_url = $URL/fedex
api_key_env = SW_TEST_FEDEX_ID
api_secret_env = SW_TEST_FEDEX_SECRET
interval = 1s
interval_near = 1s
interval_max = 8s
not_found_max = 8s
give_up_after = 14d
rate = 50
burst = 10
[courier dhlold]
adapter = dhl
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 1s
interval_near = 1s
interval_max = 8s
give_up_after = 14d
rate = 50
burst = 10"

RECENT=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
OLD=$(date -u -d '-20 days' +%Y-%m-%dT%H:%M:%SZ)
ship() { # ship COURIER TRACKING [SHIPPED_AT]
	printf '{"event_id":"s-%s-%s","type":"order.shipped","occurred_at":"%s","warehouse_id":"wh5","order_id":"O-%s","courier":"%s","tracking_number":"%s"}\n' \
		"$1" "$2" "${3:-$RECENT}" "$2" "$1" "$2"
}
FX_BAD=IV79460000
SR_BAD=NF190400000099
BODY_TN=00340434161094000305
FXIV_TN=IVX0000001
{
	for i in $(seq 1 29); do ship fedex "7946$(printf %08d "$i")"; done
	ship fedex "$FX_BAD"
	for i in $(seq 1 20); do ship shiprocket "1904$(printf %010d "$i")"; done
	ship shiprocket "$SR_BAD"
	ship dhl "$BODY_TN"
	ship fxiv "$FXIV_TN"
	ship fxiv IVX0000002 "$OLD"
	ship dhlold NF00340434161094000306 "$OLD"
} | publish_lines warehouse/wh5/events
collector_caught_up || bail "the collector did not take the shipments"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
write_collector_conf "$COURIERS"
start_collector collector started

# The invalid fxiv number's interval, sampled from the store from the start
# (each value lasts at least its own interval, 2 s or more).
seq_file="$T_DIR/intervals"
: >"$seq_file"
(
	while :; do
		v=$(sched_of $FXIV_TN | cut -d'|' -f2)
		[ -n "$v" ] && [ "$(tail -n 1 "$seq_file")" != "$v" ] && echo "$v" >>"$seq_file"
		sleep 0.1
	done
) &
SAMPLER=$!
T_PIDS+=("$SAMPLER")

# --- the poisoned FedEx batch ------------------------------------------------
done_fx() { sql1 "SELECT count(*) FROM parcels WHERE courier = 'fedex' AND status = 'in_transit'"; }
check "the 29 good FedEx parcels of the poisoned batch get their status" wait_for 60 at_least done_fx 29
check "the invalid FedEx number is answered (rejected)" \
	wait_for 30 sh -c "sqlite3 '$T_DIR/store.db' \"SELECT s.last_error FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$FX_BAD'\" | grep -q '^rejected: '"
is "$(status_of $FX_BAD)" pending "the invalid number's parcel is unchanged"
is "$(sched_of $FX_BAD | cut -d'|' -f1)" 0 "the rejection is the courier's word: failures 0"
# Each good number went out at most once in a refused batch before its
# answer (the poisoned number is named: the rest are resent without it).
is "$(fake "sorted(set(len(upto_first_ok('fedex', '7946%08d' % i)) for i in range(1, 30)) - {1, 2})")" "[]" \
	"each good FedEx number answered at its first or second request"
is "$(fake "all(e['status'] == 400 and len(e['numbers']) > 1 for e in reqs('fedex', '$FX_BAD'))")" True \
	"the invalid number only went out in batches, each refused (named: never bisected)"
is "$(fake "all('$FX_BAD' in e['numbers'] for e in fx() if e['status'] == 400)")" True \
	"every refused FedEx batch held the invalid number"
is "$(fake "[(e['status'], len(e['numbers']), '$FX_BAD' in e['numbers']) for e in fx()][:2]")" \
	"[(400, 30, True), (200, 29, False)]" "two requests: the batch of 30 refused, the 29 others resent at once"
is "$(fake "len(reqs('fedex', kind='auth'))")" 2 "one FedEx token per section: a 400 drops none"

# --- the Shiprocket batch with one unknown AWB (404 naming none) -------------
done_sr() { sql1 "SELECT count(*) FROM parcels WHERE courier = 'shiprocket' AND status = 'in_transit'"; }
check "the 20 good Shiprocket parcels get their status" wait_for 60 at_least done_sr 20
check "the unknown AWB is not found" \
	wait_for 30 sh -c "sqlite3 '$T_DIR/store.db' \"SELECT s.last_error FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$SR_BAD'\" | grep -q '^not found'"
is "$(sql1 "SELECT count(*) FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.courier = 'shiprocket' AND s.last_error LIKE 'not found%'")" 1 \
	"no good AWB marked not found"
is "$(fake "[(e['path'].rsplit('/', 1)[-1], e['status']) for e in reqs('shiprocket', '$SR_BAD') if len(e['numbers']) == 1][:1]")" \
	"[('$SR_BAD', 404)]" "the unknown AWB was asked alone, on the single endpoint: 404"
is "$(fake "upto_first_ok('shiprocket', '$SR_BAD')[-1] is None")" True \
	"(it never got a 200)"
is "$(fake "sorted(set(len(upto_first_ok('shiprocket', '1904%010d' % i)) for i in range(1, 21)) - set(range(1, 7)))")" "[]" \
	"each good AWB answered within log2(21) + 1 requests holding it"
n_sr=$(fake "len([e for e in reqs('shiprocket') if e['t'] <= max(upto_first_ok('shiprocket', '1904%010d' % i)[-1]['t'] for i in range(1, 21))])")
check "bisection is bounded: $n_sr Shiprocket requests until all 20 were answered (at most 14)" \
	test "$n_sr" -le 14
is "$(sched_of $SR_BAD | cut -d'|' -f1)" 0 "not found: failures 0"

# --- given up after give_up_after ---------------------------------------------
# (before the DHL faults below: the dhlold section polls the same endpoint)
for tn in IVX0000002:rejected NF00340434161094000306:"not found"; do
	n=${tn%%:*} why=${tn#*:}
	check "$n (shipped 20 days ago) is given up" \
		wait_for 30 sh -c "sqlite3 '$T_DIR/store.db' \"SELECT s.last_error FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$n'\" | grep -q '^given up after 14d: $why'"
	is "$(sql1 "SELECT s.failures || ' ' || (s.next_poll_at > strftime('%s', 'now') + 365 * 86400) FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$n'")" \
		"0 1" "$n: row kept, failures 0, next poll years away"
	is "$(status_of $n)" pending "$n: parcel unchanged"
done
is "$(fake "len([e for e in reqs('fedex', 'IVX0000002') if len(e['numbers']) == 1])")" 1 \
	"the old invalid number was asked alone once, then given up"
is "$(fake "len(reqs('dhl', 'NF00340434161094000306'))")" 1 "the old unknown number was asked once"

# --- bad bodies for a DHL parcel ----------------------------------------------
check "the DHL parcel is in transit" wait_for 30 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT status FROM parcels WHERE tracking_number = '$BODY_TN'\")\" = in_transit ]"
ev0=$(sql1 "SELECT count(*) FROM journal WHERE source = 'courier:dhl'")
raw0=$(sql1 "SELECT raw_code || '|' || coalesce(eta_date, '') FROM parcels WHERE tracking_number = '$BODY_TN'")
t0=$(fake "S['now']")
for f in truncated html malformed; do ctl "{\"fault\":\"$f\",\"courier\":\"dhl\",\"count\":1}"; done
ctl '{"fault":"huge","courier":"dhl","count":1,"size":200000}'
after() { fake "[e for e in reqs('dhl', '$BODY_TN') if e['t'] > $t0]"; }
# (a normal poll may land between t0 and the faults being queued: the
# sequence is read from the first faulted answer on)
faulted() { fake "(lambda F: F[next((i for i, f in enumerate(F) if f), len(F)):])([e['fault'] for e in reqs('dhl', '$BODY_TN') if e['t'] > $t0])"; }
check "the DHL parcel is polled through the four faults and once more" \
	wait_for 90 at_least "fake \"len((lambda F: F[next((i for i, f in enumerate(F) if f), len(F)):])([e['fault'] for e in reqs('dhl', '$BODY_TN') if e['t'] > $t0]))\"" 5
is "$(faulted | python3 -c "import sys, ast; print(ast.literal_eval(sys.stdin.read())[:5])")" \
	"['truncated', 'html', 'malformed', 'huge', None]" "the faults answered in order, then a normal answer"
is "$(status_of $BODY_TN)" in_transit "bad bodies never change the parcel's status"
is "$(sql1 "SELECT raw_code || '|' || coalesce(eta_date, '') FROM parcels WHERE tracking_number = '$BODY_TN'")" "$raw0" \
	"... nor its raw code and ETA"
is "$(sql1 "SELECT count(*) FROM journal WHERE source = 'courier:dhl'")" "$ev0" "... nor its journal"
contains "$(cat "$T_DIR/collector.log")" "courier dhl: unusable answer: " "the reason is logged"
# Backoff: after the k-th bad answer the courier pauses backoff_min * 2^(k-1)
# (1, 2, 4, 4 s, +-10%) and the parcel's interval doubles up to
# interval_max (4 s, +-10%, due times in whole seconds: 1 s less), so the
# server's gaps after the faults are at least 0.9, then 2.6 s, less 0.3 s
# of loop slack.  Without backoff they would be the 1 s interval.  Lower
# bounds only: a loaded machine makes gaps longer.
gaps=$(fake "(lambda R: [round(b['t'] - a['t'], 2) for a, b in zip(R[:4], R[1:5])])((lambda A: A[next((i for i, e in enumerate(A) if e['fault']), len(A)):])([e for e in reqs('dhl', '$BODY_TN') if e['t'] > $t0]))")
check "bad bodies back off: gaps $gaps s (server's clock) at least [0.6, 2.3, 2.3, 2.3]" \
	test "$(fake "all(g >= m for g, m in zip($gaps, [0.6, 2.3, 2.3, 2.3])) and len($gaps) == 4")" = True
check "recovery is logged" wait_for 15 grep -q 'courier dhl: API answering again' "$T_DIR/collector.log"
check "failures reset by the normal answer" wait_for 15 sh -c "sqlite3 '$T_DIR/store.db' \"SELECT s.failures FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$BODY_TN'\" | grep -qx 0"

# --- an invalid number's interval grows ---------------------------------------
wait_for 120 at_least "fake \"len(reqs('fedex', '$FXIV_TN'))\"" 5 ||
	not_ok "the invalid number is polled five times"
kill "$SAMPLER" 2>/dev/null
intervals=$(paste -sd' ' "$seq_file")
# every step a doubling or more (a sample may miss a value on a stalled
# machine, never see one out of order), an intermediate value seen, the
# cap reached
check "the invalid number's interval doubles up to not_found_max: $intervals" \
	python3 -c "import sys; v = [int(x) for x in '$intervals'.split()]; sys.exit(not (v[-1] == 8 and set(v) <= {1, 2, 4, 8} and v == sorted(set(v)) and len(set(v) & {2, 4}) > 0))"
is "$(sched_of $FXIV_TN | cut -d'|' -f1)" 0 "failures stay 0"
contains "$(sched_of $FXIV_TN)" "rejected: TRACKING.TRACKINGNUMBER.INVALID" "the courier's reason is recorded"
gaps=$(fake "[round(b['t'] - a['t'], 2) for a, b in zip(reqs('fedex', '$FXIV_TN'), reqs('fedex', '$FXIV_TN')[1:])][:4]")
# intervals 2, 4, 8, 8 s +-10%, due times in whole seconds (1 s less), 0.3 s
# of loop slack: lower bounds only
check "the server saw the gaps grow: $gaps s, at least [0.5, 2.3, 5.9, 5.9]" \
	test "$(fake "len($gaps) == 4 and all(g >= m for g, m in zip($gaps, [0.5, 2.3, 5.9, 5.9]))")" = True
is "$(fake "len(reqs('fedex', kind='auth'))")" 2 "no token re-requested for an invalid number"

check "the collector is still running" kill -0 "$COLLECTOR_PID"
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"

# -t -v with a daily quota says how many active parcels it covers, counted
# from this store (opened read-only), per courier.
sed -e '/^\[courier shiprocket\]/a daily_quota = 1000000' -e '/^\[courier fxiv\]/a daily_quota = 1000000' \
	"$T_DIR/slipwatch.conf" >"$T_DIR/quota.conf"
"$COLLECTOR" -t -v -c "$T_DIR/quota.conf" >"$T_DIR/plan.out" 2>&1
is "$?" 0 "-t -v with a daily quota accepts the file"
active=$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.courier = 'shiprocket' AND p.terminal = 0")
check "-t -v: shiprocket's plan counts its $active active parcels" \
	grep -q "^courier shiprocket: [0-9]* requests left for .*; $active active parcels.*the quota covers $active of $active" "$T_DIR/plan.out"
check "-t -v: fxiv's given-up parcel is not counted as active (1 of its 2)" \
	grep -q "^courier fxiv: [0-9]* requests left for .*; 1 active parcels" "$T_DIR/plan.out"
check "-t -v: a courier without a quota is not planned" \
	sh -c "! grep -q '^courier dhl: .*requests left' '$T_DIR/plan.out'"
done_testing
