/*
 * store_poll.c - the SQLite store's poll schedule (the poller's per-parcel
 * next poll) and the parcel status counts (split from store.c; the design
 * notes are there).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
#include "lib/store_int.h"
#include "lib/xmalloc.h"

#define POLL_COLS                                                                                  \
	"s.parcel_ref, p.courier, p.tracking_number, s.next_poll_at, "                             \
	"s.interval_s, s.failures, s.last_polled_at, s.last_error"

/* The statements of this file, cached in the handle (store_int.h). */
static const char *const stmt_sql[ST_LAST] = {
    [ST_POLL_UPSERT] = "INSERT INTO poll_schedule (parcel_ref, next_poll_at, "
		       "interval_s, failures, last_polled_at, last_error) SELECT id, "
		       ":next, :interval, :failures, :last, :error FROM parcels WHERE "
		       "courier = :courier AND tracking_number = :tn "
		       "ON CONFLICT (parcel_ref) DO UPDATE SET "
		       "next_poll_at = excluded.next_poll_at, "
		       "interval_s = excluded.interval_s, "
		       "failures = excluded.failures, "
		       "last_polled_at = excluded.last_polled_at, "
		       "last_error = excluded.last_error",
    [ST_POLL_REMOVE] = "DELETE FROM poll_schedule WHERE parcel_ref = (SELECT id FROM "
		       "parcels WHERE courier = :courier AND tracking_number = :tn)",
    [ST_POLL_DUE] = "SELECT " POLL_COLS " FROM poll_schedule s JOIN "
		    "parcels p ON p.id = s.parcel_ref WHERE "
		    "s.next_poll_at <= :before AND p.terminal = 0 "
		    "ORDER BY s.next_poll_at, s.parcel_ref LIMIT :limit",
    /* CROSS JOIN keeps poll_schedule the outer loop, so SQLite walks the
     * poll_due index in due order and stops at LIMIT; a plain JOIN let the
     * planner read every parcel of the courier and sort (measured: the due
     * query took half the poll engine's time at 8,000 parcels). */
    [ST_POLL_DUE_COURIER] = "SELECT " POLL_COLS " FROM poll_schedule s CROSS JOIN "
			    "parcels p ON p.id = s.parcel_ref WHERE "
			    "p.courier = :courier AND s.next_poll_at <= :before AND "
			    "p.terminal = 0 ORDER BY s.next_poll_at, s.parcel_ref "
			    "LIMIT :limit",
    /* New parcels get a schedule spread over [next, next + spread); only
     * ids in (after, upto] are looked at, so repeated calls stay cheap. */
    [ST_POLL_SEED] = "INSERT INTO poll_schedule (parcel_ref, next_poll_at, interval_s, "
		     "failures) SELECT p.id, :next + abs(random() % :spread), :interval, 0 "
		     "FROM parcels p WHERE p.id > :after AND p.id <= :upto AND "
		     "p.courier = :courier AND p.terminal = 0 AND "
		     "NOT EXISTS (SELECT 1 FROM poll_schedule s WHERE s.parcel_ref = p.id)",
    [ST_PARCEL_MAX_ID] = "SELECT coalesce(max(id), 0) FROM parcels",
    [ST_PARCEL_COUNTS] = "SELECT courier, status, count(*) FROM parcels "
			 "GROUP BY courier, status ORDER BY courier, status",
};

/* ---- poll schedule ----------------------------------------------------- */

enum sw_err sw_store_poll_upsert(struct sw_store *st, const struct sw_poll *p)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, p->courier, p->tracking_number)))
		return rc;
	if (p->next_poll_at <= 0 || p->interval_s <= 0 || p->failures < 0 || p->last_polled_at < 0)
		return set_err(st, SW_EINVAL, "poll %s/%s: bad schedule values", p->courier,
			       p->tracking_number);
	if (!(s = stmt(st, ST_POLL_UPSERT)))
		return SW_ESTORE;
	if (b_text(s, ":courier", p->courier) | b_text(s, ":tn", p->tracking_number) |
	    b_int(s, ":next", p->next_poll_at) | b_int(s, ":interval", p->interval_s) |
	    b_int(s, ":failures", p->failures) | b_time(s, ":last", p->last_polled_at) |
	    b_text(s, ":error", p->last_error))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll upsert")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "poll: parcel %s/%s not found", p->courier,
			       p->tracking_number);
	return SW_OK;
}

