/*
 * store.c - the SQLite backend of the slipwatch store (see store.h).
 *
 * Design:
 * - One sqlite3 connection per handle; every statement the API runs is a
 *   static SQL text with named parameters, prepared once on first use and
 *   cached in the handle (each file's stmt_sql[], see store_int.h).  Input
 *   never becomes SQL.
 * - Merging rules live in the SQL (UPSERT ... DO UPDATE with CASE, and a
 *   trigger deriving an order's status), so each API call is one atomic
 *   statement wherever possible; the few two-statement calls run inside
 *   op_begin()/op_end() (BEGIN IMMEDIATE, or a SAVEPOINT within a caller's
 *   transaction).
 * - The schema version is PRAGMA user_version (transactional, readable
 *   before any table exists); PRAGMA application_id marks the file as a
 *   slipwatch store so that another program's database is never migrated.
 *   migrations[] is applied forward in one transaction on open
 *   (store_schema_sqlite.c).
 * - Every SQLite failure becomes SW_ESTORE with "store PATH: what: sqlite
 *   text" in st->errmsg.
 * Requires SQLite >= 3.35 (UPSERT, RETURNING).
 *
 * This file: the handle, names, errors, the statement cache and binding,
 * the helpers of store_int.h, open and close, transactions.  The rest is
 * split by concern: store_schema_sqlite.c (schema, migrations, the SQLite
 * open path), store_journal.c (journal, cursors, dead letters),
 * store_orders.c (orders, parcels, backlog, parcels with their orders),
 * store_poll.c (poll schedule) and store_outbox.c (alerts, outbox,
 * unsubscribes, suppression, daily cap, courier health).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "lib/db_pg.h"

#include "lib/buf.h"
#include "lib/store.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
#include "lib/store_int.h"
#include "lib/store_pg.h"
#include "lib/xmalloc.h"

/* The statements of this file (transactions). */
static const char *const stmt_sql[ST_LAST] = {
    [ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT sw_op",
    [ST_RELEASE] = "RELEASE sw_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO sw_op",
    [ST_SP_BEGIN] = "SAVEPOINT sw_caller",
    [ST_SP_RELEASE] = "RELEASE sw_caller",
    [ST_SP_ROLLBACK] = "ROLLBACK TO sw_caller",
};

/* ---- names ------------------------------------------------------------- */

const char *const sw_store_int_stage_names[SW_STAGE_LAST] = {
    [SW_STAGE_CREATED] = "created",	[SW_STAGE_PICKED] = "picked",
    [SW_STAGE_PACKED] = "packed",	[SW_STAGE_SHIPPED] = "shipped",
    [SW_STAGE_CANCELLED] = "cancelled", [SW_STAGE_BACKORDERED] = "backordered",
};

const char *const sw_store_int_ship_names[SW_SHIP_LAST] = {
    [SW_SHIP_PENDING] = "pending",
    [SW_SHIP_INFO_RECEIVED] = "info_received",
    [SW_SHIP_IN_TRANSIT] = "in_transit",
    [SW_SHIP_OUT_FOR_DELIVERY] = "out_for_delivery",
    [SW_SHIP_ATTEMPT_FAIL] = "attempt_fail",
    [SW_SHIP_AVAILABLE_FOR_PICKUP] = "available_for_pickup",
    [SW_SHIP_DELIVERED] = "delivered",
    [SW_SHIP_EXCEPTION] = "exception",
    [SW_SHIP_RETURNING] = "returning",
    [SW_SHIP_RETURNED] = "returned",
    [SW_SHIP_EXPIRED] = "expired",
    [SW_SHIP_CANCELLED] = "cancelled",
    [SW_SHIP_UNKNOWN] = "unknown",
};

const char *const sw_store_int_outbox_names[SW_OUTBOX_LAST] = {
    [SW_OUTBOX_QUEUED] = "queued", [SW_OUTBOX_SENDING] = "sending",   [SW_OUTBOX_SENT] = "sent",
    [SW_OUTBOX_FAILED] = "failed", [SW_OUTBOX_DEFERRED] = "deferred",
    [SW_OUTBOX_SUPPRESSED] = "suppressed", [SW_OUTBOX_OBSOLETE] = "obsolete",
    [SW_OUTBOX_MERGED] = "merged",
};

const char *const sw_store_int_promise_names[SW_PROMISE_LAST] = {
    [SW_PROMISE_NONE] = "none",
    [SW_PROMISE_INSTANT] = "instant",
    [SW_PROMISE_DATE] = "date",
};

const char *sw_store_stage_name(enum sw_stage s)
{
	return (unsigned)s < SW_STAGE_LAST ? stage_names[s] : "?";
}

const char *sw_store_ship_status_name(enum sw_ship_status s)
{
	return (unsigned)s < SW_SHIP_LAST ? ship_names[s] : "?";
}

const char *sw_store_outbox_state_name(enum sw_outbox_state s)
{
	return (unsigned)s < SW_OUTBOX_LAST ? outbox_names[s] : "?";
}

const char *sw_store_promise_kind_name(enum sw_promise_kind k)
{
	return (unsigned)k < SW_PROMISE_LAST ? promise_names[k] : "?";
}

/* Index of name in names[n], or n if absent (or name NULL). */
int sw_store_int_name_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n;
}

