/*
 * store_int.h - what other files of the SQLite store backend may use of
 * store.c's handle.  Not part of the store API: only lib/store*.c include
 * it (a PostgreSQL backend would provide its own).
 */
#ifndef SW_STORE_INT_H
#define SW_STORE_INT_H

#include "lib/db.h"

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store.h"

/* The handle's connection. */
struct sw_db *sw_store_int_db(struct sw_store *st);

/* Sets the handle's error text to "store PATH: " + fmt; returns rc. */
enum sw_err sw_store_int_err(struct sw_store *st, enum sw_err rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records SQLite's own text for the failed operation what; SW_ESTORE. */
enum sw_err sw_store_int_dberr(struct sw_store *st, const char *what);

/* Column i as a new string (NULL for SQL NULL). */
char *sw_store_int_col_str(struct sw_db_stmt *s, int i);

/* Columns i (time) and i + 1 (offset) as a stamp; a NULL time is absent. */
struct sw_stamp sw_store_int_col_stamp(struct sw_db_stmt *s, int i);

/* A statement prepared for one call (the split-out files cache none);
 * NULL with the handle's error set to SQLite's text for what.  Finalize
 * it after use. */
struct sw_db_stmt *sw_store_int_prepare(struct sw_store *st, const char *sql, const char *what);

/* Binding by name: NULL text binds SQL NULL; a name the statement lacks is
 * a bug (SW_DB_RANGE).  SQLite codes, to be ORed by callers. */
int sw_store_int_bind_text(struct sw_db_stmt *s, const char *name, const char *v);
int sw_store_int_bind_int(struct sw_db_stmt *s, const char *name, int64_t v);

/* The most a JSON key list built with sw_store_int_json_str may hold. */
#define SW_STORE_INT_JSON_MAX ((size_t)1 << 30)

/* Appends s to b as a JSON string (quotes, backslashes and control
 * characters escaped): the key lists the json_each queries read. */
void sw_store_int_json_str(struct sw_buf *b, const char *s);

/* The outbox columns every outbox query selects, in the order
 * sw_store_int_outbox_fill reads them. */
#define SW_STORE_OUTBOX_COLS                                                                       \
	"id, entity, slip_kind, promise, channel, recipient, subject, body, "                      \
	"template_name, template_vars, next_attempt_at, state, attempts, "                         \
	"last_error, created_at, sent_at, smtp_response, grp, receiver"

/* Fills p from a row of parcel_ref, courier, tracking_number,
 * next_poll_at, interval_s, failures, last_polled_at (NULL: 0),
 * last_error: the due polls' read and the poll claims (store_pollplan.c). */
struct sw_poll;
void sw_store_int_poll_fill(struct sw_db_stmt *s, struct sw_poll *p);

/* Records schema version v as applied now in schema_migrations (both
 * backends' migrations); an SW_DB_* code, SW_DB_DONE when done. */
int sw_store_int_record_migration(struct sw_db *db, int v);

/* Fills m (zeroed by the caller) from a row of SW_STORE_OUTBOX_COLS. */
void sw_store_int_outbox_fill(struct sw_db_stmt *s, struct sw_outbox_msg *m);

/* ---- the cached statements of store.c and the files split from it ---- */

/*
 * store.c, store_schema_sqlite.c, store_journal.c, store_orders.c,
 * store_poll.c and store_outbox.c share the handle below and its
 * statement cache.  Each of them holds the SQL of the statements it runs
 * in its own stmt_sql[] table (indexed by enum stmt_id; the others'
 * entries are NULL); the stmt() macro (SW_STORE_INT_SHORT_NAMES) passes
 * that text to sw_store_int_stmt on first use.
 */
/* Statements cached in the handle, prepared on first use. */
enum stmt_id {
	ST_BEGIN_WRITE,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_SP_BEGIN,
	ST_SP_RELEASE,
	ST_SP_ROLLBACK,
	ST_JOURNAL_INSERT,
	ST_JOURNAL_SEQ,
	ST_JOURNAL_READ,
	ST_JOURNAL_COUNT,
	ST_CURSOR_GET,
	ST_CURSOR_SET,
	ST_ORDER_UPSERT,
	ST_ORDER_GET,
	ST_ORDER_STAGES,
	ST_ORDER_STUB,
	ST_ORDER_DETAILS,
	ST_ORDER_BACKLOG,
	ST_PARCEL_UPSERT,
	ST_PARCEL_STATUS,
	ST_PARCEL_GET,
	ST_POLL_UPSERT,
	ST_POLL_REMOVE,
	ST_POLL_DUE,
	ST_ALERT_INSERT,
	ST_ALERT_ID,
	ST_OUTBOX_INSERT,
	ST_OUTBOX_ID,
	ST_OUTBOX_CLAIM,
	ST_OUTBOX_GET,
	ST_OUTBOX_SENT,
	ST_OUTBOX_DEFER,
	ST_OUTBOX_FAIL,
	ST_OUTBOX_COUNT,
	ST_UNSUB_ADD,
	ST_UNSUB_DEL,
	ST_UNSUB_CHECK,
	ST_UNSUB_LIST,
	ST_POLL_DUE_COURIER,
	ST_POLL_SEED,
	ST_PARCEL_COUNTS,
	ST_PARCEL_MAX_ID,
	ST_OUTBOX_SUPPRESS,
	ST_OUTBOX_SENT_SINCE,
	ST_OUTBOX_OBSOLETE,
	ST_OUTBOX_OBSOLETE_KEY,
	ST_OUTBOX_GET_KEY,
	ST_OUTBOX_CLAIM_GROUP,
	ST_OUTBOX_MERGED,
	ST_ALERT_OPEN,
	ST_HEALTH_OK,
	ST_HEALTH_FAIL,
	ST_HEALTH_GET,
	ST_ALERT_EXISTS,
	ST_ALERT_RESOLVE,
	ST_ALERT_REOPEN,
	ST_TRACK_SCAN_PARCELS,
	ST_TRACK_SCAN_ORDERS,
	ST_TRACK_PARCEL_ID,
	ST_TRACK_PARCEL_KEY,
	ST_TRACK_ORDER_ID,
	ST_TRACK_ORDER_KEY,
	ST_TRACK_ORDER_PARCELS,
	ST_TRACK_AMONG_PARCELS,
	ST_TRACK_AMONG_ORDERS,
	ST_DL_INSERT,
	ST_DL_LIST,
	ST_DL_DELETE,
	ST_DL_COUNT,
	ST_LAST
};

/* How long a write waits for another's lock, from open (sw_store_set_busy_timeout). */
#define SW_STORE_BUSY_TIMEOUT_MS 5000

struct sw_store {
	struct sw_db *db;
	char *path;
	unsigned flags;
	int in_txn;  /* sw_store_begin succeeded, no commit/rollback yet */
	int in_sp;   /* sw_store_savepoint open (only while in_txn) */
	int version; /* schema version of the file */
	int busy_ms; /* how long a locked write waits (busy_wait; PostgreSQL: lock_timeout) */
	int64_t busy_since_ns; /* monotonic start of the current wait */
	struct sw_db_stmt *stmt[ST_LAST];
	char errmsg[512];
};

/*
 * Parameter numbers by name, remembered: sw_db_bind_parameter_index() is
 * a linear search comparing names, a tenth of the collector's instructions
 * per event.  Keyed by the statement's and the name's addresses (the names
 * are string literals), for the handle's cached statements only (the b_*
 * helpers below are used with nothing else); emptied whenever one of
 * those is finalized (stmt() after a failed prepare, sw_store_close), so
 * a new statement at a freed one's address never finds its numbers.  A
 * collision only costs a lookup.
 */
#define PIDX_SLOTS 1024
struct sw_store_int_pidx {
	const struct sw_db_stmt *s;
	const char *name;
	int idx;
};
/* defined in store.c; handles are per thread (store.h) */
extern _Thread_local struct sw_store_int_pidx sw_store_int_pidx_cache[PIDX_SLOTS];

/* Empties the cache (after finalizing a cached statement). */
void sw_store_int_pidx_forget(void);

static inline int sw_store_int_pidx(struct sw_db_stmt *s, const char *name)
{
	uintptr_t h = ((uintptr_t)s >> 4) * 2654435761u ^ ((uintptr_t)name >> 2);
	size_t slot = (size_t)(h ^ (h >> 11)) % PIDX_SLOTS;

	if (sw_store_int_pidx_cache[slot].s != s || sw_store_int_pidx_cache[slot].name != name) {
		sw_store_int_pidx_cache[slot].s = s;
		sw_store_int_pidx_cache[slot].name = name;
		sw_store_int_pidx_cache[slot].idx = sw_db_bind_parameter_index(s, name);
	}
	return sw_store_int_pidx_cache[slot].idx;
}

/* The cached statement id, reset and ready to bind (prepared from sql on
 * first use); NULL on error. */
struct sw_db_stmt *sw_store_int_stmt(struct sw_store *st, enum stmt_id id, const char *sql);

/* Releases a statement's read state and bound copies after use. */
static inline void sw_store_int_stmt_done(struct sw_db_stmt *s)
{
	sw_db_reset(s);
	sw_db_clear_bindings(s);
}

/* Binding by parameter name; NULL text and 0 times bind SQL NULL.  Each
 * returns an SQLite code; callers OR them and check once. */
static inline int sw_store_int_b_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_store_int_pidx(s, name);

	if (v == NULL)
		return sw_db_bind_null(s, i);
	return sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT);
}

