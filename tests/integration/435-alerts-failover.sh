#!/usr/bin/env bash
# 435-alerts-failover: two slipwatch-alerts on one store and one SMTP sink,
# on SQLite (WAL, one machine) or, with SW_TEST_STORE=pg, on a private
# PostgreSQL server (436-alerts-failover-pg; the outbox claimed with FOR
# UPDATE SKIP LOCKED).  The first holds the lease and sends, the second
# stands by and does nothing; a burst of customer emails starts, the
# active engine is killed with -9 while the sink has some but not all,
# the standby takes over once the lease runs out.  Every customer gets
# their email; a customer gets two only if their row was left claimed
# ('sending') by the killed engine, counted from the store before the
# takeover (the store still names the dead engine as holder then); the
# count is printed.  Then a clean stop of the active engine hands over to
# a new standby at once (the lease is released).
# Time: both engines run on one simulated clock at 10x (a shared anchor),
# so the outbox lease (20 s simulated) runs out without long real waits;
# the engine lease is real time: 10 s (100 s simulated), long beside any
# stall of a loaded machine, so that the active engine keeps it until it
# is killed.  Nothing asserted depends on how long anything took.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
# 436-alerts-failover-pg runs this on a PostgreSQL store
[ "${SW_TEST_STORE:-}" = pg ] && use_pg_store
N=300
export SLIPWATCH_CLOCK="now*10@$(date +%s.%3N)"
# the sink is never killed here: its fsyncs would only slow the burst
SINK_ARGS=--no-fsync start_sink
# send_rate is per simulated second: 20 -> 200 emails a real second
ALERTS_INSTANCE= SEND_RATE=20 ALERTS_KEYS="engine_lease = 10s
lease = 20s
batch = 100" write_alerts_conf "[simulation]
enabled = yes"

# --- bad values are refused with the key and the value ---------------------------
sed 's/^engine_lease = 10s$/engine_lease = 1s/' "$T_DIR/alerts.conf" >"$T_DIR/bad.conf"
out=$("$ALERTS" -t -c "$T_DIR/bad.conf" 2>&1)
contains "$out" "[alerts] engine_lease: '1s' is out of range (3s..10m)" "engine_lease = 1s refused, naming key and value"
sed 's/^instance = $/instance = two words/' "$T_DIR/alerts.conf" >"$T_DIR/bad.conf"
out=$("$ALERTS" -t -c "$T_DIR/bad.conf" 2>&1)
contains "$out" "[alerts] instance: 'two words' is not a name" "instance with a blank refused, naming key and value"

# --- one active, one standby -------------------------------------------------------
start_alerts active
A_PID=$ALERTS_PID
A_LOG=$T_DIR/active.log
contains "$(cat "$A_LOG")" "active: took lease 'alerts' as " "the first engine takes the lease"
sw_spawn "$T_DIR/standby.log" "$ALERTS" -f -c "$T_DIR/alerts.conf"
B_PID=$SPAWNED
B_LOG=$T_DIR/standby.log
check "the second engine stands by" wait_for 30 grep -q "standby: lease 'alerts' held by .*:$A_PID " "$B_LOG"
is "$(grep -c 'start-up pass' "$B_LOG")" 0 "the standby ran no start-up pass"
is "$(sql "SELECT holder FROM leases WHERE name = 'alerts'")" "$(hostname | cut -c1-100):$A_PID" \
	"the store names the active engine (default instance HOST:PID)"

# --- the burst: seeded after both started, read from the journal -------------------
NOW=$(date +%s)
python3 - "$N" <<'PY' | "$SEED" "${STORE_URL:-$T_DIR/store.db}" "$NOW"
import sys
for i in range(int(sys.argv[1])):
    print('{"op":"order","wh":"w1","id":"O%d","name":"C %d","email":"c%d@c.example","tz":"UTC","deliver_by":86400,"shipped":-7200}' % (i, i, i))
    print('{"op":"parcel","courier":"dhl","tn":"P%d","wh":"w1","id":"O%d","shipped":-7200,"status":"attempt_fail","event_at":-60}' % (i, i))
