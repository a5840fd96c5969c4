#!/usr/bin/env bash
# 325-poll-kill9: kill -9 the collector while it polls 300 DHL parcels at
# a fake courier and commits their answers in group commits that span
# loop iterations (collector/poll_apply.c: answers are queued and applied
# in one transaction once 64 wait, 20 ms passed or nothing is in flight),
# then restart it.  Answers received but not yet committed are lost with
# the process, never half applied: their parcels are still due and asked
# again, so in the end every parcel has its status and exactly the
# fixture's 6 courier events, none twice.  Nothing here depends on when the
# kill lands: the claims hold wherever it does (the fake server's request
# count at the kill, against the parcels stored then, is printed to show
# how many answers the kill caught in flight or queued).
. "$SW_SRCDIR/tests/integration/lib.sh"
N=${SW_POLL_KILL9_PARCELS:-300}

python3 "$SW_SRCDIR/tests/fakecourier/server.py" --port 0 --max-seconds 600 >"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake courier server did not start"
URL=http://127.0.0.1:$(head -n 1 "$T_DIR/fake.out")
export SW_TEST_DHL_KEY=dhl-test-key
served() { curl -s "$URL/_stats" | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin)["log"] if e["courier"] == "dhl" and e["kind"] == "track" and e["status"] == 200))'; }
db() { sqlite3 "$T_DIR/store.db" "$1"; }
# Answers take 0.2 s: several requests are in flight, and answers queued,
# whenever the kill lands.
curl -s -X POST -H 'Content-Type: application/json' -d '{"fault":"slow","delay":0.2,"courier":"dhl"}' "$URL/_control" >/dev/null

start_broker
# interval 1m: new parcels are spread over interval/10 (6 s), so the 300
# are asked within seconds; a parcel asked again later journals nothing
# new (the same events).
# A fixed instance: the restarted collector takes back at once the parcels
# the killed one had claimed (poll leases, doc/scale-out-collectors.md);
# under the default (HOSTNAME:PID) they would wait for poll_lease, 60 s.
write_collector_conf "[collector]
instance = solo
[courier dhl]
base_url = $URL/dhl/track
api_key_env = SW_TEST_DHL_KEY
interval = 1m
interval_near = 1m
interval_max = 2m
rate = 1000
burst = 200"
start_collector
for i in $(seq 1 "$N"); do
	printf '{"event_id":"s-%d","type":"order.shipped","occurred_at":"2026-11-24T03:30:00+05:30","warehouse_id":"wk","order_id":"K%d","courier":"dhl","tracking_number":"KL%08d"}\n' "$i" "$i" "$i"
done | publish_lines warehouse/wk/events
check "all $N parcels are stored" wait_for 60 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE courier = 'dhl'\")\" = $N ]"
check "polling is under way" wait_for 60 at_least served $((N / 4))
kill -KILL "$COLLECTOR_PID"
wait_exit "$COLLECTOR_PID" 10
at_kill=$(served)
stored=$(db "SELECT count(*) FROM parcels WHERE courier = 'dhl' AND status != 'pending'")
ok "collector killed: the courier had answered $at_kill requests, $stored parcels had their status in the store"
is "$(db "SELECT count(*) FROM parcels p WHERE p.status != 'pending' AND (SELECT count(*) FROM journal j WHERE j.source = 'courier:dhl' AND j.tracking_number = p.tracking_number) != 6")" 0 \
	"at the kill, every parcel with a status has all 6 of its events (no answer half applied)"

start_collector collector2 "started (slipwatch"
check "after the restart every parcel gets its status" wait_for 120 sh -c "[ \"\$(sqlite3 '$T_DIR/store.db' \"SELECT count(*) FROM parcels WHERE courier = 'dhl' AND status = 'in_transit'\")\" = $N ]"
is "$(db "SELECT count(*) FROM journal WHERE source = 'courier:dhl'")" $((N * 6)) "the journal holds each parcel's 6 courier events: $((N * 6))"
is "$(db "SELECT count(*) FROM (SELECT tracking_number FROM journal WHERE source = 'courier:dhl' GROUP BY tracking_number HAVING count(*) != 6)")" 0 \
	"no parcel has an event missing or twice"
ok "the courier answered $(served) requests in all"
done_testing
