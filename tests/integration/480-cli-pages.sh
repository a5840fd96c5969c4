#!/usr/bin/env bash
# 480-cli-pages: the on-call commands of the operator CLI on a store whose
# pages the alert engine would have written (rows inserted with SQL):
# `pages` lists the open pages (not the quiet ones unless --all, one state
# with --state) with their last notification and acknowledgement, as text
# and as one JSON object; `ack` acknowledges the current incident once
# (again: "already", exit 0), refuses a page that is not open or does not
# exist (exit 1); `silence add/list/expire` stores the canonical matchers,
# refuses malformed matchers, bad durations and a missing comment (exit 2,
# naming the problem, nothing stored); a missing store is exit 1 and is
# not created.  `pages --members ID` lists a cohort page's members now
# (each with its order, status, open slips and the stage that ran over),
# as text and JSON, its signal found through the page's rule in the
# configuration (or, with --store alone, the page's signal label), and
# refuses an unknown page, a page whose rule is gone and a page that is
# not a cohort's (exit 1, saying which).
. "$SW_SRCDIR/tests/integration/lib.sh"
CLI=$SW_BUILDDIR/tools/slipwatch

"$SEED" "$T_DIR/store.db" </dev/null || bail "sw_seed could not create the store"
run() { "$CLI" --store "$T_DIR/store.db" "$@"; }

# Page 1 firing (critical, incident 3, told) for 3 days and 1 hour, page
# 2 ok, page 3 nodata (global), page 4 pending; page 1 has one trigger
# sent 3 days and 1 hour ago.  Ages are shown to the hour beyond a day, so
# what the CLI shows does not change while the test runs.
now=$(date +%s)
d1=$((3 * 86400 + 3600))
sql "
INSERT INTO pages (rule, subject, labels, state, severity, value, summary, figures,
 state_since, active_since, firing_since, incident, evaluated_at, notified_state,
 notified_severity, notified_incident, receiver)
VALUES
 ('backlog', 'warehouse=w1', 'warehouse=w1', 'firing', 2, 512,
  'backlog 512 orders (critical >= 500)', '{\"backlog\": 512}', $now - $d1, $now - $d1 - 60,
  $now - $d1, 3, $now - 30, 'firing', 2, 3, 'oncall'),
 ('courier_errors', 'courier=dhl', 'courier=dhl', 'ok', 0, 0.01, 'error rate 1%', NULL,
  $now - 7200, 0, 0, 1, $now - 30, 'ok', 0, 1, NULL),
 ('feed', '', '', 'nodata', 1, NULL, 'no data for 20m', NULL, $now - 120, $now - 120, 0, 1,
  $now - 30, 'nodata', 1, 1, 'oncall'),
 ('stalled', 'courier=ups', 'courier=ups', 'pending', 0, 7, '7 stalled parcels', NULL,
  $now - 60, $now - 60, 0, 2, $now - 30, 'ok', 0, 1, NULL);
INSERT INTO outbox (entity, slip_kind, promise, channel, recipient, state, next_attempt_at,
 created_at, sent_at, receiver)
VALUES ('page:1', 'trigger', '3#1@oncall', 'webhook', 'oncall', 'sent', $now - $d1,
 $now - $d1, $now - $d1, 'oncall');" || bail "could not insert the pages"

