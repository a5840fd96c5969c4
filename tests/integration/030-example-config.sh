#!/usr/bin/env bash
# 030-example-config: slipwatch.conf.example exactly as shipped passes -t
# (or says precisely what is missing: the templates before `make install`),
# its disabled courier sections enabled say which secret to provide and,
# given it, pass; and every key a program knows (from -t -v, defaults
# included) is documented in the example file and in slipwatch.conf(5).
. "$SW_SRCDIR/tests/integration/lib.sh"

example=$(realpath "$SW_SRCDIR/slipwatch.conf.example") # as the daemons name it
man5=$SW_SRCDIR/man/slipwatch.conf.5
unset SLIPWATCH_DHL_API_KEY SLIPWATCH_ACME_API_KEY SLIPWATCH_AFTERSHIP_WEBHOOK_SECRET

# --- exactly as shipped -------------------------------------------------------
out=$("$COLLECTOR" -t -c "$example" 2>&1); st=$?
is "$st" 0 "slipwatch-collector -t accepts the example as shipped"
is "$out" "$example: configuration OK" "...and says so"
printf '[store]\npath = %s/x.db\n' "$T_DIR" >"$T_DIR/defaults.conf"
tpl=$("$ALERTS" -t -v -c "$T_DIR/defaults.conf" | sed -n 's/^templates = //p')
out=$("$ALERTS" -t -c "$example" 2>&1); st=$?
if [ -d "$tpl" ]; then
	is "$st" 0 "slipwatch-alerts -t accepts the example as shipped (templates in $tpl)"
	is "$out" "$example: configuration OK" "...and says so"
else
	# the documented instruction (the example's header): install the templates
	line=$(grep -n '^\[alerts\]' "$example" | cut -d: -f1)
	is "$st" 1 "slipwatch-alerts -t on the example as shipped, templates not installed"
	is "$out" "slipwatch-alerts: $example:$line: [alerts] templates: $tpl: No such file or directory" \
		"...says exactly what the example's header documents"
fi
grep -q 'templates: DIR: No such file or' "$example" && ok "the example's header documents it" ||
	not_ok "the example's header documents it"
out=$("$SW_BUILDDIR/tools/slipwatch" -c "$example" late 2>&1)
case "$out" in
*"slipwatch.conf.example:"*) not_ok "the slipwatch command accepts the example's configuration" "$out" ;;
*) ok "the slipwatch command accepts the example's configuration" ;;
esac

# --- the disabled courier sections enabled ---------------------------------------
# Their settings are the lines with '#' directly before a key or '['.  The
# [push] block (';' before a key or '[') is enabled too, its webhook given
# the example's courier and no TLS files (which the example only names).
sed -e 's/^#\([^ #]\)/\1/' -e "s|^path = .*|path = $T_DIR/store.db|" \
	-e "s|^;templates = .*|templates = $SW_SRCDIR/alerts/templates|" \
	-e '/^;\[push\]/,/^\[probes\]/ { s/^;\([a-z[]\)/\1/; s/^courier = .*/courier = dhl/; /^tls_/d; }' \
	"$example" >"$T_DIR/example.conf"
grep -q '^\[push aftership\]' "$T_DIR/example.conf" && ok "the example's [push] block can be enabled" ||
	not_ok "the example's [push] block can be enabled"
line=$(grep -n '^api_key_env = SLIPWATCH_DHL_API_KEY' "$T_DIR/example.conf" | cut -d: -f1)
out=$("$COLLECTOR" -t -c "$T_DIR/example.conf" 2>&1); st=$?
is "$st" 1 "enabled couriers without their keys: slipwatch-collector -t refuses"
is "$out" "slipwatch-collector: $(realpath "$T_DIR")/example.conf:$line: [courier dhl] api_key_env: environment variable is not set: 'SLIPWATCH_DHL_API_KEY'" \
	"...and says which secret to provide, as the header documents"
out=$("$ALERTS" -t -c "$T_DIR/example.conf" 2>&1); st=$?
is "$st" 0 "slipwatch-alerts -t does not need the courier keys"

export SLIPWATCH_DHL_API_KEY=example-key SLIPWATCH_ACME_API_KEY=example-key
export SLIPWATCH_AFTERSHIP_WEBHOOK_SECRET=example-webhook-secret
for prog in "$COLLECTOR" "$ALERTS" "$SW_BUILDDIR/probes/slipwatch-probes"; do
	name=$(basename "$prog")
	out=$("$prog" -t -v -c "$T_DIR/example.conf" 2>&1); st=$?
	is "$st" 0 "$name accepts the example configuration with its couriers"
	[ "$st" -eq 0 ] || echo "$out" | sed 's/^/# /'
	section=
	while IFS= read -r line; do
		case "$line" in
		\[*\]) section=${line#[}; section=${section%]} ;;
		*' = '*|'; '*' is not set')
			key=${line#; }; key=${key%% *}
			if grep -qE "^[;#]? ?${key}(_file|_env)?( |=|$)" "$example" &&
				grep -qF "[$section]" "$example"; then
				ok "$name: [$section] $key is in the example"
			else
				not_ok "$name: [$section] $key is in the example"
			fi
			if grep -qE "^\.BR? \"?$key" "$man5"; then
				ok "$name: [$section] $key is in slipwatch.conf(5)"
			else
				not_ok "$name: [$section] $key is in slipwatch.conf(5)"
			fi
			;;
		esac
	done <<<"$out"
done
done_testing
