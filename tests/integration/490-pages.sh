#!/usr/bin/env bash
# 490-pages: the on-call scenarios of tests/data/pages/, one directory
# each, run by one driver (tests/tools/sw_scenario, whose clock the script
# steps: never the machine's) against a real on-call receiver
# (tests/tools/oncall_sink.py: PagerDuty Events v2, Slack and a signed
# webhook, each validated as the real service would) and a real SMTP
# server (aiosmtpd) for email receivers.
#
# Every scenario gets the same receivers:
#   pd     channel = pagerduty, the sink's /pd
#   slack  channel = slack, the sink's /slack/... (the URL is a secret file)
#   hook   channel = webhook, the sink's /hook, signed
#   mail   channel = email, to oncall@ops.example and lead@ops.example
# A scenario directory holds:
#   pages.keys    [pages] keys (receiver = pd unless it says otherwise)
#   alerts.keys   [alerts] keys (email = no unless it says otherwise: no
#                 customer notices; a scenario that checks them too says
#                 email = yes, shop_name and unsubscribe_url, and its
#                 customers' emails reach the same SMTP sink as the mail
#                 receiver's)
#   conf          its sections: [page ...], [route ...], ...
#   script        sw_scenario steps (clock, seed ... end, run, restart,
#                 sql and sh with @NOW, rrd FILE DS=V ...)
#   expect        one check a line:
#     accepted ROUTE N      the sink answered N requests on ROUTE (pd,
#                           slack, hook) with 2xx
#     requests ROUTE N      it got N requests on ROUTE, whatever it answered
#     events ROUTE A,B,...  the events of the accepted requests, in order
#                           (pd: event_action; hook: event; slack: the
#                           text up to its first ':', e.g. "Firing
#                           (warning)", "Resolved", "Escalated")
#     py EXPR               a Python expression over L (the sink's
#                           requests, log.jsonl objects) is true
#     emails N / email TO TEXT   the SMTP sink (as in 460)
#     mailtext TO TEXT      an email to TO has TEXT in its text/plain part
#     sql QUERY => VALUE    the store answers VALUE
# After every scenario: every request the sink got was valid for its
# service and every webhook signature verified.
# A script switches the sink's answers with "sh" steps writing
# $ONCALL_DIR/mode or $ONCALL_DIR/mode.pd (see oncall_sink.py).
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
SCEN=$SW_BUILDDIR/tests/tools/sw_scenario
[ -x "$SCEN" ] || bail "sw_scenario not built"
export SW_SEED=$SEED SW_RRDPUT=$SW_BUILDDIR/tests/tools/sw_rrdput
[ -x "$SW_RRDPUT" ] || bail "sw_rrdput not built"

start_sink
ONCALL_PORT=$(free_port)
export ONCALL_DIR=$T_DIR/oncall
mkdir -p "$ONCALL_DIR"
printf '%s' "hook-secret-$$-$RANDOM" >"$T_DIR/hook.secret"
printf '%s' "R0123456789abcdefghijklmnopqrstu" >"$T_DIR/pd.key"
printf 'http://127.0.0.1:%s/slack/T000/B000/XXXXsecret\n' "$ONCALL_PORT" >"$T_DIR/slack.url"
chmod 600 "$T_DIR/hook.secret" "$T_DIR/pd.key" "$T_DIR/slack.url"
sw_spawn "$T_DIR/oncall.log" "$PY3" "$SW_SRCDIR/tests/tools/oncall_sink.py" \
	--port "$ONCALL_PORT" --dir "$ONCALL_DIR" --secret "$(cat "$T_DIR/hook.secret")" --max-seconds 1800
ONCALL_PID=$SPAWNED
wait_for 15 test -s "$ONCALL_DIR/ready" || bail "oncall sink did not start: $(tail -n 5 "$T_DIR/oncall.log")"

# oncall_json EXPR: a Python expression over L, the sink's requests.
oncall_json() {
	"$PY3" -c 'import json,sys,os
p=sys.argv[1]
L=[json.loads(l) for l in open(p)] if os.path.exists(p) else []
def events(route):
    out=[]
    for r in L:
        if r["route"] != route or r["status"] // 100 != 2: continue
        j=r.get("json") or {}
        if route == "pd": out.append(j.get("event_action"))
        elif route == "hook": out.append(j.get("event"))
        else: out.append((j.get("text") or "").split(":")[0])
    return ",".join(str(e) for e in out)
print(eval(sys.argv[2]))' "$ONCALL_DIR/log.jsonl" "$1"
}

