#!/usr/bin/env bash
# 060-store-pg: the store on a real PostgreSQL server (a private cluster on
# a Unix socket, tests/tools/pg_tmp.sh).  First the store's unit tests run
# against it (SW_TEST_STORE_URL: the same cases as on SQLite, but those
# about SQLite's files); then the alert engine works a burst of 300 emails
# from a PostgreSQL store configured by [store] url, is killed with -9
# mid-burst and restarted: every customer gets their email, a duplicate is
# only possible for the message the server took before the kill.
. "$SW_SRCDIR/tests/integration/lib.sh"

PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slipwatch-pg.XXXXXX")
pg_cleanup() {
	"$SW_SRCDIR/tests/tools/pg_tmp.sh" stop "$PG_DIR" >/dev/null 2>&1
	rm -rf "$PG_DIR"
	t_cleanup
}
trap pg_cleanup EXIT
CONNINFO=$("$SW_SRCDIR/tests/tools/pg_tmp.sh" start "$PG_DIR" 2>"$T_DIR/pg_tmp.err")
case $? in
0) ;;
77) echo "1..0 # SKIP no PostgreSQL server can start here: $(tr '\n' ' ' <"$T_DIR/pg_tmp.err")"; exit 0 ;;
*) bail "pg_tmp.sh failed: $(cat "$T_DIR/pg_tmp.err")" ;;
esac
ok "a private PostgreSQL server ($CONNINFO)"

# --- the store's unit tests on PostgreSQL -------------------------------------
for t in test_store test_store_report test_store_pages test_store_feeds test_store_probes \
	test_store_promise test_store_lease test_store_snapshot test_store_track test_role \
	test_dash_tables test_dash_report test_probes test_push test_ingest test_poll \
	test_poll_commit test_poll_quota test_pages test_signals test_stage test_engine_tail \
	test_feeds test_generic; do
	out=$(SW_TEST_STORE_URL="$CONNINFO" "$SW_BUILDDIR/tests/unit/$t" 2>&1)
	rc=$?
	pass=$(printf '%s\n' "$out" | grep -c '^ok')
	fail=$(printf '%s\n' "$out" | grep -c '^not ok')
	if [ "$rc" -eq 0 ] && [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]; then
		ok "$t on PostgreSQL: $pass passed"
	else
		not_ok "$t on PostgreSQL: $pass passed, $fail failed (exit $rc)" \
			"$(printf '%s\n' "$out" | grep -A3 '^not ok\|^Bail' | head -30)"
	fi
done

# --- [store] url: what is refused, saying where and why ------------------------
bad_store() { # bad_store TEXT NEEDLE DESCRIPTION: slipwatch-alerts -t refuses [store] TEXT
	printf '[store]\n%s\n' "$1" >"$T_DIR/bad.conf"
	out=$("$ALERTS" -t -c "$T_DIR/bad.conf" 2>&1)
	st=$?
	if [ "$st" -ne 0 ]; then contains "$out" "$2" "$3"; else not_ok "$3" "accepted: $out"; fi
	case "$out" in *hunter2*) not_ok "  the password is not repeated" "$out" ;; *) ok "  the password is not repeated" ;; esac
}
bad_store "url = postgresql://sw:hunter2@db.example/sw" "bad.conf:2: [store] url: secrets are not written in the file" \
	"a password in the url: refused, naming file, line and key"
bad_store "url = postgresql://sw@db.example/sw?password=hunter2" "[store] url: secrets are not written" \
	"a password parameter in the url: refused"
bad_store "url = mysql://sw@db.example/sw" "[store] url: not a PostgreSQL address" "another scheme: refused"
bad_store "path = /tmp/x.db
url = postgresql://sw@db.example/sw" "give one store, a path or a url" "path and url together: refused"
export SW_TEST_PG_PASSWORD=hunter2
bad_store "password_env = SW_TEST_PG_PASSWORD" "a password is for a PostgreSQL store" "a password without a url: refused"

