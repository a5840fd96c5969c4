#!/usr/bin/env bash
# bench/collector-rss.sh - whether slipwatch-collector's resident memory
# stays flat over a long run (issue 17: "the collector's RSS stays flat
# over a 1M-event run").
#
# A private mosquitto and collector (temp dir, free loopback port); N
# events published by bench/load_pub in chunks of C (QoS 1, as fast as the
# broker takes them: normal orders, created, picked, packed, shipped, ids
# continuing from chunk to chunk).  After each chunk, once the collector
# has journaled all of it, its VmRSS is read from /proc/PID/status (and
# RssAnon/RssFile, to tell heap from mapped files).  Prints every sample,
# then first, last and peak, and the growth from the sample at 10% of the
# run (the first chunk at default sizes) to the last, in KiB per 100k
# events (and over the second half alone): flat when that is under 1% of
# the 10% sample per 100k events.  The RSS does grow at first: SQLite's
# page cache (cache_size 32 MiB, lib/store_schema_sqlite.c) fills as the store grows,
# which takes some 80k events; a collector that keeps nothing per event
# levels off after that.  RESULT line (bench/lib.sh): KiB per
# 100k events, goal flat, the peak RSS.
#   SW_BENCH_RSS_EVENTS (1000000), SW_BENCH_RSS_CHUNK (100000).
set -u
: "${SW_SRCDIR:?run through make bench}" "${SW_BUILDDIR:?run through make bench}"
N=${SW_BENCH_RSS_EVENTS:-1000000}
C=${SW_BENCH_RSS_CHUNK:-100000}
for v in N C; do
	case ${!v} in '' | 0 | *[!0-9]*) echo "bench: collector-rss: $v='${!v}' is not a positive whole number" >&2; exit 2 ;; esac
done
[ "$C" -le "$N" ] || C=$N
. "$SW_SRCDIR/tests/integration/lib.sh"
. "$SW_SRCDIR/bench/lib.sh"
LOADPUB=$SW_BUILDDIR/bench/load_pub
[ -x "$LOADPUB" ] || fail "$LOADPUB not built (make)"

start_broker
write_collector_conf
sed -i 's/^level = info/level = notice/' "$T_DIR/slipwatch.conf"
start_collector

# journaled: rows in the journal (seq is AUTOINCREMENT and nothing else
# writes it here, so max(seq) is the count, read without a scan).
journaled() { sqlite3 "$T_DIR/store.db" 'SELECT coalesce(max(seq), 0) FROM journal' 2>/dev/null || echo 0; }
# status KEY: a field of the collector's /proc status, in kB.
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$COLLECTOR_PID/status"; }

echo "bench collector-rss: $N events in chunks of $C"
echo "  events   VmRSS kB  RssAnon kB  RssFile kB  store MB  chunk s"
: >"$T_DIR/samples.txt"
done_n=0
t0=$SECONDS
while [ "$done_n" -lt "$N" ]; do
	c=$C
	[ $((done_n + c)) -le "$N" ] || c=$((N - done_n))
	a=$(date +%s.%N)
	"$LOADPUB" 127.0.0.1 "$BROKER_PORT" warehouse/rss/events rss --count "$c" --start "$done_n" \
		>"$T_DIR/pub.out" 2>"$T_DIR/pub.err" || fail "load_pub: $(cat "$T_DIR/pub.out" "$T_DIR/pub.err")"
	done_n=$((done_n + c))
	end=$((SECONDS + 600))
	while [ "$(journaled)" -lt "$done_n" ]; do
		kill -0 "$COLLECTOR_PID" 2>/dev/null || fail "the collector died: $(tail -n 5 "$T_DIR/collector.log")"
		[ $SECONDS -lt $end ] || fail "the collector journaled $(journaled) of $done_n in 10 minutes"
		sleep 0.2
	done
	rss=$(status VmRSS) anon=$(status RssAnon) file=$(status RssFile)
	mb=$(du -cm "$T_DIR"/store.db* | tail -n 1 | cut -f1)
	echo "$done_n $rss $anon $file" >>"$T_DIR/samples.txt"
	printf '  %7d  %9d  %10d  %10d  %8d  %7.1f\n' "$done_n" "$rss" "$anon" "$file" "$mb" \
		"$(awk -v a="$a" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
done
hwm=$(bench_vmhwm "$COLLECTOR_PID")
echo "  $N events in $((SECONDS - t0)) s"

# first/last/peak, and the growth from the 10% sample (the first at or
# after N/10 events) to the last, per 100k events.
awk -v n="$N" -v hwm="$hwm" '
	{ ev[NR] = $1; rss[NR] = $2; anon[NR] = $3; if ($2 > peak) peak = $2 }
	END {
		if (NR == 0) exit 1
		for (i = 1; i < NR; i++) if (ev[i] >= n / 10) break
		span = (ev[NR] - ev[i]) / 100000
		g = span > 0 ? (rss[NR] - rss[i]) / span : 0
		ga = span > 0 ? (anon[NR] - anon[i]) / span : 0
		flat = g < rss[i] / 100
		printf "  VmRSS first %d kB, last %d kB, peak %d kB (VmHWM %s kB)\n", rss[1], rss[NR], peak, hwm
		printf "  from %d events (%d kB) to %d (%d kB): %+.0f KiB per 100k events (heap: %+.0f KiB per 100k): %s\n",
			ev[i], rss[i], ev[NR], rss[NR], g, ga, flat ? "flat" : "NOT flat"
		for (h = 1; h < NR; h++) if (ev[h] >= n / 2) break
		span = (ev[NR] - ev[h]) / 100000
		if (span > 0)
			printf "  second half, from %d events (%d kB): %+.0f KiB per 100k events\n",
				ev[h], rss[h], (rss[NR] - rss[h]) / span
		printf "FIG %.0f %s\n", g, flat ? "flat" : "growing"
	}' "$T_DIR/samples.txt" >"$T_DIR/summary.txt" || fail "no samples"
grep -v '^FIG ' "$T_DIR/summary.txt"
read -r _ growth verdict < <(grep '^FIG ' "$T_DIR/summary.txt")
bench_result "collector RSS growth over $N events ($verdict)" "$growth" - "KiB/100k events" \
	"flat" "$hwm"
