#!/usr/bin/env bash
# bench/broker-durability.sh - what a kill -9 of mosquitto loses, and what
# its persistence settings cost, for each autosave setting in one run.
#
# mosquitto 2.0 persists by snapshot (autosave_interval seconds, or with
# autosave_on_changes true every autosave_interval changes; SIGTERM and
# SIGUSR1 save too).  It acknowledges a QoS 1 publish as soon as it has
# read it, before any snapshot, so an event acknowledged to the publisher
# and still queued for the subscriber when the broker dies is gone, unless
# a snapshot since held it.  Publishers do not send it again: the broker
# acknowledged it.
#
# For each setting and each consumer:
#   sub        dur_sub, a plain persistent subscriber that only counts, so
#              that the collector's ingest rate does not decide the backlog
#   collector  slipwatch-collector, into its store (durable ingest)
#   offline    dur_sub's session, but dur_sub is away while the stream is
#              published (a collector outage: everything is backlog), and
#              drains it afterwards
# it measures:
#   runs without a kill: N events published at QoS 1 by dur_pub (up to
#     1000 in flight), then one marker event; the publish rate (PUBACKs per
#     second seen by the publisher), the end-to-end rate (N over the time
#     from the first publish to the marker having arrived at the consumer),
#     the snapshots the broker wrote, its CPU seconds and the MB it wrote
#     to disk (/proc/PID/io write_bytes);
#   kill rounds: the same, but dur_pub kills the broker (SIGKILL) once K
#     events are acknowledged (K = N*r/(ROUNDS+1), r = 1..ROUNDS), the
#     broker is restarted on its persistence file, dur_pub reconnects and
#     sends what was never acknowledged, then the marker; the events that
#     never arrived are the broker's loss.
# Before each stream the consumer's session exists and is in a snapshot
# (SIGUSR1), as on a broker that has been up for a while.  The timer of an
# interval setting starts when the broker starts, a second or two before
# the stream.  Ratios are against the first setting (mosquitto's default,
# 1800 s) with the same consumer in the same run.  The machine's other
# load moves the rates (not the losses) by tens of percent between runs.
#
# SW_BENCH_DUR_EVENTS (N, default 100000), SW_BENCH_DUR_ROUNDS (3 kill
# rounds), SW_BENCH_DUR_TP_ROUNDS (3 runs without a kill, medians
# reported), SW_BENCH_DUR_CONSUMERS ("sub collector offline"),
# SW_BENCH_DUR_SETTINGS (a list of INTERVAL:ON_CHANGES[/N], "none" for
# persistence false, /N a smaller N for a slow setting; default below),
# SW_BENCH_DUR_RATE (events/s the publisher keeps to; 0, the default, is a
# burst as fast as the broker acknowledges).  Every wait is bounded:
# dur_pub and dur_sub give up after 600 s, the script's waits too.  The
# full default run takes about 30 minutes.
# Ends with a RESULT line (bench/lib.sh) when the collector and sub both
# ran: the collector's end-to-end rate against dur_sub's under the shipped
# setting (etc/mosquitto-slipwatch.conf: 10000:true; else the first
# setting), with the collector's peak RSS (VmHWM, the largest of its runs).
set -u
: "${SW_SRCDIR:?run through make bench}" "${SW_BUILDDIR:?run through make bench}"
N=${SW_BENCH_DUR_EVENTS:-100000}
ROUNDS=${SW_BENCH_DUR_ROUNDS:-3}
TP_ROUNDS=${SW_BENCH_DUR_TP_ROUNDS:-3}
CONSUMERS=${SW_BENCH_DUR_CONSUMERS:-sub collector offline}
SETTINGS=${SW_BENCH_DUR_SETTINGS:-1800:false none 10:false 1:false 10000:true 1000:true 100:true 10:true/20000 1:true/5000}
. "$SW_SRCDIR/tests/integration/lib.sh"
. "$SW_SRCDIR/bench/lib.sh"
PUB=$SW_BUILDDIR/bench/dur_pub
SUB=$SW_BUILDDIR/bench/dur_sub
TOPIC=warehouse/dur/events
RES=$T_DIR/results.txt
: >"$RES"

RATE=${SW_BENCH_DUR_RATE:-0}
RATEARG=()
[ "$RATE" -gt 0 ] && RATEARG=(--rate "$RATE")
# streams N: $T_DIR/stream-N.txt (events dur-0 .. dur-(N-1)) and
# $T_DIR/marker-N.txt (dur-N), made once per N.
streams() {
	[ -f "$T_DIR/stream-$1.txt" ] && return
	python3 "$SW_SRCDIR/tests/integration/gen-events.py" dur "$1" >"$T_DIR/stream-$1.txt"
	python3 "$SW_SRCDIR/tests/integration/gen-events.py" dur 1 --start "$1" >"$T_DIR/marker-$1.txt"
}

