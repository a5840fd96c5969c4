#!/usr/bin/env bash
# bench/e2e-latency.sh - end-to-end latency of a customer email: from the
# warehouse event that makes a slip true to the email being accepted by the
# SMTP server, under a steady background load, through the real broker
# (mosquitto), slipwatch-collector, slipwatch-alerts and an SMTP sink
# (tests/tools/smtp_sink.py), all private: temp dir, free loopback ports.
#
# bench/load_pub publishes R events/s (QoS 1, 1000 in flight) for S
# seconds to warehouse/e2e/events: normal orders (created, picked, packed,
# shipped, promises days ahead: no slip) with K triggers spread evenly over
# the run, each an order.created whose promised_ship_by passed an hour ago
# (ship_late, threshold 0: true the moment the event is journaled) for
# customer e2e-I@c.example.  load_pub records the wall-clock time each
# trigger was handed to the socket; the sink keeps each accepted message as
# N.eml (written just before its 250) and its recipient in log.jsonl, so the
# latency of trigger I is mtime(N.eml) - publish time, for the N whose
# recipient is e2e-I@c.example.
#
# The alert engine runs with its shipped settings except: settle (the wait
# before a notice is re-checked and sent: SW_BENCH_E2E_SETTLE seconds,
# default 2; reported latencies are also given minus it), quiet_hours off
# (the benchmark may run at night) and, when SW_BENCH_E2E_JOURNAL_INTERVAL
# is set (a duration such as 200ms), journal_interval (shipped: 250ms).
#
# Prints the achieved publish rate and whether the collector kept up (its
# journal rate during the run and its backlog when the publisher stopped:
# a load it could not sustain is reported as such), p50/p90/p99/max
# latency, and the peak RSS of collector and engine; RESULT lines
# (bench/lib.sh) for p50 and p99.
#   SW_BENCH_E2E_RATE (5000 events/s), SW_BENCH_E2E_SECONDS (60),
#   SW_BENCH_E2E_TRIGGERS (200), SW_BENCH_E2E_SETTLE (2, whole seconds:
#   the engine counts settle in seconds), SW_BENCH_E2E_JOURNAL_INTERVAL.
set -u
: "${SW_SRCDIR:?run through make bench}" "${SW_BUILDDIR:?run through make bench}"
RATE=${SW_BENCH_E2E_RATE:-5000}
SECS=${SW_BENCH_E2E_SECONDS:-60}
TRIG=${SW_BENCH_E2E_TRIGGERS:-200}
SETTLE=${SW_BENCH_E2E_SETTLE:-2}
JINT=${SW_BENCH_E2E_JOURNAL_INTERVAL:-}
for v in RATE SECS TRIG SETTLE; do
	case ${!v} in '' | *[!0-9]*) echo "bench: SW_BENCH_E2E_$v='${!v}' is not a whole number" >&2; exit 2 ;; esac
done
. "$SW_SRCDIR/tests/integration/lib.sh"
. "$SW_SRCDIR/bench/lib.sh"
LOADPUB=$SW_BUILDDIR/bench/load_pub
[ -x "$LOADPUB" ] || fail "$LOADPUB not built (make)"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || fail "no python3 with aiosmtpd (Debian: python3-aiosmtpd)"

# --- the daemons ---------------------------------------------------------------
start_broker
write_collector_conf
sed -i 's/^level = info/level = notice/' "$T_DIR/slipwatch.conf"
start_collector
SINK_ARGS="--no-fsync --no-parse --max-seconds $((SECS + SETTLE + 600))" start_sink
cat >"$T_DIR/alerts.conf" <<CONF
[store]
path = $T_DIR/store.db
[log]
level = notice
[alerts]
email = yes
templates = $SW_SRCDIR/alerts/templates
shop_name = Bench Shop
unsubscribe_url = https://shop.example/unsubscribe?email={email}
tracking_url = https://shop.example/track/{courier}/{tracking}
quiet_hours =
settle = ${SETTLE}s
${JINT:+journal_interval = $JINT}
[smtp]
url = smtp://127.0.0.1:$SINK_PORT
from = Bench Shop <orders@shop.example>
[rrd]
dir = $T_DIR/rrd
CONF
start_alerts

# --- the run -------------------------------------------------------------------
echo "bench e2e-latency: $RATE events/s for $SECS s, $TRIG slip triggers," \
	"settle ${SETTLE}s, journal_interval ${JINT:-250ms (shipped)}"
"$LOADPUB" 127.0.0.1 "$BROKER_PORT" warehouse/e2e/events e2e --rate "$RATE" --seconds "$SECS" \
	--triggers "$TRIG" --trigger-out "$T_DIR/triggers.txt" >"$T_DIR/pub.out" 2>"$T_DIR/pub.err" &
