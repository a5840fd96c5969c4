#!/usr/bin/env bash
# bench/alerts-tail.sh - the alert engine's journal tail: E journaled
# parcel.status events over P seeded on-time parcels, drained by the engine
# (sw_engine_tail until it reads nothing) against a bare read of the same
# journal rows (bench/tail_bench; both in one process, the bare read
# first).  E: SW_BENCH_TAIL_EVENTS (default 100000), P:
# SW_BENCH_TAIL_PARCELS (default 20000).  The goal: the tail keeps up with
# 1.5x the collector's ingest rate (bench/mqtt-ingest.sh).  The store is
# seeded with tests/tools/sw_seed (not timed) and deleted after.
set -u
: "${SW_BUILDDIR:?run through make bench}"
E=${SW_BENCH_TAIL_EVENTS:-100000}
P=${SW_BENCH_TAIL_PARCELS:-20000}
export LC_ALL=C TZ=UTC
T=$(mktemp -d "${TMPDIR:-/tmp}/sw-tail-bench.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

echo "== alert engine: journal tail, $E events over $P parcels"
echo "{\"op\":\"bulk\",\"n\":$P,\"courier\":\"dhl\",\"status\":\"in_transit\",\"event_at\":-600,\"deliver_by\":259200}" |
	"$SW_BUILDDIR/tests/tools/sw_seed" "$T/store.db" || exit 1
"$SW_BUILDDIR/bench/tail_bench" "$T/store.db" "$P" "$E" >"$T/out" || {
	cat "$T/out"
	exit 1
}
grep -v '^RESULT-TAIL ' "$T/out"
read -r _ rate bare rss < <(grep '^RESULT-TAIL ' "$T/out")
lib=$(dirname "$0")/lib.sh
if [ -f "$lib" ]; then
	. "$lib"
	bench_result "alert engine journal tail, $E events" "$rate" "$bare" events/s \
		">= 1.5x ingest" "$rss"
fi