PY
is "$?" 0 "seeded $N slips"
check "burst under way" wait_sink 100 60
# The standby is paused (SIGSTOP) across the kill and the reads below, so
# that it cannot take over before they are done, however loaded the
# machine: the rows in 'sending' then are the ones the dead engine left
# claimed, and the store still names it as holder.
kill -STOP "$B_PID"
kill -KILL "$A_PID"; wait_exit "$A_PID" 10
BEFORE=$(sink_count)
# sorted here, not by the store: comm needs the shell's order, and a
# PostgreSQL database may collate otherwise
sql "SELECT recipient FROM outbox WHERE state = 'sending'" | sort >"$T_DIR/orphans"
HOLDER=$(sql "SELECT holder FROM leases WHERE name = 'alerts'")
ORPHANS=$(wc -l <"$T_DIR/orphans")
is "$HOLDER" "$(hostname | cut -c1-100):$A_PID" "read before the takeover: the lease still names the killed engine"
ok "killed with -9 after $BEFORE of $N emails; $ORPHANS rows left claimed ('sending')"
# A round claims at most batch (100) rows and works through them before
# the next claim, so no more than that are ever claimed at once (on
# PostgreSQL a claim once took every due row, whatever its limit).
check "  at most one claim's rows (batch = 100)" test "$ORPHANS" -le 100
[ "$BEFORE" -lt $N ] && ok "the burst was interrupted" || not_ok "the burst was interrupted" "all $N sent before the kill"
kill -CONT "$B_PID"
is "$(grep -c 'start-up pass' "$B_LOG")" 0 "the standby sent nothing and evaluated nothing while the other was active"

# --- the takeover --------------------------------------------------------------------
check "the standby takes over once the lease runs out" wait_for 60 grep -q "active: took lease 'alerts'" "$B_LOG"
check "  and runs its start-up pass" wait_for 30 grep -q 'start-up pass' "$B_LOG"
is "$(sql "SELECT holder FROM leases WHERE name = 'alerts'")" "$(hostname | cut -c1-100):$B_PID" "  the store names it"
check "every customer gets their email" wait_for 90 at_least "sink_json \"len(set(r for m in L for r in m['rcpt']))\"" $N
# outbox_done: every row sent, none queued, deferred or claimed
outbox_done() {
	[ "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" = $N ] &&
		[ "$(sql "SELECT count(*) FROM outbox WHERE state <> 'sent'")" = 0 ]
}
check "the outbox is done: all $N sent, none claimed" wait_for 60 outbox_done
# The sink's own records, read once: messages, distinct Message-IDs, and
# the recipients who got more than one ($T_DIR/dups, sorted).
read -r TOTAL DISTINCT < <(python3 - "$SINK_DIR/log.jsonl" "$T_DIR/dups" <<'PY'
import collections, json, sys
L = [json.loads(l) for l in open(sys.argv[1])]
c = collections.Counter(r for m in L for r in m["rcpt"])
open(sys.argv[2], "w").write("".join(r + "\n" for r in sorted(k for k, v in c.items() if v > 1)))
print(len(L), len(set(m["message_id"] for m in L)))
PY
)
is "$(grep -c 'start-up pass' "$B_LOG")" 1 "the new active engine ran its start-up pass once"
is "$DISTINCT" $N "$N distinct messages (Message-IDs)"
DUPS=$(wc -l <"$T_DIR/dups")
echo "# failover after kill -9: $BEFORE sent before the kill, $ORPHANS rows left 'sending', $DUPS customers got two"
is "$(comm -23 "$T_DIR/dups" "$T_DIR/orphans" | wc -l)" 0 \
	"duplicates only for rows left 'sending' by the killed engine ($DUPS of $ORPHANS)"
check "at most one duplicate: the engine sends one message at a time (got $DUPS)" test "$DUPS" -le 1
is "$TOTAL" $((N + DUPS)) "the sink holds $N messages plus the duplicates, nothing else"

# --- a clean stop hands over at once ---------------------------------------------------
sw_spawn "$T_DIR/standby2.log" "$ALERTS" -f -c "$T_DIR/alerts.conf"
C_PID=$SPAWNED
check "a new engine stands by" wait_for 30 grep -q "standby: lease 'alerts' held by .*:$B_PID " "$T_DIR/standby2.log"
kill -TERM "$B_PID"; wait_exit "$B_PID" 20
is "$EXIT_STATUS" 0 "the active engine stops cleanly"
contains "$(cat "$B_LOG")" "lease 'alerts' released" "  and releases the lease"
check "the new engine takes over" wait_for 30 grep -q "active: took lease 'alerts'" "$T_DIR/standby2.log"
ALERTS_PID=$C_PID
stop_alerts
is "$EXIT_STATUS" 0 "it stops cleanly too"
is "$(sink_count)" $((N + DUPS)) "nothing sent twice by the handover"
done_testing
