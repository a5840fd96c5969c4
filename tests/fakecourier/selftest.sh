#!/bin/sh
# selftest.sh - self-test of the fake courier server (server.py beside it).
#
# Starts the server on port 0 with a small scenario, drives every courier's
# happy path, token flow and every fault with curl, and prints TAP.  Exits
# non-zero if any check fails.  Needs python3 and curl; takes ~10 s.

HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fakecourier.XXXXXX") || exit 1
SRV_PID=
n=0
failed=0

cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ok COND_STATUS DESCRIPTION
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# check DESCRIPTION COMMAND...: one TAP line from a command's exit status
check() {
	d=$1
	shift
	"$@"
	tap $? "$d"
}

# req [curl args...] URL: response into $TMP/body and $TMP/hdr; sets $code
req() {
	code=$(curl -s -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$@")
}

# hdr NAME: value of a response header (last one), CR stripped
hdr() {
	grep -i "^$1:" "$TMP/hdr" | tail -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# jq_ok PYEXPR: true if the Python expression over d (the JSON body) holds
jq_ok() {
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1], "rb"))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/body" "$1" 2>/dev/null
}

# jget PYEXPR: print the Python expression over d (the JSON body)
jget() {
	"$PY" -c 'import json,sys
d = json.load(open(sys.argv[1], "rb"))
print(eval(sys.argv[2]))' "$TMP/body" "$1" 2>/dev/null
}

# checkj DESCRIPTION GOT WANT PYEXPR: GOT = WANT and PYEXPR holds
checkj() {
	r=1
	if [ "$2" = "$3" ] && jq_ok "$4"; then
		r=0
	fi
	tap $r "$1"
}

is_json() {
	"$PY" -c 'import json,sys; json.load(open(sys.argv[1], "rb"))' \
		"$TMP/body" 2>/dev/null
}

ctl() {
	curl -s -o /dev/null -w '%{http_code}' -d "$1" "$B/_control"
}

# start_server OUTFILE ARGS...: background server, sets SRV_PID and PORT
start_server() {
	out=$1
	shift
	"$PY" "$HERE/server.py" --port 0 "$@" >"$out" 2>"$TMP/stderr" &
	SRV_PID=$!
	i=0
	PORT=
	while [ $i -lt 50 ]; do
		PORT=$(head -n 1 "$out" 2>/dev/null)
		[ -n "$PORT" ] && break
		sleep 0.1
		i=$((i + 1))
	done
}

cat >"$TMP/scen.json" <<'EOF'
{"dhl": {"SEQ1": ["in_transit", "delivered"],
         "CUST1": {"status": 200, "body": {"shipments": []}}},
 "ups": {"1ZSEQ00001": ["not_found", {"fixture": "delivered"}]}}
EOF

# (--max-seconds is only a safety net against a stray server: generous, so a
# slow, loaded machine never sees it stop in the middle of the test)
start_server "$TMP/out" --scenario "$TMP/scen.json" --max-seconds 900
case $PORT in
'' | *[!0-9]*) PORT= ;;
esac
test -n "$PORT"
tap $? "server prints its port on the first line ($PORT)"
if [ -z "$PORT" ]; then
	cat "$TMP/stderr" >&2
	echo "1..$n"
	exit 1
fi
B=http://127.0.0.1:$PORT

# --- DHL ---------------------------------------------------------------
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
check "dhl: in transit 200 application/json" \
	test "$code:$(hdr Content-Type)" = "200:application/json"
check "dhl: number substituted, statusCode transit" \
	jq_ok 'd["shipments"][0]["id"] == "GM42" and d["shipments"][0]["status"]["statusCode"] == "transit"'
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=DL42"
check "dhl: DL prefix delivered" \
	jq_ok 'd["shipments"][0]["status"]["statusCode"] == "delivered"'
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=NF42"
check "dhl: NF prefix 404 problem+json" \
	test "$code:$(hdr Content-Type)" = "404:application/problem+json"
req "$B/dhl/track/shipments?trackingNumber=GM42"
check "dhl: no DHL-API-Key is 401" test "$code" = 401
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=SEQ1"
s1=$(jget 'd["shipments"][0]["status"]["statusCode"]')
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=SEQ1"
s2=$(jget 'd["shipments"][0]["status"]["statusCode"]')
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=SEQ1"
s3=$(jget 'd["shipments"][0]["status"]["statusCode"]')
check "dhl: scenario sequence advances ($s1 $s2 $s3)" \
	test "$s1 $s2 $s3" = "transit delivered delivered"
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=CUST1"
check "dhl: scenario custom body" jq_ok 'd == {"shipments": []}'

