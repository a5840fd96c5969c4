#!/usr/bin/env bash
# 440-alerts-care: customer care rules against a real SMTP server:
# unsubscribed address (nothing sent), quiet hours in the customer's zone
# (deferred to the right local time; urgent kinds still sent), the daily
# cap, a name with CR/LF and HTML (no header injection, escaped HTML),
# and dry-run (rendered into a directory, nothing sent).
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
NOW=$(date +%s)
# Quiet hours around the current UTC time: quiet now in UTC, not in Kolkata.
QS=$(date -u -d "@$((NOW - 3600))" +%H:%M)
QE=$(date -u -d "@$((NOW + 3600))" +%H:%M)
start_sink
QUIET="$QS-$QE" ALERTS_KEYS="daily_cap = 2" write_alerts_conf

order() { # order ID EMAIL TZ [NAME [DELIVER_BY]]: late unless DELIVER_BY is ahead
	printf '{"op":"order","wh":"w1","id":"%s","email":"%s","tz":"%s","name":%s,"deliver_by":%s,"shipped":-90000}\n' \
		"$1" "$2" "$3" "${4:-null}" "${5:--3600}"
}
parcel() { # parcel TN ORDER STATUS
	printf '{"op":"parcel","courier":"dhl","tn":"%s","wh":"w1","id":"%s","shipped":-90000,"status":"%s","event_at":-60,"first_scan":-80000}\n' "$1" "$2" "$3"
}
{
	echo '{"op":"unsub","email":"Gone@C.example"}'
	order U1 gone@c.example Asia/Kolkata; parcel U1 U1 in_transit
	order Q1 quiet@c.example UTC; parcel Q1 Q1 in_transit
	order Q2 urgent@c.example UTC; parcel Q2 Q2 attempt_fail
	order K1 kolkata@c.example Asia/Kolkata; parcel K1 K1 in_transit
	# three slips for one customer in three orders (one order's slips would
	# go as one message), promise ahead: exception, returning, attempt_fail
	order C1 cap@c.example Asia/Kolkata null 86400; parcel C1a C1 exception
	order C3 cap@c.example Asia/Kolkata null 86400; parcel C1b C3 returning
	order C2 cap@c.example Asia/Kolkata null 86400; parcel C2 C2 attempt_fail
	order X1 inject@c.example Asia/Kolkata '"Eve\r\nBcc: evil@x.example\r\n<b>bold</b> & co"'
	parcel X1 X1 in_transit
	# an address the collector accepts (UTF-8) but the mailer cannot send to
	order I1 "ज़ोया@c.example" Asia/Kolkata; parcel I1 I1 in_transit
} | "$SEED" "$T_DIR/store.db" "$NOW"
is "$?" 0 "seeded"

start_alerts
check "emails arrive" wait_sink 5 30
check "the engine is idle (journal read, nothing due)" wait_for 30 alerts_idle
rcpt_count() { sink_json "sum(1 for m in L if m['rcpt'] == ['$1'])"; }
is "$(rcpt_count gone@c.example)" 0 "unsubscribed (other case): nothing sent"
is "$(sql "SELECT state || ' ' || last_error FROM outbox WHERE recipient = 'gone@c.example'")" "suppressed unsubscribed" \
	"unsubscribed: the row is kept, suppressed, with the reason"
is "$(rcpt_count quiet@c.example)" 0 "quiet hours in the customer's zone: not sent"
QUIET_END=$(python3 - "$NOW" <<'PY'
import sys
now = int(sys.argv[1]); end = now + 3600
print(end - end % 60)
PY
)
is "$(sql "SELECT state || ' ' || next_attempt_at FROM outbox WHERE recipient = 'quiet@c.example'")" "queued $QUIET_END" \
	"quiet hours: deferred to their end, $QE UTC (the customer's local time)"
is "$(rcpt_count urgent@c.example)" 1 "quiet hours: an urgent attempt_fail is sent"
is "$(rcpt_count kolkata@c.example)" 1 "not quiet in Kolkata: sent"
is "$(rcpt_count cap@c.example)" 2 "daily cap 2: two emails"
is "$(sql "SELECT count(*) FROM outbox WHERE recipient = 'cap@c.example' AND state = 'suppressed' AND last_error LIKE 'daily cap%'")" 1 \
	"daily cap: the third suppressed with the reason"

