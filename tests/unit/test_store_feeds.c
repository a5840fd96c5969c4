/*
 * test_store_feeds.c - unit tests for lib/store_feeds.h (schema 7):
 * warehouse_health (last event per warehouse, never moving back; the last
 * resume after a pause and its length, out-of-order times included) and
 * courier_polls (answers per courier and minute, summed over a window,
 * old minutes pruned), on a store in a private temp dir at a fixed "now".
 * Rows are also checked on a raw connection (tests/sqlite_raw.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/store_feeds.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"
#include "tests/sqlite_raw.h"
#include "tests/store_tmp.h"
#include "tests/tap.h"

#define NOW INT64_C(1795521600) /* 2026-11-24T12:00:00Z */


static void test_warehouse_health(struct sw_store *st)
{
	int64_t at = -1;
	char **ids = NULL;
	size_t n = 0;

	is_int(sw_store_warehouse_last_event(st, "w1", &at), SW_OK, "warehouse never seen: SW_OK");
	is_int(at, 0, "  last event 0");
	is_int(sw_store_warehouse_seen(st, "w1", NOW - 60), SW_OK, "w1 seen");
	is_int(sw_store_warehouse_seen(st, "w1", NOW), SW_OK, "w1 seen later");
	is_int(sw_store_warehouse_seen(st, "w1", NOW - 600), SW_OK, "w1 seen earlier (late batch)");
	is_int(sw_store_warehouse_last_event(st, "w1", &at), SW_OK, "w1 read");
	is_int(at, NOW, "  the latest time wins, never moves back");
	is_int(sw_store_warehouse_seen(st, "a0", NOW - 5), SW_OK, "a0 seen");
	is_int(raw_int(store_path, "SELECT count(*) FROM warehouse_health"), 2,
	       "  one row per warehouse");
	is_int(sw_store_feed_warehouses(st, &ids, &n), SW_OK, "warehouses listed");
	ok(n == 2 && strcmp(ids[0], "a0") == 0 && strcmp(ids[1], "w1") == 0, "  sorted: a0, w1");
	sw_store_sig_ids_free(ids, n);
	is_int(sw_store_warehouse_seen(st, "", NOW), SW_EINVAL, "empty warehouse refused");
	is_int(sw_store_warehouse_seen(st, "w1", 0), SW_EINVAL, "no time refused");
	is_int(sw_store_warehouse_last_event(st, NULL, &at), SW_EINVAL, "NULL warehouse refused");
}

/* Reads w's row into last, resumed_at, gap; true when it was read. */
static bool health(struct sw_store *st, const char *w, int64_t *last, int64_t *at, int64_t *gap)
{
	return sw_store_warehouse_health(st, w, last, at, gap) == SW_OK;
}