# --- FedEx -------------------------------------------------------------
FX_BODY='{"includeDetailedScans":true,"trackingInfo":[{"trackingNumberInfo":{"trackingNumber":"794600000001"}},{"trackingNumberInfo":{"trackingNumber":"DL7946"}},{"trackingNumberInfo":{"trackingNumber":"NF7946"}}]}'
req -d 'grant_type=client_credentials&client_id=id' "$B/fedex/oauth/token"
checkj "fedex: token without client_secret is 401 NOT.AUTHORIZED.ERROR" \
	"$code" 401 'd["errors"][0]["code"] == "NOT.AUTHORIZED.ERROR"'
req -d 'grant_type=password&client_id=id&client_secret=s' "$B/fedex/oauth/token"
check "fedex: wrong grant_type is 400" test "$code" = 400
req -d 'grant_type=client_credentials&client_id=id&client_secret=s' "$B/fedex/oauth/token"
FTOK=$(jget 'd["access_token"]')
check "fedex: token 200, expires_in integer 3600" \
	jq_ok 'd["expires_in"] == 3600 and d["token_type"] == "bearer"'
req -H 'Content-Type: application/json' -d "$FX_BODY" "$B/fedex/track/v1/trackingnumbers"
checkj "fedex: track without token is 401 with envelope" \
	"$code" 401 'd["errors"][0]["code"] == "NOT.AUTHORIZED.ERROR"'
req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' \
	-H 'x-customer-transaction-id: tx1' -d "$FX_BODY" "$B/fedex/track/v1/trackingnumbers"
check "fedex: batch of 3 answered in order, NF as 200 error" \
	jq_ok '[r["trackingNumber"] for r in d["output"]["completeTrackResults"]] == ["794600000001", "DL7946", "NF7946"] and d["output"]["completeTrackResults"][1]["trackResults"][0]["latestStatusDetail"]["code"] == "DL" and d["output"]["completeTrackResults"][2]["trackResults"][0]["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND" and d["customerTransactionId"] == "tx1"'
check "fedex: batch status 200" test "$code" = 200
req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' \
	-d '{"includeDetailedScans":true,"trackingInfo":[]}' "$B/fedex/track/v1/trackingnumbers"
check "fedex: empty trackingInfo is 400 TRACKING.TRACKINGNUMBER.EMPTY" \
	jq_ok 'd["errors"][0]["code"] == "TRACKING.TRACKINGNUMBER.EMPTY"'

# --- UPS ---------------------------------------------------------------
req -d grant_type=client_credentials "$B/ups/security/v1/oauth/token"
check "ups: token without Basic auth is 401" test "$code" = 401
req -u 'cid:csecret' -d grant_type=client_credentials "$B/ups/security/v1/oauth/token"
UTOK=$(jget 'd["access_token"]')
check "ups: token 200, expires_in a string" \
	jq_ok 'd["expires_in"] == "3600" and d["client_id"] == "cid" and d["status"] == "approved"'
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042?locale=en_US"
check "ups: in transit 200, inquiryNumber substituted" \
	jq_ok 'd["trackResponse"]["shipment"][0]["inquiryNumber"] == "1Z0000000042" and "package" in d["trackResponse"]["shipment"][0]'
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/NF00000042"
check "ups: NF is 200 with TW0001 and no package" \
	jq_ok 'd["trackResponse"]["shipment"][0]["warnings"][0]["code"] == "TW0001" and "package" not in d["trackResponse"]["shipment"][0]'
req -H "Authorization: Bearer $UTOK" "$B/ups/api/track/v1/details/1Z0000000042"
check "ups: missing transId is 400" test "$code" = 400
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z1"
check "ups: inquiry number under 7 chars is 400 TV1002" \
	jq_ok 'd["response"]["errors"][0]["code"] == "TV1002"'
req -H "Authorization: Bearer bogus" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
check "ups: unknown token is 401 with response.errors" \
	jq_ok 'd["response"]["errors"][0]["code"] == "250002"'
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1ZSEQ00001"
a=$(jget '"package" in d["trackResponse"]["shipment"][0]')
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1ZSEQ00001"
b=$(jget 'd["trackResponse"]["shipment"][0]["package"][0]["activity"][0]["status"]["type"]')
check "ups: scenario not_found then delivered ($a $b)" test "$a $b" = "False D"

# --- Shiprocket --------------------------------------------------------
req -H 'Content-Type: application/json' -d '{"email":"a@b.c"}' "$B/shiprocket/v1/external/auth/login"
check "shiprocket: login without password is 401" test "$code" = 401
req -H 'Content-Type: application/json' -d '{"email":"a@b.c","password":"p"}' \
	"$B/shiprocket/v1/external/auth/login"