# --- the alert engine on a PostgreSQL store -----------------------------------
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { not_ok "python3-aiosmtpd missing (autotools/deps installs it)"; done_testing; }
SOCK=$("$PY3" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PG_DIR/sock")
URL="postgresql://slipwatch@$SOCK/slipwatch"
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$CONNINFO" -XAtq -c "$1"; }
psql_q "DROP SCHEMA public CASCADE; CREATE SCHEMA public" || bail "cannot empty the database"
NOW=$(date +%s)
N=300
start_sink
SEND_RATE=300 ALERTS_KEYS="lease = 2s
batch = 50" write_alerts_conf
sed -i "s|^path = $T_DIR/store.db\$|url = $URL|" "$T_DIR/alerts.conf"
grep -q "^url = $URL" "$T_DIR/alerts.conf" || bail "alerts.conf has no [store] url"
"$ALERTS" -t -c "$T_DIR/alerts.conf" >"$T_DIR/check.out" 2>&1
is "$?" 0 "the configuration with [store] url checks"
python3 - "$N" <<'PY' | "$SEED" "$URL" "$NOW"
import sys
for i in range(int(sys.argv[1])):
    print('{"op":"order","wh":"w1","id":"O%d","name":"C %d","email":"c%d@c.example","tz":"UTC","deliver_by":86400,"shipped":-7200}' % (i, i, i))
    print('{"op":"parcel","courier":"dhl","tn":"P%d","wh":"w1","id":"O%d","shipped":-7200,"status":"attempt_fail","event_at":-60}' % (i, i))
PY
is "$?" 0 "seeded $N slips into PostgreSQL"
is "$(psql_q "SELECT count(*) FROM parcels")" $N "  $N parcels there"

start_alerts
contains "$(grep -m1 'started' "$T_DIR/alerts.log")" "postgresql://slipwatch@" "the engine names its store by address"
check "burst under way" wait_sink 50 60
kill -KILL "$ALERTS_PID"; wait_exit "$ALERTS_PID" 10
BEFORE=$(sink_count)
ORPHANS=$(psql_q "SELECT count(*) FROM outbox WHERE state = 'sending'")
ok "killed with -9 after $BEFORE emails ($ORPHANS rows left claimed until their lease ends)"
start_alerts alerts2
check "every customer gets their email" wait_for 90 at_least "sink_json \"len(set(r for m in L for r in m['rcpt']))\"" $N
pg_idle() {
	[ "$(psql_q "SELECT coalesce((SELECT seq FROM cursors WHERE name = 'alerts'), 0) >=
		coalesce((SELECT max(seq) FROM journal), 0) AND NOT EXISTS (SELECT 1 FROM outbox
		WHERE state = 'sending' OR (state IN ('queued', 'deferred') AND
		next_attempt_at <= extract(epoch FROM now())::bigint))")" = t ]
}
check "the engine is idle: nothing due, nothing claimed" wait_for 30 pg_idle
pg_idle || psql_q "SELECT state, count(*), min(next_attempt_at), extract(epoch FROM now())::bigint,
	(SELECT seq FROM cursors WHERE name = 'alerts'), (SELECT max(seq) FROM journal)
	FROM outbox GROUP BY state" | sed "s/^/# outbox: /"
DUPS=$(sink_json "len(L) - len(set(m['message_id'] for m in L))")
echo "# duplicates after kill -9: $DUPS"
check "duplicates: 0 or 1 (got $DUPS)" test "$DUPS" -le 1
is "$(sink_json "len(set(m['message_id'] for m in L))")" $N "$N distinct messages"
is "$(psql_q "SELECT count(*) FROM outbox WHERE state = 'sent'")" $N "outbox: all sent"
stop_alerts
is "$EXIT_STATUS" 0 "restarted engine exits cleanly"
check "no password or error about the store in the log" \
	sh -c "! grep -qi 'ESTORE\\|store.*failed' '$T_DIR/alerts.log' '$T_DIR/alerts2.log'"
done_testing
