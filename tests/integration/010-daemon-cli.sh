#!/usr/bin/env bash
# 010-daemon-cli: the command line of both daemons: --version, -h, usage
# errors (exit 2), -t on good and bad files (exit 0 / exit 1 naming
# file:line), -t -v printing effective settings.
. "$SW_SRCDIR/tests/integration/lib.sh"

cat >"$T_DIR/good.conf" <<CONF
[store]
path = $T_DIR/store.db
[log]
level = debug
[rrd]
dir = $T_DIR/rrd
CONF
printf '[store]\npath = %s/store.db\n[log]\nlevel loud\n' "$T_DIR" >"$T_DIR/bad.conf"
printf '[store]\npath = %s/store.db\nretries = 3\n' "$T_DIR" >"$T_DIR/badkey.conf"

for prog in "$COLLECTOR" "$ALERTS"; do
	name=$(basename "$prog")
	out=$("$prog" --version 2>&1); st=$?
	is "$st" 0 "$name --version exits 0"
	contains "$out" "$name 0." "$name --version prints name and version"
	out=$("$prog" -h 2>&1); st=$?
	is "$st" 0 "$name -h exits 0"
	contains "$out" "usage: $name" "$name -h prints usage"
	out=$("$prog" --frobnicate 2>&1); st=$?
	is "$st" 2 "$name with an unknown option exits 2"
	contains "$out" "unknown option '--frobnicate'" "$name names the bad option"
	out=$("$prog" -t -c "$T_DIR/good.conf" 2>&1); st=$?
	is "$st" 0 "$name -t on a good file exits 0"
	contains "$out" "configuration OK" "$name -t says OK"
	[ ! -e "$T_DIR/store.db" ] && ok "$name -t does not create the store" || not_ok "$name -t does not create the store"
	out=$("$prog" -t -c "$T_DIR/bad.conf" 2>&1); st=$?
	is "$st" 1 "$name -t on a bad file exits 1"
	contains "$out" "$T_DIR/bad.conf:4:" "$name -t names file:line"
	contains "$out" "level loud" "$name -t quotes the bad text"
	out=$("$prog" -t -c "$T_DIR/badkey.conf" 2>&1); st=$?
	is "$st" 1 "$name -t on an unknown key exits 1"
	contains "$out" "badkey.conf:3: unknown key 'retries'" "$name names the unknown key and line"
	out=$("$prog" -t -c "$T_DIR/nonexistent.conf" 2>&1); st=$?
	is "$st" 1 "$name -t on a missing file exits 1"
	contains "$out" "nonexistent.conf" "$name names the missing file"
	out=$("$prog" -t -v -c "$T_DIR/good.conf" 2>&1); st=$?
	is "$st" 0 "$name -t -v exits 0"
	contains "$out" "path = $T_DIR/store.db" "$name -t -v prints the store path"
	contains "$out" "destination = auto" "$name -t -v prints defaults too"
done
done_testing