# bench_broker SETTING: (re)starts mosquitto on BROKER_PORT with the shipped
# snippet, its autosave lines replaced by SETTING; state in $T_DIR/broker.
bench_broker() {
	local iv=${1%%:*} oc=${1#*:}
	oc=${oc%%/*}
	[ -n "${BROKER_PORT:-}" ] || BROKER_PORT=$(free_port)
	mkdir -p "$T_DIR/broker"
	{
		echo "listener $BROKER_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence_location $T_DIR/broker/"
		[ "$(id -u)" -eq 0 ] && echo "user root"
		grep -vE '^[[:space:]]*(listener|persistence|autosave_|log_dest|pid_file)' \
			"$SW_SRCDIR/etc/mosquitto-slipwatch.conf"
		if [ "$1" = none ]; then
			echo "persistence false"
		else
			echo "persistence true"
			echo "autosave_interval $iv"
			echo "autosave_on_changes $oc"
		fi
		echo "log_dest file $T_DIR/broker/mosquitto.log"
	} >"$T_DIR/broker/mosquitto.conf"
	sw_spawn "$T_DIR/broker.log" "$MOSQUITTO_BIN" -c "$T_DIR/broker/mosquitto.conf"
	BROKER_PID=$SPAWNED
	wait_for 10 mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t bench/ping -m x -q 0 ||
		{ echo "bench: mosquitto did not start: $(tail -n 3 "$T_DIR/broker.log")" >&2; exit 1; }
}
saves() { cat "$T_DIR/broker/mosquitto.log" 2>/dev/null | grep -c 'Saving in-memory database'; }
# snapshot: SIGUSR1, then wait until the broker logged one more save.
snapshot() {
	local before; before=$(saves)
	kill -USR1 "$BROKER_PID"
	wait_for 30 at_least saves $((before + 1)) || { echo "bench: no snapshot" >&2; exit 1; }
}
marker_in_store() { # marker_in_store N
	[ "$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM journal WHERE source_event_id='dur-$1'" 2>/dev/null)" = 1 ]
}

# run SETTING CONSUMER N KILL_AT (0: no kill): one stream of N events;
# appends "setting consumer n kill_at acked_at_kill lost pub_rate e2e_rate
# snapshots cpu mb rss" to RES (rss: the collector's peak, kB, or -).
run() {
	local setting=$1 cons=$2 n=$3 kill_at=$4 t0 t1 got lost pid nsaves e2e killarg=() rss=-
	streams "$n"
	rm -rf "$T_DIR/broker" "$T_DIR"/store.db* "$T_DIR/collector.log" "$T_DIR/sub.out"
	bench_broker "$setting"
	if [ "$cons" != collector ]; then
		"$SUB" 127.0.0.1 "$BROKER_PORT" bench-dur-sub "$TOPIC" "$n" --prime --timeout 30 ||
			{ echo "bench: cannot prime dur_sub" >&2; exit 1; }
	else
		write_collector_conf
		sed -i 's/^level = info/level = notice/' "$T_DIR/slipwatch.conf"
		start_collector collector "subscribed to"
	fi
	[ "$setting" = none ] || snapshot
	if [ "$cons" = sub ]; then
		sw_spawn "$T_DIR/sub.out" "$SUB" 127.0.0.1 "$BROKER_PORT" bench-dur-sub "$TOPIC" "$n" --timeout 600
		pid=$SPAWNED
	fi
	[ "$kill_at" -gt 0 ] && killarg=(--kill-at "$kill_at" "$BROKER_PID")
	t0=$(date +%s.%N)
	"$PUB" 127.0.0.1 "$BROKER_PORT" "$TOPIC" "$T_DIR/stream-$n.txt" "${killarg[@]}" "${RATEARG[@]}" --timeout 600 \
		>"$T_DIR/pub.out" 2>"$T_DIR/pub.err" &
	local pubpid=$!
	if [ "$kill_at" -gt 0 ]; then
		wait_exit "$BROKER_PID" 300 || { echo "bench: the broker was not killed" >&2; exit 1; }
		nsaves=$(saves)
		bench_broker "$setting"
	fi
	wait "$pubpid" || { echo "bench: dur_pub failed: $(cat "$T_DIR/pub.err")" >&2; exit 1; }
	# Without persistence the restarted broker forgot the offline session:
	# subscribe again (nothing can be queued for it) so that the marker
	# arrives; what was published in between went nowhere and counts lost.
	if [ "$kill_at" -gt 0 ] && [ "$setting" = none ] && [ "$cons" = offline ]; then
		"$SUB" 127.0.0.1 "$BROKER_PORT" bench-dur-sub "$TOPIC" "$n" --prime --timeout 30 ||
			{ echo "bench: cannot prime dur_sub again" >&2; exit 1; }
	fi
	"$PUB" 127.0.0.1 "$BROKER_PORT" "$TOPIC" "$T_DIR/marker-$n.txt" --timeout 60 >/dev/null ||
		{ echo "bench: marker not acknowledged" >&2; exit 1; }
	if [ "$cons" = offline ]; then
		sw_spawn "$T_DIR/sub.out" "$SUB" 127.0.0.1 "$BROKER_PORT" bench-dur-sub "$TOPIC" "$n" --timeout 600
		pid=$SPAWNED
	fi
	if [ "$cons" != collector ]; then
		wait_exit "$pid" 600 || { echo "bench: dur_sub did not see the marker" >&2; exit 1; }
		t1=$(date +%s.%N)
		read -r got _ _ <"$T_DIR/sub.out"
	else
		wait_for 600 marker_in_store "$n" || { echo "bench: the marker never reached the store" >&2; exit 1; }
		t1=$(date +%s.%N)
		got=$(sqlite3 "$T_DIR/store.db" "SELECT count(DISTINCT source_event_id) FROM journal WHERE source_event_id != 'dur-$n'")
		rss=$(bench_vmhwm "$COLLECTOR_PID")
		kill -TERM "$COLLECTOR_PID"; wait_exit "$COLLECTOR_PID" 30
	fi
	[ "$kill_at" -gt 0 ] || nsaves=$(saves)
	# the broker's CPU seconds and bytes it had written to disk by now
	local cpu=- wmb=-
	if [ "$kill_at" -eq 0 ]; then
		cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$BROKER_PID/stat")
		wmb=$(awk '$1 == "write_bytes:" { printf "%.0f", $2 / 1048576 }' "/proc/$BROKER_PID/io")
	fi
	kill -TERM "$BROKER_PID"; wait_exit "$BROKER_PID" 60
	read -r _ _ pubrate _ atkill <"$T_DIR/pub.out"
	lost=$((n - got))
	e2e=$(echo "$n / ($t1 - $t0)" | bc)
	echo "$setting $cons $n $kill_at $atkill $lost $pubrate $e2e $nsaves $cpu $wmb $rss" >>"$RES"
	printf 'bench: %-12s %-9s %6d events, kill at %6s: lost %6d, publish %6s/s, end to end %6s/s, %s snapshots before the kill/end, broker %s CPU s, %s MB written\n' \
		"$setting" "$cons" "$n" "${atkill/-1/-}" "$lost" "$pubrate" "$e2e" "$nsaves" "$cpu" "$wmb"
}

echo "bench broker-durability: $N events (unless a setting says /N), $ROUNDS kill rounds, rate ${RATE/#0/unlimited}, mosquitto $("$MOSQUITTO_BIN" -h 2>&1 | sed -n 's/^mosquitto version //p')"
for s in $SETTINGS; do
	n=$N
	case $s in */*) n=${s#*/} ;; esac
	for c in $CONSUMERS; do
		for r in $(seq 1 "$TP_ROUNDS"); do
			run "$s" "$c" "$n" 0
		done
		for r in $(seq 1 "$ROUNDS"); do
			run "$s" "$c" "$n" $((n * r / (ROUNDS + 1)))
		done
	done
done

python3 - "$RES" "${SETTINGS%% *}" "$T_DIR/headline.txt" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
base = sys.argv[2]
tp, loss, order, rss = {}, {}, [], {}
for s, c, n, k, ak, lost, pr, e2e, sv, cpu, wmb, kb in rows:
    if kb != "-":
        rss[s] = max(rss.get(s, 0), int(kb))
    if (s, c) not in order:
        order.append((s, c))
    if k == "0":
        tp.setdefault((s, c), []).append((int(n), float(pr), float(e2e), int(sv), float(cpu), float(wmb)))
    else:
        loss.setdefault((s, c), []).append(lost)
def med(s, c, i):
    return st.median(r[i] for r in tp[(s, c)])
print("\nsummary: events lost on kill -9 in each round (kill after n*r/(rounds+1) acknowledged);")
print("medians of the runs without a kill: rates, snapshots, the broker's CPU seconds and MB")
print(f"written to disk; ratios to {base} with the same consumer")
print(f"{'setting':14} {'consumer':9} {'n':>7} {'lost per round':>22} {'publish/s':>10} {'ratio':>6} {'end-to-end/s':>12} {'ratio':>6} {'snapshots':>9} {'CPU s':>6} {'MB':>6}")
for s, c in order:
    if (s, c) not in tp:
        continue
    n = tp[(s, c)][0][0]
    pr, e2e = med(s, c, 1), med(s, c, 2)
    bp, be = (med(base, c, 1), med(base, c, 2)) if (base, c) in tp else (pr, e2e)
    l = " ".join(loss.get((s, c), []))
    print(f"{s:14} {c:9} {n:7} {l:>22} {pr:10.0f} {pr / bp:6.2f} {e2e:12.0f} {e2e / be:6.2f} {med(s, c, 3):9.0f} {med(s, c, 4):6.1f} {med(s, c, 5):6.0f}")
# The headline: the collector against dur_sub, shipped setting if it ran.
head = next((s for s, c in order if s.split("/")[0] == "10000:true"), base)
if (head, "collector") in tp and (head, "sub") in tp:
    with open(sys.argv[3], "w") as f:
        print(head, tp[(head, "collector")][0][0], f"{med(head, 'collector', 2):.0f}",
              f"{med(head, 'sub', 2):.0f}", rss.get(head, "-"), file=f)
PY
if [ -s "$T_DIR/headline.txt" ]; then
	read -r s n col sub kb <"$T_DIR/headline.txt"
	bench_result "durable ingest through mosquitto ($s), $n events, end to end" "$col" "$sub" events/s \
		keep "$kb"
fi
