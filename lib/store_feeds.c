/*
 * store_feeds.c - the SQLite side of store_feeds.h: warehouse_health and
 * courier_polls (schema 7; warehouse_health.resumed_at and resumed_gap,
 * schema 8).
 *
 * Design (as store_signals.c): statements are prepared per call through
 * store_int.h.  The writes ride the collector's own transactions, once
 * per warehouse per event batch and once per courier per poll batch, so
 * their cost is per batch, not per event (bench/mqtt-ingest.sh measures
 * it).  Every read is a primary-key seek.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_feeds.h"
#include "lib/store_int.h"
#include "lib/store_signals.h"
#include "lib/xmalloc.h"

/* The SET expressions all read the row as it was (SQL semantics), so
 * resumed_* compare the new time with the old last_event_at. */
static const char wh_seen_sql[] =
    "INSERT INTO warehouse_health (warehouse_id, last_event_at) VALUES (:wh, :at)"
    " ON CONFLICT (warehouse_id) DO UPDATE SET"
    " resumed_at = CASE WHEN excluded.last_event_at - last_event_at > :pause"
    " THEN excluded.last_event_at ELSE resumed_at END,"
    " resumed_gap = CASE WHEN excluded.last_event_at - last_event_at > :pause"
    " THEN excluded.last_event_at - last_event_at ELSE resumed_gap END,"
    " last_event_at = max(last_event_at, excluded.last_event_at)";
static const char wh_get_sql[] = "SELECT last_event_at, resumed_at, resumed_gap"
				 " FROM warehouse_health WHERE warehouse_id = :wh";
static const char wh_list_sql[] = "SELECT warehouse_id FROM warehouse_health ORDER BY warehouse_id";
static const char polls_note_sql[] =
    "INSERT INTO courier_polls (courier, minute, ok, failed) VALUES (:courier, :minute, :ok, "
    ":failed) ON CONFLICT (courier, minute) DO UPDATE SET ok = ok + excluded.ok,"
    " failed = failed + excluded.failed";
static const char polls_prune_sql[] =
    "DELETE FROM courier_polls WHERE courier = :courier AND minute < :before";
static const char polls_sum_sql[] = "SELECT coalesce(sum(ok), 0), coalesce(sum(failed), 0)"
				    " FROM courier_polls WHERE courier = :courier"
				    " AND minute >= :since";

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Prepares sql, binds :wh or :courier (key) and up to three integers
 * (names NULL when unused); NULL with the error set on failure. */
static struct sw_db_stmt *prep(struct sw_store *st, const char *sql, const char *what,
			  const char *key_name, const char *key, const char *n1, int64_t v1,
			  const char *n2, int64_t v2, const char *n3, int64_t v3)
{
	struct sw_db_stmt *s = sw_store_int_prepare(st, sql, what);

	if (!s)
		return NULL;
	if (sw_store_int_bind_text(s, key_name, key) |
	    (n1 ? sw_store_int_bind_int(s, n1, v1) : 0) |
	    (n2 ? sw_store_int_bind_int(s, n2, v2) : 0) |
	    (n3 ? sw_store_int_bind_int(s, n3, v3) : 0)) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return NULL;
	}
	return s;
}

/* Steps a statement that returns no row, and finalizes it. */
static enum sw_err exec_done(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	int rc;

	if (!s)
		return SW_ESTORE;
	rc = sw_db_step(s);
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

enum sw_err sw_store_warehouse_seen(struct sw_store *st, const char *warehouse_id, int64_t at)
{
	const char *what = "warehouse health";

	if (empty(warehouse_id) || at <= 0)
		return sw_store_int_err(st, SW_EINVAL,
					"warehouse health: warehouse id and time are required");
	return exec_done(st,
			 prep(st, wh_seen_sql, what, ":wh", warehouse_id, ":at", at, ":pause",
			      SW_FEEDS_PAUSE, NULL, 0),
			 what);
}

enum sw_err sw_store_warehouse_last_event(struct sw_store *st, const char *warehouse_id,
					  int64_t *ret_at)
{
	int64_t resumed_at, gap;

	return sw_store_warehouse_health(st, warehouse_id, ret_at, &resumed_at, &gap);
}

enum sw_err sw_store_warehouse_health(struct sw_store *st, const char *warehouse_id,
				      int64_t *ret_last, int64_t *ret_resumed_at,
				      int64_t *ret_resumed_gap)
{
	const char *what = "warehouse health";
	struct sw_db_stmt *s;
	int rc;

	*ret_last = *ret_resumed_at = *ret_resumed_gap = 0;
	if (empty(warehouse_id))
		return sw_store_int_err(st, SW_EINVAL, "warehouse health: empty warehouse id");
	if (!(s = prep(st, wh_get_sql, what, ":wh", warehouse_id, NULL, 0, NULL, 0, NULL, 0)))
		return SW_ESTORE;
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW) {
		*ret_last = sw_db_column_int64(s, 0);
		*ret_resumed_at = sw_db_column_int64(s, 1);
		*ret_resumed_gap = sw_db_column_int64(s, 2);
	} else if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

enum sw_err sw_store_feed_warehouses(struct sw_store *st, char ***ret_ids, size_t *ret_n)
{
	const char *what = "warehouse feeds";
	struct sw_db_stmt *s = sw_store_int_prepare(st, wh_list_sql, what);
	char **ids = NULL;
	size_t n = 0;
	int rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if (!s)
		return SW_ESTORE;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = xstrdup((const char *)sw_db_column_text(s, 0));
	}
	sw_db_finalize(s);
	if (rc != SW_DB_DONE) {
		sw_store_sig_ids_free(ids, n);
		return sw_store_int_dberr(st, what);
	}
	*ret_ids = ids;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_courier_polls_note(struct sw_store *st, const char *courier, int64_t at,
					int64_t ok, int64_t failed)
{
	const char *what = "courier polls";
	enum sw_err rc;

	if (empty(courier) || at <= 0 || ok < 0 || failed < 0)
		return sw_store_int_err(st, SW_EINVAL,
					"courier polls: courier, time and counts are required");
	if (ok == 0 && failed == 0)
		return SW_OK;
	rc = exec_done(st,
		       prep(st, polls_note_sql, what, ":courier", courier, ":minute",
			    at - at % 60, ":ok", ok, ":failed", failed),
		       what);
	if (rc == SW_OK)
		rc = exec_done(st,
			       prep(st, polls_prune_sql, what, ":courier", courier, ":before",
				    at - SW_FEEDS_KEEP, NULL, 0, NULL, 0),
			       what);
	return rc;
}

enum sw_err sw_store_courier_polls_sum(struct sw_store *st, const char *courier, int64_t since,
				       int64_t *ret_ok, int64_t *ret_failed)
{
	const char *what = "courier polls";
	struct sw_db_stmt *s;
	int rc;

	*ret_ok = *ret_failed = 0;
	if (empty(courier))
		return sw_store_int_err(st, SW_EINVAL, "courier polls: empty courier");
	if (!(s = prep(st, polls_sum_sql, what, ":courier", courier, ":since", since, NULL, 0,
		       NULL, 0)))
		return SW_ESTORE;
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW) {
		*ret_ok = sw_db_column_int64(s, 0);
		*ret_failed = sw_db_column_int64(s, 1);
		rc = SW_DB_DONE;
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}
