#!/usr/bin/env bash
# 040-config-truth: -t is the truth.  The same broken file gives the same
# error, FILE:LINE and the bad text, from slipwatch-collector -t,
# slipwatch-alerts -t and the slipwatch command, whichever program's
# section is broken; what a daemon's start would refuse, its -t refuses;
# and every file -t accepts starts (each daemon with -f against a real
# broker and the temp store, logs "started", stops on SIGTERM).
# Credentials never go out in clear text: http:// couriers and an MQTT
# password without TLS are refused unless the host is loopback or the
# section says allow_plaintext = yes.
. "$SW_SRCDIR/tests/integration/lib.sh"

CLI="$SW_BUILDDIR/tools/slipwatch"
export SW_TEST_KEY=test-key-040 SW_TEST_PW=test-pw-040

start_broker

# base EXTRA...: a valid file ($T_DIR/NAME.conf is written by conf NAME)
# for both daemons, with the lines of EXTRA appended; sections may not
# repeat, so a case adds sections the base lacks.
base() {
	cat <<CONF
[store]
path = $T_DIR/store.db
[log]
level = info
destination = stderr
[mqtt]
port = $BROKER_PORT
client_id = slipwatch-test-040
reconnect_min = 200ms
reconnect_max = 2s
CONF
	printf '%s\n' "$@"
}
conf() { # conf NAME LINES...: writes $T_DIR/NAME.conf
	local name=$1; shift
	base "$@" >"$T_DIR/$name.conf"
}
line_of() { # line_of NAME TEXT: the line number of the line TEXT in NAME.conf
	grep -nxF -- "$2" "$T_DIR/$1.conf" | head -n 1 | cut -d: -f1
}

# refused NAME LINE-TEXT MESSAGE: every program's check of NAME.conf exits
# 1 with exactly "FILE:LINE: MESSAGE", LINE being that of LINE-TEXT.
# (The daemons name the file by its absolute path, the command as given.)
refused() {
	local name=$1 f want out st
	f=$(realpath "$T_DIR/$1.conf")
	want="$f:$(line_of "$1" "$2"): $3"
	out=$("$COLLECTOR" -t -c "$f" 2>&1); st=$?
	is "$st" 1 "$name: slipwatch-collector -t refuses"
	is "$out" "slipwatch-collector: $want" "$name: slipwatch-collector names file:line"
	out=$("$ALERTS" -t -c "$f" 2>&1); st=$?
	is "$st" 1 "$name: slipwatch-alerts -t refuses"
	is "$out" "slipwatch-alerts: $want" "$name: slipwatch-alerts gives the same error"
	out=$("$CLI" -c "$f" late 2>&1); st=$?
	is "$st" 1 "$name: the slipwatch command refuses"
	is "$out" "slipwatch: $want" "$name: the slipwatch command gives the same error"
}

# --- the same error from every program ---------------------------------------
conf typo "[collector]" "backlog_intervall = 60s"
refused typo "backlog_intervall = 60s" "unknown key 'backlog_intervall' in [collector]"

conf step "[rrd]" "dir = $T_DIR/rrd" "step = 1500ms"
refused step "step = 1500ms" "[rrd] step: not whole seconds in 1s..1h: '1500ms'"

conf quiet "[rrd]" "dir = $T_DIR/rrd" "[alerts]" "quiet_hours = 9pm-8am"
refused quiet "quiet_hours = 9pm-8am" \
	"[alerts] quiet_hours: '9pm-8am' is not START-END in 24 h local time (e.g. 21:00-08:00; empty for none)"

conf courier "[rrd]" "dir = $T_DIR/rrd" "[courier dhl]" "api_key_env = SW_TEST_KEY" \
	"base_url = http://api.dhl.example/track"
refused courier "base_url = http://api.dhl.example/track" \
	"[courier dhl] base_url: http:// to a non-loopback host would send the API key in clear text; use https:// or set allow_plaintext = yes: 'api.dhl.example'"

