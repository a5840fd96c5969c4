#!/usr/bin/env bash
# 495-pages-daemon: the real slipwatch-alerts pages a fake PagerDuty
# (tests/tools/oncall_sink.py, /pd) about orders of warehouse w1 past their
# ship-by ([page wh-late], signal warehouse_ship_late, for 0s):
#   1. one trigger, valid Events v2, naming the warehouse and the count,
#      with the figures in custom_details;
#   2. kill -9 mid-incident and a restart: after it evaluated again, still
#      one trigger (no re-page);
#   6. `slipwatch ack ID`: one acknowledge with the incident's dedup_key;
#   3. resolved while the daemon was down: one resolve at start, same
#      dedup_key;
#   4. a second incident while the receiver answers 500: the trigger is
#      deferred with the reason kept, then arrives once when it answers;
#   5. 429 with Retry-After: the retry is not before Retry-After;
#   7. -t refuses a route naming no [receiver], with FILE:LINE.
# Every check reads records: the sink's log.jsonl and the store.  "Did not
# happen" is checked after the daemon demonstrably evaluated again: while
# it is down, pages.evaluated_at is set to 0, and a start evaluates at
# once (the [pages] interval, 10s at least, matters only for the ack,
# which a running daemon picks up at its next evaluation, and for the
# second incident, found by the running daemon).
. "$SW_SRCDIR/tests/integration/lib.sh"
CLI=$SW_BUILDDIR/tools/slipwatch
DB=$T_DIR/store.db
KEY=abcdefghijklmnopqrstuvwxyz012345 # 32 letters and digits

# --- the fake PagerDuty ---------------------------------------------------------
SINK_DIR=$T_DIR/oncall # sink_json (lib.sh) reads $SINK_DIR/log.jsonl
mkdir -p "$SINK_DIR"
sw_spawn "$T_DIR/oncall_sink.log" "$PY3" "$SW_SRCDIR/tests/tools/oncall_sink.py" \
	--port 0 --dir "$SINK_DIR"
wait_for 15 test -s "$SINK_DIR/ready" || bail "oncall_sink did not start: $(tail -n 5 "$T_DIR/oncall_sink.log")"
PD_PORT=$(cat "$SINK_DIR/ready")
pd_mode() { # pd_mode WORD: what /pd answers from now on (written atomically)
	echo "$1" >"$SINK_DIR/mode.pd.tmp" && mv "$SINK_DIR/mode.pd.tmp" "$SINK_DIR/mode.pd"
}

# --- configuration --------------------------------------------------------------------
printf '%s' "$KEY" >"$T_DIR/pd.key" && chmod 600 "$T_DIR/pd.key"
cat >"$T_DIR/alerts.conf" <<CONF
[store]
path = $DB
[log]
level = ${LOG_LEVEL:-info}
[alerts]
email = no
journal_interval = 200ms
[rrd]
dir = $T_DIR/rrd
step = 2s
[pages]
; the smallest interval, retries and lease pages_conf.c allows
interval = 10s
retry_min = 1s
retry_max = 1s
lease = 5s
; four changes between firing and ok happen here: no flap damping
flap_limit = 10
receiver = pd
source = slipwatch-test
[page wh-late]
signal = warehouse_ship_late
warning = 1
critical = 100
for = 0s
[receiver pd]
channel = pagerduty
url = http://127.0.0.1:$PD_PORT/pd
routing_key_file = $T_DIR/pd.key
timeout = 10s
CONF
"$ALERTS" -t -c "$T_DIR/alerts.conf" >"$T_DIR/t.out" 2>&1
is "$?" 0 "the configuration passes -t ($(cat "$T_DIR/t.out"))"

# orders ORDER... late|shipped: orders of w1, created 2 h ago, ship-by an
# hour ago; "shipped" adds that they shipped a minute ago.
orders() {
	local state=${*: -1} id
	for id in "${@:1:$#-1}"; do
		if [ "$state" = shipped ]; then
			echo "{\"op\":\"order\",\"wh\":\"w1\",\"id\":\"$id\",\"tz\":\"UTC\",\"created\":-7200,\"ship_by\":-3600,\"shipped\":-60}"
		else
			echo "{\"op\":\"order\",\"wh\":\"w1\",\"id\":\"$id\",\"tz\":\"UTC\",\"created\":-7200,\"ship_by\":-3600}"
		fi
	done | "$SEED" "$DB" "$(date +%s)"
}
late_orders() { sql "SELECT count(*) FROM orders WHERE warehouse_id = 'w1' AND shipped_at IS NULL AND promised_ship_by_at < strftime('%s', 'now')"; }