# --- pages ------------------------------------------------------------------------
out=$(run pages 2>&1); st=$?
is "$st" 0 "pages exits 0"
contains "$out" "LAST NOTIFICATION" "pages has a header"
line=$(printf '%s\n' "$out" | grep '^1 ')
contains "$line" "backlog" "page 1 is listed with its rule"
contains "$line" "warehouse=w1" "its subject"
contains "$line" "firing" "its state"
contains "$line" "critical" "its severity"
contains "$line" "  3d01h  " "its age"
contains "$line" "trigger sent 3d01h ago" "its last notification"
contains "$line" "backlog 512 orders" "and its summary"
contains "$(printf '%s\n' "$out" | grep '^3 ')" "(global)" "a global page says so"
contains "$out" "pending" "a pending page is open"
case "$out" in *courier_errors*) not_ok "an ok page is not listed" "$out" ;; *) ok "an ok page is not listed" ;; esac
contains "$(run pages --all)" "courier_errors" "--all lists it"
out=$(run pages --state ok); st=$?
is "$st:$(printf '%s\n' "$out" | sed 1d | awk '{print $1}' | tr '\n' ' ')" "0:2 " "--state ok lists the ok page alone"
contains "$(run pages --state pending --all)" "stalled" "--state with --all"
json=$(run pages --json); st=$?
is "$st" 0 "pages --json exits 0"
is "$(python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
p = {x["id"]: x for x in d["pages"]}
one = p[1]
print(sorted(p), one["state"], one["severity"], one["value"], one["figures"]["backlog"],
      one["incident"], one["receiver"], one["acked_by"],
      one["last_notification"]["slip_kind"], one["last_notification"]["state"],
      one["state_since"].endswith("Z"), p[3]["subject"], p[3]["value"], p[3]["last_notification"])
PY
)" "[1, 3, 4] firing critical 512.0 512 3 oncall None trigger sent True  None None" \
	"pages --json: the open pages with state, severity, value, figures, incident, last notification"
o=$(run outbox --json)
is "$(python3 - "$json" "$o" <<'PY'
import json, sys
p, o = (json.loads(x) for x in sys.argv[1:])
print(set(p["pages"][0]["last_notification"]) == set(o["outbox"][0]))
PY
)" "True" "a page's last notification has the shape of an outbox row"

# --- ack ---------------------------------------------------------------------------
out=$(USER=ann run ack 1 --comment "looking at w1" 2>&1); st=$?
is "$st" 0 "ack exits 0"
contains "$out" "page 1 incident 3 acknowledged by ann" "acknowledged by \$USER"
contains "$out" "next evaluation" "and says when receivers hear it"
is "$(sql "SELECT acked_by || '|' || comment FROM acks WHERE alert_key = 'page:1#3'")" \
	"ann|looking at w1" "one acks row for the page's current incident"
out=$(run ack 1 --by bob 2>&1); st=$?
is "$st" 0 "acknowledging again exits 0"
contains "$out" "already acknowledged by ann at " "and says by whom and when"
is "$(sql "SELECT count(*) FROM acks")" 1 "nothing more is stored"
contains "$(run pages | grep '^1 ')" "ann " "pages shows who acknowledged"
is "$(run pages --json | python3 -c 'import json,sys; p=json.load(sys.stdin)["pages"][0]; print(p["acked_by"], p["acked_at"].endswith("Z"))')" \
	"ann True" "and so does pages --json"
out=$(run ack 4 --by bob 2>&1); st=$?
is "$st" 0 "a pending page can be acknowledged"
out=$(run ack 2 --by bob 2>&1); st=$?
is "$st" 1 "acknowledging an ok page exits 1"
contains "$out" "page 2 is not open (state ok): nothing to acknowledge" "saying why"
out=$(run ack 99 --by bob 2>&1); st=$?
is "$st" 1 "acknowledging no page exits 1"
contains "$out" "page 99: no such page" "naming it"
out=$(run ack seven 2>&1); st=$?
is "$st" 2 "a page id that is not a number is a usage error"
out=$(run ack 1 --by $'x\ny' 2>&1); st=$?
is "$st" 2 "--by with a control character is refused"
is "$(sql "SELECT count(*) FROM acks")" 2 "the refusals stored nothing"

# --- silences ------------------------------------------------------------------------
out=$(run silence list 2>&1); st=$?
is "$st:$out" "0:no active or pending silences" "no silences yet"
out=$(run silence add 'warehouse=~w[0-9]+, severity=critical' courier!=ups --duration 2h \
	--comment "w1 migration" --by ann 2>&1); st=$?
is "$st" 0 "silence add exits 0"
contains "$out" "silence 1 added: courier!=ups,severity=critical,warehouse=~w[0-9]+" \
	"with the canonical matchers (operands joined, sorted by key)"
