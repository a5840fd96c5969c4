# tests/integration/lib.sh - sourced by the numbered integration scripts.
#
# TAP output (ok/not ok lines, plan at the end), one private temp dir per
# script removed on exit, free loopback ports, and starting/stopping the
# real daemons the tests talk to.  Every process a script starts is
# registered with sw_spawn so the EXIT trap stops it whatever happens.

set -u
: "${SW_SRCDIR:?run through make check}" "${SW_BUILDDIR:?run through make check}"
export TZ=UTC LC_ALL=C.UTF-8

T_N=0
T_FAILED=0
T_PIDS=()
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slipwatch-test.XXXXXX")

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	done
	if [ "$T_FAILED" -ne 0 ] && [ -z "${SW_KEEP_TMP:-}" ]; then
		# Keep nothing, but show what the daemons said.
		for f in "$T_DIR"/*.log; do [ -f "$f" ] && { echo "# --- $f"; tail -n 20 "$f" | sed 's/^/# /'; }; done
	fi
	if [ -n "${T_PG_DIR:-}" ]; then
		"$SW_SRCDIR/tests/tools/pg_tmp.sh" stop "$T_PG_DIR" >/dev/null 2>&1
		rm -rf "$T_PG_DIR"
	fi
	[ -n "${SW_KEEP_TMP:-}" ] || rm -rf "$T_DIR"
}
trap t_cleanup EXIT

ok() {    # ok DESCRIPTION: records a pass
	T_N=$((T_N + 1)); echo "ok $T_N - $*"
}
not_ok() { # not_ok DESCRIPTION [DETAIL]: records a failure
	T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
	return 0
}
check() { # check DESCRIPTION COMMAND...: pass when the command succeeds
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d" "command failed: $*"; fi
}
is() {    # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3" "got '$1', want '$2'"; fi
}
contains() { # contains TEXT NEEDLE DESCRIPTION
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) not_ok "$3" "'$2' not found in: $1" ;;
	esac
}
done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
bail() { echo "Bail out! $*"; exit 1; }

# --- the store ---------------------------------------------------------------
# The store the daemons of a test share: an SQLite file in T_DIR, or after
# use_pg_store a private PostgreSQL server (tests/tools/pg_tmp.sh, on a Unix
# socket in a temp dir, stopped at exit); sql and journal_count read either.
store_line() {
	if [ -n "${STORE_URL:-}" ]; then echo "url = $STORE_URL"; else echo "path = $T_DIR/store.db"; fi
}
# use_pg_store: starts the server; exits the test as skipped (saying why)
# when none can start here.
use_pg_store() {
	T_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/slipwatch-pg.XXXXXX")
	PG_CONNINFO=$("$SW_SRCDIR/tests/tools/pg_tmp.sh" start "$T_PG_DIR" 2>"$T_DIR/pg_tmp.err")
	case $? in
	0) ;;
	77) echo "1..0 # SKIP no PostgreSQL server can start here: $(tr '\n' ' ' <"$T_DIR/pg_tmp.err")"; exit 0 ;;
	*) bail "pg_tmp.sh failed: $(cat "$T_DIR/pg_tmp.err")" ;;
	esac
	STORE_URL="postgresql://slipwatch@$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$T_PG_DIR/sock")/slipwatch"
}

# A free TCP port on 127.0.0.1 (the kernel picks; a race with another
# process taking it is possible but harmless: the daemon then fails loudly).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# sw_spawn LOGFILE CMD...: start in the background, remember the pid in SPAWNED.
sw_spawn() {
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	SPAWNED=$!
	T_PIDS+=("$SPAWNED")
}

# Every SECONDS given to wait_for, wait_exit, wait_journal and wait_sink is a
# failure bound, never an expectation: it is multiplied by
# SW_TEST_WAIT_SCALE (default 3) so that a loaded machine (two suites on two
# cores, sanitizers) does not reach it.  A passing test waits only as long
# as the state it waits for takes.  No assertion may depend on how long
# something took; wait for a state that proves what is asserted instead
# (collector_caught_up, alerts_idle below).
T_WAIT_SCALE=${SW_TEST_WAIT_SCALE:-3}

# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit * T_WAIT_SCALE))
	while [ $SECONDS -lt $end ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: wait for a process to end; sets EXIT_STATUS.
wait_exit() {
	local pid=$1 end=$((SECONDS + $2 * T_WAIT_SCALE))
	while kill -0 "$pid" 2>/dev/null; do
		[ $SECONDS -ge $end ] && { EXIT_STATUS=timeout; return 1; }
		sleep 0.1
	done
	wait "$pid" 2>/dev/null
	EXIT_STATUS=$?
	return 0
}

COLLECTOR="$SW_BUILDDIR/collector/slipwatch-collector"
ALERTS="$SW_BUILDDIR/alerts/slipwatch-alerts"

# --- mosquitto -------------------------------------------------------------
# start_broker: a private broker on a free loopback port with the settings
# slipwatch documents for loss-free QoS 1 (etc/mosquitto-slipwatch.conf);
# sets BROKER_PORT and BROKER_PID.  State persists in $T_DIR/broker/ so a
# restart_broker keeps queued messages and sessions.
MOSQUITTO_BIN=$(command -v mosquitto || echo /usr/sbin/mosquitto)
start_broker() {
	mkdir -p "$T_DIR/broker"
	[ -n "${BROKER_PORT:-}" ] || BROKER_PORT=$(free_port)
	{
		echo "listener $BROKER_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence_location $T_DIR/broker/"
		# As root, mosquitto would drop to user mosquitto and could not
		# write its persistence file in our temp dir.
		[ "$(id -u)" -eq 0 ] && echo "user root"
		grep -vE '^[[:space:]]*(listener|persistence_location|log_dest|pid_file)' \
			"$SW_SRCDIR/etc/mosquitto-slipwatch.conf"
		echo "log_dest file $T_DIR/broker/mosquitto.log"
	} >"$T_DIR/broker/mosquitto.conf"
	sw_spawn "$T_DIR/broker.log" "$MOSQUITTO_BIN" -c "$T_DIR/broker/mosquitto.conf"
	BROKER_PID=$SPAWNED
	wait_for 10 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t slipwatch/test/ping -m x -q 0 ||
		bail "mosquitto did not start on port $BROKER_PORT: $(tail -n 5 "$T_DIR/broker.log")"
}
stop_broker() {
	kill -TERM "$BROKER_PID" 2>/dev/null
	wait_exit "$BROKER_PID" 20
}
restart_broker() {
	stop_broker
	start_broker
}

# --- collector --------------------------------------------------------------
# write_collector_conf [EXTRA-MQTT-LINES]: $T_DIR/slipwatch.conf for the
# broker started by start_broker.
write_collector_conf() {
	cat >"$T_DIR/slipwatch.conf" <<CONF
[store]
$(store_line)
[log]
level = ${LOG_LEVEL:-info}
destination = stderr
[mqtt]
host = 127.0.0.1
port = $BROKER_PORT
client_id = slipwatch-test-$$
reconnect_min = 200ms
reconnect_max = 2s
${1:-}
CONF
	# time series in the temp dir unless the caller set [rrd] (the default
	# dir is under the install prefix, outside the test)
	case "${1:-}" in
	*"[rrd]"*) ;;
	*) printf '[rrd]\ndir = %s/rrd\n' "$T_DIR" >>"$T_DIR/slipwatch.conf" ;;
	esac
}
# start_collector [LOGNAME [WAIT-FOR]]: starts it and waits for the log line
# WAIT-FOR (default: the SUBACK of a fresh session; a session with a backlog
# gets its SUBACK only after the queued messages, so wait for "started").
start_collector() {
	local log="$T_DIR/${1:-collector}.log"
	sw_spawn "$log" "$COLLECTOR" -f -c "$T_DIR/slipwatch.conf"
	COLLECTOR_PID=$SPAWNED
	wait_for 15 grep -q "${2:-subscribed to}" "$log" ||
		bail "collector did not log '${2:-subscribed to}': $(tail -n 5 "$log")"
}
# journal_count: events in the journal, collector_caught_up's markers left out.
journal_count() {
	sql "SELECT count(*) FROM journal WHERE warehouse_id IS NULL OR warehouse_id <> '$MARKER_WH'" 2>/dev/null || echo 0
}
# wait_journal N SECONDS: until the journal holds N events.
wait_journal() {
	local end=$((SECONDS + $2 * T_WAIT_SCALE))
	while [ $SECONDS -lt $end ]; do
		[ "$(journal_count)" -ge "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
publish_lines() { # publish_lines TOPIC < lines: QoS 1, all acknowledged
	"$SW_BUILDDIR/tests/tools/sw_pub" 127.0.0.1 "$BROKER_PORT" "$1"
}
# collector_caught_up: publishes one marker event (QoS 1, acknowledged by
# the broker) and waits until the collector has journaled it.  mosquitto
# hands a session's messages over in the order it took them and the
# collector commits them in that order, so by then every message the broker
# had acknowledged before the marker has been handled (journaled, a
# duplicate ignored, or rejected): a count checked afterwards is final, not
# "what has arrived so far".  Markers are events of warehouse $MARKER_WH
# (one order each); journal_count leaves them out.
MARKER_WH=zz-marker
T_MARKERS=0
collector_caught_up() {
	T_MARKERS=$((T_MARKERS + 1))
	printf '{"event_id":"marker-%s","type":"order.picked","occurred_at":"2026-11-24T03:00:00+05:30","warehouse_id":"%s","order_id":"MARKER-%s"}\n' \
		"$T_MARKERS" "$MARKER_WH" "$T_MARKERS" | publish_lines "warehouse/$MARKER_WH/events" || return 1
	wait_for 120 marker_journaled "marker-$T_MARKERS"
}

# --- the alert engine and a real SMTP server ---------------------------------
SEED="$SW_BUILDDIR/tests/tools/sw_seed"
# Debian's python3 has python3-aiosmtpd (autotools/deps installs it); a
# python3 earlier in PATH (pyenv, venv) may not.
PY3=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3)
# start_sink [DIR]: tests/tools/smtp_sink.py (aiosmtpd) on a free loopback
# port; sets SINK_DIR, SINK_PORT (kept across restarts) and SINK_PID.
start_sink() {
	SINK_DIR=${1:-$T_DIR/sink}
	mkdir -p "$SINK_DIR"
	rm -f "$SINK_DIR/ready"
	[ -n "${SINK_PORT:-}" ] || SINK_PORT=$(free_port)
	sw_spawn "$T_DIR/sink.log" "$PY3" "$SW_SRCDIR/tests/tools/smtp_sink.py" \
		--port "$SINK_PORT" --dir "$SINK_DIR" ${SINK_ARGS:-}
	SINK_PID=$SPAWNED
	wait_for 15 test -s "$SINK_DIR/ready" || bail "smtp sink did not start: $(tail -n 5 "$T_DIR/sink.log")"
}
stop_sink() { kill -TERM "$SINK_PID" 2>/dev/null; wait_exit "$SINK_PID" 10; }
# sink_count: messages the sink accepted so far.
sink_count() { [ -f "$SINK_DIR/log.jsonl" ] && wc -l <"$SINK_DIR/log.jsonl" || echo 0; }
wait_sink() { # wait_sink N SECONDS
	local end=$((SECONDS + $2 * T_WAIT_SCALE))
	while [ $SECONDS -lt $end ]; do
		[ "$(sink_count)" -ge "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
# write_alerts_conf [EXTRA]: [store], [log], [alerts] (quiet hours off, fast
# retries, one fixed instance name so that an engine restarted after a
# kill -9 takes its lease back at once; ALERTS_INSTANCE= (empty) for the
# default HOST:PID), [smtp] to the sink, [rrd] in the temp dir; EXTRA is appended
# (later sections of the same name are not allowed: pass keys through
# ALERTS_KEYS for [alerts] and RULE_KEYS for [rule default]).
write_alerts_conf() {
	cat >"$T_DIR/alerts.conf" <<CONF
[store]
$(store_line)
[log]
level = ${LOG_LEVEL:-info}
[alerts]
email = yes
templates = $SW_SRCDIR/alerts/templates
shop_name = Test Shop
unsubscribe_url = https://shop.example/unsubscribe?email={email}
tracking_url = https://shop.example/track/{courier}/{tracking}
quiet_hours = ${QUIET:-}
settle = ${SETTLE:-0s}
send_rate = ${SEND_RATE:-200}
retry_min = 1s
retry_max = 2s
journal_interval = 200ms
instance = ${ALERTS_INSTANCE-test-engine}
${ALERTS_KEYS:-}
[rule default]
no_first_scan = 1h
stalled = 1h
${RULE_KEYS:-}
[smtp]
url = smtp://127.0.0.1:${SINK_PORT:-25}
from = Test Shop <orders@shop.example>
connect_timeout = 2s
timeout = 10s
${SMTP_KEYS:-}
[rrd]
dir = $T_DIR/rrd
step = 2s
${1:-}
CONF
}
# rrd_sum FILE DS: events counted in DS (ABSOLUTE, step 2 s) over the last
# 10 minutes.
rrd_sum() {
	rrdtool fetch "$1" AVERAGE -s end-660 -e now+60 | awk -v ds="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == ds) col = i + 1; next }
		NF > 1 && col && $col !~ /nan/ { sum += $col * 2 }
		END { printf "%.0f\n", sum }'
}
# rrd_step_passed FILE: the wall clock has reached FILE's last update.  A
# stopping daemon writes the step it stops in ahead of time (its last
# update is that step's end); a daemon started before then would find the
# step written and its counts for it are lost (a known limitation, see
# 400).  Wait for this between a stop and a start when RRD sums are checked.
#   rrd_step_passed FILE [--daemon ADDRESS]
rrd_step_passed() { [ "$(date +%s)" -ge "$(rrdtool last "$@" 2>/dev/null || echo 0)" ]; }
# start_alerts [LOGNAME]: waits for the start-up pass to be logged.
start_alerts() {
	local log="$T_DIR/${1:-alerts}.log"
	sw_spawn "$log" "$ALERTS" -f -c "$T_DIR/alerts.conf"
	ALERTS_PID=$SPAWNED
	wait_for 30 grep -q "start-up pass" "$log" ||
		bail "alerts did not start: $(tail -n 5 "$log")"
}
stop_alerts() { kill -TERM "$ALERTS_PID" 2>/dev/null; wait_exit "$ALERTS_PID" 20; }
sql() { # sql STATEMENT: one statement on the test's store, rows as a|b lines
	if [ -n "${PG_CONNINFO:-}" ]; then
		PGOPTIONS="-c client_min_messages=warning" psql "$PG_CONNINFO" -XAtq -c "$1"
	else
		sqlite3 "$T_DIR/store.db" "$@"
	fi
}
marker_journaled() { [ "$(sql "SELECT count(*) FROM journal WHERE source_event_id = '$1'")" = 1 ]; }
# alerts_idle: the alert engine has read every journal event (its cursor is
# committed with what it decided about them, so it is at the journal's end
# only once that is in the store) and no notice is due or being sent (a
# row that is due is claimed and sent, and marked sent only after the
# server took it).  Counts of emails checked afterwards are final for the
# events so far; only a deadline still ahead could add to them.
#   check "the engine is idle" wait_for 30 alerts_idle
alerts_idle() {
	[ "$(sql "SELECT CASE WHEN coalesce((SELECT seq FROM cursors WHERE name = 'alerts'), 0) >=
		coalesce((SELECT max(seq) FROM journal), 0) AND NOT EXISTS (SELECT 1 FROM outbox
		WHERE state = 'sending' OR (state IN ('queued', 'deferred') AND
		next_attempt_at <= $(date +%s))) THEN 1 ELSE 0 END" 2>/dev/null)" = 1 ]
}
# sink_json EXPR: evaluates a Python expression over L, the list of the
# sink's log.jsonl objects.
sink_json() {
	python3 -c 'import json,sys
L=[json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
print(eval(sys.argv[2]))' "$SINK_DIR/log.jsonl" "$1"
}
# at_least "SHELL CODE" N: true when the code prints a number >= N; for
# wait_for, which must re-run the code on every poll:
#   wait_for 20 at_least "sql 'SELECT count(*) FROM outbox'" 5
at_least() { local v; v=$(eval "$1") && [ -n "$v" ] && [ "$v" -ge "$2" ]; }
