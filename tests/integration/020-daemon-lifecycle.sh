#!/usr/bin/env bash
# 020-daemon-lifecycle: both daemons create the store (WAL, schema
# version), run side by side on it, reload on SIGHUP (and keep running on a
# broken file), exit 0 on SIGTERM; detached start writes and removes a pid
# file; start-up failures (bad store directory, newer schema) exit 1 with a
# message on the terminal.
. "$SW_SRCDIR/tests/integration/lib.sh"

conf=$T_DIR/slipwatch.conf
write_conf() { # write_conf LEVEL
	printf '[store]\npath = %s/store.db\n[log]\nlevel = %s\ndestination = stderr\n[rrd]\ndir = %s/rrd\n' \
		"$T_DIR" "$1" "$T_DIR" >"$conf"
}
write_conf info

sw_spawn "$T_DIR/collector.log" "$COLLECTOR" -f -c "$conf"
cpid=$SPAWNED
check "collector creates the store" wait_for 10 test -s "$T_DIR/store.db"
check "collector logs its start" wait_for 10 grep -q 'started (slipwatch' "$T_DIR/collector.log"
contains "$(cat "$T_DIR/collector.log")" "couriers are not polled" "collector says that without [courier] sections nothing is polled"
is "$(sqlite3 "$T_DIR/store.db" 'PRAGMA journal_mode')" wal "store is in WAL mode"
ver=$(sqlite3 "$T_DIR/store.db" 'PRAGMA user_version')
check "store records a schema version ($ver)" test "${ver:-0}" -ge 1
tables=$(sqlite3 "$T_DIR/store.db" "SELECT count(*) FROM sqlite_master WHERE type='table'")
check "store has its tables ($tables)" test "${tables:-0}" -ge 8

sw_spawn "$T_DIR/alerts.log" "$ALERTS" -f -c "$conf"
apid=$SPAWNED
check "alerts starts on the same store" wait_for 10 grep -q 'started (slipwatch' "$T_DIR/alerts.log"

write_conf debug
kill -HUP "$cpid"
check "SIGHUP reloads the configuration" wait_for 10 grep -q 'configuration reloaded' "$T_DIR/collector.log"
printf '[store]\npath = %s/store.db\n[log]\nlevel = shouty\n' "$T_DIR" >"$conf"
kill -HUP "$cpid"
check "a broken file on SIGHUP is reported" wait_for 10 grep -q 'reload failed, keeping the running configuration' "$T_DIR/collector.log"
contains "$(grep 'reload failed' "$T_DIR/collector.log")" "slipwatch.conf:4:" "the reload error names file:line"
write_conf info
kill -USR1 "$cpid"
# Handling a signal after the bad reload proves the loop survived it.
check "SIGUSR1 is handled in the loop (flush)" wait_for 10 grep -q 'SIGUSR1 received' "$T_DIR/collector.log"
check "collector still runs after a bad reload and SIGUSR1" kill -0 "$cpid"

kill -TERM "$cpid"
wait_exit "$cpid" 10
is "$EXIT_STATUS" 0 "collector exits 0 on SIGTERM"
check "collector logs its stop" grep -q 'stopped' "$T_DIR/collector.log"
kill -INT "$apid"
wait_exit "$apid" 10
is "$EXIT_STATUS" 0 "alerts exits 0 on SIGINT"

# Detached: the parent returns 0 once the child runs; pid file written.
"$ALERTS" -c "$conf" -p "$T_DIR/alerts.pid" >"$T_DIR/detach.out" 2>&1
is "$?" 0 "detached start returns 0"
check "pid file written" wait_for 5 test -s "$T_DIR/alerts.pid"
dpid=$(cat "$T_DIR/alerts.pid" 2>/dev/null)
T_PIDS+=("$dpid")
check "the detached daemon runs (pid $dpid)" kill -0 "$dpid"
out=$("$ALERTS" -c "$conf" -p "$T_DIR/alerts.pid" -f 2>&1); st=$?
is "$st" 1 "a second instance on the same pid file is refused"
contains "$out" "already running as pid $dpid" "and says which pid runs"
kill -TERM "$dpid"
check "detached daemon stops on SIGTERM" wait_for 10 sh -c "! kill -0 $dpid"
check "pid file removed on exit" wait_for 5 test ! -e "$T_DIR/alerts.pid"

# Start-up failures are reported on the terminal, exit 1, also when detaching.
printf '[store]\npath = %s/no/such/dir/store.db\n' "$T_DIR" >"$T_DIR/nodir.conf"
out=$("$COLLECTOR" -c "$T_DIR/nodir.conf" 2>&1); st=$?
is "$st" 1 "an unusable store path fails the start"
contains "$out" "$T_DIR/no/such/dir/store.db" "the error names the store path"

sqlite3 "$T_DIR/store.db" 'PRAGMA user_version = 999'
out=$("$COLLECTOR" -f -c "$conf" 2>&1); st=$?
is "$st" 1 "a store from a newer slipwatch is refused"
contains "$out" "999" "the error gives the store's version"
is "$(sqlite3 "$T_DIR/store.db" 'PRAGMA user_version')" 999 "the newer store is left untouched"
done_testing
