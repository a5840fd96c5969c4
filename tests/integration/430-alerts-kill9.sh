#!/usr/bin/env bash
# 430-alerts-kill9: kill -9 the alert engine during a burst of 1,000
# emails, restart it: every customer gets their email; a duplicate is only
# possible for the one message the server accepted before the crash
# (counted: 0 or 1).  The send rate (400/s) keeps the burst a few seconds
# long, so the kill lands in it on a fast machine too.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
NOW=$(date +%s)
N=1000
start_sink
SEND_RATE=400 ALERTS_KEYS="lease = 2s
batch = 100" write_alerts_conf
python3 - "$N" <<'PY' | "$SEED" "$T_DIR/store.db" "$NOW"
import sys
for i in range(int(sys.argv[1])):
    print('{"op":"order","wh":"w1","id":"O%d","name":"C %d","email":"c%d@c.example","tz":"UTC","deliver_by":86400,"shipped":-7200}' % (i, i, i))
    print('{"op":"parcel","courier":"dhl","tn":"P%d","wh":"w1","id":"O%d","shipped":-7200,"status":"attempt_fail","event_at":-60}' % (i, i))
PY
is "$?" 0 "seeded $N slips"

start_alerts
check "burst under way" wait_sink 150 60
kill -KILL "$ALERTS_PID"; wait_exit "$ALERTS_PID" 10
BEFORE=$(sink_count)
ORPHANS=$(sql "SELECT count(*) FROM outbox WHERE state = 'sending'")
ok "killed with -9 after $BEFORE emails ($ORPHANS rows left claimed until their lease ends)"
[ "$BEFORE" -lt $N ] && ok "the burst was interrupted" || not_ok "the burst was interrupted" "all $N sent before the kill"
# SIGTERM in the middle of a send round: the sink holds the round's first
# message without answering (mode "hold"), the engine gets SIGTERM with it
# in hand, then the sink lets it through.  The engine stops after that
# message and puts the rest of the round back: at most that one message is
# accepted after the signal (0 if the engine gave up on it), however long
# anything took.
echo hold >"$SINK_DIR/mode.tmp" && mv "$SINK_DIR/mode.tmp" "$SINK_DIR/mode"
rm -f "$SINK_DIR/held"
start_alerts alerts2
check "a message of the next round is in hand" wait_for 30 test -s "$SINK_DIR/held"
C1=$(sink_count) # nothing else can be accepted while the engine waits on that one
kill -TERM "$ALERTS_PID"
rm -f "$SINK_DIR/mode"
wait_exit "$ALERTS_PID" 20
is "$EXIT_STATUS" 0 "SIGTERM mid-round: exit 0"
C2=$(sink_count)
check "SIGTERM mid-round: stopped after the message in hand ($((C2 - C1)) accepted after the signal)" \
	test $((C2 - C1)) -le 1
check "SIGTERM mid-round: no row left claimed but the kill -9's orphans" \
	test "$(sql "SELECT count(*) FROM outbox WHERE state = 'sending'")" -le "$ORPHANS"
start_alerts alerts3
check "every customer gets their email" wait_for 90 at_least "sink_json \"len(set(r for m in L for r in m['rcpt']))\"" $N
# Idle: no row claimed (a lease of the kill -9 that ran out was claimed and
# sent again by now) and none due, so every copy that will ever go has gone.
check "the engine is idle: nothing due, nothing claimed" wait_for 30 alerts_idle
DUPS=$(sink_json "len(L) - len(set(m['message_id'] for m in L))")
echo "# duplicates after kill -9: $DUPS"
check "duplicates: 0 or 1 (got $DUPS)" test "$DUPS" -le 1
is "$(sink_json "len(set(m['message_id'] for m in L))")" $N "$N distinct messages"
is "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" $N "outbox: all sent"
stop_alerts
is "$EXIT_STATUS" 0 "restarted engine exits cleanly"
done_testing