enum sw_err sw_store_ship_status_parse(const char *name, enum sw_ship_status *ret_status)
{
	int i = name_index(ship_names, SW_SHIP_LAST, name);

	if (i == SW_SHIP_LAST)
		return SW_EINVAL;
	*ret_status = (enum sw_ship_status)i;
	return SW_OK;
}

int sw_store_ship_status_terminal(enum sw_ship_status s)
{
	return s == SW_SHIP_DELIVERED || s == SW_SHIP_RETURNED || s == SW_SHIP_EXPIRED ||
	       s == SW_SHIP_CANCELLED;
}

/* ---- errors, statements, binding -------------------------------------- */

/* set_err: "store PATH: " + the text; returns rc (sw_store_int_err, below);
 * db_err: SQLite's text for the failed operation `what`; SW_ESTORE
 * (sw_store_int_dberr, below). */

/* The parameter-number cache (see store_int.h). */
_Thread_local struct sw_store_int_pidx sw_store_int_pidx_cache[PIDX_SLOTS];

void sw_store_int_pidx_forget(void)
{
	memset(sw_store_int_pidx_cache, 0, sizeof(sw_store_int_pidx_cache));
}

/* The cached statement id, reset and ready to bind; NULL on error.  sql is
 * its text, from the calling file's stmt_sql[] (the stmt() macro). */
struct sw_db_stmt *sw_store_int_stmt(struct sw_store *st, enum stmt_id id, const char *sql)
{
	int rc;

	if (st->stmt[id]) {
		sw_db_reset(st->stmt[id]);
		sw_db_clear_bindings(st->stmt[id]);
		return st->stmt[id];
	}
	rc = sw_db_prepare_persistent(st->db, sql, &st->stmt[id]);
	if (rc != SW_DB_OK) {
		db_err(st, "prepare");
		sw_db_finalize(st->stmt[id]);
		sw_store_int_pidx_forget();
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Steps s to completion (no rows expected), resets it.  what names the
 * operation in the error text. */
enum sw_err sw_store_int_run(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		;
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return SW_OK;
}

/* As run(), for the writes of one event's values: a constraint the row
 * breaks (a CHECK, NOT NULL, a trigger's RAISE) refuses the caller's values
 * and is SW_EINVAL, deterministic like the checks in C before it, so that
 * the collector rejects the event rather than retrying it forever. */
enum sw_err sw_store_int_run_values(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW)
		;
	if (rc != SW_DB_DONE) {
		enum sw_err e = (rc & 0xff) == SW_DB_CONSTRAINT ? SW_EINVAL : SW_ESTORE;

		set_err(st, e, "%s: %s", what, sw_db_errmsg(st->db));
		stmt_done(s);
		return e;
	}
	stmt_done(s);
	return SW_OK;
}

static enum sw_err run_id(struct sw_store *st, enum stmt_id id, const char *what)
{
	struct sw_db_stmt *s = stmt(st, id);

	return s ? run(st, s, what) : SW_ESTORE;
}

/* The b_* binding helpers and bind_failed are in store_int.h (inline). */

/* SW_OK if v is a valid (possibly absent) stamp, else SW_ERANGE. */
enum sw_err sw_store_int_check_stamp(struct sw_store *st, const char *what, struct sw_stamp v)
{
	if (v.at < 0)
		return set_err(st, SW_ERANGE, "%s: negative time %lld", what, (long long)v.at);
	if (v.at && (v.offset > SW_STORE_MAX_OFFSET || v.offset < -SW_STORE_MAX_OFFSET))
		return set_err(st, SW_ERANGE, "%s: UTC offset %ld s out of range", what,
			       (long)v.offset);
	return SW_OK;
}

enum sw_err sw_store_int_check_limit(struct sw_store *st, int limit)
{
	if (limit < 1 || limit > SW_STORE_MAX_BATCH)
		return set_err(st, SW_ERANGE, "batch limit %d not in 1..%d", limit,
			       SW_STORE_MAX_BATCH);
	return SW_OK;
}

/* A single-valued query's int64 result (0 if no row). */
enum sw_err sw_store_int_query_int(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				   int64_t *ret, int *ret_found)
{
	int rc = sw_db_step(s);

