#!/usr/bin/env bash
# 475-clock-speed: one clock, any speed.  The same alert scenario, seeded
# into the same store, is run by the real slipwatch-alerts against a real
# SMTP server twice: on a simulated clock at 1x and at 100x, both starting
# at the same simulated instant.  Deadlines pass on the simulated clock
# (timers and deadlines run on it), and the decisions are the same: the
# same slips recorded, the same outbox rows, the same emails to the same
# customers (time stamps differ, and are not compared).  Also: a
# simulated clock is refused by a configuration without [simulation]
# enabled = yes, and a bad SLIPWATCH_CLOCK is a start-up error.
#
# Timing: each run's clock is anchored a few real seconds ahead (its
# START stands for real time ANCHOR), so the engine usually starts before
# the scenario's deadlines; whether it does changes no decision (a
# deadline already passed is found by the start-up pass), and nothing
# here asserts how long anything took: the script waits for states.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }

CLI="$SW_BUILDDIR/tools/slipwatch"
START=1772418600                 # 2026-03-02T02:30:00Z, the simulated start
START_TEXT=2026-03-02T02:30:00Z
D7=2026-03-09                    # a delivery promise a week out
LEAD_MS=4000                     # real ms from the anchor's computation to START
LAST=9                           # the last deadline, s after START
unset SLIPWATCH_CLOCK

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# sim_now: the run's simulated time in Unix seconds (the clock's formula).
sim_now() { echo $((START + ($(now_ms) - ANCHOR_MS) * SPEED / 1000)); }
sim_reached() { [ "$(sim_now)" -ge "$1" ]; }
# idle_sim: as lib.sh's alerts_idle, "due" judged on the simulated clock.
idle_sim() {
	[ "$(sql "SELECT coalesce((SELECT seq FROM cursors WHERE name = 'alerts'), 0) >=
		coalesce((SELECT max(seq) FROM journal), 0) AND NOT EXISTS (SELECT 1 FROM outbox
		WHERE state = 'sending' OR (state IN ('queued', 'deferred') AND
		next_attempt_at <= $(sim_now)))" 2>/dev/null)" = 1 ]
}

# The scenario, times relative to START: slips that passed before the
# start (found by the start-up pass), deadlines 3..9 s after it (found by
# the deadline timer), and orders on time for a week.  One deadline per
# order after START, so that no decision depends on how long the engine
# takes (at 100x, 10 real ms are a simulated second).
scenario() {
	cat <<EOF
{"op":"order","wh":"blr1","id":"PAST-1","name":"Asha","email":"past@c.example","tz":"UTC","ship_by":-7200,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"T3","name":"Ben","email":"t3@c.example","tz":"UTC","ship_by":3,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"T4-NOMAIL","tz":"UTC","ship_by":4,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"T5-UNSUB","name":"Cy","email":"gone@c.example","tz":"UTC","ship_by":5,"deliver_by":"$D7"}
{"op":"unsub","email":"gone@c.example"}
{"op":"order","wh":"blr1","id":"T6","name":"Dev","email":"t6@c.example","tz":"UTC","ship_by":6,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"T7-HI","name":"इरा","email":"t7@c.example","locale":"hi-IN","tz":"Asia/Kolkata","ship_by":7,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"LATE-8","name":"Eli","email":"late8@c.example","tz":"UTC","ship_by":-90000,"deliver_by":8}
{"op":"order","wh":"blr1","id":"T9","name":"Fay","email":"t9@c.example","tz":"UTC","ship_by":9,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"OK-1","name":"Gus","email":"ok1@c.example","tz":"UTC","ship_by":604800,"deliver_by":"$D7"}
{"op":"order","wh":"blr1","id":"OK-2","name":"Hana","email":"ok2@c.example","tz":"UTC","ship_by":-90000,"deliver_by":"$D7","shipped":-86400,"cancelled":-3600}
EOF
}
# Emails: PAST-1, T3, T6, T7-HI, T9, and LATE-8 twice (ship_late at the
# start, late at +8); none for T4-NOMAIL (no address), T5-UNSUB, OK-1 (a
# week to ship) and OK-2 (cancelled).  No parcels: their slips wait for
# the courier's word, which only a collector polling would bring.
WANT_MAILS=7

