#!/usr/bin/env bash
# bench/dash-render.sh - how long slipwatch-dash --once takes to write a
# whole site (the issue's goal: 50 graphs in under 2 s), against the same
# graphs drawn by rrd_graph_v alone in the same run.
#
# The site: the shipped definitions (dashboards/*.dash) over RRD files of
# the metric catalogue filled with DAYS days of 60 s steps (every data
# source: counts, levels, quantiles with p10 < p50 < p90 < max, daily
# waves and noise from a fixed seed): WAREHOUSES warehouse files,
# COURIERS courier files, PROBES probe files, notify, oncall and
# collector.  With the defaults that is 7 overview + 5 notifications +
# 3 x 6 warehouse + 2 x 7 courier + 3 x 2 probe = 50 graphs, each for
# 5 ranges: 250 rrd_graph_v calls.  No store: the pages say it is not
# available (the tables of late parcels are not in the figure).
#
# The baseline: a first, untimed run of slipwatch-dash under
# LD_PRELOAD=bench/dash_argv.so records the arguments of every
# rrd_graph_v call; bench/dash_bare then makes exactly those calls in one
# process with nothing around them (images into a scratch directory).
# Each round times both as whole processes (start to exit, both load
# librrd, pango and fontconfig), slipwatch-dash first in odd rounds and
# the baseline first in even ones; the summary gives the medians and the
# median of the per-round ratios bare/slipwatch-dash (1 = no overhead).
# Filling the files is timed apart and left out.  The peak RSS is
# slipwatch-dash's in the first run (under the shim, recording); the
# timed runs are not wrapped.  Ends with a RESULT line (bench/lib.sh).
# WAREHOUSES: SW_BENCH_DASH_WAREHOUSES (3); COURIERS: SW_BENCH_DASH_COURIERS
# (2); PROBES: SW_BENCH_DASH_PROBES (3); DAYS: SW_BENCH_DASH_DAYS (31);
# ROUNDS: SW_BENCH_DASH_ROUNDS (5); SW_BENCH_DASH_PNG=1 draws PNG;
# SW_BENCH_KEEP=1 keeps the files, the recorded calls and the site (for perf).
set -u
: "${SW_BUILDDIR:?run through make bench}" "${SW_SRCDIR:?run through make bench}"
WAREHOUSES=${SW_BENCH_DASH_WAREHOUSES:-3}
COURIERS=${SW_BENCH_DASH_COURIERS:-2}
PROBES=${SW_BENCH_DASH_PROBES:-3}
DAYS=${SW_BENCH_DASH_DAYS:-31}
ROUNDS=${SW_BENCH_DASH_ROUNDS:-5}
PNG=${SW_BENCH_DASH_PNG:-}
DASH=$SW_BUILDDIR/dashboards/slipwatch-dash
BARE=$SW_BUILDDIR/bench/dash_bare
SHIM=$SW_BUILDDIR/bench/dash_argv.so
PUT=$SW_BUILDDIR/tests/tools/sw_rrdput
. "$SW_SRCDIR/bench/lib.sh"
STEP=60
export LC_ALL=C TZ=UTC

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-dash-bench.XXXXXX") || exit 1
trap 'if [ -n "${SW_BENCH_KEEP:-}" ]; then echo "  kept $T"; else rm -rf "$T"; fi' EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }
for p in "$DASH" "$BARE" "$SHIM" "$PUT"; do
	[ -x "$p" ] || fail "$p not built (make, and make tests/tools/sw_rrdput)"
done
command -v rrdtool >/dev/null || fail "rrdtool not found (Debian: rrdtool)"

END=$(($(date +%s) / STEP * STEP - STEP))
START=$((END - DAYS * 86400))
RRD=$T/rrd

# fill NAME SEED: the catalogue file NAME created by the project's writer
# at START, then every data source at every step to END, in batches of
# 1000 steps per rrdtool update.
fill() {
	local name=$1 seed=$2 file=$RRD/$1.rrd dss
	"$PUT" -s "$STEP" "$RRD" "$name" "$START" || fail "sw_rrdput $name"
	dss=$(rrdtool info "$file" | sed -n 's/^ds\[\([a-z0-9_]*\)\]\.type = "\([A-Z]*\)"$/\1=\2/p' | tr '\n' ' ')
	awk -v start="$START" -v end="$END" -v step="$STEP" -v seed="$seed" -v dss="$dss" '
	BEGIN {
		srand(seed); n = split(dss, d, " ")
		for (i = 1; i <= n; i++) { split(d[i], kv, "="); name[i] = kv[1]; type[i] = kv[2] }
		for (t = start + step; t <= end; t += step) {
			wave = 1 + 0.6 * sin(2 * 3.14159265 * (t % 86400) / 86400)
			line = t; p50 = 1800 * wave * (0.8 + 0.4 * rand())
			for (i = 1; i <= n; i++) {
				if (type[i] != "GAUGE") v = int(6 * wave * rand() + 0.5)   # a count per step
				else if (name[i] ~ /_p10$/) v = int(p50 / 2)
				else if (name[i] ~ /_p50$/) v = int(p50)
				else if (name[i] ~ /_p90$/) v = int(p50 * 2)
				else if (name[i] ~ /_max$/) v = int(p50 * 4)
				else v = int(40 * wave + 20 * rand())                      # a level
				line = line ":" v
			}
			print line
		}
	}' >"$T/values" || fail "awk"
	xargs -n 1000 rrdtool update "$file" -t "$(rrdtool info "$file" |
		sed -n 's/^ds\[\([a-z0-9_]*\)\]\.type.*/\1/p' | paste -sd:)" <"$T/values" ||
		fail "rrdtool update $name"
}

