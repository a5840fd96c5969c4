/*
 * store_polllease.c - the SQLite side of store_polllease.h: claiming due
 * parcels for one collector and releasing them.
 *
 * Design (as store_pollplan.c): statements are prepared per call through
 * store_int.h.  A claim is one WITH due (inner select ... LIMIT) UPDATE
 * ... WHERE parcel_ref IN due ... RETURNING: SQLite runs one writer at a
 * time, so two collectors' claims never overlap.  The due order's inner select
 * walks the poll_due index in due order (the parcel tested with a
 * correlated EXISTS, which keeps poll_schedule the outer loop as the
 * CROSS JOIN of ST_POLL_DUE_COURIER does, in SQL that PostgreSQL also
 * runs) and stops at its LIMIT.  Releases come one statement per group
 * commit (sw_store_poll_release_many), not one prepare per parcel.
 *
 * For PostgreSQL: the same text is correct at READ COMMITTED because the
 * outer WHERE repeats the claimable test (a row another claim changed is
 * re-checked and skipped); FOR UPDATE OF s SKIP LOCKED on the inner select
 * spares the waiting (SW_POLL_CLAIM_SQL).
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

static const char claim_due_sql[] = SW_POLL_CLAIM_SQL(
    "SELECT s.parcel_ref FROM poll_schedule s"
    " WHERE s.next_poll_at <= :now AND " SW_POLL_CLAIMABLE("s")
    " AND EXISTS (SELECT 1 FROM parcels p WHERE p.id = s.parcel_ref"
    " AND p.courier = :courier AND p.terminal = 0)"
    " ORDER BY s.next_poll_at, s.parcel_ref LIMIT :limit");

static const char release_sql[] =
    "UPDATE poll_schedule SET lease_holder = NULL, lease_until = 0"
    " WHERE lease_holder = :holder AND parcel_ref ="
    " (SELECT id FROM parcels WHERE courier = :courier AND tracking_number = :tn)"
    " RETURNING parcel_ref";

/* After a release that found nothing: is the parcel held by another? */
static const char other_sql[] =
    "SELECT 1 FROM poll_schedule WHERE lease_holder IS NOT NULL AND lease_holder <> :holder"
    " AND parcel_ref ="
    " (SELECT id FROM parcels WHERE courier = :courier AND tracking_number = :tn)";

static const char release_all_sql[] =
    "UPDATE poll_schedule SET lease_holder = NULL, lease_until = 0"
    " WHERE lease_holder = :holder RETURNING parcel_ref";

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static enum sw_err holder_check(struct sw_store *st, const char *holder)
{
	if (empty(holder) || strlen(holder) > SW_POLL_HOLDER_MAX)
		return sw_store_int_err(st, SW_EINVAL, "poll lease: holder empty or longer than %d",
					SW_POLL_HOLDER_MAX);
	return SW_OK;
}

/* RETURNING comes in no particular order: earliest due first, as the
 * plain due list. */
static int by_due(const void *a, const void *b)
{
	const struct sw_poll *x = a, *y = b;

	if (x->next_poll_at != y->next_poll_at)
		return x->next_poll_at < y->next_poll_at ? -1 : 1;
	return (x->parcel_id > y->parcel_id) - (x->parcel_id < y->parcel_id);
}

/* Binds the claim's parameters; SQLite codes ORed. */
static int claim_bind(struct sw_db_stmt *s, const char *courier, const char *holder, int64_t now,
		      int lease_s, int limit)
{
	return sw_store_int_bind_text(s, ":courier", courier) |
	       sw_store_int_bind_text(s, ":holder", holder) | sw_store_int_bind_int(s, ":now", now) |
	       sw_store_int_bind_int(s, ":until", now + lease_s) |
	       sw_store_int_bind_int(s, ":limit", limit);
}

/* A claim need not survive a power loss (a lost claim only lets another
 * collector poll the parcel once more; its events are journaled once
 * anyway), so outside a caller's transaction it commits without the
 * fsync of synchronous = FULL: one scheduler pass per finished transfer
 * would otherwise wait on the disk each time (measured: the courier-poll
 * bench fell from ~3,900 to ~800 lookups/s).  In WAL mode NORMAL still
 * never corrupts, and the next FULL commit syncs these frames with its
 * own.  Sets it for the next statement when the connection is in
 * autocommit; returns whether it did, for sync_full(). */
static bool sync_normal(struct sw_store *st)
{
	struct sw_db *db = sw_store_int_db(st);

	if (!sw_db_get_autocommit(db))
		return false;
	/* PostgreSQL: the same trade, a commit that does not wait for its WAL
	 * flush (never a corrupt database either) */
	return sw_db_exec(db, sw_db_dialect(db) == SW_DB_POSTGRESQL
				  ? "SET synchronous_commit = off"
				  : "PRAGMA synchronous = NORMAL") == SW_DB_OK;
}

static void sync_full(struct sw_store *st, bool was_set)
{
	struct sw_db *db = sw_store_int_db(st);

	if (was_set)
		sw_db_exec(db, sw_db_dialect(db) == SW_DB_POSTGRESQL ? "RESET synchronous_commit"
								     : "PRAGMA synchronous = FULL");
}

enum sw_err sw_store_polllease_run(struct sw_store *st, const char *sql, const char *courier,
				   const char *holder, int64_t now, int lease_s, int limit,
				   struct sw_poll **ret_polls, size_t *ret_n)
{
	const char *what = "poll claim";
	struct sw_poll *arr = NULL;
	struct sw_db_stmt *s;
	size_t n = 0;
	bool normal;
	int rc;

