/*
 * store_pollplan.c - the SQLite side of store_pollplan.h: a courier's
 * scheduled parcels by priority class, for the quota planner.
 *
 * Design (as store_feeds.c): statements are prepared per call through
 * store_int.h.  CLASS_SQL is the one definition of a parcel's class; the
 * three queries embed it.  The counts and the class of one parcel are
 * read when the engine refreshes its plan or reschedules a found parcel;
 * the ordered due list only while a courier's quota is short (it reads
 * every due parcel of the courier to sort them, where the plain due query
 * stops at its LIMIT in the poll_due index).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_polllease.h"
#include "lib/store_pollplan.h"
#include "lib/xmalloc.h"

#define STR2(x) #x
#define STR(x)	STR2(x)

/* p: parcels, o: orders (LEFT JOIN, may be NULL); binds :now.  The ETA is
 * a calendar date: compared as text with the UTC date SW_POLL_NEAR_S
 * ahead (the date's own zone is unknown here; a day's error at most). */
#define CLASS_SQL                                                                                  \
	"CASE WHEN p.status IN ('out_for_delivery', 'attempt_fail', 'available_for_pickup')"       \
	" THEN 0"                                                                                  \
	" WHEN o.promised_delivery_at IS NOT NULL"                                                 \
	"  AND o.promised_delivery_at <= :now + " STR(                                             \
	    SW_POLL_NEAR_S) " THEN 1"                                                              \
			    " WHEN p.eta_date IS NOT NULL"                                         \
			    "  AND p.eta_date <= date(:now + " STR(                                \
				SW_POLL_NEAR_S) ", 'unixepoch') THEN 1"                            \
						" WHEN p.last_event_at IS NOT NULL"                \
						"  AND p.last_event_at >= :now - " STR(            \
						    SW_POLL_MOVED_S) " THEN 2"                     \
								     " ELSE 3 END"

static const char counts_sql[] = "SELECT " CLASS_SQL " AS cls, count(*), sum(1.0 / s.interval_s)"
				 " FROM parcels p JOIN poll_schedule s ON s.parcel_ref = p.id"
				 " LEFT JOIN orders o ON o.id = p.order_ref"
				 " WHERE p.courier = :courier AND p.terminal = 0"
				 " AND s.next_poll_at < :now + " STR(SW_POLL_PARK_S) " / 2 GROUP BY cls";

static const char due_sql[] =
    "SELECT s.parcel_ref, p.courier, p.tracking_number, s.next_poll_at, s.interval_s,"
    " s.failures, coalesce(s.last_polled_at, 0), s.last_error"
    " FROM parcels p JOIN poll_schedule s ON s.parcel_ref = p.id"
    " LEFT JOIN orders o ON o.id = p.order_ref"
    " WHERE p.courier = :courier AND p.terminal = 0 AND s.next_poll_at <= :before"
    " ORDER BY " CLASS_SQL ", s.next_poll_at, s.parcel_ref LIMIT :limit";

/* The candidates of a claim in priority order (store_polllease.h). */
static const char claim_sql[] = SW_POLL_CLAIM_SQL(
    "SELECT s.parcel_ref FROM parcels p JOIN poll_schedule s ON s.parcel_ref = p.id"
    " LEFT JOIN orders o ON o.id = p.order_ref"
    " WHERE p.courier = :courier AND p.terminal = 0 AND s.next_poll_at <= :now"
    " AND " SW_POLL_CLAIMABLE("s") " ORDER BY " CLASS_SQL ", s.next_poll_at, s.parcel_ref"
    " LIMIT :limit");

static const char class_sql[] = "SELECT " CLASS_SQL " FROM parcels p"
				" LEFT JOIN orders o ON o.id = p.order_ref"
				" WHERE p.courier = :courier AND p.tracking_number = :tn"
				" AND p.terminal = 0";

const char *sw_poll_class_name(enum sw_poll_class c)
{
	static const char *const names[] = {"final", "near", "moved", "other"};

	return (unsigned)c < SW_POLL_CLASS_LAST ? names[c] : "?";
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Prepares sql with :courier and :now bound; NULL with the error set. */
static struct sw_db_stmt *prep(struct sw_store *st, const char *sql, const char *what,
			  const char *courier, int64_t now)
{
	struct sw_db_stmt *s = sw_store_int_prepare(st, sql, what);

	if (!s)
		return NULL;
	if (sw_store_int_bind_text(s, ":courier", courier) |
	    sw_store_int_bind_int(s, ":now", now)) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return NULL;
	}
	return s;
}

