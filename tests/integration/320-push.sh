#!/usr/bin/env bash
# 320-push: tracking webhooks into the real collector ([push NAME],
# collector/push.c).  A sender written here in Python signs the documented
# payloads (tests/data/push/) as AfterShip (base64 HMAC-SHA256 in
# aftership-hmac-sha256) and EasyPost (X-Hmac-Signature:
# hmac-sha256-hex=...) do.  A valid push is journaled once, also when sent
# twice (200 both times); a bad or missing signature (401), an oversized
# body (413, with and without Content-Length) and a malformed one (400) are
# refused and change nothing (journal and parcels compared whole); an
# unknown parcel is answered 200 and changes nothing; a store that cannot
# take the update (its write lock held elsewhere) gives 500 and changes
# nothing, and the sender's retry is journaled.  A pushed parcel's
# next poll is poll_interval_while_pushing ahead; after a reload with TLS
# (a throwaway certificate) and a short push_silence, pushes arrive over
# HTTPS and the parcel is due again at the courier's normal interval.
# Every wait is for a state (the store's, the log's), never a duration.
. "$SW_SRCDIR/tests/integration/lib.sh"

DATA=$SW_SRCDIR/tests/data/push
PUSH_PORT=$(free_port)
CLOSED=$(free_port) # the couriers' APIs: nobody listens (polls fail, change nothing)
AS_SECRET=as-webhook-secret-0123456789abcdef
EP_SECRET=ep-webhook-secret-0123456789
printf '%s\n' "$AS_SECRET" >"$T_DIR/as.secret"
chmod 600 "$T_DIR/as.secret"
export SW_TEST_EP_SECRET=$EP_SECRET SW_TEST_KEY=test-key

# send.py KIND URL SECRET FILE [MODE] [CAFILE]: posts FILE signed as KIND
# with SECRET and prints the HTTP status.  MODE: good, badsig (one digit
# changed), nosig, chunked (no Content-Length), get.
cat >"$T_DIR/send.py" <<'PY'
import base64, hashlib, hmac, http.client, ssl, sys, unicodedata, urllib.parse
kind, url, secret, path = sys.argv[1:5]
mode = sys.argv[5] if len(sys.argv) > 5 else "good"
cafile = sys.argv[6] if len(sys.argv) > 6 else None
body = open(path, "rb").read()
key = unicodedata.normalize("NFKD", secret).encode() if kind == "easypost" else secret.encode()
mac = hmac.new(key, body, hashlib.sha256).digest()
if kind == "aftership":
    name, sig = "aftership-hmac-sha256", base64.b64encode(mac).decode()
else:
    name, sig = "X-Hmac-Signature", "hmac-sha256-hex=" + mac.hex()
if mode == "badsig":
    sig = sig[:-3] + ("A" if sig[-3] != "A" else "B") + sig[-2:]
u = urllib.parse.urlsplit(url)
if u.scheme == "https":
    c = http.client.HTTPSConnection(u.hostname, u.port, timeout=30,
                                    context=ssl.create_default_context(cafile=cafile))
else:
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
h = {"Content-Type": "application/json"}
if mode != "nosig":
    h[name] = sig
if mode == "get":
    c.request("GET", u.path, headers=h)
elif mode == "chunked":
    c.request("POST", u.path, body=iter([body[i:i + 1000] for i in range(0, len(body), 1000)]),
              headers=h, encode_chunked=True)
else:
    c.request("POST", u.path, body=body, headers=h)
r = c.getresponse()
r.read()
print(r.status)
PY
send() { python3 "$T_DIR/send.py" "$@" 2>>"$T_DIR/send.err" || echo "no answer"; }

push_conf() { # push_conf SILENCE [TLS-LINES]
	# interval 10d: new parcels are first polled within a day (interval/10),
	# so no poll of them is in flight while the test pushes (its answer
	# would move the schedule the push set).
	write_collector_conf "[courier aftership]
base_url = http://127.0.0.1:$CLOSED/tracking/2024-04
api_key_env = SW_TEST_KEY
interval = 10d
interval_max = 20d
not_found_max = 20d
[courier ep]
adapter = dhl
base_url = http://127.0.0.1:$CLOSED/track
api_key_env = SW_TEST_KEY
interval = 10d
interval_max = 20d
not_found_max = 20d
[push]
listen = 127.0.0.1:$PUSH_PORT
max_body = 8k
${2:-}
[push as]
kind = aftership
courier = aftership
secret_file = $T_DIR/as.secret
poll_interval_while_pushing = 30d
push_silence = $1
[push ep]
kind = easypost
courier = ep
secret_env = SW_TEST_EP_SECRET
path = /hooks/easypost
poll_interval_while_pushing = 30d"
}
start_broker
push_conf 2h
check "slipwatch-collector -t accepts the [push] sections" "$COLLECTOR" -t -c "$T_DIR/slipwatch.conf"
start_collector
contains "$(cat "$T_DIR/collector.log")" "taking webhooks on http://127.0.0.1:$PUSH_PORT/" "the listener is announced"

