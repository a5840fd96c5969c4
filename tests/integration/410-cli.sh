#!/usr/bin/env bash
# 410-cli: the operator CLI on a store filled by the real collector from
# MQTT events: `late` lists the overdue parcel and the order that missed its
# ship-by (most overdue first) but not the order on time; `order` shows the
# timeline in time order with times as written and in UTC; unsubscribe
# add/list/remove round trip, case-insensitive; outbox and alerts filter by
# state and kind; every --json output is one object with named arrays and
# the same fields for the same thing in every command (slip_kind); bad
# usage exits 2 naming the argument (an unknown state or kind lists the
# valid ones), a missing store or config exits 1 naming it (and creates
# nothing).
. "$SW_SRCDIR/tests/integration/lib.sh"
CLI=$SW_BUILDDIR/tools/slipwatch

start_broker
write_collector_conf
start_collector
conf=$T_DIR/slipwatch.conf

# Events relative to now, written at +05:30 as an Indian warehouse would.
# ORD-LATE shipped two days ago and was due yesterday (published out of
# order); ORD-WAIT is still in the warehouse, ship-by passed 12 h ago;
# ORD-OK was created an hour ago and is due in five days.
python3 - >"$T_DIR/events.txt" <<'PY'
import json
from datetime import datetime, timedelta, timezone
ist = timezone(timedelta(hours=5, minutes=30))
now = datetime.now(ist).replace(microsecond=0)
def ev(i, typ, order, at, **kw):
    e = {"event_id": f"cli-{i}", "type": typ, "occurred_at": at.isoformat(),
         "warehouse_id": "blr1", "order_id": order}
    e.update(kw)
    return json.dumps(e)
cust = {"name": "Asha Rao", "email": "asha@example.com", "locale": "hi-IN",
        "timezone": "Asia/Kolkata", "phone": "+919812345678", "notify": "webhook"}
created = dict(customer=cust, service_level="standard")
lines = [
    ev(4, "order.shipped", "ORD-LATE", now - timedelta(days=2), courier="dhl",
       tracking_number="JDLATE1"),
    ev(1, "order.created", "ORD-LATE", now - timedelta(days=3),
       promised_ship_by=(now - timedelta(days=2, hours=-6)).isoformat(),
       promised_delivery_by=(now - timedelta(days=1)).isoformat(), **created),
    ev(3, "order.packed", "ORD-LATE", now - timedelta(days=2, hours=2)),
    ev(2, "order.picked", "ORD-LATE", now - timedelta(days=2, hours=4)),
    ev(5, "order.created", "ORD-WAIT", now - timedelta(days=2),
       promised_ship_by=(now - timedelta(hours=12)).isoformat(),
       promised_delivery_by=(now + timedelta(days=2)).isoformat(), **created),
    ev(6, "order.created", "ORD-OK", now - timedelta(hours=1),
       promised_ship_by=(now + timedelta(days=1)).isoformat(),
       promised_delivery_by=(now + timedelta(days=5)).date().isoformat(), **created),
]
print("\n".join(lines))
PY
publish_lines warehouse/blr1/events <"$T_DIR/events.txt"
check "the collector journals the six events" wait_journal 6 30

# --- late -----------------------------------------------------------------
out=$("$CLI" -c "$conf" late 2>&1); st=$?
is "$st" 0 "late exits 0"
contains "$out" "parcel:dhl:JDLATE1" "late lists the overdue parcel"
contains "$out" "blr1:ORD-LATE" "with its order"
contains "$out" "order:blr1:ORD-WAIT" "late lists the order past its ship-by"
contains "$out" "ship_late" "and says why"
case "$out" in *ORD-OK*) not_ok "the order on time is not listed" "$out" ;; *) ok "the order on time is not listed" ;; esac
first=$(printf '%s\n' "$out" | sed -n 2p)
contains "$first" "parcel:dhl:JDLATE1" "the most overdue comes first"
json=$("$CLI" -c "$conf" late --json); st=$?
is "$st" 0 "late --json exits 0"
check "late --json parses" python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$json"
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total"], d["units"][0]["entity"], ",".join(d["units"][0]["why"]), d["units"][1]["why"])' <<<"$json")" \
	"2 parcel:dhl:JDLATE1 late ['ship_late']" "late --json: total, order and reasons"
late_promise=$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["units"][0]["promised_delivery"], sort_keys=True))' <<<"$json")
out=$("$CLI" -c "$conf" late --warehouse del9); st=$?
contains "$out" "nothing is late or at risk" "a warehouse filter with no match"
out=$("$CLI" --store "$T_DIR/store.db" late --limit 1 --within 30m); st=$?
is "$st" 0 "--store alone needs no configuration"
contains "$out" "(1 of 2 shown" "--limit says what was left out"