PUB_PID=$!
t_pub=$(date +%s.%N)
# the collector's progress: journal rows every 5 s while the publisher runs
# (max(seq): no scan; nothing but this run writes the journal)
: >"$T_DIR/progress.txt"
next=0
while kill -0 "$PUB_PID" 2>/dev/null; do
	if [ $SECONDS -ge $next ]; then
		echo "$(date +%s.%N) $(sql 'SELECT coalesce(max(seq), 0) FROM journal' 2>/dev/null)" >>"$T_DIR/progress.txt"
		next=$((SECONDS + 5))
	fi
	sleep 0.1
done
wait "$PUB_PID"
pub_rc=$?
read -r sent acked pub_s pub_rate behind <"$T_DIR/pub.out" ||
	fail "load_pub printed nothing: $(cat "$T_DIR/pub.err")"
t_end=$(awk -v a="$t_pub" -v s="$pub_s" 'BEGIN { printf "%.3f", a + s }')
at_end=$(journal_count)
t_at_end=$(date +%s.%N)
[ "$pub_rc" -eq 0 ] || echo "bench: load_pub: $acked of $sent acknowledged: $(cat "$T_DIR/pub.err")" >&2

# Drain: every event journaled, then every trigger's email (or a bound).
drain_end=$((SECONDS + 300))
while [ "$(journal_count)" -lt "$acked" ] && [ $SECONDS -lt $drain_end ]; do
	kill -0 "$COLLECTOR_PID" 2>/dev/null || fail "the collector died: $(tail -n 5 "$T_DIR/collector.log")"
	sleep 0.2
done
t_drained=$(date +%s.%N)
journaled=$(journal_count)
ntrig=$(wc -l <"$T_DIR/triggers.txt")
mail_end=$((SECONDS + SETTLE + 120))
while [ "$(sink_count)" -lt "$ntrig" ] && [ $SECONDS -lt $mail_end ]; do
	kill -0 "$ALERTS_PID" 2>/dev/null || fail "the alert engine died: $(tail -n 5 "$T_DIR/alerts.log")"
	sleep 0.5
done
# where the time went, in the store's whole seconds: journaled (collector),
# slip detected (engine), sent (after settle and the sender's poll)
sql "SELECT substr(j.source_event_id, 5), j.received_at, a.detected_at, o.created_at,
	o.next_attempt_at, coalesce(o.sent_at, 0) FROM journal j
	JOIN alerts a ON a.entity = 'order:e2e:' || j.order_id AND a.kind = 'ship_late'
	JOIN outbox o ON o.entity = a.entity AND o.slip_kind = 'ship_late'
	WHERE j.source_event_id LIKE 'e2e-%'" | tr '|' ' ' >"$T_DIR/stages.txt"
rss_col=$(bench_vmhwm "$COLLECTOR_PID")
rss_alerts=$(bench_vmhwm "$ALERTS_PID")

# --- figures -------------------------------------------------------------------
python3 - "$T_DIR" "$SETTLE" "$RATE" "$SECS" "$sent" "$acked" "$pub_s" "$pub_rate" "$behind" \
	"$t_pub" "$t_end" "$at_end" "$t_at_end" "$t_drained" "$journaled" "$rss_col" "$rss_alerts" \
	>"$T_DIR/report.txt" <<'PY' || fail "no figures: $(cat "$T_DIR/report.txt")"
import json, math, os, re, sys
(d, settle, rate, secs, sent, acked, pub_s, pub_rate, behind, t_pub, t_end, at_end, t_at_end,
 t_drained, journaled, rss_col, rss_alerts) = sys.argv[1:]
settle, rate, secs = int(settle), int(rate), int(secs)
sent, acked, behind, at_end, journaled = int(sent), int(acked), int(behind), int(at_end), int(journaled)
pub_s, pub_rate, t_pub, t_end, t_at_end, t_drained = map(float, (pub_s, pub_rate, t_pub, t_end, t_at_end, t_drained))

pub = {}
for line in open(os.path.join(d, "triggers.txt")):
    i, at = line.split()
    pub[int(i)] = float(at)
lat, other = {}, 0
log = os.path.join(d, "sink", "log.jsonl")
for line in open(log) if os.path.exists(log) else []:
    m = json.loads(line)
    rc = m["rcpt"][0] if m["rcpt"] else ""
    k = re.fullmatch(r"e2e-(\d+)@c\.example", rc)
    if not k or int(k.group(1)) not in pub:
        other += 1
        continue
    i = int(k.group(1))
    at = os.stat(os.path.join(d, "sink", f"{m['n']}.eml")).st_mtime_ns / 1e9
    if i in lat:
        other += 1  # a second email for one trigger: counted, not timed
        continue
    lat[i] = at - pub[i]