contains "$out" "(2h00m), by ann" "its length and author"
is "$(sql "SELECT matcher || '|' || created_by || '|' || reason || '|' || (ends_at - starts_at) FROM silences")" \
	"courier!=ups,severity=critical,warehouse=~w[0-9]+|ann|w1 migration|7200" "stored as the engine reads it"
json=$(USER=cy run silence add courier=dhl --start 2099-01-01T00:00:00+05:30 \
	--until 2099-01-02T00:00:00+05:30 --comment later --json); st=$?
is "$st:$(python3 -c 'import json,sys; s=json.load(sys.stdin)["silence"]; print(s["id"], s["state"], s["starts_at"], s["ends_at"], s["created_by"])' <<<"$json")" \
	"0:2 pending 2098-12-31T18:30:00Z 2099-01-01T18:30:00Z cy" "--start/--until with offsets, --json, --by from \$USER"
out=$(run silence list); st=$?
contains "$out" "active" "the list shows the active silence"
contains "$out" "pending" "and the one to come"
is "$(run silence list --json | python3 -c 'import json,sys; print([s["id"] for s in json.load(sys.stdin)["silences"]])')" \
	"[1, 2]" "silence list --json"

# refused: exit 2, naming the problem, nothing stored
refused() { # refused DESCRIPTION NEEDLE ARGS...
	local d=$1 n=$2 o s; shift 2
	o=$(run silence add "$@" 2>&1); s=$?
	if [ "$s" = 2 ] && [[ "$o" == *"$n"* ]]; then ok "$d"; else not_ok "$d" "exit $s: $o"; fi
}
refused "an unbalanced regex" "matcher 1 'courier=~(dhl': bad regex" 'courier=~(dhl' --duration 1h --comment x
refused "a ')' that would escape the anchors" "matcher 2 'courier=~a)|.*'" 'x=y,courier=~a)|.*' --duration 1h --comment x
refused "a matcher without operator" "matcher 1 'courier': want key=value" courier --duration 1h --comment x
refused "a bad key" "a key is [a-z_][a-z0-9_]*" 'Courier=dhl' --duration 1h --comment x
refused "an empty matcher" "matcher 2 '': empty" 'courier=dhl,' --duration 1h --comment x
refused "a duration over 366 days" "--duration: '400d' is out of range" courier=dhl --duration 400d --comment x
refused "a zero duration" "--duration: must be at least 1s" courier=dhl --duration 0 --comment x
refused "a duration that is not one" "--duration: '3x' is not a duration" courier=dhl --duration 3x --comment x
refused "--until over 366 days ahead" "--until: at most 366d" courier=dhl --until 2099-01-01T00:00:00Z --comment x
refused "--until in the past" "is not in the future" courier=dhl --until 2020-01-01T00:00:00Z --comment x
refused "--until without an offset" "is not a time with an offset" courier=dhl --until 2099-01-01T00:00:00 --comment x
refused "both --duration and --until" "one of them" courier=dhl --duration 1h --until 2099-01-01T00:00:00Z --comment x
refused "neither" "one of them" courier=dhl --comment x
refused "no comment" "--comment TEXT is required" courier=dhl --duration 1h
refused "no matchers" "missing the matchers" --duration 1h --comment x
is "$(sql "SELECT count(*) FROM silences")" 2 "nothing stored by the refusals"

out=$(run silence expire 1 2>&1); st=$?
is "$st" 0 "silence expire exits 0"
contains "$out" "silence 1 expired" "and says so"
case "$(run silence list)" in *"w1 migration"*) not_ok "an expired silence is not listed" ;; *) ok "an expired silence is not listed" ;; esac
contains "$(run silence list --all)" "expired" "--all lists it as expired"
out=$(run silence expire 1 2>&1); st=$?
is "$st" 1 "expiring it again exits 1"
contains "$out" "silence 1 already ended at" "saying when it ended"
out=$(run silence expire 42 2>&1); st=$?
is "$st" 1 "expiring no silence exits 1"
contains "$out" "silence 42: no such silence" "naming it"
out=$(run silence expire 2 --json 2>&1); st=$?
is "$st" 2 "an option another action takes is a usage error"
out=$(run silence mute courier=dhl 2>&1); st=$?
is "$st" 2 "an unknown action is a usage error"
contains "$out" "unknown action 'mute'" "naming it"