/* As b_text, without SQLite's copy: only for statements stepped to their
 * end (and reset) before the caller's strings go, such as the collector's
 * per-event writes, where the copies were a measurable share of ingest. */
static inline int sw_store_int_b_text_ref(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_store_int_pidx(s, name);

	if (v == NULL)
		return sw_db_bind_null(s, i);
	return sw_db_bind_text(s, i, v, -1, SW_DB_STATIC);
}

static inline int sw_store_int_b_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	return sw_db_bind_int64(s, sw_store_int_pidx(s, name), v);
}

/* A ratio: 0 binds SQL NULL ("none"). */
static inline int sw_store_int_b_ratio(struct sw_db_stmt *s, const char *name, double v)
{
	int i = sw_store_int_pidx(s, name);

	return v != 0 ? sw_db_bind_double(s, i, v) : sw_db_bind_null(s, i);
}

static inline int sw_store_int_b_time(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = sw_store_int_pidx(s, name);

	return v ? sw_db_bind_int64(s, i, v) : sw_db_bind_null(s, i);
}

static inline int sw_store_int_b_stamp(struct sw_db_stmt *s, const char *at_name,
				       const char *off_name, struct sw_stamp v)
{
	int i = sw_store_int_pidx(s, off_name);
	int rc = sw_store_int_b_time(s, at_name, v.at);

	if (v.at)
		return rc | sw_db_bind_int(s, i, v.offset);
	return rc | sw_db_bind_null(s, i);
}

