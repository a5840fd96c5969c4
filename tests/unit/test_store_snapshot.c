/*
 * test_store_snapshot.c - unit tests for sw_store_snapshot (store.h): a
 * copy of some tables into a new SQLite file has every row of them
 * exactly (a journal of three pages and a bit, text with non-ASCII and
 * NULLs, a parcel whose order is not copied), no other table's rows, no
 * triggers; an existing path, a table the store lacks, a PostgreSQL
 * address as the copy's path and bad arguments are refused, leaving no
 * file.  On a store in a private temp dir, or on the PostgreSQL database
 * SW_TEST_STORE_URL names (tests/integration/060-store-pg.sh).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/store.h"
#include "lib/xmalloc.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW	INT64_C(1795521600) /* 2026-11-24T12:00:00Z */
#define NEVENTS 15001		    /* three pages of the copy, and one row */

static const char *const tables[] = {"journal", "parcels"};

/* NEVENTS journal rows, one order and its parcel, in one transaction. */
static int fill(struct sw_store *st)
{
	struct sw_order o = {.warehouse_id = "blr1", .order_id = "A-1"};
	struct sw_stamp at = {NOW, 19800};
	int bad = 0;

	bad |= sw_store_begin(st) != SW_OK;
	for (int i = 0; i < NEVENTS && !bad; i++) {
		char id[32];
		struct sw_journal_event j = {
		    .source = "warehouse:blr1",
		    .source_event_id = id,
		    .kind = "order.created",
		    .warehouse_id = "blr1",
		    .order_id = i % 2 ? "A-1" : NULL,
		    .occurred_at = {NOW - i, 19800},
		    .received_at = NOW,
		    .payload = i == 7 ? "{\"name\":\"अनिल ગુજરાત\"}" : "{}",
		};

		snprintf(id, sizeof(id), "e%d", i);
		bad |= sw_store_journal_append(st, &j, NULL) != SW_OK;
	}
	o.stage[SW_STAGE_SHIPPED] = at;
	bad |= sw_store_order_upsert(st, &o) != SW_OK;
	bad |= sw_store_parcel_upsert(st, "dhl", "T1", "blr1", "A-1", at) != SW_OK;
	bad |= sw_store_commit(st) != SW_OK;
	if (bad)
		printf("#   %s\n", sw_store_errmsg(st));
	return bad;
}

static void test_copy(struct sw_store *st)
{
	char *copy = xasprintf("%s/copy.db", tmpdir);

	is_int(fill(st), 0, "a journal of %d events, an order and its parcel", NEVENTS);
	is_int(sw_store_snapshot(st, copy, tables, 2), SW_OK, "copied: %s", sw_store_errmsg(st));
	is_int(raw_int(copy, "SELECT count(*) FROM journal"), NEVENTS, "every journal row");
	is_int(raw_int(copy, "SELECT count(DISTINCT seq) FROM journal WHERE seq BETWEEN 1 AND "
			     "15001 AND source_event_id = 'e' || (seq - 1)"),
	       NEVENTS, "each with its own seq");
	is_int(raw_int(copy, "SELECT count(*) FROM journal WHERE order_id IS NULL"), NEVENTS / 2 + 1,
	       "NULLs kept");
	is_int(raw_int(copy, "SELECT count(*) FROM journal WHERE payload = "
			     "'{\"name\":\"अनिल ગુજરાત\"}' AND seq = 8 AND occurred_off = 19800 "
			     "AND occurred_at = 1795521593"),
	       1, "text and numbers exact");
	is_int(raw_int(copy, "SELECT count(*) FROM parcels WHERE courier = 'dhl' AND "
			     "tracking_number = 'T1' AND order_ref IS NOT NULL"),
	       1, "the parcel, its order not copied");
	is_int(raw_int(copy, "SELECT count(*) FROM orders"), 0, "no table but those asked for");
	is_int(raw_int(copy, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 0,
	       "no triggers");
	is_int(sw_store_snapshot(st, copy, tables, 2), SW_EDUP, "an existing path: refused");
	ok(strstr(sw_store_errmsg(st), "exists") != NULL, "  saying so: %s", sw_store_errmsg(st));
	is_int(raw_int(copy, "SELECT count(*) FROM journal"), NEVENTS, "  and left as it was");
	free(copy);
}

static void test_refused(struct sw_store *st)
{
	const char *const bad[] = {"journal", "nosuch"};
	char *copy = xasprintf("%s/bad.db", tmpdir);

	is_int(sw_store_snapshot(st, copy, bad, 2), SW_EINVAL, "a table the store lacks: refused");
	ok(strstr(sw_store_errmsg(st), "nosuch") != NULL, "  naming it: %s", sw_store_errmsg(st));
	ok(access(copy, F_OK) != 0, "  and no file is left");
	is_int(sw_store_snapshot(st, "postgresql://db.example/sw", tables, 2), SW_EINVAL,
	       "a PostgreSQL address for the copy: refused");
	is_int(sw_store_snapshot(st, NULL, tables, 2), SW_EINVAL, "no path: refused");
	is_int(sw_store_snapshot(st, "", tables, 2), SW_EINVAL, "an empty path: refused");
	is_int(sw_store_snapshot(st, copy, NULL, 2), SW_EINVAL, "no tables: refused");
	is_int(sw_store_snapshot(NULL, copy, tables, 2), SW_EINVAL, "no store: refused");
	free(copy);
}

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (st) {
		test_copy(st);
		test_refused(st);
	}
	return store_tmp_done(st);
}