enum sw_err sw_store_poll_remove(struct sw_store *st, const char *courier,
				 const char *tracking_number)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_POLL_REMOVE)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll remove")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "poll: no schedule for %s/%s", courier,
			       tracking_number);
	return SW_OK;
}

static void poll_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_poll *p = elem;

	p->parcel_id = sw_db_column_int64(s, 0);
	p->courier = col_str(s, 1);
	p->tracking_number = col_str(s, 2);
	p->next_poll_at = sw_db_column_int64(s, 3);
	p->interval_s = sw_db_column_int(s, 4);
	p->failures = sw_db_column_int(s, 5);
	p->last_polled_at = sw_db_column_int64(s, 6);
	p->last_error = col_str(s, 7);
}

static void poll_free_v(void *arr, size_t n)
{
	sw_store_poll_free(arr, n);
}

enum sw_err sw_store_poll_due(struct sw_store *st, int64_t before, int limit,
			      struct sw_poll **ret_polls, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, ST_POLL_DUE)))
		return SW_ESTORE;
	if (b_int(s, ":before", before) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "poll due", sizeof(struct sw_poll), poll_fill, poll_free_v, &arr,
		       ret_n);
	*ret_polls = arr;
	return rc;
}

void sw_store_poll_free(struct sw_poll *polls, size_t n)
{
	size_t i;

	for (i = 0; polls && i < n; i++) {
		free((char *)polls[i].courier);
		free((char *)polls[i].tracking_number);
		free((char *)polls[i].last_error);
	}
	free(polls);
}

enum sw_err sw_store_poll_due_courier(struct sw_store *st, const char *courier, int64_t before,
				      int limit, struct sw_poll **ret_polls, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *arr;
	enum sw_err rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if (!nonempty(courier))
		return set_err(st, SW_EINVAL, "poll due: courier is required");
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, ST_POLL_DUE_COURIER)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_int(s, ":before", before) |
	    b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "poll due", sizeof(struct sw_poll), poll_fill, poll_free_v, &arr,
		       ret_n);
	*ret_polls = arr;
	return rc;
}

enum sw_err sw_store_poll_seed(struct sw_store *st, const char *courier, int64_t after_id,
			       int64_t next_poll_at, int spread_s, int interval_s,
			       int64_t *ret_added, int64_t *ret_upto)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t upto;

	if (ret_added)
		*ret_added = 0;
	if (!nonempty(courier) || after_id < 0 || next_poll_at <= 0 || spread_s < 1 ||
	    interval_s < 1)
		return set_err(st, SW_EINVAL, "poll seed: bad arguments");
	if (!(s = stmt(st, ST_PARCEL_MAX_ID)))
		return SW_ESTORE;
	if ((rc = query_int(st, s, "poll seed", &upto, NULL)))
		return rc;
	if (!(s = stmt(st, ST_POLL_SEED)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_int(s, ":next", next_poll_at) |
	    b_int(s, ":spread", spread_s) | b_int(s, ":interval", interval_s) |
	    b_int(s, ":after", after_id) | b_int(s, ":upto", upto))
		return bind_failed(st, s);
	if ((rc = run(st, s, "poll seed")))
		return rc;
	if (ret_added)
		*ret_added = sw_db_changes(st->db);
	if (ret_upto)
		*ret_upto = upto > after_id ? upto : after_id;
	return SW_OK;
}

static void count_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_status_count *c = elem;
	const unsigned char *name = sw_db_column_text(s, 1);

	c->courier = col_str(s, 0);
	c->status = SW_SHIP_UNKNOWN; /* the CHECK constraint makes this moot */
	if (name)
		sw_store_ship_status_parse((const char *)name, &c->status);
	c->count = sw_db_column_int64(s, 2);
}

static void count_free_v(void *arr, size_t n)
{
	sw_store_status_counts_free(arr, n);
}

enum sw_err sw_store_parcel_status_counts(struct sw_store *st, struct sw_status_count **ret_list,
					  size_t *ret_n)
{
	void *list;
	enum sw_err rc = list_all(st, ST_PARCEL_COUNTS, "parcel counts",
				  sizeof(struct sw_status_count), count_fill, count_free_v, &list, ret_n);

	*ret_list = list;
	return rc;
}

void sw_store_status_counts_free(struct sw_status_count *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i].courier);
	free(list);
}
