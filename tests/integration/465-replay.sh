#!/usr/bin/env bash
# 465-replay: `slipwatch replay` over a recorded run.  The run is real:
# warehouse events over MQTT into slipwatch-collector, DHL answers from the
# fake courier (tests/fakecourier/server.py) polled by the collector, and
# slipwatch-alerts emailing a real SMTP sink.  Then, with the daemons
# stopped:
#   - a replay with the same configuration reproduces exactly the emails
#     that were sent (kinds, recipients, entities), which are the sink's;
#   - a replay with stalled 48h -> 72h differs by exactly the parcel whose
#     last scan is 50 h old (the one 80 h old is stalled either way);
#   - bad arguments are refused with exit 2 and a message naming them;
#   - the source store is unchanged (checksum before and after).
# SW_TEST_STORE=pg (466-replay-pg.sh): the run's store is PostgreSQL (a
# private server), which replay copies into a scratch SQLite file first;
# the same answers, and the copy is removed too.
# Nothing here depends on timing: each wait is for a state.
. "$SW_SRCDIR/tests/integration/lib.sh"
[ "${SW_TEST_STORE:-}" = pg ] && use_pg_store
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
SW="$SW_BUILDDIR/tools/slipwatch"
# the replays' scratch stores go here (checked at the end)
export TMPDIR="$T_DIR/tmp"
mkdir -p "$TMPDIR"

NOW=$(date +%s)
T0=$((NOW - 60))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
H=3600