STOK=$(jget 'd["token"]')
check "shiprocket: login returns a token" test -n "$STOK" -a "$code" = 200
req -H "Authorization: Bearer $STOK" "$B/shiprocket/v1/external/courier/track/awb/190400000042"
check "shiprocket: in transit 200, shipment_status 18" \
	jq_ok 'd["tracking_data"]["shipment_status"] == 18 and d["tracking_data"]["shipment_track"][0]["awb_code"] == "190400000042"'
req -H "Authorization: Bearer $STOK" "$B/shiprocket/v1/external/courier/track/awb/NF42"
checkj "shiprocket: NF is 404 status_code 404" \
	"$code" 404 'd["status_code"] == 404'
req -H "Authorization: Bearer $STOK" "$B/shiprocket/v1/external/courier/track/awb/NA42"
check "shiprocket: NA is 200 track_status 0" \
	jq_ok 'd["tracking_data"]["track_status"] == 0'
req -H "Authorization: Bearer $STOK" -H 'Content-Type: application/json' \
	-d '{"awbs":["A1","DL2","NF3"]}' "$B/shiprocket/v1/external/courier/track/awbs"
check "shiprocket: batch keyed by AWB" \
	jq_ok 'sorted(d) == ["A1", "DL2", "NF3"] and d["DL2"]["tracking_data"]["shipment_status"] == 7 and d["NF3"]["status_code"] == 404'
req "$B/shiprocket/v1/external/courier/track/awb/A1"
check "shiprocket: no token is 401" test "$code" = 401

# --- batches with one bad number (batch_errors) ----------------------------
FX_IV='{"includeDetailedScans":true,"trackingInfo":[{"trackingNumberInfo":{"trackingNumber":"794600000002"}},{"trackingNumberInfo":{"trackingNumber":"IV7946"}}]}'
fxreq() {
	req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' -d "$1" \
		"$B/fedex/track/v1/trackingnumbers"
}
fxreq "$FX_IV"
checkj "fedex: IV is a per-number INVALID error inside 200" \
	"$code" 200 'd["output"]["completeTrackResults"][1]["trackResults"][0]["error"]["code"] == "TRACKING.TRACKINGNUMBER.INVALID" and "latestStatusDetail" in d["output"]["completeTrackResults"][0]["trackResults"][0]'
ctl '{"batch_errors":"whole"}' >/dev/null
fxreq "$FX_IV"
checkj "batch_errors whole: fedex 400 INVALID naming the number" \
	"$code" 400 'd["errors"][0]["code"] == "TRACKING.TRACKINGNUMBER.INVALID" and "IV7946" in d["errors"][0]["message"]'
fxreq '{"includeDetailedScans":true,"trackingInfo":[{"trackingNumberInfo":{"trackingNumber":"IV7946"}}]}'
checkj "batch_errors whole: fedex IV alone keeps its own 200 answer" \
	"$code" 200 'd["output"]["completeTrackResults"][0]["trackResults"][0]["error"]["code"] == "TRACKING.TRACKINGNUMBER.INVALID"'
fxreq '{"includeDetailedScans":true,"trackingInfo":[{"trackingNumberInfo":{"trackingNumber":"794600000002"}},{"trackingNumberInfo":{"trackingNumber":"NF7946"}}]}'
check "batch_errors whole: fedex NOTFOUND is no refusal" test "$code" = 200
req -H "Authorization: Bearer $STOK" -H 'Content-Type: application/json' \
	-d '{"awbs":["A1","NF3"]}' "$B/shiprocket/v1/external/courier/track/awbs"
checkj "batch_errors whole: shiprocket batch with an unknown AWB is 404" \
	"$code" 404 'd == {"message": "404 Not Found", "status_code": 404}'
req -H "Authorization: Bearer $STOK" -H 'Content-Type: application/json' \
	-d '{"awbs":["A1","DL2"]}' "$B/shiprocket/v1/external/courier/track/awbs"
check "batch_errors whole: shiprocket batch of known AWBs is 200" test "$code" = 200
ctl '{"batch_errors":"whole_anonymous"}' >/dev/null
fxreq "$FX_IV"
checkj "batch_errors whole_anonymous: fedex 400 naming no number" \
	"$code" 400 '"IV7946" not in json.dumps(d)'
check "batch_errors: an unknown mode is refused" test "$(ctl '{"batch_errors":"sometimes"}')" = 400
ctl '{"batch_errors":"per_number"}' >/dev/null