write_conf() { # write_conf DIR
	cat >"$T_DIR/pages.conf" <<CONF
[store]
path = $T_DIR/store.db
[log]
level = info
[alerts]
$(cat "$1/alerts.keys" 2>/dev/null || echo "email = no")
templates = $SW_SRCDIR/alerts/templates
[smtp]
url = smtp://127.0.0.1:$SINK_PORT
from = slipwatch <slipwatch@ops.example>
connect_timeout = 2s
timeout = 10s
[rrd]
dir = $T_DIR/rrd
step = 60s
[pages]
$(cat "$1/pages.keys" 2>/dev/null || echo "receiver = pd")
[receiver pd]
channel = pagerduty
url = http://127.0.0.1:$ONCALL_PORT/pd
routing_key_file = $T_DIR/pd.key
timeout = 2s
[receiver slack]
channel = slack
url_file = $T_DIR/slack.url
timeout = 2s
[receiver hook]
channel = webhook
url = http://127.0.0.1:$ONCALL_PORT/hook
secret_file = $T_DIR/hook.secret
connect_timeout = 1s
timeout = 2s
[receiver mail]
channel = email
to = oncall@ops.example, lead@ops.example
$(cat "$1/conf" 2>/dev/null)
CONF
}

msgs_to() { printf "[m for m in L if '%s' in m['rcpt']]" "$1"; }

check_line() { # check_line NAME LINE
	local name=$1 verb rest route n q want
	verb=${2%% *}; rest=${2#* }
	case $verb in
	accepted)
		route=${rest%% *}; n=${rest#* }
		is "$(oncall_json "sum(1 for r in L if r['route'] == '$route' and r['status'] // 100 == 2)")" "$n" \
			"$name: $n requests on $route accepted" ;;
	requests)
		route=${rest%% *}; n=${rest#* }
		is "$(oncall_json "sum(1 for r in L if r['route'] == '$route')")" "$n" "$name: $n requests on $route" ;;
	events)
		route=${rest%% *}; want=${rest#* }
		is "$(oncall_json "events('$route')")" "$want" "$name: $route events in order" ;;
	py)
		is "$(oncall_json "$rest")" True "$name: $rest" ;;
	emails) is "$(sink_count)" "$rest" "$name: $rest emails" ;;
	email)
		export SW_TEXT=${rest#* }
		check "$name: an email to ${rest%% *} has '${rest#* }' in its subject" \
			[ "$(sink_json "sum(1 for m in $(msgs_to "${rest%% *}") if __import__('os').environ['SW_TEXT'] in m['subject'])")" -ge 1 ] ;;
	mailtext)
		export SW_TEXT=${rest#* }
		check "$name: an email to ${rest%% *} has '${rest#* }' in its text" \
			[ "$(sink_json "sum(1 for m in $(msgs_to "${rest%% *}") for p in m['parts'] if p['content_type'] == 'text/plain' and __import__('os').environ['SW_TEXT'] in (p['body'] or ''))")" -ge 1 ] ;;
	sql)
		q=${rest% => *}; want=${rest##* => }
		is "$(sql "$q")" "$want" "$name: $q" ;;
	*) not_ok "$name: unknown expectation '$verb'" ;;
	esac
}

for dir in "$SW_SRCDIR"/tests/data/pages/${SW_PAGES:-[0-9]*}/; do
	dir=${dir%/}
	name=$(basename "$dir")
	rm -rf "$T_DIR/store.db" "$T_DIR/store.db-wal" "$T_DIR/store.db-shm" "$T_DIR/rrd" \
		"$SINK_DIR/log.jsonl" "$ONCALL_DIR/log.jsonl" "$ONCALL_DIR"/mode* "$ONCALL_DIR/retry_after"
	mkdir -p "$T_DIR/rrd"
	write_conf "$dir"
	if ! "$SCEN" "$T_DIR/pages.conf" "$dir/script" >"$T_DIR/$name.out" 2>&1; then
		not_ok "$name: the scenario ran" "$(tail -n 5 "$T_DIR/$name.out")"
	else
		ok "$name: the scenario ran"
	fi
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		check_line "$name" "$line"
	done <"$dir/expect"
	is "$(oncall_json "[r['n'] for r in L if not r['valid'] or r['sig_ok'] is False]")" "[]" \
		"$name: every request valid for its service, every signature verified"
done
kill -TERM "$ONCALL_PID" 2>/dev/null
wait_exit "$ONCALL_PID" 10
done_testing
