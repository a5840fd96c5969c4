#!/usr/bin/env bash
# 436-alerts-failover-pg: 435-alerts-failover on a PostgreSQL store (a
# private server, tests/tools/pg_tmp.sh): two alert engines on one store,
# the active one killed with -9 mid email burst, the standby takes over;
# every customer gets their email, duplicates only for rows the killed
# engine left claimed ('sending'), counted from the store and printed;
# a clean stop hands over at once.  The outbox is claimed with FOR UPDATE
# SKIP LOCKED here, the lease is the same one statement as on SQLite.
SW_TEST_STORE=pg exec bash "$SW_SRCDIR/tests/integration/435-alerts-failover.sh"