# run SPEED: the scenario on a fresh store at SPEED; the decisions go to
# $T_DIR/decisions.SPEED.
run() {
	SPEED=$1
	rm -rf "$T_DIR/store.db"* "$T_DIR/rrd"
	"$SEED" "$T_DIR/store.db" "$START" < <(scenario)
	is "$?" 0 "${SPEED}x: scenario seeded"
	[ -n "${SINK_PID:-}" ] && stop_sink
	start_sink "$T_DIR/sink.$SPEED"
	write_alerts_conf "[simulation]
enabled = yes"
	ANCHOR_MS=$(($(now_ms) + LEAD_MS))
	export SLIPWATCH_CLOCK="$START_TEXT*$SPEED@$((ANCHOR_MS / 1000)).$(printf %03d $((ANCHOR_MS % 1000)))"
	start_alerts "alerts.$SPEED"
	unset SLIPWATCH_CLOCK
	contains "$(grep -o 'clock: .*' "$T_DIR/alerts.$SPEED.log")" "clock: simulated, 2026-03-0" \
		"${SPEED}x: the start logs the simulated clock"
	contains "$(grep -o 'clock: .*' "$T_DIR/alerts.$SPEED.log")" " at ${SPEED}x" "${SPEED}x: ...and its speed"
	# bounds for failures only (multiplied by SW_TEST_WAIT_SCALE)
	check "${SPEED}x: the simulated clock passes the last deadline" wait_for 40 sim_reached $((START + LAST + 3))
	check "${SPEED}x: $WANT_MAILS emails arrive" wait_sink $WANT_MAILS 30
	check "${SPEED}x: the engine is idle" wait_for 30 idle_sim
	stop_alerts
	is "$EXIT_STATUS" 0 "${SPEED}x: the engine stops cleanly"
	{
		echo "# alerts"
		sql "SELECT entity, kind, promise, coalesce(stage, ''), resolved_at IS NULL FROM alerts
			ORDER BY entity, kind, promise"
		echo "# outbox"
		sql "SELECT entity, slip_kind, promise, channel, recipient, state, coalesce(template_name, '')
			FROM outbox ORDER BY entity, slip_kind, promise"
		echo "# mails"
		sink_json "'\n'.join(sorted(' '.join(m['rcpt']) + ' | ' + m['subject'] for m in L))"
	} >"$T_DIR/decisions.$SPEED"
	# Every slip after START was detected on the simulated clock, at or
	# after its deadline (in March 2026, not today).
	is "$(sql "SELECT count(*) FROM alerts WHERE entity = 'order:blr1:T3'
		AND detected_at >= $((START + 3)) AND detected_at < $((START + 86400))")" 1 \
		"${SPEED}x: T3's slip detected on the simulated clock, not before its deadline"
	is "$(sql "SELECT count(*) FROM alerts WHERE kind = 'late' AND entity = 'order:blr1:LATE-8'
		AND detected_at >= $((START + 8)) AND detected_at < $((START + 86400))")" 1 \
		"${SPEED}x: LATE-8's late slip detected at or after +8 s simulated"
}

run 1
run 100

# What the scenario must decide (so that two equally wrong runs fail too).
d1=$(cat "$T_DIR/decisions.1")
d100=$(cat "$T_DIR/decisions.100")
for want in "order:blr1:PAST-1|ship_late" "order:blr1:T3|ship_late" "order:blr1:T4-NOMAIL|ship_late" \
	"order:blr1:T5-UNSUB|ship_late" "order:blr1:T6|ship_late" "order:blr1:T7-HI|ship_late" \
	"order:blr1:LATE-8|late" "order:blr1:LATE-8|ship_late" "order:blr1:T9|ship_late"; do
	contains "$d1" "$want|" "1x: slip $want recorded"
done
is "$(sed -n '/^# alerts/,/^# outbox/p' "$T_DIR/decisions.1" | grep -c '^order')" 9 "1x: nine slips, none for the orders on time"
is "$(sed -n '/^# mails/,$p' "$T_DIR/decisions.1" | grep -c '@')" "$WANT_MAILS" "1x: $WANT_MAILS emails"
contains "$d1" "late8@c.example | " "1x: LATE-8's customer is told"
is "$(grep -c '^late8@c.example' "$T_DIR/decisions.1")" 2 "1x: LATE-8 twice: ship_late, then late"
is "$(sed -n '/^# mails/,$p' "$T_DIR/decisions.1" | grep -c 'gone@\|ok1@\|ok2@')" 0 \
	"1x: no email to the unsubscribed address or to the orders on time"
contains "$(grep '^t7@' "$T_DIR/decisions.1")" "ऑर्डर T7-HI" "1x: the hi-IN customer gets the Hindi template"

