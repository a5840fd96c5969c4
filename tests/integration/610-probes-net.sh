#!/usr/bin/env bash
# 610-probes-net: slipwatch-probes' broker and smtp kinds, configured by
# the file's own [mqtt] and [smtp] sections, against a real mosquitto and
# the SMTP sink (tests/tools/smtp_sink.py):
#   - -T: both pass with every sample back (sent=3 lost=0); the broker saw
#     the probe's own client id "<client_id>-probe" with a clean session
#     (mosquitto's log: "c1"), never the collector's; the sink counted one
#     connection per sample and kept no message;
#   - the broker and the relay gone: -T exits 1, both FAIL with every
#     sample lost and a reason naming what failed;
#   - the daemon, both up, writes the spread of each step's samples to
#     probe/broker.rrd and probe/smtp.rrd (rrdtool fetch: sent, lost, and
#     min <= p10 <= median <= p90 <= max);
#   - the daemon stores those results (probe_results: failed, the reason,
#     failing_since), where the alert engine reads them.
# No timing is asserted.
. "$SW_SRCDIR/tests/integration/lib.sh"
PROBES=$SW_BUILDDIR/probes/slipwatch-probes
DB=$T_DIR/store.db

"$SEED" "$DB" "$(date +%s)" </dev/null || bail "sw_seed failed"
start_broker
start_sink

cat >"$T_DIR/c.conf" <<CONF
[store]
path = $DB
[rrd]
dir = $T_DIR/rrd
step = 1s
[log]
level = info
[probes]
interval = 1s
samples = 3
timeout = 5s
kinds = broker, smtp
topic = slipwatch/probe
[mqtt]
host = 127.0.0.1
port = $BROKER_PORT
client_id = sw-collector-610
[smtp]
url = smtp://127.0.0.1:$SINK_PORT
tls = off
from = orders@shop.example
CONF

# --- both up --------------------------------------------------------------------
out=$("$PROBES" -c "$T_DIR/c.conf" -T 2>"$T_DIR/T.err"); st=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$st" 0 "-T exits 0: broker and relay answer"
read -r name verdict sent lost rest <<<"$(printf '%s\n' "$out" | grep '^broker ')"
is "$verdict $sent $lost" "ok sent=3 lost=0" "broker: 3 of 3 messages back"
contains "$rest" "3 of 3 messages back via slipwatch/probe/" "  over a private topic"
read -r name verdict sent lost rest <<<"$(printf '%s\n' "$out" | grep '^smtp ')"
is "$verdict $sent $lost" "ok sent=3 lost=0" "smtp: 3 of 3 sessions"
contains "$rest" "3 of 3 sessions, no TLS" "  plain, as tls = off says"
contains "$(cat "$T_DIR/broker/mosquitto.log")" "as sw-collector-610-probe (p2, c1" \
	"the broker saw the probe's own client id with a clean session"
check "  and never the collector's" sh -c "! grep -q 'as sw-collector-610 ' '$T_DIR/broker/mosquitto.log'"
is "$(cat "$SINK_DIR/connections")" 3 "the sink: one connection per sample"
is "$(sink_count)" 0 "  and no message"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM probe_results')" 0 "-T writes nothing to the store"

# --- the spread in the RRD files (the daemon, both up) --------------------------
# Each round is one 1 s step: 3 samples sent, none lost, and the latency
# quantiles of that step in order (min <= p10 <= median <= p90 <= max), all
# known and positive.  Read back by name with rrdtool fetch.
sw_spawn "$T_DIR/probes-up.log" "$PROBES" -c "$T_DIR/c.conf" -f
PID=$SPAWNED
# spread_row FILE: the first step of FILE with its samples' data sources
# known (value is the kind's own figure: none for these two), as
# "sent lost min p10 p50 p90 max" (counts per step: ABSOLUTE x the 1 s step)
spread_row() {
	rrdtool fetch "$1" AVERAGE -s -120 -r 1 2>/dev/null | awk '
		BEGIN { split("sent lost lat_min lat_p10 lat_p50 lat_p90 lat_max", w, " "); for (i in w) want[w[i]] = 1 }
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i + 1; next }
		NF > 1 {
			for (k in want) if ($col[k] ~ /nan/) next
			printf "%.0f %.0f %s %s %s %s %s\n", $col["sent"], $col["lost"], $col["lat_min"],
				$col["lat_p10"], $col["lat_p50"], $col["lat_p90"], $col["lat_max"]; exit }'
}
spread_in() { [ -n "$(spread_row "$T_DIR/rrd/probe/$1.rrd")" ]; } # written every 1 s step
for p in broker smtp; do
	check "probe/$p.rrd gets a step with its samples' figures known" wait_for 60 spread_in "$p"
	read -r sent lost mn p10 p50 p90 mx <<<"$(spread_row "$T_DIR/rrd/probe/$p.rrd")"
	is "$sent $lost" "3 0" "  $p: 3 samples sent, none lost, in that step"
	check "  $p: min <= p10 <= median <= p90 <= max, min > 0 ($mn $p10 $p50 $p90 $mx)" \
		awk -v a="$mn" -v b="$p10" -v c="$p50" -v d="$p90" -v e="$mx" \
		'BEGIN { exit !(a > 0 && a <= b && b <= c && c <= d && d <= e) }'
done
kill -TERM "$PID"
wait_exit "$PID" 20
is "$EXIT_STATUS" 0 "SIGTERM: exit 0"
sqlite3 "$DB" 'DELETE FROM probe_results'

# --- both gone ------------------------------------------------------------------
stop_broker
stop_sink
out=$("$PROBES" -c "$T_DIR/c.conf" -T 2>>"$T_DIR/T.err"); st=$?
printf '%s\n' "$out" | sed 's/^/# /'
is "$st" 1 "-T exits 1: broker and relay gone"
read -r name verdict sent lost rest <<<"$(printf '%s\n' "$out" | grep '^broker ')"
is "$verdict $sent $lost" "FAIL sent=3 lost=3" "broker: every sample lost"
contains "$rest" "broker 127.0.0.1:$BROKER_PORT: cannot connect: Connection refused" "  the reason"
read -r name verdict sent lost rest <<<"$(printf '%s\n' "$out" | grep '^smtp ')"
is "$verdict $sent $lost" "FAIL sent=3 lost=3" "smtp: every sample lost"
contains "$rest" "smtp://127.0.0.1:$SINK_PORT: Failed to connect" "  the reason"

# --- the daemon stores the failures ---------------------------------------------
sw_spawn "$T_DIR/probes.log" "$PROBES" -c "$T_DIR/c.conf" -f
PID=$SPAWNED
rows_in() { [ "$(sqlite3 "$DB" 'SELECT count(*) FROM probe_results' 2>/dev/null)" = 2 ]; }
check "the daemon stores both results" wait_for 60 rows_in
is "$(sqlite3 "$DB" "SELECT kind, ok, sent, lost, lat_p50, failing_since > 0 FROM probe_results WHERE name = 'broker'")" \
	"broker|0|3|3|-1.0|1" "  broker: failed, 3 of 3 lost, no latency, failing since a run"
contains "$(sqlite3 "$DB" "SELECT reason FROM probe_results WHERE name = 'smtp'")" \
	"Failed to connect" "  smtp: the reason"
kill -TERM "$PID"
wait_exit "$PID" 20
is "$EXIT_STATUS" 0 "SIGTERM: exit 0"
done_testing
