#!/usr/bin/env bash
# bench/courier-poll.sh - tracking lookups per second through the courier
# poll engine (collector/poll.c via bench/poll_bench) against curl_bare, a
# bare libcurl multi client doing the same lookups (same URLs, headers,
# concurrency, keep-alive), both against one fake courier server
# (tests/fakecourier/server.py) in the same run.
#
# Each round runs the bare client, then the engine on a fresh store of N
# parcels due once; prints every round's rates, then the median rates and
# the median of the per-round ratios engine/bare, the engine's peak RSS
# (the largest of the rounds) and a RESULT line (bench/lib.sh).
#
# The fake server is Python (ThreadingHTTPServer, one core under the GIL):
# it is the ceiling for both clients, so the ratio says how much the
# engine's own work (group-committed store transactions, journaling, parsing)
# costs relative to what that server can answer, not relative to a real
# courier API.  The server is started with TCP_NODELAY on its sockets
# (Handler.disable_nagle_algorithm, set from here without touching
# server.py): it writes headers and body in two sends, and with Nagle on
# the body waits for the client's delayed ACK, 40 ms per request, which
# caps any client at about 25 requests/s per connection.
# SW_BENCH_POLL_NAGLE=1 runs the server as it is, to see that.
#
# N: SW_BENCH_POLL_N (default 2000); CONC: SW_BENCH_POLL_CONC (8);
# COURIER: SW_BENCH_POLL_COURIER (dhl: one number per GET; fedex: POSTs of
# 30 numbers after one token request); ROUNDS: SW_BENCH_POLL_ROUNDS (3).
set -u
: "${SW_BUILDDIR:?run through make bench}"
: "${SW_SRCDIR:?run through make bench}"
N=${SW_BENCH_POLL_N:-2000}
CONC=${SW_BENCH_POLL_CONC:-8}
COURIER=${SW_BENCH_POLL_COURIER:-dhl}
ROUNDS=${SW_BENCH_POLL_ROUNDS:-3}
NAGLE=${SW_BENCH_POLL_NAGLE:-0}
ENGINE=$SW_BUILDDIR/bench/poll_bench
. "$SW_SRCDIR/bench/lib.sh"
BARE=$SW_BUILDDIR/bench/curl_bare
SERVER=$SW_SRCDIR/tests/fakecourier/server.py
export LC_ALL=C TZ=UTC

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-poll-bench.XXXXXX") || exit 1
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP


command -v python3 >/dev/null || fail "python3 not found"
case $COURIER in dhl | fedex) ;; *) fail "SW_BENCH_POLL_COURIER: dhl or fedex, not '$COURIER'" ;; esac

if [ "$NAGLE" = 1 ]; then
	python3 "$SERVER" --port 0 --max-seconds 1800 >"$T/server.out" 2>"$T/server.log" &
else
	python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import server
server.Handler.disable_nagle_algorithm = True
sys.argv = sys.argv[1:]
sys.exit(server.main())' "$(dirname "$SERVER")" --port 0 --max-seconds 1800 \
		>"$T/server.out" 2>"$T/server.log" &
fi
SERVER_PID=$!
for _ in $(seq 100); do
	[ -s "$T/server.out" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || fail "fake server died: $(cat "$T/server.log")"
	sleep 0.05
done
PORT=$(head -n 1 "$T/server.out")
case $PORT in '' | *[!0-9]*) fail "fake server: no port" ;; esac

# seconds_of OUTPUT: the S of "lookups N seconds S".
seconds_of() { awk '/^lookups/ { print $4 }' <<<"$1"; }

echo "bench courier-poll: $N $COURIER lookups, concurrency $CONC, $ROUNDS rounds," \
	"fake server on port $PORT$([ "$NAGLE" = 1 ] && echo ' (Nagle on)')"
for i in $(seq "$ROUNDS"); do
	out=$("$BARE" "$PORT" "$N" "$CONC" "$COURIER" 2>"$T/bare.err") ||
		fail "curl_bare: $(cat "$T/bare.err")"
	b=$(seconds_of "$out")
	mkdir "$T/r$i" || fail "mkdir"
	out=$(bench_run_rss "$T/rss$i" "$ENGINE" "$T/r$i" "$PORT" "$N" "$CONC" "$COURIER" 2>"$T/engine.err") ||
		fail "poll_bench: $(cat "$T/engine.err")"
	e=$(seconds_of "$out")
	rm -rf "${T:?}/r$i"
	[ -n "$b" ] && [ -n "$e" ] || fail "no timing in the output"
	echo "$b $e"
done >"$T/rounds.txt" || exit 1

awk -v n="$N" -v medians="$T/medians.txt" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
	k++; br[k] = n / $1; er[k] = n / $2; ra[k] = $1 / $2
	printf "  round %d: bare %7.0f lookups/s  engine %7.0f lookups/s  ratio %.2f\n", k, br[k], er[k], ra[k]
}
END {
	printf "  median: bare curl multi %7.0f lookups/s  poll engine %7.0f lookups/s  ratio engine/bare %.2f\n",
		median(br, k), median(er, k), median(ra, k)
	printf "%.0f %.0f\n", median(er, k), median(br, k) >medians
}' <"$T/rounds.txt"
rss=$(bench_rss_max "$T"/rss*)
echo "  poll engine peak RSS: $rss kB"
read -r eng bare <"$T/medians.txt" || fail "no medians"
bench_result "courier lookups, $COURIER, $N parcels" "$eng" "$bare" lookups/s ">= 0.8" "$rss"