# --- AfterShip ---------------------------------------------------------
req "$B/aftership/tracking/2024-04/trackings/abc123"
checkj "aftership: no as-api-key is 401 meta.code 401" \
	"$code" 401 'd["meta"]["code"] == 401'
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/abc123"
checkj "aftership: 200 data.tracking.id, as-api-version" \
	"$code:$(hdr as-api-version)" 200:2024-04 'd["data"]["tracking"]["id"] == "abc123" and d["data"]["tracking"]["tag"] == "InTransit"'
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/NFabc"
checkj "aftership: NF is 404 meta.code 4004" \
	"$code" 404 'd["meta"]["code"] == 4004'

# --- faults ------------------------------------------------------------
check "control: 429 x2 on ups" test "$(ctl '{"courier":"ups","fault":"429","count":2,"retry_after":3}')" = 200
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
c1=$code r1=$(hdr Retry-After)
check "ups: 429 body code 10429" jq_ok 'd["response"]["errors"][0]["code"] == "10429"'
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
c2=$code
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
check "fault 429 with Retry-After: 3 for exactly 2 requests ($c1/$r1 $c2 $code)" \
	test "$c1:$r1:$c2:$code" = "429:3:429:200"

curl -s -o /dev/null -X POST "$B/_control?fault=429_bare&courier=dhl&count=1"
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
checkj "fault 429_bare (query params): dhl 429 problem+json, no Retry-After" \
	"$code:$(hdr Content-Type):$(hdr Retry-After)" "429:application/problem+json:" 'd["status"] == 429 and d["title"] == "Too Many Requests"'
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
check "fault by query parameters was consumed" test "$code" = 200

ctl '{"courier":"aftership","fault":"429","count":1,"retry_after":5}' >/dev/null
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/abc123"
checkj "aftership 429: X-RateLimit-Reset and meta.code 429" \
	"$code:$(hdr X-RateLimit-Reset | tr -d 0-9)" "429:" 'd["meta"]["code"] == 429'

ctl '{"courier":"fedex","fault":"500","count":1}' >/dev/null
req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' -d "$FX_BODY" "$B/fedex/track/v1/trackingnumbers"
checkj "fault 500: fedex INTERNAL.SERVER.ERROR" \
	"$code" 500 'd["errors"][0]["code"] == "INTERNAL.SERVER.ERROR"'

ctl '{"courier":"shiprocket","fault":"401","count":1}' >/dev/null
req -H "Authorization: Bearer $STOK" "$B/shiprocket/v1/external/courier/track/awb/A1"
checkj "fault 401: shiprocket status_code 401" \
	"$code" 401 'd["status_code"] == 401'

ctl '{"courier":"dhl","fault":"slow","count":1,"delay":1}' >/dev/null
t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42")
check "fault slow: 200 after >= 1 s ($t)" \
	"$PY" -c 'import sys; c, s = sys.argv[1].split(); sys.exit(not (c == "200" and float(s) >= 0.95))' "$t"

ctl '{"courier":"dhl","fault":"hang","count":1}' >/dev/null
curl -s -o /dev/null -m 1 -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
check "fault hang: client times out (curl exit 28)" test $? -eq 28
req "$B/_health"
check "server still answers after a hang" test "$code" = 200

ctl '{"courier":"dhl","fault":"truncated","count":1}' >/dev/null
req -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
sz=$(wc -c <"$TMP/body" | tr -d ' ')
check "fault truncated: Content-Length matches the cut body ($sz)" \
	test "$code:$(hdr Content-Length)" = "200:$sz" -a "$sz" -gt 100
! is_json
tap $? "fault truncated: body is not valid JSON"

ctl '{"courier":"ups","fault":"malformed","count":1}' >/dev/null
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
r=1
if [ "$code:$(hdr Content-Type)" = "200:application/json" ] && ! is_json; then
	r=0
fi
tap $r "fault malformed: 200 application/json that does not parse"

ctl '{"courier":"aftership","fault":"html","count":1}' >/dev/null
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/abc123"
check "fault html: text/html" sh -c "test '$code' = 200 && grep -q '<html>' '$TMP/body'" 
case $(hdr Content-Type) in text/html*) r=0 ;; *) r=1 ;; esac
tap $r "fault html: Content-Type $(hdr Content-Type)"