# --- pages --members ----------------------------------------------------------------------
# The lane dhl w1 -> IN 560: five parcels in transit, three with open
# slips (one with two), one slip resolved; page 5 is its cohort page,
# page 6 a cohort page whose rule is gone.  Page 1 (backlog) is not a
# cohort's.
"$SEED" "$T_DIR/store.db" <<'JSON' || bail "sw_seed could not add the lane"
{"op":"bulk","n":5,"courier":"dhl","wh":"w1","prefix":"L","country":"IN","postal":"560001","shipped":-86400,"event_at":-80000,"deliver_by":86400}
JSON
sql "
INSERT INTO alerts (entity, kind, stage, stage_ratio, detected_at) VALUES
 ('parcel:dhl:LT0', 'stalled', 'line_haul', 2.4, $now - 600),
 ('parcel:dhl:LT0', 'late', 'last_mile', 1.5, $now - 300),
 ('parcel:dhl:LT1', 'stalled', 'line_haul', 3.1, $now - 600),
 ('parcel:dhl:LT2', 'stalled', 'courier', NULL, $now - 600);
INSERT INTO alerts (entity, kind, stage, detected_at, resolved_at) VALUES
 ('parcel:dhl:LT3', 'stalled', 'line_haul', $now - 900, $now - 60);
INSERT INTO pages (rule, subject, labels, state, severity, value, summary, figures,
 state_since, active_since, firing_since, incident, evaluated_at, notified_state,
 notified_severity, notified_incident, receiver)
VALUES
 ('lane-cohort', 'lane=dhl/w1/IN_560', 'lane=dhl/w1/IN_560,rule=lane-cohort,signal=cohort_slips',
  'firing', 1, 3, '3 of 5 parcels slipped', '{\"count\": 3, \"stage\": \"line_haul\"}',
  $now - 600, $now - 600, $now - 600, 1, $now - 30, 'firing', 1, 1, 'oncall'),
 ('old-cohort', 'lane=dhl/w1/IN_560', 'lane=dhl/w1/IN_560,rule=old-cohort,signal=cohort_slips',
  'firing', 1, 3, '3 of 5', NULL, $now - 600, $now - 600, $now - 600, 1, $now - 30, 'firing', 1,
  1, 'oncall');" || bail "could not add the lane's slips and pages"
is "$(sql "SELECT group_concat(id) FROM pages WHERE rule LIKE '%cohort'")" "5,6" "the cohort pages are 5 and 6"
cat >"$T_DIR/members.conf" <<CONF
[store]
path = $T_DIR/store.db
[smtp]
url = smtp://127.0.0.1:2525
from = slipwatch <slipwatch@ops.example>
[pages]
receiver = oncall
[receiver oncall]
channel = email
to = oncall@ops.example
[page backlog]
signal = warehouse_pick_backlog
warning = 100
[page lane-cohort]
signal = cohort_slips
warning = 40
CONF
runc() { "$CLI" -c "$T_DIR/members.conf" "$@"; }
out=$(runc pages --members 5 2>&1); st=$?
is "$st" 0 "pages --members exits 0"
contains "$out" "page 5 (rule lane-cohort, lane=dhl/w1/IN_560): 3 members now" "it names the page and counts its members"
contains "$out" "MEMBER" "a header"
is "$(printf '%s\n' "$out" | grep -c '^parcel:dhl:LT')" 3 "one line per member (the resolved slip's parcel is not one)"
line=$(printf '%s\n' "$out" | grep '^parcel:dhl:LT1 ')
contains "$line" " w1 " "a member's warehouse"
contains "$line" " LB1 " "its order"
contains "$line" " in_transit " "its parcel's status"
contains "$line" " stalled " "its open slip"
contains "$line" "line_haul 3.1x p90" "and the stage that ran over, with how far"
line=$(printf '%s\n' "$out" | grep '^parcel:dhl:LT0 ')
contains "$line" " stalled,late " "a member with two open slips lists both"
contains "$line" "line_haul 2.4x p90" "and the stage that ran over most"
contains "$(printf '%s\n' "$out" | grep '^parcel:dhl:LT2 ')" " courier" "a slip whose stage did not run over: its static stage"
json=$(runc pages --members 5 --json); st=$?
is "$st" 0 "pages --members --json exits 0"
is "$(python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
m = {x["entity"]: x for x in d["members"]}
zero = m["parcel:dhl:LT0"]
print(d["page"]["id"], d["page"]["rule"], d["page"]["signal"], sorted(m),
      zero["courier"], zero["tracking_number"], zero["warehouse_id"], zero["order_id"], zero["status"],
      [(s["slip_kind"], s["stage"], s["stage_ratio"]) for s in zero["slips"]],
      m["parcel:dhl:LT2"]["slips"][0]["stage_ratio"], zero["slips"][0]["detected_at"].endswith("Z"))
