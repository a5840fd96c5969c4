#!/usr/bin/env bash
# 600-probes: slipwatch-probes with the feed kind on a store whose
# warehouse_health holds known times (w1 silent 42 min, w2 30 s):
#   - -T prints one line per warehouse with its figures (sent, lost, the
#     seconds since its last event, the reason of the one that fails) and
#     exits 1 while one fails, 0 once feed_max_silence covers both; it
#     writes neither the store nor an RRD file;
#   - the daemon (interval 1s) writes probe/feed-w1.rrd, whose rrdtool
#     fetch holds the value, and the store's probe_results rows (w1 failing
#     since a run, w2 passing); SIGHUP applies a new feed_max_silence;
#     SIGTERM stops it with exit 0;
#   - -T with the broker kind against mosquitto and the smtp kind against
#     a closed port: a line each, with their samples and the reason;
#   - a [probes] section is part of every program's file (the collector's
#     -t accepts it) and a bad one is refused by name.
. "$SW_SRCDIR/tests/integration/lib.sh"
PROBES=$SW_BUILDDIR/probes/slipwatch-probes
DB=$T_DIR/store.db

NOW=$(date +%s)
"$SEED" "$DB" "$NOW" </dev/null || bail "sw_seed failed"
sqlite3 "$DB" "INSERT INTO warehouse_health (warehouse_id, last_event_at) VALUES
	('w1', $((NOW - 42 * 60 - 10))), ('w2', $((NOW - 30)));" || bail "cannot seed warehouse_health"

conf() { # conf FILE [MORE]: the store, 1 s steps, the feed kind only
	printf '[store]\npath = %s\n[rrd]\ndir = %s/rrd\nstep = 1s\n[log]\nlevel = info\n' "$DB" "$T_DIR" >"$1"
	printf '[probes]\ninterval = 1s\nkinds = feed\n%s' "${2:-}" >>"$1"
}
conf "$T_DIR/c.conf"