# --- order timeline ---------------------------------------------------------
out=$("$CLI" -c "$conf" order blr1 ORD-LATE 2>&1); st=$?
is "$st" 0 "order exits 0"
kinds=$(printf '%s\n' "$out" | grep -oE 'order\.(created|picked|packed|shipped)' | tr '\n' ' ')
is "$kinds" "order.created order.picked order.packed order.shipped " "events in the order they happened"
contains "$out" "+05:30" "times as written"
contains "$out" "Z " "and in UTC"
contains "$out" "JDLATE1" "the parcel is shown"
contains "$out" "Asha Rao <asha@example.com>" "and the customer"
contains "$out" "+919812345678" "with the phone from the event"
contains "$out" "webhook" "and the channel the customer asked for"
json=$("$CLI" -c "$conf" order blr1 ORD-LATE --json); st=$?
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["events"]), d["parcels"][0]["tracking_number"], d["events"][0]["payload"]["type"], d["order"]["status"])' <<<"$json")" \
	"4 JDLATE1 order.created shipped" "order --json: events with payloads, parcel, status"
is "$(python3 -c 'import json,sys; c=json.load(sys.stdin)["order"]["customer"]; print(c["phone"], c["notify"])' <<<"$json")" \
	"+919812345678 webhook" "order --json: customer phone and notify"
is "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["order"]["promised_delivery"], sort_keys=True))' <<<"$json")" \
	"$late_promise" "a promise is the same object in late and order"
contains "$late_promise" '"kind": "instant"' "with its kind"
out=$("$CLI" -c "$conf" order blr1 NOPE 2>&1); st=$?
is "$st" 1 "an unknown order exits 1"
contains "$out" "NOPE" "and names it"

# --- unsubscribe ---------------------------------------------------------------
out=$("$CLI" -c "$conf" unsubscribe add Asha.Rao@Example.com --reason "asked by phone" 2>&1); st=$?
is "$st" 0 "unsubscribe add exits 0"
out=$("$CLI" -c "$conf" unsubscribe list); st=$?
contains "$out" "Asha.Rao@Example.com" "the address is listed"
contains "$out" "asked by phone" "with its reason"
out=$("$CLI" -c "$conf" unsubscribe add asha.rao@example.COM 2>&1); st=$?
is "$st" 0 "adding it again in other case is fine"
contains "$out" "already unsubscribed" "and says so"
json=$("$CLI" -c "$conf" unsubscribe list --json)
is "$(python3 -c 'import json,sys; u=json.load(sys.stdin)["unsubscribes"]; print(len(u), u[0]["email"], u[0]["reason"])' <<<"$json")" \
	"1 Asha.Rao@Example.com asked by phone" "one entry, in JSON under unsubscribes"
out=$("$CLI" -c "$conf" unsubscribe remove ASHA.RAO@EXAMPLE.COM 2>&1); st=$?
is "$st" 0 "remove matches case-insensitively"
contains "$("$CLI" -c "$conf" unsubscribe list)" "nobody is unsubscribed" "the list is empty again"
out=$("$CLI" -c "$conf" unsubscribe remove asha.rao@example.com 2>&1); st=$?
is "$st" 1 "removing an address not on the list exits 1"
contains "$out" "not on the unsubscribe list" "and says so"
out=$("$CLI" -c "$conf" unsubscribe add "asha rao@example.com" 2>&1); st=$?
is "$st" 2 "an address with a blank is a usage error"
contains "$out" "not a plain address" "naming the problem"
out=$("$CLI" -c "$conf" unsubscribe add $'a@example.com\r\nBcc: x@example.com' 2>&1); st=$?
is "$st" 2 "an address with CR LF is refused"

# --- outbox and alerts ----------------------------------------------------------
# Nothing queued yet (the alert engine is not running): every state the
# store knows is accepted and matches nothing.
for s in queued sending sent failed deferred suppressed obsolete merged; do
	out=$("$CLI" -c "$conf" outbox --state "$s" 2>&1); st=$?
	[ "$st" = 0 ] && [[ "$out" == *"no outbox rows match"* ]] || break
done
is "$st:$s" "0:merged" "outbox --state takes every state of the store, an empty result exits 0"
is "$("$CLI" -c "$conf" outbox --json)" '{"outbox": []}' "an empty outbox in JSON is an object with an empty list"
is "$("$CLI" -c "$conf" alerts --all --json)" '{"alerts": []}' "and so are no alerts"
# What the alert engine would have written for the late parcel: an open
# slip, its notice (deferred), and a follow-up waiting.
now_s=$(date +%s)
sql -cmd '.timeout 5000' "
INSERT INTO alerts (entity, kind, promise, stage, detected_at)
 VALUES ('parcel:dhl:JDLATE1', 'late', 'p1', 'in_transit', $now_s - 60);
