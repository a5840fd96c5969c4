#!/usr/bin/env bash
# 030-example-config: slipwatch.conf.example is valid for every program,
# and every key a program knows (from -t -v, defaults included) is
# documented in the example file and in slipwatch.conf(5).
. "$SW_SRCDIR/tests/integration/lib.sh"

example=$SW_SRCDIR/slipwatch.conf.example
export SLIPWATCH_DHL_API_KEY=example-key SLIPWATCH_ACME_API_KEY=example-key # the example's couriers read them
man5=$SW_SRCDIR/man/slipwatch.conf.5
sed -e "s|^path = .*|path = $T_DIR/store.db|" -e "s|^;templates = .*|templates = $SW_SRCDIR/alerts/templates|" "$example" >"$T_DIR/example.conf"
for prog in "$COLLECTOR" "$ALERTS"; do
	name=$(basename "$prog")
	out=$("$prog" -t -v -c "$T_DIR/example.conf" 2>&1); st=$?
	is "$st" 0 "$name accepts the example configuration"
	[ "$st" -eq 0 ] || echo "$out" | sed 's/^/# /'
	section=
	while IFS= read -r line; do
		case "$line" in
		\[*\]) section=${line#[}; section=${section%]} ;;
		*' = '*|'; '*' is not set')
			key=${line#; }; key=${key%% *}
			if grep -qE "^;? ?${key}(_file|_env)?( |=|$)" "$example" &&
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