# The injected name: one recipient, no Bcc header, escaped HTML.
is "$(sink_json "[m['rcpt'] for m in L if 'inject@c.example' in m['rcpt']]")" "[['inject@c.example']]" \
	"CR/LF in the name: the only recipient is the customer"
is "$(sink_json "[h for m in L if 'inject@c.example' in m['rcpt'] for h in m['headers'] if h.lower() in ('bcc', 'cc')]")" "[]" \
	"CR/LF in the name: no Bcc or Cc header"
HTML=$(sink_json "[p['body'] for m in L if 'inject@c.example' in m['rcpt'] for p in m['parts'] if p['content_type'] == 'text/html'][0]")
contains "$HTML" "&lt;b&gt;bold&lt;/b&gt; &amp; co" "HTML in the name is escaped in the HTML part"
case "$HTML" in *"<b>bold"*) not_ok "no raw <b> in the HTML part" ;; *) ok "no raw <b> in the HTML part" ;; esac
is "$(sink_json "all(m['defects'] == 0 for m in L)")" True "no MIME defects"
is "$(sql "SELECT state FROM outbox WHERE entity = 'parcel:dhl:I1'")" failed "an address the mailer cannot use: failed"
contains "$(sql "SELECT last_error FROM outbox WHERE entity = 'parcel:dhl:I1'")" "not a plain local@domain address" \
	"... with the reason, and nothing else held up"
stop_alerts
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" sup_unsub)" 1 "notify.rrd: one suppressed as unsubscribed"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" sup_cap)" 1 "notify.rrd: one suppressed by the daily cap"
is "$(rrd_sum "$T_DIR/rrd/notify.rrd" suppressed)" 2 "notify.rrd: two suppressed in all"

# Dry run: rendered into a directory, nothing sent.
rm -f "$T_DIR/store.db" "$T_DIR/store.db-wal" "$T_DIR/store.db-shm"
BEFORE=$(sink_count)
mkdir -p "$T_DIR/dry"
SMTP_KEYS="dry_run_dir = $T_DIR/dry" write_alerts_conf
{ order D1 dry@c.example UTC '"Dora"' 86400; parcel D1 D1 exception; } | "$SEED" "$T_DIR/store.db" "$NOW"
start_alerts alerts-dry
check "dry run: a message file is written" wait_for 15 sh -c "ls '$T_DIR/dry'/*.eml >/dev/null 2>&1"
F=$(ls "$T_DIR"/dry/*.eml | head -n 1)
contains "$(cat "$F")" "To: Dora <dry@c.example>" "dry run: the complete message with headers"
contains "$(cat "$F")" "multipart/alternative" "dry run: both parts"
is "$(sql "SELECT state FROM outbox WHERE recipient = 'dry@c.example'")" sent "dry run: the row is marked as handled"
check "the dry-run engine is idle" wait_for 30 alerts_idle
is "$(sink_count)" "$BEFORE" "dry run: nothing reached the SMTP server"

# Reload: a broken file keeps the running settings; a good one is taken,
# templates and mailer included, and the engine goes on.
cp "$T_DIR/alerts.conf" "$T_DIR/good.conf"
sed -i 's/^quiet_hours =.*/quiet_hours = after dinner/' "$T_DIR/alerts.conf"
kill -HUP "$ALERTS_PID"
check "reload of a broken file: refused, with the reason" \
	wait_for 10 grep -q "reload failed, keeping the running configuration: .*quiet_hours" "$T_DIR/alerts-dry.log"
cp "$T_DIR/good.conf" "$T_DIR/alerts.conf"
kill -HUP "$ALERTS_PID"
check "reload of a good file" wait_for 10 grep -q "configuration reloaded" "$T_DIR/alerts-dry.log"
{ order D2 dry2@c.example UTC '"Dev"' 86400; parcel D2 D2 returning; } | "$SEED" "$T_DIR/store.db" "$NOW"
check "after reloads: the next email is rendered" \
	wait_for 15 sh -c "[ \$(ls '$T_DIR/dry'/*.eml | wc -l) -ge 2 ]"
check "alerts still running" kill -0 "$ALERTS_PID"
stop_alerts

# Emails on but no sender address: -t says so, naming the key.
sed '/^from = /d' "$T_DIR/alerts.conf" >"$T_DIR/nofrom.conf"
out=$("$ALERTS" -t -c "$T_DIR/nofrom.conf" 2>&1); st=$?
is "$st" 1 "email = yes without [smtp] from: the check fails"
contains "$out" "[smtp] from: required" "... naming the key"
done_testing