INSERT INTO alerts (entity, kind, promise, stage, stage_ratio, detected_at)
 VALUES ('parcel:dhl:JDLATE1', 'exception', 'p1', 'line_haul', 2.4, $now_s - 120);
INSERT INTO outbox (entity, slip_kind, promise, channel, recipient, state, next_attempt_at, created_at)
 VALUES ('parcel:dhl:JDLATE1', 'late', 'p1', 'email', 'asha@example.com', 'deferred', $now_s + 3600, $now_s - 50),
        ('parcel:dhl:JDLATE1', 'resolved_late', 'p1', 'email', 'asha@example.com', 'queued', $now_s + 60, $now_s - 40);"
out=$("$CLI" -c "$conf" outbox --state deferred); st=$?
is "$st" 0 "outbox --state deferred exits 0"
contains "$out" "JDLATE1" "and lists the deferred notice"
case "$out" in *resolved_late*) not_ok "but not the queued follow-up" "$out" ;; *) ok "but not the queued follow-up" ;; esac
json=$("$CLI" -c "$conf" outbox --kind resolved_late --json); st=$?
is "$st:$(python3 -c 'import json,sys; r=json.load(sys.stdin)["outbox"]; print(len(r), r[0]["slip_kind"], r[0]["state"])' <<<"$json")" \
	"0:1 resolved_late queued" "outbox --kind takes a follow-up kind (resolved_KIND)"
out=$("$CLI" -c "$conf" alerts --kind late); st=$?
is "$st" 0 "alerts --kind late exits 0"
contains "$out" "parcel:dhl:JDLATE1" "and lists the open slip"
# The stage that ran over, and how far past its lane's p90.
out=$("$CLI" -c "$conf" alerts)
contains "$(printf '%s\n' "$out" | grep exception)" "line_haul 2.4x p90" \
	"alerts shows the stage that ran over and its ratio"
contains "$(printf '%s\n' "$out" | grep ' late ')" " in_transit " "a stage without a ratio alone"
case "$(printf '%s\n' "$out" | grep ' late ')" in *x\ p90*) not_ok "and no ratio for it" ;; *) ok "and no ratio for it" ;; esac
is "$("$CLI" -c "$conf" alerts --json | python3 -c 'import json,sys
a={r["slip_kind"]: r for r in json.load(sys.stdin)["alerts"]}
print(a["exception"]["stage"], a["exception"]["stage_ratio"], a["late"]["stage"], a["late"]["stage_ratio"])')" \
	"line_haul 2.4 in_transit None" "alerts --json: stage_ratio, null when no stage ran over"
contains "$("$CLI" -c "$conf" order blr1 ORD-LATE)" "line_haul 2.4x p90" "order lists its slips with the ratio too"
out=$("$CLI" -c "$conf" alerts --kind stalled); st=$?
is "$st" 0 "alerts --kind with no match exits 0"
contains "$out" "no open alerts match" "and says so"
# The same row has the same fields in every command: alerts and outbox
# rows from their own commands and inside order --json.
a=$("$CLI" -c "$conf" alerts --json); o=$("$CLI" -c "$conf" outbox --json)
t=$("$CLI" -c "$conf" order blr1 ORD-LATE --json)
is "$(python3 - "$a" "$o" "$t" <<'PY'
import json, sys
a, o, t = (json.loads(x) for x in sys.argv[1:])
ka, ko = set(a["alerts"][0]), set(o["outbox"][0])
print(ka == set(t["alerts"][0]), ko == set(t["outbox"][0]), "slip_kind" in ka and "slip_kind" in ko,
      "kind" in ka or "kind" in ko, a["alerts"][0]["slip_kind"], len(t["outbox"]))
PY
)" "True True True False late 2" "alert and outbox rows: one shape in alerts, outbox and order --json, kind named slip_kind"
# Every command's --json is one object.
bad=
for c in "late" "order blr1 ORD-LATE" "outbox" "alerts --all" "unsubscribe list"; do
	# shellcheck disable=SC2086
	"$CLI" -c "$conf" $c --json | python3 -c 'import json,sys; sys.exit(not isinstance(json.load(sys.stdin), dict))' ||
		bad="$bad [$c]"
done
is "$bad" "" "every --json output is one JSON object"

# --- after the collector stopped (WAL files gone), read-only still works --------
kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
out=$("$CLI" -c "$conf" late 2>&1); st=$?
is "$st" 0 "late works on a store no daemon has open"
contains "$out" "JDLATE1" "and sees the same data"