# [mqtt] is in the base: this file is written whole
cat >"$T_DIR/mqttpw.conf" <<CONF
[store]
path = $T_DIR/store.db
[rrd]
dir = $T_DIR/rrd
[mqtt]
host = mqtt.example.com
username = collector
password_env = SW_TEST_PW
CONF
refused mqttpw "password_env = SW_TEST_PW" \
	"[mqtt] password: tls = no to a non-loopback host would send the password in clear text; set tls = yes or allow_plaintext = yes: 'mqtt.example.com'"

conf smtpurl "[rrd]" "dir = $T_DIR/rrd" "[alerts]" "email = yes" "shop_name = S" \
	"unsubscribe_url = https://s.example/u?e={email}" "[smtp]" "from = S <o@s.example>" \
	"url = http://mail.example"
refused smtpurl "url = http://mail.example" \
	"[smtp] url: not an smtp:// or smtps:// URL: 'http://mail.example'"

printf '%s\n' 0123456789abcdef0123 >"$T_DIR/webhook.secret"
chmod 600 "$T_DIR/webhook.secret"
conf webhook "[rrd]" "dir = $T_DIR/rrd" "[customer_webhook]" "secret_file = $T_DIR/webhook.secret" \
	"url = http://gw.shop.example/hook"
refused webhook "url = http://gw.shop.example/hook" \
	"[customer_webhook] url: https:// required for a host that is not loopback (the notice would cross the network in clear text; allow_plaintext = yes to accept that): 'http://gw.shop.example/hook'"

conf section "[rrd]" "dir = $T_DIR/rrd" "[courrier dhl]"
refused section "[courrier dhl]" "unknown section (no slipwatch program reads it): '[courrier dhl]'"

# --- what a start would refuse, -t refuses (its own program's part) ---------
conf tlsfile "[rrd]" "dir = $T_DIR/rrd"
sed -i "s|^reconnect_max = 2s|&\ntls = yes\ntls_ca_file = $T_DIR/no/ca.pem|" "$T_DIR/tlsfile.conf"
out=$("$COLLECTOR" -t -c "$T_DIR/tlsfile.conf" 2>&1); st=$?
is "$st" 1 "a CA file that cannot be read: slipwatch-collector -t refuses"
is "$out" "slipwatch-collector: $(realpath "$T_DIR")/tlsfile.conf:$(line_of tlsfile "tls_ca_file = $T_DIR/no/ca.pem"): [mqtt] tls_ca_file: cannot read: No such file or directory: '$T_DIR/no/ca.pem'" \
	"...naming file:line"
out=$("$COLLECTOR" -f -c "$T_DIR/tlsfile.conf" 2>&1); st=$?
is "$st" 1 "...and the collector does not start with it"
contains "$out" "tlsfile.conf:$(line_of tlsfile "tls_ca_file = $T_DIR/no/ca.pem"): [mqtt] tls_ca_file" \
	"...with the same error"
"$ALERTS" -t -c "$T_DIR/tlsfile.conf" >/dev/null 2>&1
is "$?" 0 "slipwatch-alerts -t does not open the collector's files"

conf deadletter "[rrd]" "dir = $T_DIR/rrd" "[collector]" "deadletter_file = $T_DIR/no/dead.jsonl"
out=$("$COLLECTOR" -t -c "$T_DIR/deadletter.conf" 2>&1); st=$?
is "$st" 1 "a dead-letter file in a missing directory: slipwatch-collector -t refuses"
contains "$out" "deadletter.conf:$(line_of deadletter "deadletter_file = $T_DIR/no/dead.jsonl"): [collector] deadletter_file: cannot append to it" \
	"...naming file:line"

conf dryrun "[rrd]" "dir = $T_DIR/rrd" "[alerts]" "email = yes" "shop_name = S" \
	"templates = $SW_SRCDIR/alerts/templates" "unsubscribe_url = https://s.example/u?e={email}" \
	"[smtp]" "from = S <o@s.example>" "dry_run_dir = $T_DIR/no/dry"
out=$("$ALERTS" -t -c "$T_DIR/dryrun.conf" 2>&1); st=$?
is "$st" 1 "a dry_run_dir that does not exist: slipwatch-alerts -t refuses"
contains "$out" "dryrun.conf:$(line_of dryrun "dry_run_dir = $T_DIR/no/dry"): [smtp] dry_run_dir: not a writable directory" \
	"...naming file:line"
