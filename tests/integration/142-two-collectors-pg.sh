#!/usr/bin/env bash
# 142-two-collectors-pg: 140-two-collectors on a PostgreSQL store (a private
# server, tests/tools/pg_tmp.sh): two collectors on one shared
# subscription write one PostgreSQL database, one is killed with -9
# mid-burst and restarted; 0 lost, 0 applied twice.  5,000 events (2,000
# under the sanitizers): the SQLite run carries the 100,000; this one the
# second backend, whose ingest is a round trip per statement today
# (doc/scale-out.md, "Measured"), inside the suite's time.
if [ -n "${SW_SANITIZERS:-}" ]; then
	export SW_TWO_COLLECTORS_EVENTS=${SW_TWO_COLLECTORS_EVENTS:-2000}
else
	export SW_TWO_COLLECTORS_EVENTS=${SW_TWO_COLLECTORS_EVENTS:-5000}
fi
SW_TEST_STORE=pg exec bash "$SW_SRCDIR/tests/integration/140-two-collectors.sh"
