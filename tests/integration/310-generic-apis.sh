#!/usr/bin/env bash
# 310-generic-apis: the real slipwatch-collector polls USPS v3, Delhivery
# and EasyPost through the generic adapter, configured with the three
# example blocks of doc/couriers.md as they are written there (only the API
# hosts replaced by the fake, tests/fakecourier/generic_apis.py, which
# speaks each API's documented format), plus two small sections for the
# OAuth form and login token flows.  Parcels get their canonical status
# (statuses from field combinations, a Delhivery batch matched back by a
# nested selector, the ETA dropped after a return to origin); then every
# token is expired on the fake and each token flow is seen, in the fake's
# own request log, to fetch exactly one new token and go on polling every
# active parcel with it.  A truncated answer changes no parcel; refused
# credentials are logged and change nothing until they are accepted again.
# No timing is asserted: every wait is for a state.
. "$SW_SRCDIR/tests/integration/lib.sh"

python3 "$SW_SRCDIR/tests/fakecourier/generic_apis.py" --port 0 --max-seconds 300 \
	>"$T_DIR/fake.out" 2>"$T_DIR/fake.log" &
T_PIDS+=("$!")
wait_for 10 test -s "$T_DIR/fake.out" || bail "fake API server did not start"
URL=http://127.0.0.1:$(head -n 1 "$T_DIR/fake.out")
ctl() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$URL/_control" >/dev/null; }
export USPS_CLIENT_ID=usps-id USPS_CLIENT_SECRET=usps-secret DELHIVERY_TOKEN=dl-token \
	EASYPOST_API_KEY=ep-key SWT_ACME_ID=acme-id SWT_ACME_SECRET=acme-secret

# example NAME: the documented block of NAME, hosts pointed at the fake.
example() {
	awk -v m="<!-- generic-example: $1 -->" '
		$0 == m { on = 1; next }
		on == 1 && /^```ini$/ { on = 2; next }
		on == 2 && /^```$/ { exit }
		on == 2 { print }' "$SW_SRCDIR/doc/couriers.md" |
		sed -e "s#https://apis.usps.com#$URL/usps#g" \
			-e "s#https://track.delhivery.com#$URL/delhivery#g" \
			-e "s#https://api.easypost.com#$URL/easypost#g"
}
for c in usps delhivery easypost; do
	[ -n "$(example $c)" ] || bail "no example '$c' in doc/couriers.md"
done
FAST="interval = 2s
interval_near = 2s
interval_max = 4s
backoff_min = 2s
backoff_max = 4s
rate = 50
burst = 10"

start_broker
write_collector_conf "$(example usps)
$FAST
$(example delhivery)
$FAST
$(example easypost)
$FAST
[courier acmeform]
adapter = generic
auth = oauth
auth_url = $URL/acmeform/oauth
api_key_env = SWT_ACME_ID
api_secret_env = SWT_ACME_SECRET
url = $URL/acmeform/track?awb={tracking}
path_shipment = result.parcels[awb={tracking}]
path_status = state.code
status_map = OFD=out_for_delivery
$FAST
[courier acmelogin]
adapter = generic
auth = login
auth_url = $URL/acmelogin/login
username = ops@example.com
password_env = SWT_ACME_SECRET
token_path = token
url = $URL/acmelogin/track?awb={tracking}
header_1 = Authorization: Bearer {token}
path_shipment = result.parcels[awb={tracking}]
path_status = state.code
status_map = OFD=out_for_delivery
$FAST"
start_collector

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ship() { # ship ORDER COURIER TRACKING
	printf '{"event_id":"s-%s","type":"order.shipped","occurred_at":"'"$NOW"'","warehouse_id":"wh9","order_id":"%s","courier":"%s","tracking_number":"%s"}\n' \
		"$3" "$1" "$2" "$3"
}
{
	ship U1 usps 9400100000000000000001      # delivered
	ship U2 usps 9400100000000000000002      # return to sender -> returning
	ship U3 usps 9400100000000000000009      # 404: not found
	ship D1 delhivery 1490000000001          # UD + In Transit
	ship D2 delhivery 1490000000002          # RT + In Transit -> returning
	ship D3 delhivery 1490000000003          # RT + RTO -> returned
	ship D4 delhivery 1490000000004          # DL + Delivered
	ship D5 delhivery 1490000000005          # UD + Pending + NDR code
	ship D6 delhivery 1490000000099          # left out of the answer
	ship E2 easypost EZ2000000002            # in_transit
	ship E4 easypost EZ4000000004            # delivered
	ship E5 easypost EZ5000000005            # return_to_sender
	ship F1 acmeform AF0000000001            # out for delivery
	ship L1 acmelogin AL0000000001           # out for delivery
} | publish_lines warehouse/wh9/events

sql() { sqlite3 "$T_DIR/store.db" "$@"; }
status_of() { sql "SELECT status FROM parcels WHERE tracking_number='$1'"; }
has_status() { [ "$(status_of "$1")" = "$2" ]; }
# fake EXPR: a Python expression over the fake's own request log L;
# after(api, t, kind="track", status=ANY, number=None): its entries after t.
fake() {
	curl -s "$URL/_stats" | python3 -c '
import json, sys
S = json.load(sys.stdin)
L = S["log"]
ANY = object()
def after(api, t, kind="track", status=ANY, number=None):
    return [e for e in L if e["api"] == api and e["kind"] == kind and e["t"] > t
            and (status is ANY or e["status"] == status)
            and (number is None or number in e["numbers"])]
print(eval(sys.argv[1]))' "$1"
}
fake_is() { [ "$(fake "$1")" = "$2" ]; } # fake_is EXPR WANT (for wait_for)