ship() { # ship ORDER COURIER TRACKING
	printf '{"event_id":"s-%s","type":"order.shipped","occurred_at":"2026-11-24T03:30:00+05:30","warehouse_id":"wh9","order_id":"%s","courier":"%s","tracking_number":"%s"}\n' \
		"$3" "$1" "$2" "$3"
}
{
	ship O1 aftership 9876543210 # the AfterShip fixture's tracking number
	ship O2 ep EZ4000000004      # the EasyPost fixture's tracking code
} | publish_lines warehouse/wh9/events
collector_caught_up || bail "the collector did not take the shipments"

AS=http://127.0.0.1:$PUSH_PORT/push/as
EP=http://127.0.0.1:$PUSH_PORT/hooks/easypost
db() { sqlite3 "$T_DIR/store.db" "$1"; }
pushed() { db "SELECT count(*) FROM journal WHERE source = 'courier:$1'"; }
# The state a refused request must leave alone: every parcel and journal row.
# (Only the pushed parcel's schedule: the others may be polled meanwhile,
# and a failed poll moves a schedule, never a parcel.)
# A query that fails gives a text no other snapshot equals.
state() {
	sqlite3 -bail "$T_DIR/store.db" "SELECT * FROM parcels ORDER BY id; SELECT s.* FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '9876543210'; SELECT 'journal', count(*), max(rowid) FROM journal" ||
		echo "sqlite3 failed $RANDOM$RANDOM"
}

# --- AfterShip ----------------------------------------------------------------
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json")" 200 "a signed AfterShip push is taken (200)"
is "$(pushed aftership)" 5 "its 5 checkpoints are journaled"
is "$(db "SELECT status FROM parcels WHERE tracking_number = '9876543210'")" in_transit "the parcel is in transit"
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json")" 200 "the same push again is answered 200"
is "$(pushed aftership)" 5 "and journals nothing twice"
# (the engine jitters a schedule by +-10 %: 30d is at least 27d)
is "$(db "SELECT next_poll_at > strftime('%s','now') + 26 * 86400 FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '9876543210'")" 1 \
	"the pushed parcel's next poll is poll_interval_while_pushing (30d) ahead"

before=$(state)
contains "$before" "journal|" "the store's state can be read"
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json" badsig)" 401 "a wrong signature is refused (401)"
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json" nosig)" 401 "a missing signature is refused (401)"
is "$(send aftership "$AS" "wrong-secret" "$DATA/aftership_tracking_update.json")" 401 "a body signed with another secret is refused (401)"
is "$(send easypost "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json")" 401 "EasyPost's signature on the AfterShip hook is refused (401)"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["msg"]["note"] = "x" * 9000
json.dump(d, open(sys.argv[2], "w"))' "$DATA/aftership_tracking_update.json" "$T_DIR/big.json"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/big.json")" 413 "a body over max_body is refused (413)"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/big.json" chunked)" 413 "also without Content-Length (413)"
printf '{"event":"tracking_update","msg":{"tracking_number":"9876543210"' >"$T_DIR/cut.json"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/cut.json")" 400 "a truncated body is refused (400)"
printf '{"event":"tracking_update","msg":{"tracking_number":"9876543210","tag":"Delivered","checkpoints":"no"}}' >"$T_DIR/shape.json"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/shape.json")" 400 "a body of the wrong shape is refused (400)"
is "$(send aftership "http://127.0.0.1:$PUSH_PORT/push/nope" "$AS_SECRET" "$DATA/aftership_tracking_update.json")" 404 "no webhook at another path (404)"
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_tracking_update.json" get)" 405 "GET is refused (405)"
is "$(state)" "$before" "nothing refused changed the journal, the parcels or their schedules"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["msg"]["tracking_number"] = "0000000000"; d["msg"]["id"] = "nope"
json.dump(d, open(sys.argv[2], "w"))' "$DATA/aftership_tracking_update.json" "$T_DIR/unknown.json"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/unknown.json")" 200 "a parcel we do not know is answered 200 (no retries)"
is "$(send aftership "$AS" "$AS_SECRET" "$DATA/aftership_pending_time.json")" 200 "an event without a tracking update is answered 200"
is "$(state)" "$before" "and neither changed anything"
# The store cannot take it (another process holds its write lock past the
# busy timeout): 500, so that the sender retries, and nothing changes; the
# retry once the lock is gone is journaled.
python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); c = dict(d["msg"]["checkpoints"][-1])
c["checkpoint_time"] = "2025-08-06T18:00:00+02:00"; c["message"] = "Arrived at the delivery depot"
d["msg"]["checkpoints"].append(c)
json.dump(d, open(sys.argv[2], "w"))' "$DATA/aftership_tracking_update.json" "$T_DIR/newer.json"
python3 -c 'import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
db.execute("ROLLBACK")' "$T_DIR/store.db" "$T_DIR/locked" "$T_DIR/release" &
LOCKER=$!
T_PIDS+=("$LOCKER")
wait_for 15 test -e "$T_DIR/locked" || bail "could not lock the store"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/newer.json")" 500 "the store locked: answered 500 (the sender retries)"
touch "$T_DIR/release"
wait_exit "$LOCKER" 15
is "$(state)" "$before" "the failed store changed nothing"
is "$(send aftership "$AS" "$AS_SECRET" "$T_DIR/newer.json")" 200 "the retry is taken (200)"
is "$(pushed aftership)" 6 "and journals only its one new checkpoint"
contains "$(cat "$T_DIR/collector.log")" "push as: cannot store a pushed update" "the store failure is logged"
contains "$(cat "$T_DIR/collector.log")" "push as: refused: aftership-hmac-sha256 does not match the body" "a bad signature is logged"
if grep -q -- "$AS_SECRET" "$T_DIR/collector.log"; then not_ok "the secret is never logged"; else ok "the secret is never logged"; fi

