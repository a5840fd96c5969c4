#!/usr/bin/env bash
# bench/alerts-eval.sh - the alert engine's full evaluation pass (what
# slipwatch-alerts does at start) over N active parcels, and its memory per
# active parcel, against a bare read of the same rows (bench/eval_bench).
# N: SW_BENCH_EVAL_PARCELS (default 1000000).  Seeding the store (not
# timed) takes a while for a million parcels; the store is deleted after.
# Ends with eval_bench's peak RSS and RESULT lines (bench/lib.sh): the
# start-up pass (seconds, against the bare scan) and the engine's memory
# per active parcel.  The journal tail is bench/alerts-tail.sh's (a store
# of its own: SW_BENCH_TAIL_PARCELS=1000000 for a store this size).
set -u
: "${SW_BUILDDIR:?run through make bench}"
. "$(dirname "$0")/lib.sh"
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
bench_run_rss "$T/rss" "$SW_BUILDDIR/bench/eval_bench" "$T/store.db" >"$T/out"
rc=$?
cat "$T/out"
[ "$rc" -eq 0 ] || { echo "bench: eval_bench failed (exit $rc)" >&2; exit 1; }
rss=$(bench_rss_of "$T/rss")
echo "eval_bench peak RSS:       $rss kB"

# The figures, from eval_bench's lines.
pass=$(awk '/^evaluation pass/ { print $4 }' "$T/out")
bare=$(awk '/^bare scan/ { print $5 }' "$T/out")
perparcel=$(awk '/^RSS growth during pass/ { print $5 }' "$T/out")
[ -n "$pass" ] && [ -n "$bare" ] || { echo "bench: no timing in eval_bench's output" >&2; exit 1; }
bench_result "alert engine start-up pass, $N parcels" "$pass" "$bare" s "<= 1.1 (1M parcels in under 3 s)" "$rss"
[ -z "$perparcel" ] ||
	bench_result "alert engine memory per active parcel, $N parcels" "$perparcel" - B "< 1024" "$rss"