PY
)" "5 lane-cohort cohort_slips ['parcel:dhl:LT0', 'parcel:dhl:LT1', 'parcel:dhl:LT2'] dhl LT0 w1 LB0 in_transit [('stalled', 'line_haul', 2.4), ('late', 'last_mile', 1.5)] None True" \
	"pages --members --json: the page, and each member with its order, status and open slips"
# the members are the lane's now: one more slip, one more member
sql "INSERT INTO alerts (entity, kind, stage, detected_at) VALUES ('parcel:dhl:LT4', 'stalled', 'first_mile', $now)"
contains "$(runc pages --members 5)" "4 members now" "the list is the store's now, not the page's figures"
out=$(run pages --members 5 2>&1); st=$?
is "$st" 0 "with --store alone the page's signal label is used"
contains "$out" "4 members now" "and lists the same members"
out=$(runc pages --members 1 2>&1); st=$?
is "$st" 1 "a page that is not a cohort's exits 1"
contains "$out" "page 1 (rule backlog) is not a cohort page" "saying so"
out=$(runc pages --members 6 2>&1); st=$?
is "$st" 1 "a page whose rule is gone exits 1"
contains "$out" "page 6 (rule old-cohort): [page old-cohort] is no longer in $T_DIR/members.conf" "saying so"
out=$(runc pages --members 99 2>&1); st=$?
is "$st" 1 "no such page exits 1"
contains "$out" "page 99: no such page" "naming it"
out=$(run pages --members 3 2>&1); st=$?
is "$st" 1 "with --store alone, a page whose labels name no signal exits 1"
contains "$out" "give -c FILE" "saying what to do"
out=$(run pages --members seven 2>&1); st=$?
is "$st" 2 "a page id that is not a number is a usage error"
out=$(run pages --members 5 --all 2>&1); st=$?
is "$st" 2 "--members with --all is a usage error"
contains "$out" "--members does not go with --all" "saying so"

# --- every --json is one object; help; a missing store ---------------------------------
bad=
for c in "pages" "pages --all" "pages --members 5" "silence list" "silence list --all"; do
	# shellcheck disable=SC2086
	run $c --json | python3 -c 'import json,sys; sys.exit(not isinstance(json.load(sys.stdin), dict))' ||
		bad="$bad [$c]"
done
is "$bad" "" "every --json output is one JSON object"
out=$("$CLI" help)
contains "$out" "pages [--all]" "help lists pages"
contains "$out" "pages --members ID" "and pages --members"
contains "$out" "ack ID" "ack"
contains "$out" "silence add MATCHERS" "and silence"
out=$("$CLI" --store "$T_DIR/none.db" ack 1 --by ann 2>&1); st=$?
is "$st" 1 "ack on a missing store exits 1"
contains "$out" "$T_DIR/none.db" "naming the store"
out=$("$CLI" --store "$T_DIR/none.db" silence add courier=dhl --duration 1h --comment x --by ann 2>&1); st=$?
is "$st" 1 "silence add on a missing store exits 1"
check "and creates no store" test ! -e "$T_DIR/none.db"
done_testing
