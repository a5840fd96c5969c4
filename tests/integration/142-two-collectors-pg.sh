#!/usr/bin/env bash
# 142-two-collectors-pg: 140-two-collectors on a PostgreSQL store (a private
# server, tests/tools/pg_tmp.sh): two collectors on one shared
# subscription write one PostgreSQL database, one is killed with -9
# mid-burst of 100,000 events and restarted; 0 lost, 0 applied twice.
# 10,000 under the sanitizers (their build is several times slower and
# the 100,000 ran in the plain build).
if [ -n "${SW_SANITIZERS:-}" ]; then
	export SW_TWO_COLLECTORS_EVENTS=${SW_TWO_COLLECTORS_EVENTS:-10000}
else
	export SW_TWO_COLLECTORS_EVENTS=${SW_TWO_COLLECTORS_EVENTS:-100000}
fi
SW_TEST_STORE=pg exec bash "$SW_SRCDIR/tests/integration/140-two-collectors.sh"