# --- what the records say ---------------------------------------------------------------
# pdq EXPR: a Python expression over P, the sink's /pd requests (its
# log.jsonl objects) that it answered 202, and ACTION / DEDUP from the
# environment; pd ACTION [DEDUP] counts those of ACTION (and DEDUP).
pdq() {
	"$PY3" -c 'import json, os, sys
L = [json.loads(l) for l in open(sys.argv[1])] if os.path.exists(sys.argv[1]) else []
P = [r for r in L if r["route"] == "pd" and r["status"] == 202]
ACTION, DEDUP = os.environ.get("ACTION", ""), os.environ.get("DEDUP", "")
print(eval(sys.argv[2]))' "$SINK_DIR/log.jsonl" "$1"
}
pd() {
	ACTION=$1 DEDUP=${2:-} pdq 'sum(1 for r in P if r["json"]["event_action"] == ACTION and DEDUP in ("", r["json"].get("dedup_key")))'
}
pd_at_least() { at_least "pd $1 '${3:-}'" "$2"; } # pd_at_least ACTION N [DEDUP]
# pd_last ACTION EXPR: EXPR over j, the JSON body of the last 202 request
# of ACTION.
pd_last() {
	ACTION=$1 pdq "[(lambda j: $2)(r['json']) for r in P if r['json']['event_action'] == ACTION][-1]"
}
# No page notification waiting, claimed or due: what was queued has been
# sent (or failed for good).
pager_idle() { [ "$(sql "SELECT count(*) FROM outbox WHERE receiver IS NOT NULL AND state IN ('queued', 'deferred', 'sending')")" = 0 ]; }
# The daemon evaluated the page since evaluated_at was reset to 0.
evaluated_again() { [ "$(sql "SELECT evaluated_at > 0 FROM pages WHERE rule = 'wh-late'")" = 1 ]; }
# reset_evaluated: only while the daemon is down (the engine alone writes
# pages when it runs).
reset_evaluated() { sql "UPDATE pages SET evaluated_at = 0 WHERE rule = 'wh-late'"; }
page() { sql "SELECT $1 FROM pages WHERE rule = 'wh-late' AND subject = 'warehouse=w1'"; }
rows() { sql "SELECT count(*) FROM outbox WHERE receiver = 'pd' AND $1"; }
D1="slipwatch/wh-late/warehouse=w1/1"
D2="slipwatch/wh-late/warehouse=w1/2"

# --- 1. the daemon pages ------------------------------------------------------------------
orders O1 O2 O3 O4 O5 late
is "$(late_orders)" 5 "seeded 5 orders of w1 past their ship-by"
start_alerts
check "1: a trigger reaches PagerDuty" wait_for 30 pd_at_least trigger 1
check "1: nothing left to send" wait_for 30 pager_idle
is "$(sink_json "len(L)")" 1 "1: one request to the receiver"
is "$(pd trigger "$D1")" 1 "1: exactly one trigger, dedup_key $D1"
is "$(sink_json "[r['valid'] for r in L] + [r['problems'] for r in L]")" "[True, []]" "1: valid Events v2 (per the sink)"
is "$(pd_last trigger "j['routing_key']")" "$KEY" "1: the routing key from routing_key_file"
SUMMARY=$(pd_last trigger "j['payload']['summary']")
contains "$SUMMARY" "warehouse w1" "1: the summary names the warehouse"
contains "$SUMMARY" "5 orders past their promised ship-by" "1: and the count"
contains "$SUMMARY" "[WARNING] wh-late" "1: and the severity and rule"
is "$(pd_last trigger "j['payload']['severity']")" warning "1: payload.severity warning (5 >= 1, < 100)"
is "$(pd_last trigger "j['payload']['source']")" "warehouse w1" "1: payload.source is the warehouse"
is "$(pd_last trigger "j['payload']['component']")" w1 "1: payload.component"
is "$(pd_last trigger "j['payload']['group']")" wh-late "1: payload.group is the rule"
is "$(pd_last trigger "j['payload']['class']")" warehouse_ship_late "1: payload.class is the signal"
is "$(pd_last trigger "j['payload']['custom_details']['figures']['orders']")" 5 "1: custom_details.figures.orders"
check "1: custom_details.figures.most_overdue_s: an hour or more" \
	test "$(pd_last trigger "j['payload']['custom_details']['figures']['most_overdue_s']")" -ge 3600
