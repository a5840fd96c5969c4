#!/usr/bin/env bash
# 420-alerts-smtp-outage: the SMTP server is down, then answers 451, then
# is up: every email is delivered after, none twice; a 550 recipient fails
# for good with the server's reason kept.
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
NOW=$(date +%s)
N=20
SINK_PORT=$(free_port)
SINK_DIR=$T_DIR/sink
write_alerts_conf
{
	echo '{"op":"order","wh":"w1","id":"PERM","email":"perm@c.example","tz":"UTC","deliver_by":86400,"shipped":-7200}'
	echo '{"op":"parcel","courier":"dhl","tn":"PERM","wh":"w1","id":"PERM","shipped":-7200,"status":"exception","event_at":-60}'
	for i in $(seq 1 $N); do
		echo "{\"op\":\"order\",\"wh\":\"w1\",\"id\":\"O$i\",\"email\":\"c$i@c.example\",\"tz\":\"UTC\",\"deliver_by\":86400,\"shipped\":-7200}"
		echo "{\"op\":\"parcel\",\"courier\":\"dhl\",\"tn\":\"P$i\",\"wh\":\"w1\",\"id\":\"O$i\",\"shipped\":-7200,\"status\":\"attempt_fail\",\"event_at\":-60}"
	done
} | "$SEED" "$T_DIR/store.db" "$NOW"
is "$?" 0 "seeded $N failed delivery attempts"

start_alerts
deferred() { sql "SELECT count(*) FROM outbox WHERE state = 'deferred' AND attempts >= 2"; }
check "server down: every email deferred and retried" wait_for 20 at_least deferred $((N + 1))
contains "$(sql "SELECT last_error FROM outbox ORDER BY id LIMIT 1")" "onnect" "the connection failure is the reason kept"
check "server down: the rest of a round is deferred without a connection attempt each" \
	test "$(sql "SELECT count(*) FROM outbox WHERE last_error LIKE 'not tried: no SMTP reply at connect%'")" -ge 1
is "$(sql "SELECT count(*) FROM outbox WHERE state IN ('sent', 'failed')")" 0 "nothing given up while the server is down"

# Up, but answering 451 to every recipient for a while.
mkdir -p "$SINK_DIR"
echo tempfail-rcpt >"$SINK_DIR/mode.tmp" && mv "$SINK_DIR/mode.tmp" "$SINK_DIR/mode"
SINK_ARGS="--reject-rcpt perm@:550" start_sink "$SINK_DIR"
check "451: still deferred, reason kept" wait_for 15 \
	at_least "sql \"SELECT count(*) FROM outbox WHERE last_error LIKE '%451%'\"" 1
is "$(sink_count)" 0 "451: nothing accepted"
rm -f "$SINK_DIR/mode"

check "server back: all $N delivered" wait_sink $N 30
check "the engine is idle: nothing due or being sent" wait_for 30 alerts_idle
is "$(sink_count)" $N "exactly $N messages accepted"
is "$(sink_json "len(set(m['message_id'] for m in L))")" $N "no Message-ID twice"
is "$(sink_json "len(set(r for m in L for r in m['rcpt']))")" $N "every customer once"
is "$(sql "SELECT count(*) FROM outbox WHERE state = 'sent'")" $N "outbox: all sent"
is "$(sql "SELECT state FROM outbox WHERE recipient = 'perm@c.example'")" failed "550 recipient: failed for good"
contains "$(sql "SELECT last_error FROM outbox WHERE recipient = 'perm@c.example'")" "550" "550: the server's code kept"
is "$(sink_json "sum(1 for m in L if 'perm@c.example' in m['rcpt'])")" 0 "550 recipient: nothing delivered"
stop_alerts
is "$EXIT_STATUS" 0 "alerts exits cleanly"
done_testing
