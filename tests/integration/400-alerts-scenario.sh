#!/usr/bin/env bash
# 400-alerts-scenario: a store where each slip kind happens once, plus
# on-time orders; slipwatch-alerts against a real SMTP server (aiosmtpd).
# Exactly one email per slipped parcel, the right template and language,
# promised dates in the customer's zone, none for on-time orders, none
# again after a restart, and a new one for a new promise.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }

NOW=$(date +%s)
D2=$(date -u -d "@$((NOW + 2 * 86400))" +%F)  # a delivery promise two days out
D5=$(date -u -d "@$((NOW + 5 * 86400))" +%F)  # an ETA after it
Y=$(date -u -d "@$((NOW - 86400))" +%F)        # yesterday (UTC)
LATE_PROMISE="${Y}T20:00:00Z"                  # 01:30 the next day in Kolkata

start_sink
ALERTS_KEYS="unsubscribe_one_click = yes" write_alerts_conf
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"health","courier":"dhl","ok":-60}
{"op":"order","wh":"blr1","id":"SL-1","name":"Asha","email":"ship_late@c.example","tz":"UTC","ship_by":-7200,"deliver_by":"$D2"}
{"op":"order","wh":"blr1","id":"NF-1","name":"Ben","email":"no_first_scan@c.example","tz":"UTC","ship_by":-20000,"deliver_by":"$D2","shipped":-10800}
{"op":"parcel","courier":"dhl","tn":"NF1","wh":"blr1","id":"NF-1","shipped":-10800,"polled":-60}
{"op":"order","wh":"blr1","id":"ST-1","name":"Chen","email":"stalled@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"ST1","wh":"blr1","id":"ST-1","shipped":-86400,"status":"in_transit","event_at":-10800,"first_scan":-80000,"polled":-60}
{"op":"order","wh":"blr1","id":"AF-1","name":"Dev","email":"attempt_fail@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"AF1","wh":"blr1","id":"AF-1","shipped":-86400,"status":"attempt_fail","event_at":-600,"first_scan":-80000}
{"op":"order","wh":"blr1","id":"EX-1","name":"Eli","email":"exception@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"EX1","wh":"blr1","id":"EX-1","shipped":-86400,"status":"exception","event_at":-600,"first_scan":-80000}
{"op":"order","wh":"blr1","id":"RT-1","name":"Fay","email":"returning@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"RT1","wh":"blr1","id":"RT-1","shipped":-86400,"status":"returning","event_at":-600,"first_scan":-80000}
{"op":"order","wh":"blr1","id":"PU-1","name":"Gus","email":"available_for_pickup@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"PU1","wh":"blr1","id":"PU-1","shipped":-86400,"status":"available_for_pickup","event_at":-600,"first_scan":-80000}
{"op":"order","wh":"blr1","id":"ES-1","name":"Hana","email":"eta_slip@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"ES1","wh":"blr1","id":"ES-1","shipped":-86400,"status":"in_transit","event_at":-600,"first_scan":-80000,"eta":"$D5"}
{"op":"order","wh":"blr1","id":"LT-1","name":"इरा","email":"late@c.example","locale":"hi-IN","tz":"Asia/Kolkata","ship_by":-200000,"deliver_by":"$LATE_PROMISE","shipped":-190000}
{"op":"parcel","courier":"dhl","tn":"LT1","wh":"blr1","id":"LT-1","shipped":-190000,"status":"in_transit","event_at":-600,"first_scan":-180000}
{"op":"order","wh":"blr1","id":"NOMAIL-1","tz":"UTC","ship_by":-7200,"deliver_by":"$D2"}
{"op":"order","wh":"blr1","id":"OK-1","name":"Ona","email":"ontime1@c.example","tz":"UTC","ship_by":7200,"deliver_by":"$D2"}
{"op":"order","wh":"blr1","id":"OK-2","name":"Pia","email":"ontime2@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400}
{"op":"parcel","courier":"dhl","tn":"OK2","wh":"blr1","id":"OK-2","shipped":-86400,"status":"in_transit","event_at":-600,"first_scan":-80000,"eta":"$D2"}
{"op":"order","wh":"blr1","id":"OK-3","name":"Raj","email":"ontime3@c.example","tz":"UTC","ship_by":-300000,"deliver_by":-100000,"shipped":-290000}
{"op":"parcel","courier":"dhl","tn":"OK3","wh":"blr1","id":"OK-3","shipped":-290000,"status":"delivered","event_at":-120000,"first_scan":-280000,"delivered":-120000}
{"op":"order","wh":"blr1","id":"OK-4","name":"Sam","email":"ontime4@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D2","shipped":-86400,"cancelled":-3600}
EOF
is "$?" 0 "scenario seeded"

start_alerts
check "9 emails arrive" wait_sink 9 30
check "the engine is idle (journal read, nothing due)" wait_for 30 alerts_idle
is "$(sink_count)" 9 "exactly 9 emails: one per slipped parcel or order"

KINDS="ship_late no_first_scan stalled attempt_fail exception returning available_for_pickup eta_slip late"
for k in $KINDS; do
	is "$(sink_json "sum(1 for m in L if m['rcpt'] == ['$k@c.example'])")" 1 "$k: one email to its customer"
	is "$(sql "SELECT count(*) FROM outbox WHERE slip_kind = '$k' AND state = 'sent'")" 1 "$k: outbox row sent"
done
is "$(sink_json "sum(1 for m in L if any('ontime' in r for r in m['rcpt']))")" 0 "no email to on-time, delivered or cancelled orders"
is "$(sql "SELECT count(*) FROM alerts WHERE entity = 'order:blr1:NOMAIL-1' AND kind = 'ship_late'")" 1 \
	"a slip without customer address is still recorded"
is "$(sql "SELECT stage FROM alerts WHERE kind = 'ship_late' AND entity = 'order:blr1:SL-1'")" warehouse "ship_late: stage warehouse"
is "$(sql "SELECT stage FROM alerts WHERE kind = 'stalled'")" courier "stalled: stage courier"

subj() { sink_json "[m['subject'] for m in L if m['rcpt'] == ['$1@c.example']][0]"; }
body() { sink_json "[p['body'] for m in L if m['rcpt'] == ['$1@c.example'] for p in m['parts'] if p['content_type'] == '$2'][0]"; }
is "$(subj ship_late)" "Your Test Shop order SL-1 has not shipped yet" "ship_late: its English template"
is "$(subj no_first_scan)" "Your order NF-1: no courier scan yet" "no_first_scan: its template"
is "$(subj stalled)" "Your parcel for order ST-1 has not moved for a while" "stalled: its template"
is "$(subj attempt_fail)" "Delivery of your order AF-1 was not possible" "attempt_fail: its template"
is "$(subj exception)" "A problem with the delivery of your order EX-1" "exception: its template"
is "$(subj returning)" "Your parcel for order RT-1 is being returned to us" "returning: its template"
is "$(subj available_for_pickup)" "Your parcel for order PU-1 is waiting to be collected" "available_for_pickup: its template"
is "$(subj eta_slip)" "Your order ES-1 will arrive later than promised" "eta_slip: its template"
contains "$(subj late)" "ऑर्डर LT-1" "late: Hindi template for hi-IN"
# the promise 20:00Z yesterday is 01:30 today in Kolkata: today's date, in Hindi
WANT_HI=$(python3 - "$LATE_PROMISE" <<'PY'
import sys, datetime
d = datetime.datetime.fromisoformat(sys.argv[1].replace('Z', '+00:00')) + datetime.timedelta(hours=5, minutes=30)
days = ['सोमवार', 'मंगलवार', 'बुधवार', 'गुरुवार', 'शुक्रवार', 'शनिवार', 'रविवार']
months = ['जनवरी', 'फ़रवरी', 'मार्च', 'अप्रैल', 'मई', 'जून', 'जुलाई', 'अगस्त', 'सितंबर', 'अक्टूबर', 'नवंबर', 'दिसंबर']
print(f"{days[d.weekday()]}, {d.day} {months[d.month - 1]} {d.year}")
PY
)
contains "$(body late text/plain)" "$WANT_HI" "late: promised date in the customer's zone and language ($WANT_HI)"
WANT_EN=$(LC_ALL=C date -u -d "$D5" '+%A, %B %-d, %Y')   # ICU's "en" full date
contains "$(body eta_slip text/plain)" "$WANT_EN" "eta_slip: the courier's new date ($WANT_EN)"
contains "$(body eta_slip text/html)" "https://shop.example/track/dhl/ES1" "eta_slip: tracking link in the HTML part"
is "$(sink_json "sorted(set(h for m in L for h in ('Date','Message-ID','List-Unsubscribe','MIME-Version') if h in m['headers']))")" \
	"['Date', 'List-Unsubscribe', 'MIME-Version', 'Message-ID']" "every email has Date, Message-ID, List-Unsubscribe"
is "$(sink_json "all(m['content_type'].startswith('multipart/alternative') for m in L)")" True "multipart/alternative"
is "$(sink_json "all('List-Unsubscribe-Post' in m['headers'] for m in L)")" True "one-click unsubscribe announced (unsubscribe_one_click = yes)"
is "$(sink_json "all(m['defects'] == 0 for m in L)")" True "no MIME defects"

# Restart: nothing new; the start-up pass re-detects every slip and queues nothing.
stop_alerts
is "$EXIT_STATUS" 0 "alerts exits cleanly on SIGTERM"
# notify.rrd's sums below count both processes: start the second one after
# the step the first one wrote on its way out.
check "the RRD step the engine wrote when it stopped has begun" wait_for 10 rrd_step_passed "$T_DIR/rrd/notify.rrd"
start_alerts alerts2
check "the restarted engine is idle" wait_for 30 alerts_idle
is "$(sink_count)" 9 "after a restart: no email twice"

# Events take slips away: the stalled parcel moves, the late-shipping order ships.
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"parcel","courier":"dhl","tn":"ST1","wh":"blr1","id":"ST-1","status":"in_transit","event_at":-30,"polled":-30}
{"op":"order","wh":"blr1","id":"SL-1","name":"Asha","email":"ship_late@c.example","tz":"UTC","ship_by":-7200,"deliver_by":"$D2","shipped":-20}
{"op":"parcel","courier":"dhl","tn":"SL1","wh":"blr1","id":"SL-1","shipped":-20}
EOF
resolved() { sql "SELECT resolved_at IS NOT NULL FROM alerts WHERE entity = '$1' AND kind = '$2'"; }
check "the parcel moved: its stalled slip is resolved" wait_for 10 at_least "resolved parcel:dhl:ST1 stalled" 1
check "the order shipped: its ship_late slip is resolved" wait_for 10 at_least "resolved order:blr1:SL-1 ship_late" 1
is "$(resolved parcel:dhl:AF1 attempt_fail)" 0 "a slip still true stays open"
check "resolving sends one good-news follow-up each" wait_sink 11 15
is "$(sink_json "[m['subject'] for m in L if m['rcpt'] == ['ship_late@c.example']][-1]")" \
	"Good news: your order SL-1 has shipped" "ship_late resolved: the good news that it shipped"
is "$(sink_json "len([m for m in L if m['rcpt'] == ['stalled@c.example']])")" 2 "stalled resolved: one follow-up"
is "$(sql "SELECT count(*) FROM outbox WHERE slip_kind LIKE 'resolved_%'")" 2 "no follow-up for slips still open"

# A deadline that passes with no event: ship-by 3 s from now.
SOON=$(($(date +%s) + 3))
"$SEED" "$T_DIR/store.db" "$SOON" <<EOF
{"op":"order","wh":"blr1","id":"SOON-1","name":"Tara","email":"soon@c.example","tz":"UTC","ship_by":0,"deliver_by":"$D2"}
EOF
check "a deadline passing with no event finds the slip" wait_sink 12 15
is "$(sink_json "[m['subject'] for m in L if m['rcpt'] == ['soon@c.example']]")" \
	"['Your Test Shop order SOON-1 has not shipped yet']" "ship_late email after the deadline"
check "detected at or after the deadline" test "$(sql "SELECT detected_at FROM alerts WHERE entity = 'order:blr1:SOON-1'")" -ge "$SOON"

# A new delivery promise for the late order (also passed) earns one new email.
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"order","wh":"blr1","id":"LT-1","name":"इरा","email":"late@c.example","locale":"hi-IN","tz":"Asia/Kolkata","ship_by":-200000,"deliver_by":-3600}
EOF
check "a new promise earns a new email" wait_sink 13 15
check "the engine is idle" wait_for 30 alerts_idle
is "$(sink_json "sum(1 for m in L if m['rcpt'] == ['late@c.example'])")" 2 "two late emails, one per promise"
is "$(sql "SELECT count(*) FROM alerts WHERE kind = 'late'")" 2 "two late slips recorded"

# An order late while still in the warehouse, then shipped as two parcels:
# one late email for the order, however its parcels go on.
C0=$(sink_count)
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"order","wh":"blr1","id":"MP-1","name":"Uma","email":"multi@c.example","tz":"UTC","ship_by":-90000,"deliver_by":-3600}
EOF
check "order late (and past ship-by) in the warehouse: one email for both slips" wait_sink $((C0 + 1)) 15
is "$(sql "SELECT group_concat(slip_kind || ':' || state) FROM outbox WHERE recipient = 'multi@c.example'")" \
	"ship_late:merged,late:sent" "led by late, ship_late merged into it" 
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"order","wh":"blr1","id":"MP-1","name":"Uma","email":"multi@c.example","tz":"UTC","ship_by":-90000,"deliver_by":-3600,"shipped":-1800}
{"op":"parcel","courier":"dhl","tn":"MP1A","wh":"blr1","id":"MP-1","shipped":-1800,"status":"in_transit","event_at":-60,"first_scan":-1000}
{"op":"parcel","courier":"dhl","tn":"MP1B","wh":"blr1","id":"MP-1","shipped":-1800,"status":"in_transit","event_at":-60,"first_scan":-1000}
EOF
check "the engine has read the parcels' events" wait_for 30 alerts_idle
is "$(sql "SELECT count(*) FROM alerts WHERE entity LIKE 'parcel:dhl:MP1%'")" 0 "its parcels are not late a second time"
is "$(sql "SELECT resolved_at IS NULL FROM alerts WHERE entity = 'order:blr1:MP-1' AND kind = 'late'")" 1 \
	"the order's late slip stays open while its parcels are late"
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"parcel","courier":"dhl","tn":"MP1A","status":"delivered","event_at":-30,"delivered":-30}
EOF
check "one parcel delivered: the order's late slip resolved" wait_for 10 \
	at_least "sql \"SELECT resolved_at IS NOT NULL FROM alerts WHERE entity = 'order:blr1:MP-1' AND kind = 'late'\"" 1
"$SEED" "$T_DIR/store.db" "$NOW" <<EOF
{"op":"parcel","courier":"dhl","tn":"MP1B","status":"in_transit","event_at":-20}
EOF
check "the other parcel, still late, reopens it" wait_for 10 \
	at_least "sql \"SELECT resolved_at IS NULL FROM alerts WHERE entity = 'order:blr1:MP-1' AND kind = 'late'\"" 1
check "the engine is idle" wait_for 30 alerts_idle
is "$(sql "SELECT group_concat(slip_kind || ':' || state) FROM outbox WHERE recipient = 'multi@c.example'")" \
	"ship_late:merged,late:sent,resolved_ship_late:sent,resolved_late:obsolete" \
	"one late email for the order in all, the good news that it shipped, none that it arrived (a parcel is still late)"
is "$(sink_count)" $((C0 + 2)) "nothing else sent"
stop_alerts
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" sent)" 15 "notify.rrd: 15 emails sent"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" slips)" 14 "notify.rrd: 14 slips (each once, restarts included)"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" queued)" 17 "notify.rrd: 17 notices queued (4 follow-ups)"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" merged)" 1 "notify.rrd: 1 merged"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" obsolete)" 1 "notify.rrd: 1 obsolete"
done_testing