is "$(pd_last trigger "j['payload']['custom_details']['state']")" firing "1: custom_details.state"
contains "$(pd_last trigger "j['payload']['custom_details']['labels']")" "'warehouse': 'w1'" "1: custom_details.labels"
contains "$(pd_last trigger "j['payload']['custom_details']['details']")" "Count:     5" "1: custom_details.details explains the figures"
is "$(page "state || ' ' || notified_state || ' ' || incident")" "firing firing 1" "1: the page is firing, told, incident 1"
is "$(rows "state = 'sent'"):$(rows "1")" "1:1" "1: one page row, sent"
PAGE_ID=$(page id)

# --- 2. kill -9 mid-incident, start again: no re-page ----------------------------------------
kill -KILL "$ALERTS_PID"; wait_exit "$ALERTS_PID" 10
reset_evaluated
start_alerts alerts2
check "2: the restarted daemon evaluated the page" wait_for 30 evaluated_again
check "2: nothing left to send" wait_for 30 pager_idle
is "$(page state)" firing "2: still firing"
is "$(rows "1")" 1 "2: no page row queued by the restart"
is "$(pd trigger)" 1 "2: still exactly one trigger"
is "$(sink_json "len(L)")" 1 "2: and no other request"

# --- 6. slipwatch ack: one acknowledge -------------------------------------------------------
if "$CLI" --store "$DB" ack "$PAGE_ID" --by asha --comment "on it" >"$T_DIR/ack.out" 2>&1; then
	ok "6: slipwatch ack $PAGE_ID ($(cat "$T_DIR/ack.out"))"
else
	not_ok "6: slipwatch ack $PAGE_ID" "$(cat "$T_DIR/ack.out")"
fi
is "$(sql "SELECT count(*) FROM acks WHERE alert_key = 'page:$PAGE_ID#1'")" 1 "6: the ack is stored for incident 1"
# the running daemon sees it at its next evaluation (interval 10s)
check "6: an acknowledge reaches PagerDuty" wait_for 40 pd_at_least acknowledge 1
check "6: nothing left to send" wait_for 30 pager_idle
is "$(pd acknowledge "$D1")" 1 "6: exactly one acknowledge, with the incident's dedup_key"
is "$(pd_last acknowledge "sorted(j)")" "['dedup_key', 'event_action', 'routing_key']" \
	"6: an acknowledge carries routing_key, event_action and dedup_key only"
is "$(page ack_notified)" 1 "6: the page records the incident's ack as told"

# --- 3. resolved while the daemon is down: one resolve ------------------------------------------
stop_alerts
is "$EXIT_STATUS" 0 "3: SIGTERM: exit 0"
orders O1 O2 O3 O4 O5 shipped
is "$(late_orders)" 0 "3: the orders shipped while the daemon was down"
reset_evaluated
start_alerts alerts3
check "3: a resolve reaches PagerDuty" wait_for 30 pd_at_least resolve 1
check "3: the daemon evaluated the page" wait_for 30 evaluated_again
check "3: nothing left to send" wait_for 30 pager_idle
is "$(pd resolve)" 1 "3: exactly one resolve"
is "$(pd resolve "$D1")" 1 "3: with the trigger's dedup_key"
is "$(page "state || ' ' || notified_state")" "ok ok" "3: the page is ok, told"
is "$(pd trigger):$(pd acknowledge)" "1:1" "3: nothing else sent"

# --- 4. a second incident while the receiver answers 500 ------------------------------------------
pd_mode 500
orders O6 O7 O8 late
is "$(late_orders)" 3 "4: 3 orders late again (the daemon running)"
deferred_500() { [ "$(rows "slip_kind = 'trigger' AND promise LIKE '2#%' AND state = 'deferred' AND attempts >= 1 AND last_error LIKE '%HTTP 500%'")" = 1 ]; }
check "4: the running daemon finds it; the trigger is deferred with HTTP 500 kept" wait_for 40 deferred_500
is "$(pd trigger "$D2")" 0 "4: nothing taken by the receiver while it answers 500"
check "4: the refused attempts carried the incident's dedup_key" \
	test "$(sink_json "sum(1 for r in L if r['status'] == 500 and r['json']['dedup_key'] == '$D2')")" -ge 1