static void test_warehouse_resumed(struct sw_store *st)
{
	int64_t last = -1, at = -1, gap = -1;

	ok(health(st, "r1", &last, &at, &gap) && last == 0 && at == 0 && gap == 0,
	   "never published: 0, 0, 0");
	sw_store_warehouse_seen(st, "r1", NOW - 3600);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 3600 && at == 0 && gap == 0,
	   "first row: no resume (the pause before it is unknown)");
	sw_store_warehouse_seen(st, "r1", NOW - 3600 + SW_FEEDS_PAUSE);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 3600 + 60 && at == 0 && gap == 0,
	   "%d s later: not a pause (last %lld, resumed %lld)", SW_FEEDS_PAUSE,
	   (long long)(last - NOW), (long long)at);
	sw_store_warehouse_seen(st, "r1", NOW - 1200);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 1200 && at == NOW - 1200 &&
		   gap == 2340,
	   "39 min later: resumed then, after 2340 s (got %lld, %lld)", (long long)(at - NOW),
	   (long long)gap);
	sw_store_warehouse_seen(st, "r1", NOW - 1170);
	sw_store_warehouse_seen(st, "r1", NOW - 1110);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 1110 && at == NOW - 1200 &&
		   gap == 2340,
	   "the backlog's batches 30 s and 60 s apart keep the resume");
	sw_store_warehouse_seen(st, "r1", NOW - 3000);
	sw_store_warehouse_seen(st, "r1", NOW - 1110);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 1110 && at == NOW - 1200 &&
		   gap == 2340,
	   "an older time (late batch) and the same time again move nothing");
	sw_store_warehouse_seen(st, "r1", NOW - 1000);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 1000 && at == NOW - 1000 &&
		   gap == 110,
	   "110 s later: a new resume, after 110 s (the backlog had landed)");
	sw_store_warehouse_seen(st, "r1", NOW - 2000);
	ok(health(st, "r1", &last, &at, &gap) && last == NOW - 1000 && at == NOW - 1000 &&
		   gap == 110,
	   "a time 1000 s older after it: nothing moves back");
	is_int(raw_int(store_path,
		       "SELECT resumed_at FROM warehouse_health WHERE warehouse_id = 'r1'"),
	       NOW - 1000, "  the row holds resumed_at");
	is_int(raw_int(store_path,
		       "SELECT resumed_gap FROM warehouse_health WHERE warehouse_id = 'r1'"),
	       110, "  and resumed_gap");
	is_int(sw_store_warehouse_last_event(st, "r1", &last), SW_OK, "last event alone");
	is_int(last, NOW - 1000, "  agrees");
	is_int(sw_store_warehouse_health(st, "", &last, &at, &gap), SW_EINVAL,
	       "empty warehouse refused");
}

static void test_courier_polls(struct sw_store *st)
{
	int64_t okn = -1, failed = -1;

	is_int(sw_store_courier_polls_sum(st, "dhl", NOW - 3600, &okn, &failed), SW_OK,
	       "no answers: SW_OK");
	ok(okn == 0 && failed == 0, "  0 and 0");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW - 7200, 10, 0), SW_OK, "2 h ago: 10 ok");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW - 1800, 3, 1), SW_OK, "30 m ago: 3/1");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW - 1790, 1, 5), SW_OK,
	       "same minute: 1/5 more");
	is_int(sw_store_courier_polls_note(st, "ups", NOW - 60, 0, 9), SW_OK, "ups: 9 failed");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW, 0, 0), SW_OK, "nothing to add: SW_OK");
	is_int(raw_int(store_path, "SELECT count(*) FROM courier_polls WHERE courier = 'dhl'"), 2,
	       "  one row per courier and minute, none for 0/0");
	is_int(sw_store_courier_polls_sum(st, "dhl", NOW - 3600, &okn, &failed), SW_OK,
	       "dhl over the last hour");
	ok(okn == 4 && failed == 6, "  4 ok, 6 failed (the 2 h old minute is outside)");
	is_int(sw_store_courier_polls_sum(st, "dhl", NOW - 3 * 3600, &okn, &failed), SW_OK,
	       "dhl over 3 hours");
	ok(okn == 14 && failed == 6, "  14 ok, 6 failed");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW + SW_FEEDS_KEEP - 3600, 1, 0), SW_OK,
	       "a note SW_FEEDS_KEEP later");
	is_int(raw_int(store_path, "SELECT count(*) FROM courier_polls WHERE courier = 'dhl'"), 2,
	       "  prunes the minute older than SW_FEEDS_KEEP");
	is_int(raw_int(store_path, "SELECT count(*) FROM courier_polls WHERE courier = 'ups'"), 1,
	       "  and only that courier's");
	is_int(sw_store_courier_polls_note(st, "dhl", NOW, -1, 0), SW_EINVAL, "negative refused");
	is_int(sw_store_courier_polls_note(st, "", NOW, 1, 0), SW_EINVAL, "empty courier refused");
}

int main(void)
{
	struct sw_store *st = store_tmp_open();

	if (!st)
		return store_tmp_done(NULL);
	test_warehouse_health(st);
	test_warehouse_resumed(st);
	test_courier_polls(st);
	return store_tmp_done(st);
}