enum sw_err sw_store_pollplan_counts(struct sw_store *st, const char *courier, int64_t now,
				     struct sw_poll_class_count ret[SW_POLL_CLASS_LAST])
{
	const char *what = "poll plan counts";
	struct sw_db_stmt *s;
	int rc;

	memset(ret, 0, sizeof(*ret) * SW_POLL_CLASS_LAST);
	if (empty(courier))
		return sw_store_int_err(st, SW_EINVAL, "poll plan: empty courier");
	if (!(s = prep(st, counts_sql, what, courier, now)))
		return SW_ESTORE;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		int cls = sw_db_column_int(s, 0);

		if (cls < 0 || cls >= SW_POLL_CLASS_LAST)
			continue; /* cannot happen: CLASS_SQL */
		ret[cls].count = sw_db_column_int64(s, 1);
		ret[cls].rate = sw_db_column_double(s, 2);
	}
	sw_db_finalize(s);
	if (rc != SW_DB_DONE)
		return sw_store_int_dberr(st, what);
	return SW_OK;
}

void sw_store_int_poll_fill(struct sw_db_stmt *s, struct sw_poll *p)
{
	memset(p, 0, sizeof(*p));
	p->parcel_id = sw_db_column_int64(s, 0);
	p->courier = sw_store_int_col_str(s, 1);
	p->tracking_number = sw_store_int_col_str(s, 2);
	p->next_poll_at = sw_db_column_int64(s, 3);
	p->interval_s = sw_db_column_int(s, 4);
	p->failures = sw_db_column_int(s, 5);
	p->last_polled_at = sw_db_column_int64(s, 6);
	p->last_error = sw_store_int_col_str(s, 7);
}

enum sw_err sw_store_pollplan_due(struct sw_store *st, const char *courier, int64_t now,
				  int64_t before, int limit, struct sw_poll **ret_polls,
				  size_t *ret_n)
{
	const char *what = "poll plan due";
	struct sw_poll *arr = NULL;
	size_t n = 0;
	struct sw_db_stmt *s;
	int rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if (empty(courier))
		return sw_store_int_err(st, SW_EINVAL, "poll plan: empty courier");
	if (limit < 1 || limit > SW_STORE_MAX_BATCH)
		return sw_store_int_err(st, SW_ERANGE, "poll plan: limit %d not in 1..%d", limit,
					SW_STORE_MAX_BATCH);
	if (!(s = prep(st, due_sql, what, courier, now)))
		return SW_ESTORE;
	if (sw_store_int_bind_int(s, ":before", before) |
	    sw_store_int_bind_int(s, ":limit", limit)) {
		sw_db_finalize(s);
		return sw_store_int_dberr(st, what);
	}
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		arr = xreallocarray(arr, n + 1, sizeof(*arr));
		sw_store_int_poll_fill(s, &arr[n++]);
	}
	sw_db_finalize(s);
	if (rc != SW_DB_DONE) {
		sw_store_poll_free(arr, n);
		return sw_store_int_dberr(st, what);
	}
	*ret_polls = arr;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_pollplan_class(struct sw_store *st, const char *courier,
				    const char *tracking_number, int64_t now,
				    enum sw_poll_class *ret_class)
{
	const char *what = "poll plan class";
	struct sw_db_stmt *s;
	int rc, cls = SW_POLL_CLASS_OTHER;

	*ret_class = SW_POLL_CLASS_OTHER;
	if (empty(courier) || empty(tracking_number))
		return sw_store_int_err(st, SW_EINVAL,
					"poll plan: courier and tracking number "
					"are required");
	if (!(s = prep(st, class_sql, what, courier, now)))
		return SW_ESTORE;
	if (sw_store_int_bind_text(s, ":tn", tracking_number)) {
		sw_db_finalize(s);
		return sw_store_int_dberr(st, what);
	}
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW)
		cls = sw_db_column_int(s, 0);
	sw_db_finalize(s);
	if (rc == SW_DB_DONE)
		return sw_store_int_err(st, SW_ENOTFOUND, "poll plan: no active parcel %s/%s",
					courier, tracking_number);
	if (rc != SW_DB_ROW)
		return sw_store_int_dberr(st, what);
	*ret_class =
	    cls >= 0 && cls < SW_POLL_CLASS_LAST ? (enum sw_poll_class)cls : SW_POLL_CLASS_OTHER;
	return SW_OK;
}

enum sw_err sw_store_pollplan_claim(struct sw_store *st, const char *courier, const char *holder,
				    int64_t now, int lease_s, int limit, struct sw_poll **ret_polls,
				    size_t *ret_n)
{
	return sw_store_polllease_run(st, claim_sql, courier, holder, now, lease_s, limit,
				      ret_polls, ret_n);
}
