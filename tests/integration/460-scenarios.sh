#!/usr/bin/env bash
# 460-scenarios: the customer-notice scenarios of tests/data/scenarios/,
# one directory each, run by one driver against a real SMTP server
# (aiosmtpd) and, where a scenario has [customer_webhook], a real HTTP
# receiver that verifies signatures.  The clock is the scenario's own
# (tests/tools/sw_scenario steps it), never the machine's.
#
# A scenario directory holds:
#   alerts.keys   extra [alerts] keys (optional)
#   quiet_hours   [alerts] quiet_hours (optional; default none)
#   rule.keys     extra [rule default] keys (optional)
#   conf          extra sections appended to the configuration (optional;
#                 @WEBHOOK_URL@ and @WEBHOOK_SECRET_FILE@ are replaced)
#   script        sw_scenario steps (clock, seed ... end, run, restart, sql)
#   expect        one check a line:
#                   emails N                 the SMTP sink got exactly N messages
#                   email TO TEXT            a message to TO has TEXT in its subject
#                   noemail TO               no message to TO
#                   mails TO N               exactly N messages to TO
#                   body TO TEXT             the text part of a message to TO has TEXT
#                   nobody TO TEXT           no text part of a message to TO has TEXT
#                   hooks N                  the webhook receiver took exactly N notices
#                                            (2xx answers), every signature valid
#                   sql QUERY => VALUE       the store answers VALUE
#                   hook EXPR                a Python expression over L, the
#                                            receiver's requests, is true
# A script switches the webhook receiver's answers with an "sh" step
# writing "$HOOK_DIR/mode" (tests/tools/webhook_sink.py documents modes).
. "$SW_SRCDIR/tests/integration/lib.sh"
"$PY3" -c 'import aiosmtpd' 2>/dev/null || { echo "1..0 # SKIP python3-aiosmtpd missing (autotools/deps installs it)"; exit 0; }
SCEN=$SW_BUILDDIR/tests/tools/sw_scenario
[ -x "$SCEN" ] || bail "sw_scenario not built"
export SW_SEED=$SEED

start_sink
HOOK_PORT=$(free_port)
HOOK_SECRET_FILE=$T_DIR/hook.secret
HOOK_SECRET="scenario-secret-$$-$RANDOM"
printf '%s' "$HOOK_SECRET" >"$HOOK_SECRET_FILE"
chmod 600 "$HOOK_SECRET_FILE"

# start_hook NAME: the webhook receiver (tests/tools/webhook_sink.py) in
# $T_DIR/hook-NAME, exported as HOOK_DIR so that a script's "sh" steps can
# switch its answers (HOOK_DIR/mode).
start_hook() {
	export HOOK_DIR=$T_DIR/hook-$1
	mkdir -p "$HOOK_DIR"
	sw_spawn "$T_DIR/hook-$1.log" "$PY3" "$SW_SRCDIR/tests/tools/webhook_sink.py" \
		--port "$HOOK_PORT" --dir "$HOOK_DIR" --secret "$HOOK_SECRET"
	HOOK_PID=$SPAWNED
	wait_for 15 test -s "$HOOK_DIR/ready" || bail "webhook sink did not start: $(tail -n 5 "$T_DIR/hook-$1.log")"
}
hook_json() {
	"$PY3" -c 'import json,sys,os
p=sys.argv[1]
L=[json.loads(l) for l in open(p)] if os.path.exists(p) else []
print(eval(sys.argv[2]))' "$HOOK_DIR/log.jsonl" "$1"
}

# msgs_to TO: the sink's messages to TO, as a Python expression.
msgs_to() { printf "[m for m in L if m['rcpt'] == ['%s']]" "$1"; }

check_line() { # check_line NAME LINE
	local name=$1 verb rest to text q want got
	verb=${2%% *}; rest=${2#* }
	case $verb in
	emails) is "$(sink_count)" "$rest" "$name: $rest emails" ;;
	email | body | nobody)
		to=${rest%% *}; text=${rest#* }
		export SW_TEXT=$text
		case $verb in
		email) got=$(sink_json "sum(1 for m in $(msgs_to "$to") if __import__('os').environ['SW_TEXT'] in m['subject'])") ;;
		*) got=$(sink_json "sum(1 for m in $(msgs_to "$to") for p in m['parts'] if p['content_type'] == 'text/plain' and __import__('os').environ['SW_TEXT'] in p['body'])") ;;
		esac
		if [ "$verb" = nobody ]; then
			is "$got" 0 "$name: no email to $to says '$text'"
		else
			check "$name: an email to $to has '$text' in its $([ "$verb" = email ] && echo subject || echo text)" [ "$got" -ge 1 ]
		fi ;;
	noemail) is "$(sink_json "len($(msgs_to "$rest"))")" 0 "$name: no email to $rest" ;;
	mails)
		to=${rest%% *}
		is "$(sink_json "len($(msgs_to "$to"))")" "${rest#* }" "$name: exactly ${rest#* } emails to $to" ;;
	hooks)
		is "$(hook_json "sum(1 for r in L if r['status'] // 100 == 2)")" "$rest" "$name: $rest notices taken by the webhook receiver"
		is "$(hook_json "sum(1 for r in L if not r['sig_ok'])")" 0 "$name: every webhook signature verifies" ;;
	hook)
		# hook EXPR: a Python expression over L (the receiver's requests) is true
		export SW_EXPR=$rest
		is "$(hook_json "$rest")" True "$name: webhook: $rest" ;;
	sql)
		q=${rest% => *}; want=${rest##* => }
		is "$(sql "$q")" "$want" "$name: $q" ;;
	*) not_ok "$name: unknown expectation '$verb'" ;;
	esac
}

for dir in "$SW_SRCDIR"/tests/data/scenarios/${SW_SCENARIOS:-[0-9]*}/; do
	dir=${dir%/}
	name=$(basename "$dir")
	rm -f "$T_DIR/store.db" "$T_DIR/store.db-wal" "$T_DIR/store.db-shm" "$SINK_DIR/log.jsonl"
	HOOK_PID=
	unset HOOK_DIR
	if [ -f "$dir/conf" ] && grep -q customer_webhook "$dir/conf"; then
		start_hook "$name" "$dir"
	fi
	QUIET="$(cat "$dir/quiet_hours" 2>/dev/null)" \
		ALERTS_KEYS="$(cat "$dir/alerts.keys" 2>/dev/null)" RULE_KEYS="$(cat "$dir/rule.keys" 2>/dev/null)" \
		SETTLE=10m write_alerts_conf \
		"$(sed -e "s|@WEBHOOK_URL@|http://127.0.0.1:$HOOK_PORT/notify|" \
			-e "s|@WEBHOOK_SECRET_FILE@|$HOOK_SECRET_FILE|" "$dir/conf" 2>/dev/null)"
	if ! "$SCEN" "$T_DIR/alerts.conf" "$dir/script" >"$T_DIR/$name.out" 2>&1; then
		not_ok "$name: the scenario ran" "$(tail -n 5 "$T_DIR/$name.out")"
	else
		ok "$name: the scenario ran"
	fi
	while IFS= read -r line; do
		case $line in '' | '#'*) continue ;; esac
		check_line "$name" "$line"
	done <"$dir/expect"
	if [ -n "$HOOK_PID" ]; then kill -TERM "$HOOK_PID" 2>/dev/null; wait_exit "$HOOK_PID" 10; fi
done
done_testing