# --- -T -----------------------------------------------------------------------------
out=$("$PROBES" -c "$T_DIR/c.conf" -T 2>"$T_DIR/T.err"); st=$?
is "$st" 1 "-T exits 1 while a probe fails"
is "$(printf '%s\n' "$out" | wc -l)" 2 "one line per warehouse"
w1=$(printf '%s\n' "$out" | grep '^feed-w1 ')
w2=$(printf '%s\n' "$out" | grep '^feed-w2 ')
read -r name verdict sent lost med max value rest <<<"$w1"
is "$verdict" FAIL "feed-w1 fails"
is "$sent $lost" "sent=1 lost=0" "  one sample, not lost (the store answered)"
v=${value#value=}
check "  value: the seconds since its last event ($v)" test "$v" -ge $((42 * 60 + 10)) -a "$v" -lt $((42 * 60 + 10 + 300))
is "$rest" "w1: no event for $((v / 60)) min" "  the reason names the warehouse and the silence"
read -r name verdict sent lost med max value rest <<<"$w2"
is "$verdict" ok "feed-w2 passes"
v=${value#value=}
check "  value: the seconds since its last event ($v)" test "$v" -ge 30 -a "$v" -lt 330
contains "$rest" "last event" "  the detail says when it last published"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM probe_results')" 0 "-T writes nothing to the store"
check "-T writes no RRD file" test ! -e "$T_DIR/rrd/probe"

conf "$T_DIR/quiet.conf" "feed_max_silence = 1h
"
out=$("$PROBES" -c "$T_DIR/quiet.conf" -T 2>&1); st=$?
is "$st" 0 "-T exits 0 when every probe passes"
contains "$out" "feed-w1                  ok" "  feed-w1 passes with feed_max_silence = 1h"

# --- -T with the broker (a real mosquitto) and the SMTP relay (a closed port) --------
start_broker
CLOSED=$(free_port)
conf "$T_DIR/net.conf" "samples = 3
timeout = 2s
[mqtt]
port = $BROKER_PORT
[smtp]
url = smtp://127.0.0.1:$CLOSED
"
sed -i 's/^kinds = feed$/kinds = broker, smtp/' "$T_DIR/net.conf"
out=$("$PROBES" -c "$T_DIR/net.conf" -T 2>&1); st=$?
is "$st" 1 "-T with a relay down exits 1"
is "$(printf '%s\n' "$out" | grep -c .)" 2 "one line each for the broker and the relay"
line=$(printf '%s\n' "$out" | grep '^broker ')
read -r name verdict sent lost rest <<<"$line"
is "$verdict $sent $lost" "ok sent=3 lost=0" "broker: 3 samples back from mosquitto"
line=$(printf '%s\n' "$out" | grep '^smtp ')
read -r name verdict sent lost med max value rest <<<"$line"
is "$verdict $sent $lost $med $max" "FAIL sent=3 lost=3 median=- max=-" "smtp: 3 samples lost, no latency"
contains "$rest" "127.0.0.1:$CLOSED" "  the reason names the relay"

# --- the configuration --------------------------------------------------------------
conf "$T_DIR/bad.conf" "samples = 0
"
out=$("$PROBES" -c "$T_DIR/bad.conf" -t 2>&1); st=$?
is "$st" 1 "-t refuses samples = 0"
contains "$out" "bad.conf:11: [probes] samples: '0' is out of range (1..20)" "  naming file:line"
out=$("$COLLECTOR" -c "$T_DIR/c.conf" -t 2>&1); st=$?
is "$st" 0 "the collector's -t accepts [probes]"
out=$("$COLLECTOR" -c "$T_DIR/bad.conf" -t 2>&1); st=$?
is "$st" 1 "...and refuses a bad one the same way"
contains "$out" "bad.conf:11: [probes] samples" "  naming file:line"

# --- the daemon ---------------------------------------------------------------------
sw_spawn "$T_DIR/probes.log" "$PROBES" -c "$T_DIR/c.conf" -f
PID=$SPAWNED
rows_in() { [ "$(sqlite3 "$DB" 'SELECT count(*) FROM probe_results' 2>/dev/null)" = 2 ]; }
check "the daemon stores both results" wait_for 20 rows_in
check "and writes probe/feed-w1.rrd" wait_for 20 test -s "$T_DIR/rrd/probe/feed-w1.rrd"
row=$(sqlite3 -separator ' ' "$DB" "SELECT ok, sent, lost, value >= $((42 * 60)), reason,
	failing_since > 0 FROM probe_results WHERE name = 'feed-w1'")
contains "$row" "0 1 0 1 w1: no event for" "  feed-w1: failed, one sample, its silence and reason"
is "$(sqlite3 "$DB" "SELECT kind, ok, failing_since FROM probe_results WHERE name = 'feed-w2'")" \
	"feed|1|0" "  feed-w2: passing, not failing"
# SIGHUP: the next rounds use the new bound, and w1 passes.
conf "$T_DIR/c.conf" "feed_max_silence = 1h
"
kill -HUP "$PID"
w1_ok() { [ "$(sqlite3 "$DB" "SELECT ok, failing_since FROM probe_results WHERE name = 'feed-w1'")" = "1|0" ]; }
check "SIGHUP: feed_max_silence = 1h applies, feed-w1 passes and is no longer failing" wait_for 20 w1_ok
kill -USR1 "$PID"
kill -TERM "$PID"
wait_exit "$PID" 20
is "$EXIT_STATUS" 0 "SIGTERM: exit 0"
# The value (the 10th data source) of some step holds w1's silence.
vals=$(rrdtool fetch "$T_DIR/rrd/probe/feed-w1.rrd" AVERAGE -s -600 -r 1 |
	awk 'NF == 11 && $11 != "-nan" && $11 != "nan" { printf "%d\n", $11 }')
check "rrdtool fetch holds the seconds since w1's last event" \
	awk -v lo=$((42 * 60)) '$1 >= lo { f = 1 } END { exit !f }' <<<"$vals"
ds=$(rrdtool info "$T_DIR/rrd/probe/feed-w1.rrd" | grep -c '^ds\[.*\]\.type')
is "$ds" 10 "the file has the catalogue's 10 data sources (the spread)"
contains "$(cat "$T_DIR/probes.log")" "feed-w1: failing: w1: no event for" "the failure is logged"
done_testing