while read -r tn want; do
	check "$tn becomes $want" wait_for 60 has_status "$tn" "$want"
done <<'EOF'
9400100000000000000001 delivered
9400100000000000000002 returning
1490000000001 in_transit
1490000000002 returning
1490000000003 returned
1490000000004 delivered
1490000000005 attempt_fail
EZ2000000002 in_transit
EZ4000000004 delivered
EZ5000000005 returning
AF0000000001 out_for_delivery
AL0000000001 out_for_delivery
EOF
is "$(status_of 9400100000000000000009)" pending "a number USPS answers 404 for stays pending"
is "$(status_of 1490000000099)" pending "a waybill Delhivery leaves out stays pending"
# How many go together depends on how the shipments' MQTT bursts were cut
# (timing); what holds is that due waybills share requests, within batch_max.
dl_max=$(fake "max(len(e['numbers']) for e in after('delhivery', -1))")
check "the Delhivery waybills went in batches ($dl_max in the largest request, at most 50)" \
	test "$dl_max" -ge 2 -a "$dl_max" -le 50
is "$(sql "SELECT eta_date FROM parcels WHERE tracking_number='1490000000001'")" 2024-09-24 \
	"Delhivery's ETA is kept as written"
is "$(sql "SELECT coalesce(eta_date, '-') FROM parcels WHERE tracking_number='1490000000003'")" - \
	"no ETA after the return to origin (eta_unless)"
is "$(sql "SELECT count(*) FROM journal WHERE source='courier:delhivery' AND tracking_number='1490000000001'")" 3 \
	"the in-transit waybill's 3 scans are journaled"

# A truncated Delhivery answer is a failure, never a change.
ctl '{"fault":"truncated","api":"delhivery","count":1}'
check "the fake truncated one Delhivery answer" wait_for 30 \
	fake_is "len([e for e in L if e['fault'] == 'truncated'])" 1
check "a Delhivery answer after the truncated one" wait_for 30 \
	fake_is "len(after('delhivery', [e['t'] for e in L if e['fault']][0], status=200)) > 0" True
is "$(status_of 1490000000001)" in_transit "the truncated answer changed no parcel"

# Every token expires at once: each token flow sees a 401, fetches one new
# token and polls its active parcels with it.
t_exp=$(fake "S['now']")
ctl '{"expire_tokens":true}'
first_token() { echo "(after('$1', $t_exp, kind='token') or [{'t': 1e18}])[0]['t']"; }
for api in usps acmeform acmelogin; do
	case $api in
	usps) nums="9400100000000000000002 9400100000000000000009" ;;
	acmeform) nums=AF0000000001 ;;
	acmelogin) nums=AL0000000001 ;;
	esac
	for n in $nums; do
		check "$api: $n is polled with the new token" wait_for 60 \
			fake_is "len([e for e in after('$api', $(first_token $api), number='$n') if e['status'] in (200, 404)]) > 0" True
	done
	is "$(fake "len(after('$api', $t_exp, status=401)) > 0")" True "$api: the expired token was refused"
	is "$(fake "len(after('$api', $t_exp, kind='token'))")" 1 "$api: exactly one new token"
	is "$(fake "[e['status'] for e in after('$api', $t_exp, kind='token')]")" "[200]" \
		"$api: the new token was granted"
done
is "$(status_of 9400100000000000000002)" returning "USPS parcel kept its status across the expiry"

# Credentials refused at the token endpoint: said in the log (with the
# envelope's message, without the secret), no parcel changes; once they
# are accepted again a token is granted and polling goes on.
ctl '{"reject_credentials":true,"expire_tokens":true}'
check "a refused USPS token request is logged" wait_for 60 \
	grep -q 'courier usps: credentials refused by the token endpoint: token request refused: HTTP 401: The client application identifier is invalid.' "$T_DIR/collector.log"
if grep -q "$USPS_CLIENT_SECRET" "$T_DIR/collector.log"; then
	not_ok "the client secret is not logged"
else
	ok "the client secret is not logged"
fi
is "$(status_of 9400100000000000000002)" returning "refused credentials change no parcel"
t_ok=$(fake "S['now']")
ctl '{"reject_credentials":false}'
check "USPS gets a token again once the credentials are accepted" wait_for 60 \
	fake_is "len(after('usps', $t_ok, kind='token', status=200)) > 0" True
check "...and polls with it" wait_for 60 \
	fake_is "len(after('usps', $t_ok, number='9400100000000000000002', status=200)) > 0" True
is "$(status_of AF0000000001)" out_for_delivery "acmeform parcel kept its status"
check "the collector is still running" kill -0 "$COLLECTOR_PID"
kill -TERM "$COLLECTOR_PID"
wait_exit "$COLLECTOR_PID" 15
is "$EXIT_STATUS" 0 "collector exits cleanly"
done_testing
