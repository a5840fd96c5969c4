#!/bin/bash
# pg_tmp.sh - a private PostgreSQL server for one test: made in a temp
# directory, reachable only on a Unix socket there (no TCP), stopped and
# removed after.
#
#   pg_tmp.sh start DIR   initdb + start; prints the connection string
#                         ("host=DIR/sock user=slipwatch dbname=slipwatch")
#   pg_tmp.sh stop DIR    fast shutdown, then removes DIR's cluster
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# unprivileged user "postgres" (Debian's package makes it), and DIR is
# handed to that user.  Exit 77 (with the reason on stderr) when no server
# can be started here: the tests that need one then skip, saying why.
set -u
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg_tmp.sh start|stop DIR" >&2; exit 2; }

bindir=${SW_PG_BINDIR:-}
if [ -z "$bindir" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && bindir=$d
	done
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || {
	echo "pg_tmp: no PostgreSQL server (initdb) found; install Debian's postgresql" \
		"(autotools/deps does) or set SW_PG_BINDIR" >&2
	exit 77
}

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir/sock" || exit 1
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || {
			echo "pg_tmp: running as root and no user \"postgres\" to run the server as" >&2
			exit 77
		}
		chown -R postgres: "$dir" || exit 1
	fi
	as_owner "$bindir/initdb" -D "$dir/data" -U slipwatch -A trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
		echo "pg_tmp: initdb failed:" >&2
		tail -5 "$dir/initdb.log" >&2
		exit 77
	}
	# No TCP at all; fsync off: a test's cluster need not survive a crash
	# of this machine (the durability tests kill processes, not it).
	# SW_PG_FSYNC=on (bench/store-ingest.sh): as a real server.
	# SW_PG_OPTS: more server options (-c name=value ...), for looking into
	# one (say, -c shared_preload_libraries=pg_stat_statements).
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 \
		-o "-c listen_addresses='' -k $dir/sock -c fsync=${SW_PG_FSYNC:-off} -c max_connections=40 ${SW_PG_OPTS:-}" \
		start >/dev/null 2>&1 || {
		echo "pg_tmp: the server did not start:" >&2
		tail -5 "$dir/server.log" >&2
		exit 77
	}
	as_owner "$bindir/createdb" -h "$dir/sock" -U slipwatch slipwatch || exit 1
	echo "host=$dir/sock user=slipwatch dbname=slipwatch"
	;;
stop)
	[ -d "$dir/data" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$dir/data" "$dir/sock"
	;;
*)
	echo "pg_tmp: unknown command $cmd" >&2
	exit 2
	;;
esac