# --- usage errors exit 2 and name the argument -------------------------------------
usage() { # usage DESCRIPTION NEEDLE ARGS...
	local d=$1 n=$2 o s; shift 2
	o=$("$CLI" -c "$conf" "$@" 2>&1); s=$?
	if [ "$s" = 2 ] && [[ "$o" == *"$n"* ]]; then ok "$d"; else not_ok "$d" "exit $s: $o"; fi
}
usage "unknown command" "unknown command 'frobnicate'" frobnicate
usage "unknown option" "'--bogus'" late --bogus
usage "bad duration" "--within: '3x' is not a duration" late --within 3x
usage "limit 0" "--limit: '0' is not a number" late --limit 0
usage "limit not a number" "--limit: 'lots'" late --limit lots
usage "missing option value" "'--limit' needs a value" late --limit
usage "missing ORDER_ID" "missing ORDER_ID" order blr1
usage "extra argument" "unexpected argument 'x'" late x
usage "unknown outbox state, listing the valid ones" \
	"--state: 'weird' is not an outbox state (want one of: queued, sending, sent, failed, deferred, suppressed, obsolete, merged)" \
	outbox --state weird
usage "unknown slip kind, listing the valid ones" \
	"--kind: 'nope' is not a slip kind (want one of: ship_late, no_first_scan, stalled, attempt_fail, exception, returning, available_for_pickup, eta_slip, late)" \
	alerts --kind nope
usage "a follow-up kind is not a slip kind" "'resolved_late' is not a slip kind" alerts --kind resolved_late
usage "unknown outbox kind" "'resolved_nope' is not a notice kind" outbox --kind resolved_nope
usage "a state name is case-sensitive" "'Queued' is not an outbox state" outbox --state Queued
usage "an empty state" "--state: an empty value matches nothing" outbox --state ""
usage "unsubscribe without action" "missing add, remove or list" unsubscribe
usage "unknown unsubscribe action" "unknown action 'drop'" unsubscribe drop a@example.com
out=$("$CLI" 2>&1); st=$?
is "$st" 2 "no command is a usage error"
out=$("$CLI" help); st=$?
is "$st" 0 "help exits 0"
contains "$out" "order WAREHOUSE ORDER_ID" "help lists the commands"
contains "$("$CLI" --version)" "slipwatch " "--version prints the version"

# --- engine: the alert engines' lease --------------------------------------------------
out=$("$CLI" --store "$T_DIR/store.db" engine); st=$?
is "$st" 0 "engine on a store no engine leased: exit 0"
contains "$out" "no alert engine has taken the lease 'alerts'" "  says none has"
now=$(date +%s)
sql "INSERT INTO leases (name, holder, acquired_at, renewed_at, expires_at)
	VALUES ('alerts', 'host-b', $((now - 600)), $((now - 5)), $((now + 3600)))"
out=$("$CLI" --store "$T_DIR/store.db" engine)
contains "$out" "active: host-b holds the lease 'alerts' since $(date -u -d "@$((now - 600))" +%Y-%m-%dT%H:%M:%SZ)" \
	"engine: the holder and since when"
contains "$out" "held until $(date -u -d "@$((now + 3600))" +%Y-%m-%dT%H:%M:%SZ)" "  and until when"
is "$("$CLI" --store "$T_DIR/store.db" engine --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["holder"])')" \
	"held host-b" "engine --json: held, by host-b"
sql "UPDATE leases SET holder = 'host-' || char(27) || '[2J', expires_at = $((now - 60))"
out=$("$CLI" --store "$T_DIR/store.db" engine)
contains "$out" "no engine active: the lease 'alerts' ran out at $(date -u -d "@$((now - 60))" +%Y-%m-%dT%H:%M:%SZ)" \
	"engine: a lease run out, when"
case $out in *$'\e'*) not_ok "  the holder's escape is not printed" ;; *) ok "  the holder's escape is not printed" ;; esac
is "$("$CLI" --store "$T_DIR/store.db" engine --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" \
	expired "engine --json: expired"
out=$("$CLI" --store "$T_DIR/store.db" engine --all 2>&1); st=$?
is "$st" 2 "engine --all: a usage error"
contains "$out" "--all" "  naming it"

# --- runtime errors exit 1 and name what failed ------------------------------------
out=$("$CLI" --store "$T_DIR/none.db" late 2>&1); st=$?
is "$st" 1 "a missing store exits 1"
contains "$out" "$T_DIR/none.db" "naming the store"
out=$("$CLI" --store "$T_DIR/none.db" unsubscribe add a@example.com 2>&1); st=$?
is "$st" 1 "unsubscribe on a missing store exits 1"
check "and creates no store" test ! -e "$T_DIR/none.db"
out=$("$CLI" -c "$T_DIR/missing.conf" late 2>&1); st=$?
is "$st" 1 "a missing configuration exits 1"
contains "$out" "missing.conf" "naming it"
{ cat "$conf"; echo "[stroe]"; } >"$T_DIR/typo.conf"
out=$("$CLI" -c "$T_DIR/typo.conf" late 2>&1); st=$?
is "$st" 1 "an unknown section is an error, as for the daemons"
contains "$out" "typo.conf:" "naming file and line"
done_testing