pd_mode ok
check "4: receiver back: the trigger arrives" wait_for 30 pd_at_least trigger 1 "$D2"
check "4: nothing left to send" wait_for 30 pager_idle
is "$(pd trigger "$D2")" 1 "4: exactly once"
contains "$(pd_last trigger "j['payload']['summary']")" "3 orders past their promised ship-by" "4: with the new count"
is "$(rows "promise LIKE '2#%' AND state = 'sent'")" 1 "4: its row is sent"
check "4: after more than one attempt" test "$(sql "SELECT attempts FROM outbox WHERE receiver = 'pd' AND promise LIKE '2#%'")" -ge 2

# --- 5. 429 with Retry-After ---------------------------------------------------------------
# The resolve of incident 2 meets a 429 with Retry-After: 30.  The row is
# queued (created_at) at the evaluation and tried at that time or later,
# so next_attempt_at - created_at >= 30 holds when Retry-After is
# honoured; the pager's own backoff (retry_max 1s) would give about 1.
RA=30
stop_alerts
is "$EXIT_STATUS" 0 "5: SIGTERM: exit 0"
echo "$RA" >"$SINK_DIR/retry_after"
pd_mode 429
orders O6 O7 O8 shipped
reset_evaluated
start_alerts alerts5
throttled() { [ "$(rows "slip_kind = 'resolve' AND promise LIKE '2#%' AND last_error LIKE '%HTTP 429%'")" = 1 ]; }
check "5: the resolve meets the 429" wait_for 30 throttled
ROW="receiver = 'pd' AND slip_kind = 'resolve' AND promise LIKE '2#%'"
is "$(sql "SELECT state FROM outbox WHERE $ROW")" deferred "5: deferred"
contains "$(sql "SELECT last_error FROM outbox WHERE $ROW")" "(retry after $RA s)" "5: last_error keeps the Retry-After"
WAIT=$(sql "SELECT next_attempt_at - created_at FROM outbox WHERE $ROW")
check "5: next attempt at least $RA s after the row was queued and tried (got $WAIT)" test "$WAIT" -ge $RA
is "$(sink_json "sum(1 for r in L if r['status'] == 429)")" "$(sql "SELECT attempts FROM outbox WHERE $ROW")" \
	"5: every attempt of the row is in the sink's log"
is "$(pd resolve "$D2")" 0 "5: the resolve is not taken yet"
stop_alerts
is "$EXIT_STATUS" 0 "5: SIGTERM: exit 0"

# --- all in all ----------------------------------------------------------------------------
is "$(sink_json "all(r['valid'] for r in L if r['route'] == 'pd')")" True "every request was a valid Events v2 event"
is "$(sink_json "sorted((r['json']['event_action'], r['json']['dedup_key']) for r in L if r['status'] == 202)")" \
	"[('acknowledge', '$D1'), ('resolve', '$D1'), ('trigger', '$D1'), ('trigger', '$D2')]" \
	"taken by PagerDuty: trigger, acknowledge, resolve of incident 1, trigger of incident 2, each once"

# --- 7. -t: a route naming no receiver --------------------------------------------------------
{
	sed '/^\[page wh-late\]/,$d' "$T_DIR/alerts.conf"
	printf '[route crit]\nmatch = severity=critical\nreceiver = pd-nobody\n'
	sed -n '/^\[page wh-late\]/,$p' "$T_DIR/alerts.conf"
} >"$T_DIR/bad.conf"
LINE=$(grep -n '^receiver = pd-nobody' "$T_DIR/bad.conf" | cut -d: -f1)
"$ALERTS" -t -c "$T_DIR/bad.conf" >"$T_DIR/bad.out" 2>&1
st=$?
check "7: -t with an unknown route receiver exits non-zero (got $st)" test "$st" -ne 0
contains "$(cat "$T_DIR/bad.out")" "$T_DIR/bad.conf:$LINE: [route crit] receiver:" "7: FILE:LINE names the route's receiver line"
contains "$(cat "$T_DIR/bad.out")" "pd-nobody" "7: and the bad name"
done_testing