# --- EasyPost -----------------------------------------------------------------
is "$(send easypost "$EP" "$EP_SECRET" "$DATA/easypost_tracker_updated.json")" 200 "a signed EasyPost push is taken (200)"
is "$(pushed ep)" 4 "its 4 tracking details are journaled"
is "$(db "SELECT status FROM parcels WHERE tracking_number = 'EZ4000000004'")" delivered "the parcel is delivered"
is "$(db "SELECT count(*) FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = 'EZ4000000004'")" 0 "a delivered parcel is no longer polled"
is "$(send easypost "$EP" "$EP_SECRET" "$DATA/easypost_tracker_updated.json")" 200 "the same EasyPost push again is answered 200"
is "$(pushed ep)" 4 "and journals nothing twice"
before=$(state)
is "$(send easypost "$EP" "$EP_SECRET" "$DATA/easypost_tracker_updated.json" badsig)" 401 "a wrong EasyPost signature is refused (401)"
is "$(send easypost "$EP" "$EP_SECRET" "$T_DIR/cut.json")" 400 "a body that is no Event is refused (400)"
is "$(send easypost "$EP" "$EP_SECRET" "$DATA/easypost_batch_updated.json")" 200 "batch.updated is answered 200"
is "$(state)" "$before" "and none of them changed anything"

# --- reload: TLS, and polling back when pushes stop ---------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" \
	-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$T_DIR/openssl.log" ||
	bail "openssl could not make a certificate: $(cat "$T_DIR/openssl.log")"
push_conf 1s "tls_cert = $T_DIR/cert.pem
tls_key = $T_DIR/key.pem"
kill -HUP "$COLLECTOR_PID"
check "after SIGHUP the listener takes HTTPS" wait_for 15 grep -q "taking webhooks on https://127.0.0.1:$PUSH_PORT/" "$T_DIR/collector.log"
HTTPS=https://127.0.0.1:$PUSH_PORT
is "$(send easypost "$HTTPS/hooks/easypost" "$EP_SECRET" "$DATA/easypost_tracker_updated.json" good "$T_DIR/cert.pem")" 200 "a push over TLS is taken (200)"
is "$(pushed ep)" 4 "and is still journaled once"
is "$(send easypost "$EP" "$EP_SECRET" "$DATA/easypost_tracker_updated.json")" "no answer" "plain HTTP gets no answer from the TLS listener"
check "with push_silence 1s, polling of the AfterShip parcels resumes" \
	wait_for 30 grep -q "courier aftership: no push for 1 s: 1 parcels polled normally again" "$T_DIR/collector.log"
is "$(db "SELECT next_poll_at <= strftime('%s','now') + 10 * 86400 FROM poll_schedule s JOIN parcels p ON p.id = s.parcel_ref WHERE p.tracking_number = '9876543210'")" 1 \
	"the parcel is due again within the courier's interval (10d)"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
kill -TERM "$COLLECTOR_PID"
wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