# The point: the same decisions at 1x and 100x.
if [ "$d1" = "$d100" ]; then
	ok "1x and 100x: the same slips, outbox rows and emails"
else
	not_ok "1x and 100x: the same slips, outbox rows and emails" \
		"$(diff "$T_DIR/decisions.1" "$T_DIR/decisions.100")"
fi
stop_sink

# --- refusals ---------------------------------------------------------------------
write_alerts_conf # no [simulation]
conf=$(realpath "$T_DIR/alerts.conf")
refusal="SLIPWATCH_CLOCK is set but $conf has no [simulation] enabled = yes: a simulated clock is refused in a production configuration"
out=$(SLIPWATCH_CLOCK="$START_TEXT*100" "$ALERTS" -f -c "$conf" 2>&1); st=$?
is "$st" 1 "without [simulation] enabled = yes: the daemon refuses to start on a simulated clock"
is "$out" "slipwatch-alerts: $refusal" "...and says why"
out=$(SLIPWATCH_CLOCK="$START_TEXT*100" "$COLLECTOR" -t -c "$conf" 2>&1); st=$?
is "$st" 1 "slipwatch-collector -t refuses it too"
is "$out" "slipwatch-collector: $refusal" "...with the same message"
out=$("$ALERTS" -t --clock "$START_TEXT*100" -c "$conf" 2>&1); st=$?
is "$st" 1 "--clock is refused the same way"
is "$out" "slipwatch-alerts: --clock is given but $conf has no [simulation] enabled = yes: a simulated clock is refused in a production configuration" \
	"...naming the option"
out=$(SLIPWATCH_CLOCK="$START_TEXT*100" "$CLI" -c "$conf" late 2>&1); st=$?
is "$st" 1 "the slipwatch command refuses it too"
is "$out" "slipwatch: $refusal" "...with the same message"
out=$("$ALERTS" -t -c "$conf" 2>&1); st=$?
is "$st:$out" "0:$conf: configuration OK" "without SLIPWATCH_CLOCK the same file is fine"

write_alerts_conf "[simulation]
enabled = yes"
out=$(SLIPWATCH_CLOCK="$START_TEXT*100" "$ALERTS" -t -c "$conf" 2>&1); st=$?
is "$st" 0 "with [simulation] enabled = yes: -t accepts a simulated clock"
contains "$out" "clock: simulated, 2026-03-02T02:3" "...says which clock it would run on, from its start"
contains "$out" " at 100x
$conf: configuration OK" "...at its speed"
out=$(SLIPWATCH_CLOCK="$START_TEXT*0" "$ALERTS" -t -c "$conf" 2>&1); st=$?
is "$st:$out" "1:slipwatch-alerts: SLIPWATCH_CLOCK: speed 0 is a stepped clock, for tests and the slipwatch command; a daemon needs a clock that runs" \
	"a stepped clock (speed 0) is refused by a daemon: nothing would step it"
out=$(SLIPWATCH_CLOCK="2026-03-02T02:30:00*100" "$ALERTS" -f -c "$conf" 2>&1); st=$?
is "$st" 1 "a bad SLIPWATCH_CLOCK: exit 1"
is "$out" "slipwatch-alerts: SLIPWATCH_CLOCK: start '2026-03-02T02:30:00' is not an RFC 3339 instant with an offset" \
	"...saying what is wrong"
out=$("$ALERTS" -t --clock "now*fast" -c "$conf" 2>&1); st=$?
is "$st:$out" "1:slipwatch-alerts: --clock: speed 'fast' is not a number >= 0" "a bad --clock: exit 1, saying what is wrong"
out=$(SLIPWATCH_CLOCK="$START_TEXT*0" "$CLI" -c "$conf" late 2>&1); st=$?
is "$st" 0 "the slipwatch command runs on a simulated clock the configuration allows"

# A reload that would take [simulation] away from a daemon running on a
# simulated clock is refused; the daemon keeps running on its clock.
SLIPWATCH_CLOCK="$START_TEXT*1" start_alerts alerts.reload
write_alerts_conf
kill -HUP "$ALERTS_PID"
check "reload without [simulation] enabled = yes: refused" wait_for 20 grep -q \
	"reload refused, keeping the running configuration: the clock is simulated and $conf no longer has \[simulation\] enabled = yes" \
	"$T_DIR/alerts.reload.log"
stop_alerts
is "$EXIT_STATUS" 0 "and the daemon still stops cleanly"
done_testing