	if (!(s = sw_store_int_prepare(st, sql, what)))
		return SW_ESTORE;
	if (claim_bind(s, courier, holder, now, lease_s, limit)) {
		sw_db_finalize(s);
		return sw_store_int_dberr(st, what);
	}
	normal = sync_normal(st);
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		arr = xreallocarray(arr, n + 1, sizeof(*arr));
		sw_store_int_poll_fill(s, &arr[n++]);
	}
	if (rc != SW_DB_DONE)
		sw_store_int_dberr(st, what);
	sync_full(st, normal);
	if (rc != SW_DB_DONE) {
		sw_db_finalize(s);
		sw_store_poll_free(arr, n);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	if (n > 1)
		qsort(arr, n, sizeof(*arr), by_due);
	*ret_polls = arr;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_poll_claim(struct sw_store *st, const char *courier, const char *holder,
				int64_t now, int lease_s, int limit, enum sw_poll_claim_order order,
				struct sw_poll **ret_polls, size_t *ret_n)
{
	enum sw_err rc;

	*ret_polls = NULL;
	*ret_n = 0;
	if (empty(courier) || lease_s < 1 || (unsigned)order >= SW_POLL_CLAIM_LAST)
		return sw_store_int_err(st, SW_EINVAL, "poll claim: bad arguments");
	if ((rc = holder_check(st, holder)))
		return rc;
	if (limit < 1 || limit > SW_STORE_MAX_BATCH)
		return sw_store_int_err(st, SW_ERANGE, "poll claim: limit %d not in 1..%d", limit,
					SW_STORE_MAX_BATCH);
	if (order == SW_POLL_CLAIM_PRIORITY)
		return sw_store_pollplan_claim(st, courier, holder, now, lease_s, limit, ret_polls,
					       ret_n);
	return sw_store_polllease_run(st, claim_due_sql, courier, holder, now, lease_s, limit,
				      ret_polls, ret_n);
}

/* Steps a release statement to its end: *ret_rows the rows it returned. */
static int step_rows(struct sw_db_stmt *s, int64_t *ret_rows)
{
	int rc;

	*ret_rows = 0;
	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		(*ret_rows)++;
	return rc;
}

/* Whether parcel courier/tn is held by another than holder: SW_DB_ROW,
 * SW_DB_DONE (not), or an error code. */
static int held_by_other(struct sw_store *st, const char *holder, const char *courier,
			 const char *tn)
{
	struct sw_db_stmt *s = sw_store_int_prepare(st, other_sql, "poll release");
	int rc;

	if (!s)
		return SW_DB_ERROR;
	if (sw_store_int_bind_text(s, ":holder", holder) |
	    sw_store_int_bind_text(s, ":courier", courier) | sw_store_int_bind_text(s, ":tn", tn))
		rc = SW_DB_ERROR;
	else
		rc = sw_db_step(s);
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_poll_release_many(struct sw_store *st, const char *holder,
				       const char *const *couriers,
				       const char *const *tracking_numbers, size_t n,
				       bool *ret_held)
{
	const char *what = "poll release";
	struct sw_db_stmt *s;
	enum sw_err rc = SW_OK;
	int64_t rows;
	int sc;

	for (size_t i = 0; i < n; i++)
		ret_held[i] = false;
	if ((rc = holder_check(st, holder)))
		return rc;
	if (n == 0)
		return SW_OK;
	if (!(s = sw_store_int_prepare(st, release_sql, what)))
		return SW_ESTORE;
	for (size_t i = 0; i < n && rc == SW_OK; i++) {
		if (empty(couriers[i]) || empty(tracking_numbers[i])) {
			rc = sw_store_int_err(st, SW_EINVAL, "poll release: empty parcel key");
			break;
		}
		sw_db_reset(s);
		if (sw_store_int_bind_text(s, ":holder", holder) |
		    sw_store_int_bind_text(s, ":courier", couriers[i]) |
		    sw_store_int_bind_text(s, ":tn", tracking_numbers[i]) ||
		    step_rows(s, &rows) != SW_DB_DONE)
			rc = sw_store_int_dberr(st, what);
		else if (rows > 0)
			ret_held[i] = true;
		else if ((sc = held_by_other(st, holder, couriers[i], tracking_numbers[i])) ==
			 SW_DB_DONE)
			ret_held[i] = true; /* nobody else holds it */
		else if (sc != SW_DB_ROW)
			rc = sw_store_int_dberr(st, what);
	}
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_poll_release(struct sw_store *st, const char *courier,
				  const char *tracking_number, const char *holder, bool *ret_held)
{
	bool held = false;
	enum sw_err rc;

	rc = sw_store_poll_release_many(st, holder, &courier, &tracking_number, 1, &held);
	if (ret_held)
		*ret_held = held;
	return rc;
}

enum sw_err sw_store_poll_release_all(struct sw_store *st, const char *holder, int64_t *ret_n)
{
	const char *what = "poll release all";
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t rows = 0;

	if (ret_n)
		*ret_n = 0;
	if ((rc = holder_check(st, holder)))
		return rc;
	if (!(s = sw_store_int_prepare(st, release_all_sql, what)))
		return SW_ESTORE;
	if (sw_store_int_bind_text(s, ":holder", holder) || step_rows(s, &rows) != SW_DB_DONE) {
		rc = sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return rc;
	}
	sw_db_finalize(s);
	if (ret_n)
		*ret_n = rows;
	return SW_OK;
}
