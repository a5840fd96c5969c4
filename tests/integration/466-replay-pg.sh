#!/usr/bin/env bash
# 466-replay-pg: 465-replay on a PostgreSQL store (a private server,
# tests/tools/pg_tmp.sh): the run writes PostgreSQL, and slipwatch replay
# reads it through a scratch SQLite copy (sw_store_snapshot) with the same
# answers as on SQLite, leaving the store unchanged and nothing behind.
SW_TEST_STORE=pg exec bash "$SW_SRCDIR/tests/integration/465-replay.sh"