t0=$(now)
k=0
for i in $(seq "$WAREHOUSES"); do fill "warehouse/w$i" $((k += 1)); done
for i in $(seq "$COURIERS"); do fill "courier/c$i" $((k += 1)); done
for i in $(seq "$PROBES"); do fill "probe/p$i" $((k += 1)); done
for f in notify oncall collector; do fill "$f" $((k += 1)); done
t1=$(now)
nfiles=$((WAREHOUSES + COURIERS + PROBES + 3))
echo "bench dash-render: $nfiles RRD files, $DAYS days of ${STEP} s steps ($(du -sm "$RRD" | cut -f1) MB, filled in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s, not timed), $([ -n "$PNG" ] && echo PNG || echo SVG), $ROUNDS rounds, $(rrdtool --version | head -1 | cut -d' ' -f1-2)"

cat >"$T/dash.conf" <<CONF
[store]
path = $T/no-store.db
[log]
level = info
[rrd]
dir = $RRD
step = ${STEP}s
[dash]
out = $T/www/site
defs = $SW_SRCDIR/dashboards
title = Bench
timezone = UTC
CONF

# run_dash: one slipwatch-dash --once (under the shim, recording nothing,
# for the time inside rrd_graph_v); prints "SECONDS GRAPHS IMAGES
# SECONDS_IN_CALLS".
run_dash() {
	local a b out
	a=$(now)
	out=$(LD_PRELOAD=$SHIM "$DASH" -c "$T/dash.conf" --once ${PNG:+--png} 2>&1) ||
		fail "slipwatch-dash: $out"
	b=$(now)
	awk -v a="$a" -v b="$b" '
		/ site: / { match($0, /[0-9]+ graphs \([0-9]+ images/); split(substr($0, RSTART, RLENGTH), w, /[ (]+/) }
		/^dash_argv: / { s = $5 }
		END { printf "%.6f %s %s %s\n", b - a, w[1], w[3], s }' <<<"$out"
}
# run_bare: dash_bare over the recorded calls; prints "SECONDS CALLS SECONDS_IN_CALLS".
run_bare() {
	local a b out
	rm -rf "$T/bare" && mkdir -p "$T/bare"
	a=$(now)
	out=$("$BARE" "$T/argv" "$T/bare" 2>&1) || fail "dash_bare: $out"
	b=$(now)
	awk -v a="$a" -v b="$b" '/^graphs/ { printf "%.6f %s %s\n", b - a, $2, $6 }' <<<"$out"
}

# The calls, recorded (and the page cache warmed).
bench_run_rss "$T/rss" env SW_BENCH_ARGV_FILE="$T/argv" LD_PRELOAD="$SHIM" \
	"$DASH" -c "$T/dash.conf" --once ${PNG:+--png} >"$T/first.log" 2>&1 || fail "slipwatch-dash: $(cat "$T/first.log")"
calls=$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().count(b"\0\0"))' "$T/argv")
grep -q ' site: ' "$T/first.log" || fail "slipwatch-dash said nothing about the site: $(cat "$T/first.log")"
echo "  $(grep -o '[0-9]* pages, [0-9]* graphs ([^)]*)' "$T/first.log"); $calls rrd_graph_v calls recorded"

for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		read -r ds dg di dc <<<"$(run_dash)"
		read -r bs bc bi <<<"$(run_bare)"
	else
		read -r bs bc bi <<<"$(run_bare)"
		read -r ds dg di dc <<<"$(run_dash)"
	fi
	[ "$bc" = "$calls" ] || fail "dash_bare made $bc calls, $calls recorded"
	[ -n "${dc:-}" ] || fail "slipwatch-dash: no figures"
	echo "$ds $dg $di $bs $bc $bi $dc"
done >"$T/rounds.txt" || exit 1

awk -v g="$((calls / 5))" -v medians="$T/medians.txt" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
	k++; d[k] = $1; b[k] = $4; ra[k] = $4 / $1; own[k] = $1 - $7
	printf "  round %d: slipwatch-dash %.3f s (%s graphs x ranges, %s images; %.3f s in rrd_graph_v, %.3f s the rest)  bare %.3f s (%.3f s in rrd_graph_v)  ratio %.2f\n",
		k, $1, $2, $3, $7, own[k], $4, $6, ra[k]
}
END {
	printf "  median: slipwatch-dash --once %.3f s for %d graphs x 5 ranges (%.1f ms per image; all but %.3f s inside rrd_graph_v)  bare rrd_graph_v %.3f s  ratio bare/slipwatch-dash %.2f\n",
		median(d, k), g, 1000 * median(d, k) / (5 * g), median(own, k), median(b, k), median(ra, k)
	printf "%.3f %.3f\n", median(d, k), median(b, k) >medians
}' <"$T/rounds.txt"
rss=$(bench_rss_of "$T/rss")
echo "  slipwatch-dash peak RSS: $rss kB"
read -r dash bare <"$T/medians.txt" || fail "no medians"
bench_result "dashboard site, $((calls / 5)) graphs x 5 ranges" "$dash" "$bare" s "under 2 s for 50 graphs" "$rss"
