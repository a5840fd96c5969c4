#!/usr/bin/env bash
# bench/email-send.sh - customer emails per second through the mailer
# (alerts/mail.c via bench/mail_bench) against a bare libcurl SMTP loop,
# both sending to one local SMTP sink (tests/tools/smtp_sink.py) in the
# same run.
#
# Each round runs, N messages each:
#   bare   a bare libcurl loop: one reused easy handle, one fixed pre-built
#          message (the bytes the mailer's dry run writes), no MIME, no
#          header building: the baseline
#   reuse  sw_mail_send on one struct sw_mail: one connection for all N
#   fresh  sw_mail_new/send/free per message: a connection per message,
#          to show what reuse buys
# and prints every round's rates and the client's CPU per message, then
# the medians and the median ratios reuse/bare and fresh/reuse, the
# mailer's peak RSS in reuse mode (the largest of the rounds) and a RESULT
# line (bench/lib.sh) for reuse against bare.
#
# The sink is Python (aiosmtpd, one core) started with --no-fsync
# --no-parse --no-store: it is the ceiling for every mode, so the rate
# ratios say how much the mailer slows the dialogue down against what this
# server can take, not against a real relay (which answers in milliseconds
# and fsyncs each message).  The CPU figures are the client's own cost.
#
# N: SW_BENCH_MAIL_N (default 2000); ROUNDS: SW_BENCH_MAIL_ROUNDS (3).
# Python: SW_PYTHON, else the first of python3 and /usr/bin/python3 that
# can import aiosmtpd.
set -u
: "${SW_BUILDDIR:?run through make bench}"
: "${SW_SRCDIR:?run through make bench}"
N=${SW_BENCH_MAIL_N:-2000}
ROUNDS=${SW_BENCH_MAIL_ROUNDS:-3}
BENCH=$SW_BUILDDIR/bench/mail_bench
. "$SW_SRCDIR/bench/lib.sh"
SINK=$SW_SRCDIR/tests/tools/smtp_sink.py
export LC_ALL=C TZ=UTC

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-mail-bench.XXXXXX") || exit 1
SINK_PID=
cleanup() {
	if [ -n "$SINK_PID" ]; then
		kill -TERM "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP


PY=
for p in "${SW_PYTHON:-}" python3 /usr/bin/python3; do
	[ -n "$p" ] && "$p" -c 'import aiosmtpd' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || fail "no python3 with aiosmtpd (Debian: python3-aiosmtpd)"
[ -x "$BENCH" ] || fail "$BENCH not built"

mkdir "$T/sink" || fail "mkdir"
"$PY" "$SINK" --port 0 --dir "$T/sink" --no-fsync --no-parse --no-store --max-seconds 3600 \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 200); do
	[ -s "$T/sink/ready" ] && break
	kill -0 "$SINK_PID" 2>/dev/null || fail "sink died: $(cat "$T/sink.log")"
	sleep 0.05
done
PORT=$(head -n 1 "$T/sink/ready" 2>/dev/null)
case $PORT in '' | *[!0-9]*) fail "sink: no port" ;; esac

# field NAME OUTPUT: the value after NAME in mail_bench's line.
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$2"; }

echo "bench email-send: $N messages per mode, $ROUNDS rounds, sink on port $PORT"
for i in $(seq "$ROUNDS"); do
	line=
	for mode in bare reuse fresh; do
		out=$(bench_run_rss "$T/rss-$mode-$i" "$BENCH" "$PORT" "$N" "$mode" 2>"$T/bench.err") ||
			fail "mail_bench $mode: $(cat "$T/bench.err")"
		s=$(field seconds "$out")
		c=$(field cpu_seconds "$out")
		k=$(field connections "$out")
		[ -n "$s" ] && [ -n "$c" ] || fail "no timing in: $out"
		line="$line $s $c $k"
	done
	echo "$line"
done >"$T/rounds.txt" || exit 1

awk -v n="$N" -v medians="$T/medians.txt" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
	k++
	br[k] = n / $1; bc[k] = $2 / n * 1e6
	rr[k] = n / $4; rc[k] = $5 / n * 1e6
	fr[k] = n / $7; fc[k] = $8 / n * 1e6
	q1[k] = rr[k] / br[k]; q2[k] = fr[k] / rr[k]
	printf "  round %d: bare %6.0f/s (%3.0f us cpu, %d conn)  reuse %6.0f/s (%3.0f us, %d conn)  fresh %6.0f/s (%3.0f us, %d conn)\n",
		k, br[k], bc[k], $3, rr[k], rc[k], $6, fr[k], fc[k], $9
}
END {
	printf "  median: bare libcurl %6.0f msgs/s (%3.0f us cpu/msg)  sw_mail reuse %6.0f msgs/s (%3.0f us)  sw_mail fresh %6.0f msgs/s (%3.0f us)\n",
		median(br, k), median(bc, k), median(rr, k), median(rc, k), median(fr, k), median(fc, k)
	printf "  ratio reuse/bare %.2f  fresh/reuse %.2f\n", median(q1, k), median(q2, k)
	printf "%.0f %.0f\n", median(rr, k), median(br, k) >medians
}' <"$T/rounds.txt"
rss=$(bench_rss_max "$T"/rss-reuse-*)
echo "  sw_mail reuse peak RSS: $rss kB"
read -r reuse bare <"$T/medians.txt" || fail "no medians"
bench_result "customer emails, reused connection, $N messages" "$reuse" "$bare" msgs/s ">= 0.9" "$rss"
