#!/usr/bin/env bash
# 145-two-collectors-poll: two collectors poll one store's DHL parcels by
# lease (lib/store_polllease.h).  Each has its own fake courier server, so
# the fakes' own request logs say who asked about what.  Parcels are
# polled every 30 days (simulated), so a poll round happens only when the
# test makes every parcel due (next_poll_at = 1 in the store); a round is
# over when every parcel is rescheduled and no lease is held.
#  - Two rounds with both running: per round, each parcel asked exactly once
#    in all (the two fakes' counts summed), split between the two.
#  - Round three: b stopped (its leases released), a alone with a slow
#    fake claims parcels; a is killed with kill -9 while it holds them; b
#    is started again.  b polls the others at once and a's only after its
#    lease ended (the store: polled at or after the lease's end, which the
#    simulated clock, at 20x, reaches in seconds); every parcel is polled
#    in the round and its 6 courier events are journaled once.
# Nothing depends on timing: every wait is for a state of the store.
. "$SW_SRCDIR/tests/integration/lib.sh"
N=${SW_TWO_POLL_PARCELS:-200}
SPEED=20
export SLIPWATCH_CLOCK="now*$SPEED@$(date +%s)"
export SW_TEST_DHL_KEY=dhl-test-key

# fake NAME: a fake courier server; sets URL_<NAME>.
fake() {
	python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 600 \
		>"$T_DIR/fake-$1.port" 2>"$T_DIR/fake-$1.log" &
	T_PIDS+=("$!")
	wait_for 10 test -s "$T_DIR/fake-$1.port" || bail "fake courier $1 did not start"
	eval "URL_$1=http://127.0.0.1:$(head -n 1 "$T_DIR/fake-$1.port")"
}
# asked NAME: "NUMBER COUNT" lines, every DHL number fake NAME was asked about.
asked() {
	local url="URL_$1"
	curl -s "${!url}/_stats" | python3 -c '
import json, sys
for n, c in sorted(json.load(sys.stdin)["couriers"]["dhl"]["numbers"].items()):
    print(n, c)'
}
db() { sqlite3 -cmd ".timeout 10000" "$T_DIR/store.db" "$1"; }
collector_conf() { # collector_conf NAME
	local url="URL_$1"
	write_collector_conf "protocol = v5
shared_group = slipwatch
[collector]
instance = $1
poll_lease = 60s
[simulation]
enabled = yes
[rrd]
dir = $T_DIR/rrd-$1
[courier dhl]
base_url = ${!url}/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 30d
interval_near = 30d
interval_max = 30d
not_found_max = 30d
timeout = 5s
rate = 1000
burst = 200"
	sed "s/^client_id = .*/client_id = slipwatch-test-$$-$1/" "$T_DIR/slipwatch.conf" >"$T_DIR/$1.conf"
}
run_collector() { # run_collector NAME LOG
	sw_spawn "$T_DIR/$2.log" "$COLLECTOR" -f -c "$T_DIR/$1.conf"
	eval "PID_$1=$SPAWNED"
	wait_for 15 grep -q "subscribed to\|started (slipwatch" "$T_DIR/$2.log" ||
		bail "collector $1 did not start: $(tail -n 5 "$T_DIR/$2.log")"
}
# round: makes every parcel due and waits until each is polled again and
# nothing is held.
round() {
	db "UPDATE poll_schedule SET next_poll_at = 1" || return 1
	wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T_DIR/store.db' \"SELECT count(*) FROM poll_schedule WHERE next_poll_at > 1000 AND lease_holder IS NULL\")\" = $N ]"
}
# per_round K: checks that every number was asked K times in all.
per_round() {
	join -a 1 -a 2 -e 0 -o 0,1.2,2.2 <(asked a) <(asked b) >"$T_DIR/asked.$1"
	is "$(wc -l <"$T_DIR/asked.$1")" "$N" "round $1: all $N parcels asked"
	is "$(awk -v k="$1" '$2 + $3 != k' "$T_DIR/asked.$1" | wc -l)" 0 \
		"round $1: each parcel asked by exactly one collector per round ($1 in all)"
}

fake a
fake b
start_broker
collector_conf a
collector_conf b
run_collector a a1
run_collector b b1
for i in $(seq 1 "$N"); do
	printf '{"event_id":"s-%d","type":"order.shipped","occurred_at":"2026-11-24T03:30:00+05:30","warehouse_id":"wp","order_id":"P%d","courier":"dhl","tracking_number":"PL%08d"}\n' "$i" "$i" "$i"
done | publish_lines warehouse/wp/events
check "all $N parcels are scheduled" wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T_DIR/store.db' \"SELECT count(*) FROM poll_schedule\")\" = $N ]"

for k in 1 2; do
	check "round $k: every parcel polled, nothing held" round
	per_round "$k"
	prev=${cur_a:-0}
	cur_a=$(awk '{s += $2} END {print s + 0}' "$T_DIR/asked.$k")
	ok "round $k: collector a asked about $((cur_a - prev)) parcels, b about $((N - cur_a + prev))"
done

# Round three: a alone, its fake slow, killed while it holds parcels.
kill -TERM "$PID_b"
wait_exit "$PID_b" 30
is "$(db "SELECT count(*) FROM poll_schedule WHERE lease_holder = 'b'")" 0 "b stopped cleanly: it holds nothing"
curl -s -X POST -H 'Content-Type: application/json' -d '{"fault":"slow","delay":1,"courier":"dhl","count":100000}' "$URL_a/_control" >/dev/null
asked b >"$T_DIR/b.before"
db "UPDATE poll_schedule SET next_poll_at = 1"
check "a claims due parcels" wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T_DIR/store.db' \"SELECT count(*) FROM poll_schedule WHERE lease_holder = 'a'\")\" -gt 0 ]"
kill -KILL "$PID_a"
wait_exit "$PID_a" 10
db "SELECT p.tracking_number, s.lease_until FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE s.lease_holder = 'a' ORDER BY 1" | tr '|' ' ' >"$T_DIR/held"
held=$(wc -l <"$T_DIR/held")
check "a held parcels when it was killed ($held)" test "$held" -gt 0
run_collector b b2
check "b polls every parcel, a's once its lease ended" wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 10000' '$T_DIR/store.db' \"SELECT count(*) FROM poll_schedule WHERE next_poll_at > 1000 AND lease_holder IS NULL\")\" = $N ]"
join -a 1 -e 0 -o 0,2.2 <(cut -d' ' -f1 "$T_DIR/held") <(join -a 1 -e 0 -o 0,1.2,2.2 <(asked b) "$T_DIR/b.before" | awk '{print $1, $2 - $3}') >"$T_DIR/held.b"
is "$(awk '$2 != 1' "$T_DIR/held.b" | wc -l)" 0 "b asked about each of a's $held parcels once"
early=0
while read -r tn until; do
	[ "$(db "SELECT s.last_polled_at >= $until FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '$tn'")" = 1 ] || early=$((early + 1))
done <"$T_DIR/held"
is "$early" 0 "none of a's parcels was polled before a's lease on it ended (store times, simulated)"
is "$(db "SELECT count(*) FROM parcels WHERE courier = 'dhl' AND status = 'in_transit'")" "$N" "every parcel has its status"
is "$(db "SELECT count(*) FROM (SELECT tracking_number FROM journal WHERE source = 'courier:dhl' GROUP BY tracking_number HAVING count(*) != 6)")" 0 \
	"each parcel's 6 courier events journaled once"
done_testing
