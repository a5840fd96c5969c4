/*
 * store_lease.c - the SQLite side of store_lease.h: leases (schema 10).
 *
 * Design: one upsert decides acquire, renew and takeover; its WHERE lets
 * the update through only for the holder itself or over a lease that ran
 * out, and RETURNING tells the caller whether it went through (no row: it
 * did not), so nothing is read first and two racing callers cannot both
 * win.  acquired_at changes only when the lease changes hands or is taken
 * again after running out, so a holder can tell an unbroken hold from a
 * new one.  Every statement is portable SQL (SQLite >= 3.35 and
 * PostgreSQL run the same text): no SQLite functions, integers only.
 * Statements are prepared per call through store_int.h; a lease is
 * touched a few times a minute.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_lease.h"

#define COLS "holder, acquired_at, renewed_at, expires_at"

static const char acquire_sql[] =
    "INSERT INTO leases (name, " COLS ") VALUES (:name, :holder, :now, :now, :expires)"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
    " acquired_at = CASE WHEN leases.holder = excluded.holder"
    " AND leases.expires_at > excluded.renewed_at"
    " THEN leases.acquired_at ELSE excluded.acquired_at END,"
    " renewed_at = excluded.renewed_at, expires_at = excluded.expires_at"
    " WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at"
    " RETURNING " COLS;
static const char release_sql[] = "UPDATE leases SET expires_at = :now"
				  " WHERE name = :name AND holder = :holder AND expires_at > :now"
				  " RETURNING holder";
static const char get_sql[] = "SELECT " COLS " FROM leases WHERE name = :name";

static bool name_ok(const char *s)
{
	return s && s[0] && strlen(s) <= SW_LEASE_NAME_MAX;
}

static enum sw_err check_args(struct sw_store *st, const char *name, const char *holder)
{
	if (!name_ok(name))
		return sw_store_int_err(st, SW_EINVAL, "lease: a name of 1..%d bytes is required",
					SW_LEASE_NAME_MAX);
	if (holder && !name_ok(holder))
		return sw_store_int_err(st, SW_EINVAL,
					"lease %s: a holder of 1..%d bytes is required", name,
					SW_LEASE_NAME_MAX);
	return SW_OK;
}

static void fill(struct sw_db_stmt *s, struct sw_lease *l)
{
	sw_store_lease_clear(l);
	l->holder = sw_store_int_col_str(s, 0);
	l->acquired_at = sw_db_column_int64(s, 1);
	l->renewed_at = sw_db_column_int64(s, 2);
	l->expires_at = sw_db_column_int64(s, 3);
}

/* Steps s to its end: *ret_rows rows, the first into l (may be NULL).
 * Finalizes s; SW_OK or SW_ESTORE with the handle's error set. */
static enum sw_err run(struct sw_store *st, struct sw_db_stmt *s, const char *what, struct sw_lease *l,
		       int *ret_rows)
{
	int rc;

	*ret_rows = 0;
	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		if ((*ret_rows)++ == 0 && l)
			fill(s, l);
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

/* Prepares sql and binds :name, and :holder and :now when holder is not
 * NULL; NULL with the handle's error set. */
static struct sw_db_stmt *prepare(struct sw_store *st, const char *sql, const char *what,
			     const char *name, const char *holder, int64_t now)
{
	struct sw_db_stmt *s = sw_store_int_prepare(st, sql, what);
	int rc;

	if (!s)
		return NULL;
	rc = sw_store_int_bind_text(s, ":name", name);
	if (holder)
		rc |= sw_store_int_bind_text(s, ":holder", holder) |
		      sw_store_int_bind_int(s, ":now", now);
	if (rc != SW_DB_OK) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return NULL;
	}
	return s;
}

enum sw_err sw_store_lease_acquire(struct sw_store *st, const char *name, const char *holder,
				   int64_t now, int64_t ttl_s, bool *ret_held, struct sw_lease *ret)
{
	const char *what = "lease";
	struct sw_db_stmt *s;
	enum sw_err rc;
	int rows;

	*ret_held = false;
	if ((rc = check_args(st, name, holder ? holder : "")))
		return rc;
	if (ttl_s < 1)
		return sw_store_int_err(st, SW_EINVAL, "lease %s: ttl %lld s is not >= 1 s", name,
					(long long)ttl_s);
	if (!(s = prepare(st, acquire_sql, what, name, holder, now)))
		return SW_ESTORE;
	if (sw_store_int_bind_int(s, ":expires", now + ttl_s) != SW_DB_OK) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if ((rc = run(st, s, what, ret, &rows)))
		return rc;
	*ret_held = rows > 0;
	if (rows > 0 || !ret)
		return SW_OK;
	/* somebody else holds it: who, and until when */
	rc = sw_store_lease_get(st, name, ret);
	return rc == SW_ENOTFOUND ? sw_store_int_dberr(st, what) : rc;
}

enum sw_err sw_store_lease_release(struct sw_store *st, const char *name, const char *holder,
				   int64_t now)
{
	const char *what = "lease release";
	struct sw_db_stmt *s;
	enum sw_err rc;
	int rows;

	if ((rc = check_args(st, name, holder ? holder : "")))
		return rc;
	if (!(s = prepare(st, release_sql, what, name, holder, now)))
		return SW_ESTORE;
	if ((rc = run(st, s, what, NULL, &rows)))
		return rc;
	if (rows == 0)
		return sw_store_int_err(st, SW_ENOTFOUND, "lease %s: not held by %s", name, holder);
	return SW_OK;
}

enum sw_err sw_store_lease_get(struct sw_store *st, const char *name, struct sw_lease *ret)
{
	const char *what = "lease";
	struct sw_db_stmt *s;
	enum sw_err rc;
	int rows;

	if ((rc = check_args(st, name, NULL)))
		return rc;
	if (!(s = prepare(st, get_sql, what, name, NULL, 0)))
		return SW_ESTORE;
	if ((rc = run(st, s, what, ret, &rows)))
		return rc;
	if (rows == 0)
		return sw_store_int_err(st, SW_ENOTFOUND, "lease %s: never taken", name);
	return SW_OK;
}

void sw_store_lease_clear(struct sw_lease *l)
{
	if (!l)
		return;
	free(l->holder);
	memset(l, 0, sizeof(*l));
}