static inline int sw_store_int_nonempty(const char *s)
{
	return s && *s;
}

/* A bind failed (a bug, or a value too big for SQLite). */
static inline enum sw_err sw_store_int_bind_failed(struct sw_store *st, struct sw_db_stmt *s)
{
	sw_store_int_dberr(st, "bind");
	sw_store_int_stmt_done(s);
	return SW_ESTORE;
}

/* Steps s to completion (no rows expected), resets it.  what names the
 * operation in the error text. */
enum sw_err sw_store_int_run(struct sw_store *st, struct sw_db_stmt *s, const char *what);

/* As sw_store_int_run, for the writes of one event's values: a constraint
 * the row breaks is SW_EINVAL (see store.c). */
enum sw_err sw_store_int_run_values(struct sw_store *st, struct sw_db_stmt *s, const char *what);

/* SW_OK if v is a valid (possibly absent) stamp, else SW_ERANGE. */
enum sw_err sw_store_int_check_stamp(struct sw_store *st, const char *what, struct sw_stamp v);

/* SW_OK if limit is in 1..SW_STORE_MAX_BATCH, else SW_ERANGE. */
enum sw_err sw_store_int_check_limit(struct sw_store *st, int limit);

/* A single-valued query's int64 result (0 if no row). */
enum sw_err sw_store_int_query_int(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				   int64_t *ret, int *ret_found);