"$COLLECTOR" -t -c "$T_DIR/dryrun.conf" >/dev/null 2>&1
is "$?" 0 "slipwatch-collector -t does not look at the alerts' directories"

unset SW_TEST_KEY
conf nokey "[rrd]" "dir = $T_DIR/rrd" "[courier dhl]" "api_key_env = SW_TEST_KEY" \
	"base_url = http://127.0.0.1:9/dhl"
out=$("$COLLECTOR" -t -c "$T_DIR/nokey.conf" 2>&1); st=$?
is "$st" 1 "a courier key that is not set: slipwatch-collector -t refuses"
is "$out" "slipwatch-collector: $(realpath "$T_DIR")/nokey.conf:$(line_of nokey "api_key_env = SW_TEST_KEY"): [courier dhl] api_key_env: environment variable is not set: 'SW_TEST_KEY'" \
	"...saying what to provide"
"$ALERTS" -t -c "$T_DIR/nokey.conf" >/dev/null 2>&1
is "$?" 0 "slipwatch-alerts -t does not read the collector's secrets"
export SW_TEST_KEY=test-key-040

# --- every file -t accepts starts ----------------------------------------------
# starts NAME: both daemons' -t accept NAME.conf, and both start on it.
starts() {
	local name=$1 f=$T_DIR/$1.conf prog log pid
	for prog in "$COLLECTOR" "$ALERTS"; do
		"$prog" -t -c "$f" >/dev/null 2>&1
		is "$?" 0 "$name: $(basename "$prog") -t accepts"
		log=$T_DIR/$name-$(basename "$prog").log
		sw_spawn "$log" "$prog" -f -c "$f"
		pid=$SPAWNED
		check "$name: $(basename "$prog") starts" wait_for 20 grep -q 'started (slipwatch' "$log"
		kill -TERM "$pid" 2>/dev/null
		wait_exit "$pid" 20
		is "$EXIT_STATUS" 0 "$name: $(basename "$prog") stops cleanly"
	done
}

conf loopback "[rrd]" "dir = $T_DIR/rrd" "step = 2s" "[courier dhl]" "api_key_env = SW_TEST_KEY" \
	"base_url = http://127.0.0.1:9/dhl" "[courier acme]" "adapter = generic" \
	"url = http://localhost:9/t?awb={tracking}" "api_key_env = SW_TEST_KEY" "path_status = s" \
	"status_map = D=delivered" \
	"[alerts]" "quiet_hours = 21:00-08:00"
starts loopback

conf plaintext "[rrd]" "dir = $T_DIR/rrd" "[courier dhl]" "api_key_env = SW_TEST_KEY" \
	"base_url = http://api.dhl.example/track" "allow_plaintext = yes"
starts plaintext

# [mqtt] with a password to the loopback broker (anonymous: it ignores it)
cat >"$T_DIR/mqttlocal.conf" <<CONF
[store]
path = $T_DIR/store.db
[log]
destination = stderr
[rrd]
dir = $T_DIR/rrd
[mqtt]
host = 127.0.0.1
port = $BROKER_PORT
client_id = slipwatch-test-040
username = collector
password_env = SW_TEST_PW
CONF
starts mqttlocal

sed "s|^host = mqtt.example.com|host = 127.0.0.1\nport = $BROKER_PORT\nallow_plaintext = yes|" \
	"$T_DIR/mqttpw.conf" >"$T_DIR/mqttallowed.conf"
printf '[log]\ndestination = stderr\n' >>"$T_DIR/mqttallowed.conf"
starts mqttallowed

conf alerting "[rrd]" "dir = $T_DIR/rrd" "[alerts]" "email = yes" "shop_name = S" \
	"templates = $SW_SRCDIR/alerts/templates" "unsubscribe_url = https://s.example/u?e={email}" \
	"quiet_hours = 22:00-07:00" "[smtp]" "url = smtp://127.0.0.1:9" "from = S <o@s.example>" \
	"[customer_webhook]" "secret_file = $T_DIR/webhook.secret" "url = http://127.0.0.1:9/hook"
starts alerting

done_testing