# DHL answers: a parcel in transit whose scans are the given hours ago.
python3 - "$NOW" >"$T_DIR/scenario.json" <<'PY'
import json, sys, datetime
now = int(sys.argv[1])
def ts(h):
    return datetime.datetime.fromtimestamp(now - h * 3600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
def body(tn, hours):
    evs = [{"timestamp": ts(h), "statusCode": "transit", "status": "PROCESSED AT FACILITY %d" % h,
            "location": {"address": {"countryCode": "DE", "addressLocality": "Leipzig"}}}
           for h in sorted(hours)]
    return {"body": {"shipments": [{"id": tn, "service": "express",
                     "status": dict(evs[0]), "events": evs}]}}
print(json.dumps({"dhl": {"ST50": body("ST50", [50, 59]), "ST80": body("ST80", [80, 89]),
                          "OK1": body("OK1", [1, 9])}}))
PY
python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 600 \
	--scenario "$T_DIR/scenario.json" >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
URL=http://127.0.0.1:$(head -n 1 "$T_DIR/fake.out")
export SW_TEST_DHL_KEY=dhl-test-key

start_broker
write_collector_conf "[courier dhl]
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 2s
interval_near = 2s
interval_max = 4s
rate = 50
burst = 10"
start_sink

# alerts.conf: stalled after 48 h; alerts72.conf the candidate, 72 h.
alerts_conf() {
	cat <<CONF
[store]
$(store_line)
[log]
level = info
[alerts]
email = yes
templates = $SW_SRCDIR/alerts/templates
shop_name = Test Shop
unsubscribe_url = https://shop.example/unsubscribe?email={email}
tracking_url = https://shop.example/track/{courier}/{tracking}
quiet_hours =
settle = 0s
send_rate = 200
retry_min = 1s
retry_max = 2s
journal_interval = 200ms
[rule default]
no_first_scan = 200h
stalled = $1
[smtp]
url = smtp://127.0.0.1:$SINK_PORT
from = Test Shop <orders@shop.example>
connect_timeout = 2s
timeout = 10s
[rrd]
dir = $T_DIR/rrd
step = 2s
CONF
}
alerts_conf 48h >"$T_DIR/alerts.conf"
alerts_conf 72h >"$T_DIR/alerts72.conf"
start_collector
start_alerts

# The warehouse events: shipped before created, so that no order is ever
# seen created and unshipped past its ship-by (a slip that would depend
# on how the collector batched the two events).
ev() { # ev ID TYPE ORDER HOURS-AGO [EXTRA-JSON]
	printf '{"event_id":"%s","type":"order.%s","occurred_at":"%s","warehouse_id":"blr1","order_id":"%s"%s}\n' \
		"$1" "$2" "$(iso $((NOW - $4 * H)))" "$3" "${5:-}"
}
created() { # created ORDER HOURS-AGO SHIP-BY-HOURS-AGO EMAIL
	ev "c-$1" created "$1" "$2" ",\"customer\":{\"name\":\"N\",\"email\":\"$4\",\"locale\":\"en\",\"timezone\":\"UTC\"},\"promised_ship_by\":\"$(iso $((NOW - $3 * H)))\",\"promised_delivery_by\":\"$(iso $((NOW + 5 * 24 * H)))\""
}
shipped() { # shipped ORDER HOURS-AGO TRACKING
	ev "s-$1" shipped "$1" "$2" ",\"courier\":\"dhl\",\"tracking_number\":\"$3\""
}
{
	created SL-1 3 2 ship_late@c.example        # not shipped, ship-by 2 h ago
	shipped ST50-1 60 ST50
	created ST50-1 70 59 st50@c.example          # last scan 50 h ago
	shipped ST80-1 90 ST80
	created ST80-1 100 89 st80@c.example         # last scan 80 h ago
	shipped OK-1 10 OK1
	created OK-1 20 9 ok1@c.example              # last scan 1 h ago
	created ON-1 1 -24 on1@c.example             # ships tomorrow
} | publish_lines warehouse/blr1/events
is "$?" 0 "the warehouse events are published"

scanned() { [ "$(sql "SELECT count(*) FROM parcels WHERE first_scan_at IS NOT NULL")" = 3 ]; }
check "the three parcels are polled and scanned" wait_for 60 scanned
check "3 emails arrive" wait_sink 3 60
check "the engine is idle" wait_for 30 alerts_idle
stop_alerts
stop_collector() { kill -TERM "$COLLECTOR_PID" 2>/dev/null; wait_exit "$COLLECTOR_PID" 20; }
stop_collector
stop_sink
T1=$(($(date +%s) + 60))
FROM=$(iso "$T0")
TO=$(iso "$T1")

is "$(sink_count)" 3 "the run sent 3 emails"
sent_list() { sql "SELECT slip_kind || ' ' || recipient || ' ' || entity FROM outbox WHERE receiver IS NULL AND state = 'sent' ORDER BY 1"; }
WANT="ship_late ship_late@c.example order:blr1:SL-1
stalled st50@c.example parcel:dhl:ST50
stalled st80@c.example parcel:dhl:ST80"
is "$(sent_list)" "$WANT" "the run's emails: ship_late SL-1, stalled ST50 and ST80"
is "$(sink_json "sorted(m['rcpt'][0] for m in L)")" \
	"['ship_late@c.example', 'st50@c.example', 'st80@c.example']" "the sink got those three"
is "$(sql "SELECT count(*) FROM journal WHERE source = 'courier:dhl'")" 6 "the 6 DHL events are journaled"

if [ -n "${PG_CONNINFO:-}" ]; then
	# (pg_dump's \restrict lines carry a new random key each time)
	sum_store() { pg_dump --data-only "$PG_CONNINFO" | grep -v '^\\\(un\)\?restrict ' | sha256sum; }
else
	sum_store() { cat "$T_DIR/store.db" "$T_DIR/store.db-wal" 2>/dev/null | sha256sum; }
fi
BEFORE=$(sum_store)

# --- the same configuration ------------------------------------------------
"$SW" -c "$T_DIR/alerts.conf" replay --from "$FROM" --to "$TO" --json >"$T_DIR/same.json" 2>"$T_DIR/same.err"
is "$?" 0 "replay with the same configuration runs"
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
items() { jq_ "$1" "'\n'.join(sorted(i['kind'] + ' ' + i['to'] + ' ' + i['entity'] for i in d['$2']))"; }
is "$(jq_ "$T_DIR/same.json" "d['emails']['replay'], d['emails']['sent']")" "(3, 3)" "same: 3 emails replayed, 3 sent"
is "$(items "$T_DIR/same.json" emails_only_replay)" "" "same: no email only in the replay"
is "$(items "$T_DIR/same.json" emails_only_sent)" "" "same: no email only sent"
is "$(jq_ "$T_DIR/same.json" "d['emails']['by_kind']")" \
	"{'ship_late': {'replay': 1, 'sent': 1}, 'stalled': {'replay': 2, 'sent': 2}}" "same: per kind"
is "$(jq_ "$T_DIR/same.json" "d['journal']['events'], d['journal']['not_reproducible'], d['journal']['warehouse'], d['journal']['courier']")" \
	"(14, 0, 8, 6)" "same: every journal event applied (8 warehouse, 6 courier)"
is "$(jq_ "$T_DIR/same.json" "d['pages'], d['incidents']")" \
	"({'replay': 0, 'sent': 0, 'by_kind': {}}, {'replay': 0, 'sent': 0})" "same: no pages, no incidents"

# text output says the same
"$SW" -c "$T_DIR/alerts.conf" replay --from "$FROM" --to "$TO" >"$T_DIR/same.txt" 2>&1
is "$?" 0 "replay in text runs"
contains "$(cat "$T_DIR/same.txt")" "  stalled                       2        2" "text: stalled 2 and 2"
is "$(grep -c 'only' "$T_DIR/same.txt")" 0 "text: no difference listed"

# --- a changed threshold ---------------------------------------------------
"$SW" -c "$T_DIR/alerts.conf" replay --config "$T_DIR/alerts72.conf" --from "$FROM" --to "$TO" --json \
	>"$T_DIR/72.json" 2>"$T_DIR/72.err"
is "$?" 0 "replay with stalled = 72h runs"
is "$(items "$T_DIR/72.json" emails_only_sent)" "stalled st50@c.example parcel:dhl:ST50" \
	"72h: exactly the parcel last scanned 50 h ago is not emailed"
is "$(items "$T_DIR/72.json" emails_only_replay)" "" "72h: nothing new"
is "$(jq_ "$T_DIR/72.json" "d['emails']['by_kind']['stalled']")" "{'replay': 1, 'sent': 2}" "72h: stalled 1 vs 2"
"$SW" -c "$T_DIR/alerts.conf" replay --config "$T_DIR/alerts72.conf" --from "$FROM" --to "$TO" >"$T_DIR/72.txt" 2>&1
contains "$(cat "$T_DIR/72.txt")" "only sent (the replay would not send them):" "72h text: the difference has a heading"
contains "$(cat "$T_DIR/72.txt")" "parcel:dhl:ST50" "72h text: and names the parcel"

# --- a period before the run: the events warm up, nothing is counted ----------
"$SW" -c "$T_DIR/alerts.conf" replay --from "$(iso $((T0 - 7200)))" --to "$(iso $((T0 - 3600)))" --json >"$T_DIR/before.json" 2>&1
is "$?" 0 "replay of an hour before the run runs"
is "$(jq_ "$T_DIR/before.json" "d['emails']['replay'], d['emails']['sent'], d['journal']['events']")" "(0, 0, 0)" \
	"before the run: no event, no email"

# --- bad arguments -----------------------------------------------------------
bad() { # bad DESCRIPTION NEEDLE ARGS...
	local what=$1 needle=$2 out
	shift 2
	out=$("$SW" "$@" 2>&1)
	is "$?" 2 "$what: exit 2"
	contains "$out" "$needle" "$what: says so"
}
bad "--from after --to" "is not before --to" -c "$T_DIR/alerts.conf" replay --from "$TO" --to "$FROM"
bad "--from equal to --to" "is not before --to" -c "$T_DIR/alerts.conf" replay --from "$FROM" --to "$FROM"
bad "an unparseable --from" "--from: 'yesterday' is not a time" -c "$T_DIR/alerts.conf" replay --from yesterday --to "$TO"
bad "a time without zone" "--to: '2026-01-02T00:00:00' has no zone" -c "$T_DIR/alerts.conf" replay --from 2026-01-01 --to 2026-01-02T00:00:00
bad "a missing --to" "missing --to" -c "$T_DIR/alerts.conf" replay --from "$FROM"
bad "a missing store" "no store at $T_DIR/nothing.db" -c "$T_DIR/alerts.conf" --store "$T_DIR/nothing.db" replay --from "$FROM" --to "$TO"
bad "a missing candidate configuration" "no configuration $T_DIR/none.conf" -c "$T_DIR/alerts.conf" replay --config "$T_DIR/none.conf" --from "$FROM" --to "$TO"
bad "an unknown option" "--speed" -c "$T_DIR/alerts.conf" replay --speed 10 --from "$FROM" --to "$TO"

is "$(sum_store)" "$BEFORE" "the source store is unchanged by the replays"
is "$(ls -d "${TMPDIR:-/tmp}"/slipwatch-replay* 2>/dev/null | wc -l)" 0 "no scratch store (or copy) is left behind"
done_testing
