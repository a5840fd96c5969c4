#!/usr/bin/env bash
# bench/alerts-eval.sh - the alert engine's full evaluation pass (what
# slipwatch-alerts does at start) over N active parcels, and its memory per
# active parcel, against a bare read of the same rows (bench/eval_bench).
# Then the journal tail: SW_BENCH_TAIL_EVENTS (default 100000) events for
# random seeded parcels, drained by the engine against a bare journal read.
# N: SW_BENCH_EVAL_PARCELS (default 1000000).  Seeding the store (not
# timed) takes a while for a million parcels; the store is deleted after.
set -u
: "${SW_BUILDDIR:?run through make bench}"
N=${SW_BENCH_EVAL_PARCELS:-1000000}
export LC_ALL=C TZ=UTC
T=$(mktemp -d "${TMPDIR:-/tmp}/sw-eval-bench.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

echo "== alert engine: evaluation pass over $N active parcels"
start=$(date +%s)
echo "{\"op\":\"bulk\",\"n\":$N,\"courier\":\"dhl\",\"status\":\"in_transit\",\"event_at\":-600,\"deliver_by\":259200}" |
	"$SW_BUILDDIR/tests/tools/sw_seed" "$T/store.db" || exit 1
echo "seeded in $(($(date +%s) - start)) s ($(du -m "$T/store.db" | cut -f1) MB store)"
"$SW_BUILDDIR/bench/eval_bench" "$T/store.db"