def pct(v, p):  # nearest rank
    v = sorted(v)
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]

print(f"bench e2e-latency: {rate} events/s wanted for {secs} s, {len(pub)} slip triggers, settle {settle} s")
print(f"  publisher: {sent} events in {pub_s:.1f} s = {pub_rate:.0f}/s, {acked} acknowledged by the broker"
      f"{'' if behind <= rate // 10 else f', fell up to {behind} events behind its pace'}")
col_rate = at_end / (t_at_end - t_pub)
backlog = acked - at_end
kept = backlog <= rate  # at most a second's worth still queued when the publisher stopped
print(f"  collector: {at_end} journaled by the end of publishing ({col_rate:.0f}/s over the run), "
      f"backlog {backlog} events then; all {journaled} journaled {t_drained - t_end:.1f} s after the last publish")
# the collector's lag while the publisher ran, from the 5 s samples
lag = 0
for line in open(os.path.join(d, "progress.txt")):
    if len(line.split()) != 2:
        continue  # the store could not be read at that moment
    t, n = line.split()
    lag = max(lag, min(sent, (float(t) - t_pub) * rate) - int(n))
print(f"  collector lag during the run (5 s samples): at most {lag:.0f} events ({lag / rate:.1f} s of load)")
print(f"  load sustained: {'yes' if kept and pub_rate >= 0.95 * rate else 'NO'}"
      f" (publisher {pub_rate:.0f}/s of {rate}/s, collector backlog {backlog} at the end)")
missing = sorted(set(pub) - set(lat))
print(f"  emails: {len(lat)} of {len(pub)} triggers{f', MISSING {len(missing)} (e.g. {missing[:5]})' if missing else ''}"
      f"{f', {other} other messages (unexpected)' if other else ''}")
if not lat:
    print("  no latency: no trigger's email arrived")
    sys.exit(1)
v = list(lat.values())
q = {p: pct(v, p) for p in (50, 90, 99)}
print(f"  latency event published -> email accepted: p50 {q[50]:.3f} s  p90 {q[90]:.3f} s  "
      f"p99 {q[99]:.3f} s  max {max(v):.3f} s  min {min(v):.3f} s")
print(f"  minus the settle time ({settle} s): p50 {q[50] - settle:.3f} s  p99 {q[99] - settle:.3f} s  "
      f"(goal: p99 < 1 s + settle)")
# the stages, whole seconds from the store (journal.received_at,
# alerts.detected_at, outbox.sent_at) against the exact publish time
st = {}
for line in open(os.path.join(d, "stages.txt")):
    i, recv, det, created, due, sent_at = map(int, line.split())
    st[i] = (recv, det, sent_at)
def stage(f):
    x = sorted(f(i) for i in lat if i in st)
    return f"median {pct(x, 50):.1f} s, max {x[-1]:.1f} s" if x else "-"
print("  stages (store times are whole seconds):")
print(f"    published -> journaled (collector): {stage(lambda i: st[i][0] - math.floor(pub[i]))}")
print(f"    journaled -> slip detected (engine's tail): {stage(lambda i: st[i][1] - st[i][0])}")
print(f"    detected -> sent (settle {settle} s, then the sender): {stage(lambda i: st[i][2] - st[i][1])}")
print("  slowest:", ", ".join(f"#{i} at {pub[i] - t_pub:.0f} s: {lat[i]:.2f} s"
                             for i in sorted(lat, key=lat.get, reverse=True)[:5]))
print(f"  peak RSS: collector {rss_col} kB, alert engine {rss_alerts} kB")
# machine-readable, for the script: p50 p99 sustained
print(f"FIG {q[50]:.3f} {q[99]:.3f} {'yes' if kept and pub_rate >= 0.95 * rate else 'no'} {pub_rate:.0f} {len(lat)}")
PY
grep -v '^FIG ' "$T_DIR/report.txt"
read -r _ p50 p99 sustained achieved got < <(grep '^FIG ' "$T_DIR/report.txt")
note=""
[ "$sustained" = yes ] || note=" (load NOT sustained: $achieved/s)"
[ "$got" -eq "$ntrig" ] || note="$note ($got of $ntrig emails)"
bench_result "e2e latency p50, event to email, $RATE events/s, settle ${SETTLE}s$note (RSS: collector)" \
	"$p50" - s "- (p99 is the goal)" "$rss_col"
bench_result "e2e latency p99, event to email, $RATE events/s, settle ${SETTLE}s$note (RSS: alert engine)" \
	"$p99" - s "< $((SETTLE + 1)) s (1 s + settle)" "$rss_alerts"