/* Looks up an existing row's id by a key query; result SW_EDUP. */
enum sw_err sw_store_int_existing_id(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				     int64_t *ret_id);

/* Starts an operation that runs several statements (its own write
 * transaction, or a savepoint inside the caller's); ends it, keeping its
 * effects if rc is SW_OK, else undoing them.  See store.c. */
enum sw_err sw_store_int_op_begin(struct sw_store *st);
enum sw_err sw_store_int_op_end(struct sw_store *st, enum sw_err rc);

/* Steps s, appending each row (elem_size bytes, filled by fill) to a new
 * array.  On error frees what was filled with free_fn. */
enum sw_err sw_store_int_list_rows(struct sw_store *st, struct sw_db_stmt *s, const char *what,
				   size_t elem_size, void (*fill)(struct sw_db_stmt *, void *),
				   void (*free_fn)(void *, size_t), void **ret, size_t *ret_n);

/* list_rows for the cached statement id (SQL sql) without parameters. */
enum sw_err sw_store_int_list_all(struct sw_store *st, enum stmt_id id, const char *sql,
				  const char *what, size_t elem_size,
				  void (*fill)(struct sw_db_stmt *, void *),
				  void (*free_fn)(void *, size_t), void **ret, size_t *ret_n);

/* The names of store.h's enums (store.c), and the index of name in
 * names[n], or n if absent (or name NULL). */
extern const char *const sw_store_int_stage_names[SW_STAGE_LAST];
extern const char *const sw_store_int_ship_names[SW_SHIP_LAST];
extern const char *const sw_store_int_outbox_names[SW_OUTBOX_LAST];
extern const char *const sw_store_int_promise_names[SW_PROMISE_LAST];
int sw_store_int_name_index(const char *const *names, int n, const char *name);

/* SW_OK if courier and tn make a parcel key, else SW_EINVAL
 * (store_orders.c). */
enum sw_err sw_store_int_parcel_key_check(struct sw_store *st, const char *courier,
					  const char *tn);

/* Opens, checks, configures and migrates the SQLite file st->path into st
 * (store_schema_sqlite.c). */
enum sw_err sw_store_int_sqlite_open(struct sw_store *st);

/*
 * The short names the files split from store.c use (defined before
 * including this header).  stmt() and list_all() take the SQL from the
 * including file's own stmt_sql[].
 */
#ifdef SW_STORE_INT_SHORT_NAMES
#define stmt(st, id) sw_store_int_stmt(st, id, stmt_sql[id])
#define list_all(st, id, ...) sw_store_int_list_all(st, id, stmt_sql[id], __VA_ARGS__)
#define stmt_done sw_store_int_stmt_done
#define set_err sw_store_int_err
#define db_err sw_store_int_dberr
#define col_str sw_store_int_col_str
#define col_stamp sw_store_int_col_stamp
#define b_text sw_store_int_b_text
#define b_text_ref sw_store_int_b_text_ref
#define b_int sw_store_int_b_int
#define b_ratio sw_store_int_b_ratio
#define b_time sw_store_int_b_time
#define b_stamp sw_store_int_b_stamp
#define nonempty sw_store_int_nonempty
#define bind_failed sw_store_int_bind_failed
#define run sw_store_int_run
#define run_values sw_store_int_run_values
#define check_stamp sw_store_int_check_stamp
#define check_limit sw_store_int_check_limit
#define query_int sw_store_int_query_int
#define existing_id sw_store_int_existing_id
#define op_begin sw_store_int_op_begin
#define op_end sw_store_int_op_end
#define list_rows sw_store_int_list_rows
#define name_index sw_store_int_name_index
#define stage_names sw_store_int_stage_names
#define ship_names sw_store_int_ship_names
#define outbox_names sw_store_int_outbox_names
#define promise_names sw_store_int_promise_names
#define parcel_key_check sw_store_int_parcel_key_check
#endif

#endif /* SW_STORE_INT_H */