ctl '{"courier":"shiprocket","fault":"huge","count":1}' >/dev/null
req -H "Authorization: Bearer $STOK" "$B/shiprocket/v1/external/courier/track/awb/A1"
sz=$(wc -c <"$TMP/body" | tr -d ' ')
check "fault huge: 50 MiB body ($sz bytes)" test "$code:$sz" = "200:52428800"
check "fault huge: valid JSON holding the normal answer" \
	jq_ok 'd["tracking_data"]["shipment_status"] == 18'
rm -f "$TMP/body"

ctl '{"courier":"dhl","fault":"drop","count":1}' >/dev/null
curl -s -o /dev/null -H 'DHL-API-Key: k' "$B/dhl/track/shipments?trackingNumber=GM42"
check "fault drop: empty reply (curl exit 52)" test $? -eq 52

ctl '{"courier":"ups","fault":"429","on":"auth","count":1,"retry_after":2}' >/dev/null
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
c1=$code
req -u 'cid:csecret' -d grant_type=client_credentials "$B/ups/security/v1/oauth/token"
check "fault on=auth hits the token endpoint only ($c1 $code)" \
	test "$c1:$code:$(hdr Retry-After)" = "200:429:2"

check "control: bad fault name is 400" test "$(ctl '{"fault":"nope"}')" = 400

# --- tokens ------------------------------------------------------------
ctl '{"expire_tokens":true}' >/dev/null
req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' -d "$FX_BODY" "$B/fedex/track/v1/trackingnumbers"
check "expire_tokens: old fedex token is 401" test "$code" = 401
req -d 'grant_type=client_credentials&client_id=id&client_secret=s' "$B/fedex/oauth/token"
FTOK=$(jget 'd["access_token"]')
req -H "Authorization: Bearer $FTOK" -H 'Content-Type: application/json' -d "$FX_BODY" "$B/fedex/track/v1/trackingnumbers"
check "expire_tokens: a new token works" test "$code" = 200
ctl '{"token_lifetime":1}' >/dev/null
req -u 'cid:csecret' -d grant_type=client_credentials "$B/ups/security/v1/oauth/token"
UTOK=$(jget 'd["access_token"]')
check "token_lifetime: expires_in follows it" jq_ok 'd["expires_in"] == "1"'
sleep 1.2
req -H "Authorization: Bearer $UTOK" -H transId:t1 -H transactionSrc:selftest "$B/ups/api/track/v1/details/1Z0000000042"
check "token_lifetime: token expired after 1 s is 401" test "$code" = 401

# --- keep-alive, stats, reset ------------------------------------------
curl -s -v -o /dev/null -o /dev/null "$B/_health" "$B/_health" 2>"$TMP/verbose"
grep -qi 're-using existing connection' "$TMP/verbose"
tap $? "keep-alive: second request reuses the connection"

req "$B/_stats"
check "stats: per-courier counts, times, token requests, paths" \
	jq_ok 'd["couriers"]["dhl"]["requests"] >= 10 and len(d["couriers"]["ups"]["times"]) == d["couriers"]["ups"]["requests"] and d["token_requests"] >= 8 and d["paths"]["/dhl/track/shipments"] >= 10 and d["couriers"]["dhl"]["numbers"]["SEQ1"] == 3'
check "stats: 429 log entries carry status and fault" \
	jq_ok 'any(e["status"] == 429 and e["fault"] == "429" and e["courier"] == "ups" for e in d["log"])'
check "stats: times are monotonic and increasing" \
	jq_ok 'd["couriers"]["dhl"]["times"] == sorted(d["couriers"]["dhl"]["times"]) and d["couriers"]["dhl"]["times"][-1] <= d["now"]'
ctl '{"courier":"all","fault":"500"}' >/dev/null
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/abc123"
c1=$code
ctl '{"reset":true}' >/dev/null
req -H 'as-api-key: k' "$B/aftership/tracking/2024-04/trackings/abc123"
c2=$code
req "$B/_stats"
checkj "reset: unlimited fault cleared ($c1 $c2), stats restarted" \
	"$c1 $c2" "500 200" 'd["requests"] == 1 and d["faults"] == []'

# --- shutdown ----------------------------------------------------------
kill -TERM "$SRV_PID"
i=0
while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
! kill -0 "$SRV_PID" 2>/dev/null
tap $? "SIGTERM stops the server"
wait "$SRV_PID" 2>/dev/null
SRV_PID=

start_server "$TMP/out2" --max-seconds 1
i=0
while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 40 ]; do
	sleep 0.1
	i=$((i + 1))
done
! kill -0 "$SRV_PID" 2>/dev/null
tap $? "--max-seconds 1 stops the server by itself"
wait "$SRV_PID" 2>/dev/null
SRV_PID=

echo "1..$n"
[ "$failed" -eq 0 ]