	*ret = 0;
	if (ret_found)
		*ret_found = rc == SW_DB_ROW;
	if (rc == SW_DB_ROW) {
		*ret = sw_db_column_int64(s, 0);
		/* Run to completion: an INSERT ... RETURNING finishes here. */
		while ((rc = sw_db_step(s)) == SW_DB_ROW)
			;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return SW_OK;
}

/* Looks up an existing row's id by a key query; result SW_EDUP. */
enum sw_err sw_store_int_existing_id(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				     int64_t *ret_id)
{
	int64_t id;
	enum sw_err rc = query_int(st, s, what, &id, NULL);

	if (rc)
		return rc;
	if (ret_id)
		*ret_id = id;
	return SW_EDUP;
}

/* ---- for the other backend files (store_int.h) ------------------------ */

struct sw_db *sw_store_int_db(struct sw_store *st)
{
	return st->db;
}

enum sw_err sw_store_int_err(struct sw_store *st, enum sw_err rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(st->errmsg, sizeof(st->errmsg), "store %s: ", st->path);
	if (n < 0 || (size_t)n >= sizeof(st->errmsg))
		return rc;
	va_start(ap, fmt);
	vsnprintf(st->errmsg + n, sizeof(st->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

/* Records SQLite's text for the failed operation `what`; SW_ESTORE. */
enum sw_err sw_store_int_dberr(struct sw_store *st, const char *what)
{
	return set_err(st, SW_ESTORE, "%s: %s", what, sw_db_errmsg(st->db));
}

struct sw_db_stmt *sw_store_int_prepare(struct sw_store *st, const char *sql, const char *what)
{
	struct sw_db_stmt *s = NULL;

	if (sw_db_prepare(st->db, sql, &s) != SW_DB_OK) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return NULL;
	}
	return s;
}

int sw_store_int_bind_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_db_bind_parameter_index(s, name);

	if (i == 0)
		return SW_DB_RANGE;
	return v ? sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT) : sw_db_bind_null(s, i);
}

int sw_store_int_bind_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = sw_db_bind_parameter_index(s, name);

	return i ? sw_db_bind_int64(s, i, v) : SW_DB_RANGE;
}

void sw_store_int_json_str(struct sw_buf *b, const char *s)
{
	char esc[8];

	sw_buf_adds(b, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			sw_buf_add(b, esc, 2);
		} else if (*c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			sw_buf_adds(b, esc);
		} else {
			sw_buf_add(b, c, 1);
		}
	}
	sw_buf_adds(b, "\"");
}

char *sw_store_int_col_str(struct sw_db_stmt *s, int i)
{
	const unsigned char *t = sw_db_column_text(s, i);

	return t ? xstrndup((const char *)t, (size_t)sw_db_column_bytes(s, i)) : NULL;
}

struct sw_stamp sw_store_int_col_stamp(struct sw_db_stmt *s, int i)
{
	struct sw_stamp v = {0, 0};

	if (sw_db_column_type(s, i) != SW_DB_NULL) {
		v.at = sw_db_column_int64(s, i);
		v.offset = sw_db_column_int(s, i + 1);
	}
	return v;
}

/* ---- atomic multi-statement operations -------------------------------- */

/* Starts an operation that runs several statements: its own write
 * transaction, or a savepoint inside the caller's. */
enum sw_err sw_store_int_op_begin(struct sw_store *st)
{
	return run_id(st, st->in_txn ? ST_SAVEPOINT : ST_BEGIN_WRITE, "begin");
}

/* Ends the operation: keeps its effects if rc is SW_OK, else undoes them
 * (keeping the original error text).  Returns rc or a commit failure. */
enum sw_err sw_store_int_op_end(struct sw_store *st, enum sw_err rc)
{
	char saved[sizeof(st->errmsg)];

	if (rc == SW_OK) {
		rc = run_id(st, st->in_txn ? ST_RELEASE : ST_COMMIT, "commit");
		if (rc == SW_OK)
			return SW_OK;
	}
	memcpy(saved, st->errmsg, sizeof(saved));
	if (st->in_txn) {
		if (!sw_db_get_autocommit(st->db)) {
			run_id(st, ST_ROLLBACK_TO, "rollback");
			run_id(st, ST_RELEASE, "rollback");
		}
	} else if (!sw_db_get_autocommit(st->db)) {
		run_id(st, ST_ROLLBACK, "rollback");
	}
	memcpy(st->errmsg, saved, sizeof(saved));
	return rc;
}

/* ---- lists ------------------------------------------------------------- */

/* Steps s, appending each row (elem_size bytes, filled by fill) to a new
 * array.  On error frees what was filled with free_fn. */
enum sw_err sw_store_int_list_rows(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				   size_t elem_size, void (*fill)(struct sw_db_stmt *, void *),
				   void (*free_fn)(void *, size_t), void **ret, size_t *ret_n)
{
	char *arr = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	*ret = NULL;
	*ret_n = 0;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			arr = xreallocarray(arr, alloc, elem_size);
		}
		memset(arr + n * elem_size, 0, elem_size);
		fill(s, arr + n * elem_size);
		n++;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		free_fn(arr, n);
		return SW_ESTORE;
	}
	stmt_done(s);
	*ret = arr;
	*ret_n = n;
	return SW_OK;
}

/* list_rows for a cached statement without parameters: every row, into a
 * new array (*ret NULL and *ret_n 0 first, so that failure leaves them so).
 * sql is the statement's text (the list_all() macro passes it). */
enum sw_err sw_store_int_list_all(struct sw_store *st, enum stmt_id id, const char *sql,
				  const char *what, size_t elem_size,
				  void (*fill)(struct sw_db_stmt *, void *),
				  void (*free_fn)(void *, size_t), void **ret, size_t *ret_n)
{
	struct sw_db_stmt *s;

	*ret = NULL;
	*ret_n = 0;
	if (!(s = sw_store_int_stmt(st, id, sql)))
		return SW_ESTORE;
	return list_rows(st, s, what, elem_size, fill, free_fn, ret, ret_n);
}

/* ---- open, close ------------------------------------------------------ */

/* The busy timeout on PostgreSQL: a statement that waits for a lock (a row
 * or table another transaction writes) fails after ms, as SQLite's busy
 * handler gives up; without it a call would wait for as long as the other
 * transaction lasts.  PostgreSQL's 0 would wait for ever: 1 ms there. */
static enum sw_err pg_lock_timeout(struct sw_store *st, int ms)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms > 0 ? ms : 1);
	if (sw_db_exec(st->db, sql) != SW_DB_OK)
		return set_err(st, SW_ESTORE, "busy timeout: %s", sw_db_errmsg(st->db));
	st->busy_ms = ms;
	return SW_OK;
}

/* Opens the PostgreSQL store at url into st (store_pg.c does the work). */
static enum sw_err open_pg(struct sw_store *st, const char *url, const char *password)
{
	char err[sizeof(st->errmsg)] = "";
	enum sw_err rc = sw_store_pg_open(url, password, st->flags, &st->db, &st->version, err,
					  sizeof(err));

	if (rc)
		return set_err(st, rc, "%s", err);
	return pg_lock_timeout(st, SW_STORE_BUSY_TIMEOUT_MS);
}

static char *pg_password; /* sw_store_set_password */

void sw_store_set_password(const char *password)
{
	if (pg_password) {
		explicit_bzero(pg_password, strlen(pg_password));
		free(pg_password);
	}
	pg_password = password ? xstrdup(password) : NULL;
}

enum sw_err sw_store_open(const char *path, unsigned flags, struct sw_store **ret_store,
			  char *errbuf, size_t errlen)
{
	return sw_store_open_pw(path, NULL, flags, ret_store, errbuf, errlen);
}

enum sw_err sw_store_open_pw(const char *path, const char *password, unsigned flags,
			     struct sw_store **ret_store, char *errbuf, size_t errlen)
{
	struct sw_store *st;
	enum sw_err rc;
	char shown[512];

	*ret_store = NULL;
	if (!nonempty(path) || (flags & ~(SW_STORE_RDONLY | SW_STORE_NOCREATE))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "store: bad path or flags");
		return SW_EINVAL;
	}
	if (sw_db_driver_for(path) == &sw_db_pg_driver) {
		st = xcalloc(1, sizeof(*st));
		sw_db_pg_describe(path, shown, sizeof(shown));
		st->path = xstrdup(shown);
		st->flags = flags;
		if ((rc = open_pg(st, path, password ? password : pg_password)))
			goto fail;
		*ret_store = st;
		return SW_OK;
	}
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->flags = flags;
	if ((rc = sw_store_int_sqlite_open(st))) /* store_schema_sqlite.c */
		goto fail;
	*ret_store = st;
	return SW_OK;
fail:
	if ((flags & SW_STORE_RDONLY) && st->db && sw_db_dialect(st->db) == SW_DB_SQLITE &&
	    sw_db_errcode(st->db) == SW_DB_READONLY) {
		size_t n = strlen(st->errmsg);

		/* WAL: a reader maps PATH-shm, which it must create when no
		 * writer has the file open */
		snprintf(st->errmsg + n, sizeof(st->errmsg) - n,
			 " (reading a store needs write access to its directory while no "
			 "slipwatch daemon has it open: run as the daemons' user)");
	}
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", st->errmsg);
	sw_store_close(st);
	return rc;
}

void sw_store_close(struct sw_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_LAST; i++)
		sw_db_finalize(st->stmt[i]);
	sw_store_int_pidx_forget();
	if (st->db && !sw_db_get_autocommit(st->db))
		sw_db_exec(st->db, "ROLLBACK");
	sw_db_close(st->db);
	free(st->path);
	free(st);
}

const char *sw_store_errmsg(const struct sw_store *st)
{
	return st->errmsg;
}

int sw_store_schema_version(const struct sw_store *st)
{
	return st->version;
}

/* ---- transactions ------------------------------------------------------ */

enum sw_err sw_store_begin(struct sw_store *st)
{
	enum stmt_id id = (st->flags & SW_STORE_RDONLY) ? ST_BEGIN_READ : ST_BEGIN_WRITE;
	enum sw_err rc;

	if (st->in_txn)
		return set_err(st, SW_EINVAL,
			       "begin: a transaction is already open "
			       "(nesting is not supported)");
	rc = run_id(st, id, "begin");
	if (rc == SW_OK)
		st->in_txn = 1;
	return rc;
}

enum sw_err sw_store_commit(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_txn)
		return set_err(st, SW_EINVAL, "commit: no transaction is open");
	st->in_txn = 0;
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "commit: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_COMMIT, "commit");
	if (rc != SW_OK)
		op_end(st, rc); /* not in_txn: plain ROLLBACK */
	return rc;
}

enum sw_err sw_store_rollback(struct sw_store *st)
{
	if (!st->in_txn)
		return set_err(st, SW_EINVAL, "rollback: no transaction is open");
	st->in_txn = 0;
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return SW_OK; /* SQLite already rolled it back */
	return run_id(st, ST_ROLLBACK, "rollback");
}

enum sw_err sw_store_savepoint(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_txn || st->in_sp)
		return set_err(st, SW_EINVAL, "savepoint: %s",
			       st->in_txn ? "one is already open" : "no transaction is open");
	/* Outside a transaction SAVEPOINT would start one of its own. */
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "savepoint: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_SP_BEGIN, "savepoint");
	if (rc == SW_OK)
		st->in_sp = 1;
	return rc;
}

enum sw_err sw_store_savepoint_release(struct sw_store *st)
{
	if (!st->in_sp)
		return set_err(st, SW_EINVAL, "release: no savepoint is open");
	if (sw_db_get_autocommit(st->db)) {
		st->in_sp = 0;
		return set_err(st, SW_ESTORE,
			       "release: the transaction was already rolled "
			       "back by an earlier error");
	}
	st->in_sp = 0;
	return run_id(st, ST_SP_RELEASE, "release savepoint");
}

enum sw_err sw_store_savepoint_rollback(struct sw_store *st)
{
	enum sw_err rc;

	if (!st->in_sp)
		return set_err(st, SW_EINVAL, "rollback to: no savepoint is open");
	st->in_sp = 0;
	if (sw_db_get_autocommit(st->db))
		return set_err(st, SW_ESTORE,
			       "rollback to: the transaction was already rolled "
			       "back by an earlier error");
	rc = run_id(st, ST_SP_ROLLBACK, "rollback to savepoint");
	if (rc == SW_OK)
		rc = run_id(st, ST_SP_RELEASE, "release savepoint");
	return rc;
}

enum sw_err sw_store_set_busy_timeout(struct sw_store *st, int ms)
{
	if (ms < 0)
		return set_err(st, SW_EINVAL, "busy timeout: negative");
	if (sw_db_dialect(st->db) == SW_DB_POSTGRESQL)
		return pg_lock_timeout(st, ms);
	st->busy_ms = ms;
	return SW_OK;
}
