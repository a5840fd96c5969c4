/*
 * store.h - slipwatch's durable store: orders, parcels, the event journal,
 * poll schedule, alerts, notification outbox, unsubscribes, engine cursors,
 * the collector's dead-letter queue.
 *
 * The embedded backend is one SQLite file in WAL mode shared by the
 * collector, the alert engine and the CLI (each opens its own handle; a
 * busy timeout arbitrates writers).  The API is deliberately narrow and
 * speaks in slipwatch terms, never SQL, so that a PostgreSQL backend can sit
 * behind this same header.
 *
 * Conventions for every function below:
 * - A handle is used by one thread at a time.
 * - Strings passed in are only read during the call (the store copies what
 *   it keeps).  NULL string = "absent" where a field is optional.
 * - Times are int64 unix seconds UTC.  In struct sw_stamp the value 0 means
 *   "absent/not known" (1970-01-01T00:00:00Z is never a real fulfilment
 *   time), so a zero-initialised struct sets nothing.
 * - Structs returned to the caller are allocated by the store and owned by
 *   the caller afterwards; free them with the matching *_free function.
 * - Errors: SW_EINVAL / SW_ERANGE for bad arguments (nothing changed);
 *   SW_ESTORE for any database failure, with the database's own text (and
 *   the file's path) in sw_store_errmsg().  A failed call changes nothing.
 * - Outside an explicit transaction each call is atomic on its own; inside
 *   one (sw_store_begin) a failed call is undone alone and the caller's
 *   transaction stays usable.
 */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "slipwatch/status.h" /* enum sw_stage, enum sw_ship_status, their names */

/* The schema version this program writes and understands. */
#define SW_STORE_SCHEMA_VERSION 11

/* Largest "limit" accepted by the batch functions (journal read, claim,
 * due polls); more gives SW_ERANGE. */
#define SW_STORE_MAX_BATCH 10000

/* Largest |offset| from UTC accepted in a struct sw_stamp (RFC 3339 allows
 * up to +-23:59). */
#define SW_STORE_MAX_OFFSET (24 * 3600 - 60)

struct sw_store; /* opaque handle, one per process (or thread) */

/* ---- values shared with the rest of slipwatch ------------------------- */

/* An instant with the UTC offset it was originally written with. */
struct sw_stamp {
	int64_t at;	/* unix seconds UTC; 0 = absent */
	int32_t offset; /* seconds east of UTC as written; ignored if at == 0 */
};

enum sw_promise_kind {
	SW_PROMISE_NONE,    /* absent */
	SW_PROMISE_INSTANT, /* RFC 3339 instant */
	SW_PROMISE_DATE,    /* YYYY-MM-DD: end of that day in the customer's zone */
	SW_PROMISE_LAST	    /* sentinel */
};

enum sw_outbox_state {
	SW_OUTBOX_QUEUED,   /* waiting for next_attempt_at */
	SW_OUTBOX_SENDING,  /* claimed by a sender until its lease ends */
	SW_OUTBOX_SENT,	    /* delivered (final) */
	SW_OUTBOX_FAILED,   /* given up (final) */
	SW_OUTBOX_DEFERRED, /* temporary failure or quiet hours; retried later */
	SW_OUTBOX_SUPPRESSED, /* not sent on purpose: unsubscribed, daily cap (final) */
	SW_OUTBOX_OBSOLETE, /* no longer true when due: never sent (final) */
	SW_OUTBOX_MERGED,   /* sent inside another row's message (final) */
	SW_OUTBOX_LAST	    /* sentinel */
};

/* Names as stored and logged ("deferred", "instant"); "?" for values out
 * of range.  Static strings, safe anywhere.  The names of stages and
 * shipment statuses are declared in slipwatch/status.h. */
const char *sw_store_outbox_state_name(enum sw_outbox_state s);
const char *sw_store_promise_kind_name(enum sw_promise_kind k);

/* ---- opening, closing, errors ----------------------------------------- */

#define SW_STORE_RDONLY	  0x1 /* read only (CLI status); never creates */
#define SW_STORE_NOCREATE 0x2 /* read-write, but the file must exist */

/*
 * Opens (and by default creates) the store at path and brings its schema up
 * to SW_STORE_SCHEMA_VERSION, applying pending migrations in one
 * transaction.  Sets journal_mode=WAL, synchronous=FULL (a transaction is
 * durable, power loss included, once commit returns: the collector
 * acknowledges MQTT messages only after that; NORMAL would be faster but can
 * lose the last commits), foreign_keys=ON and a 5 s busy timeout so that
 * several processes can share the file.
 * flags: 0 or SW_STORE_RDONLY or SW_STORE_NOCREATE.
 * Returns SW_OK and *ret_store; else *ret_store is NULL and errbuf (if not
 * NULL) holds one line naming path and the cause:
 *   SW_ESTORE   cannot open/create (missing directory, permissions), not a
 *               database, or a pragma/migration failed;
 *   SW_EVERSION the file's schema is newer than this program knows (the file
 *               is not touched), or older and flags has SW_STORE_RDONLY;
 *   SW_EINVAL   bad arguments, or an SQLite file that is not a slipwatch
 *               store (not touched).
 * Call from a process's init, before its event loop runs.
 *
 * path may instead be a PostgreSQL address ("postgresql://..." or a libpq
 * "host=... dbname=..." string; lib/db.h): the store is then that
 * database, created and migrated in it the same way (a database with
 * other tables is refused), over TLS verified by default (lib/db_pg.h).
 * Errors name the address without any password.
 */
enum sw_err sw_store_open(const char *path, unsigned flags, struct sw_store **ret_store,
			  char *errbuf, size_t errlen);

/* As sw_store_open, with the PostgreSQL password (NULL: the one set with
 * sw_store_set_password, or libpq's own sources); ignored for an SQLite
 * path. */
enum sw_err sw_store_open_pw(const char *path, const char *password, unsigned flags,
			     struct sw_store **ret_store, char *errbuf, size_t errlen);

/* The PostgreSQL password every later sw_store_open of this process uses
 * (a copy is kept; NULL forgets it).  From [store] password_file/_env. */
void sw_store_set_password(const char *password);

/* Copies tables (n names of the store's own tables) from st into a new
 * SQLite store at path (which must not exist), at this program's schema
 * version, as of one moment of st: for tools that read a store with
 * SQLite's means when it is on PostgreSQL (slipwatch replay).  The copy
 * has no triggers.  SW_EDUP if path exists, SW_EINVAL if it is not an
 * SQLite path or a table is unknown; on failure path is removed.  Errors
 * are st's (sw_store_errmsg). */
enum sw_err sw_store_snapshot(struct sw_store *st, const char *path, const char *const *tables,
			      size_t n);

/* Closes the handle; an open transaction is rolled back.  NULL is a no-op. */
void sw_store_close(struct sw_store *st);

/* The text of the last error on this handle ("" if none); valid until the
 * next call on the handle.  Never NULL. */
const char *sw_store_errmsg(const struct sw_store *st);

/* The schema version of the open file (SW_STORE_SCHEMA_VERSION). */
int sw_store_schema_version(const struct sw_store *st);

/* ---- transactions ------------------------------------------------------ */

/*
 * sw_store_begin starts a write transaction (BEGIN IMMEDIATE: the write lock
 * is taken now, so commit never fails on a lock; a plain read transaction on
 * a read-only handle).  Nesting is not supported.
 * Returns SW_OK, SW_EINVAL if a transaction is already open, SW_ESTORE if
 * the lock could not be had within the busy timeout.
 */
enum sw_err sw_store_begin(struct sw_store *st);

/* Commits; durable when it returns SW_OK.  SW_EINVAL without a transaction;
 * SW_ESTORE if the commit failed (the transaction is then rolled back). */
enum sw_err sw_store_commit(struct sw_store *st);

/* Rolls back.  SW_EINVAL if no transaction was open (nothing done). */
enum sw_err sw_store_rollback(struct sw_store *st);

/*
 * A savepoint inside the transaction opened by sw_store_begin, so that a
 * group of calls (one ingested message: journal, order, parcel) is kept or
 * undone as a whole while the transaction goes on.  One level, no nesting.
 * sw_store_commit and sw_store_rollback end an open savepoint with the
 * transaction.
 * sw_store_savepoint: SW_OK; SW_EINVAL if no transaction is open or a
 *   savepoint already is; SW_ESTORE, also when an earlier error made the
 *   database roll the whole transaction back (only sw_store_rollback is
 *   left to do then).
 * sw_store_savepoint_release keeps the effects since the savepoint and
 *   closes it; sw_store_savepoint_rollback undoes them and closes it.  Both:
 *   SW_OK, SW_EINVAL if no savepoint is open, SW_ESTORE.
 */
enum sw_err sw_store_savepoint(struct sw_store *st);
enum sw_err sw_store_savepoint_release(struct sw_store *st);
enum sw_err sw_store_savepoint_rollback(struct sw_store *st);

/* How long a call waits for another process's write lock before failing
 * with SW_ESTORE (5000 ms after open; 0 fails at once).  On PostgreSQL the
 * lock is one on the rows or tables the call needs (lock_timeout).  A
 * daemon whose event loop must not stall for long shortens it.  SW_OK,
 * SW_EINVAL for ms < 0, or SW_ESTORE when the server refuses it. */
enum sw_err sw_store_set_busy_timeout(struct sw_store *st, int ms);

/* ---- event journal ----------------------------------------------------- */

/*
 * One normalised event.  seq orders the journal: in SQLite writers are
 * serialised, so seq order is commit order and a reader tailing "seq >
 * cursor" never misses a later-committed smaller seq.  (A PostgreSQL backend
 * must preserve that property.)  Seqs are never reused.
 */
struct sw_journal_event {
	int64_t seq;		     /* set by the store; ignored on append */
	const char *source;	     /* "warehouse:<id>" or "courier:<name>" */
	const char *source_event_id; /* unique within source */
	const char *kind;	     /* e.g. "order.shipped", "parcel.status" */
	const char *warehouse_id;    /* order key, or NULL */
	const char *order_id;
	const char *courier; /* parcel key, or NULL */
	const char *tracking_number;
	struct sw_stamp occurred_at; /* required */
	int64_t received_at;	     /* 0 on append: now */
	const char *payload;	     /* JSON text, or NULL */
};

/*
 * Appends ev.  source, source_event_id and kind must be non-empty and
 * occurred_at set.  Returns SW_OK with *ret_seq (may be NULL) the new seq;
 * SW_EDUP if source + source_event_id is already journaled: nothing changed
 * and *ret_seq is the existing seq; SW_EINVAL / SW_ERANGE for bad fields;
 * SW_ESTORE.
 */
enum sw_err sw_store_journal_append(struct sw_store *st, const struct sw_journal_event *ev,
				    int64_t *ret_seq);

/*
 * Calls cb for each event with seq > after_seq, in seq order, at most limit
 * (1..SW_STORE_MAX_BATCH) of them.  The rows are fetched first, so cb may
 * call any other store function on st (including commit).  ev and its
 * strings are valid only during the call.  A cb result other than SW_OK
 * stops the iteration and is returned.  *ret_count (may be NULL) is the
 * number of events passed to cb.  Returns SW_OK, cb's error, SW_ERANGE for a
 * bad limit, SW_ESTORE.
 */
enum sw_err sw_store_journal_read(struct sw_store *st, int64_t after_seq, int limit,
				  enum sw_err (*cb)(const struct sw_journal_event *ev, void *arg),
				  void *arg, int *ret_count);

/* Number of journaled events.  SW_OK or SW_ESTORE. */
enum sw_err sw_store_journal_count(struct sw_store *st, int64_t *ret_count);

/* ---- engine cursors ---------------------------------------------------- */

/* The journal seq a named consumer ("alerts") has processed; 0 if the name
 * was never set.  SW_OK, SW_EINVAL (empty name), SW_ESTORE. */
enum sw_err sw_store_cursor_get(struct sw_store *st, const char *name, int64_t *ret_seq);

/* Records seq (>= 0) for name; commit it in the same transaction as the
 * effects of the events it covers.  SW_OK, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_cursor_set(struct sw_store *st, const char *name, int64_t seq);

/* ---- orders ------------------------------------------------------------ */

struct sw_promise {
	enum sw_promise_kind kind; /* SW_PROMISE_NONE: absent */
	const char *text;	   /* as written in the event (required if kind) */
	struct sw_stamp at;	   /* the deadline as an instant (for a date:
				    * end of day in the customer's zone, as the
				    * caller resolved it); may be absent */
};

/*
 * An order, keyed by warehouse_id + order_id.  As upsert input every field
 * is optional except the key: absent fields (NULL, kind NONE, at 0) leave
 * the stored value alone; present descriptive fields replace it.  Stage
 * times merge: the earliest known time of each stage is kept, so applying
 * the same facts twice changes nothing and stages applied in any order
 * (picked before created) are all kept.
 */
struct sw_order {
	int64_t id; /* output: the store's row id */
	const char *warehouse_id;
	const char *order_id;
	const char *customer_name;
	const char *customer_email;
	const char *customer_locale;   /* BCP 47 */
	const char *customer_timezone; /* IANA */
	const char *customer_phone;    /* E.164 "+9779812345678", for a gateway */
	const char *customer_channel;  /* how the customer is told ("email",
					* "webhook"); NULL: the shop's default */
	struct sw_stamp promised_ship_by;
	struct sw_promise promised_delivery_by;
	const char *service_level;
	const char *dest_country;
	const char *dest_postal_code;
	const char *dest_city;
	struct sw_stamp stage[SW_STAGE_LAST]; /* when each stage happened */
	/* output only: the stage with the latest time (ties go to the later
	 * stage, cancelled last); SW_STAGE_LAST if none is known yet */
	enum sw_stage status;
};

/* Inserts or merges o (see struct sw_order).  SW_OK, SW_EINVAL (missing key,
 * promise kind without text, bad enum), SW_ERANGE (offset), SW_ESTORE. */
enum sw_err sw_store_order_upsert(struct sw_store *st, const struct sw_order *o);

/* Fetches an order into a new *ret_order (free with sw_store_order_free).
 * SW_OK, SW_ENOTFOUND (*ret_order NULL), SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_order_get(struct sw_store *st, const char *warehouse_id, const char *order_id,
			       struct sw_order **ret_order);

/* The stage times of one order (sw_order.stage without the rest of the
 * row: what the collector reads before each event): SW_OK, SW_ENOTFOUND
 * (all zero), SW_EINVAL (empty key) or SW_ESTORE. */
enum sw_err sw_store_order_stages(struct sw_store *st, const char *warehouse_id,
				  const char *order_id, struct sw_stamp ret[SW_STAGE_LAST]);

/* Frees an order returned by the store.  NULL is a no-op. */
void sw_store_order_free(struct sw_order *o);

/*
 * Sets the descriptive fields of an order (customer, promises, service
 * level, destination: what an order.created event states) as one
 * statement made at details_at (> 0) by the event details_key (its id).
 * Unlike sw_store_order_upsert every descriptive field of o is written,
 * absent ones clearing the stored value, and only if (details_at,
 * details_key) is newer than the pair stored by the last statement that won
 * (compared by time, then bytewise by key): the latest statement wins
 * whatever order the events arrive in, and applying one twice changes
 * nothing.  Stage times and status in o are ignored; the order row is
 * created if needed.  Do not also pass descriptive fields to
 * sw_store_order_upsert for an order managed this way (upsert would
 * overwrite them unconditionally).  *ret_applied (may be NULL) is 1 if the
 * fields were written, 0 if a newer statement was already stored.
 * SW_OK, SW_EINVAL (missing key or details_key, details_at <= 0, bad
 * promise), SW_ERANGE (offset), SW_ESTORE.
 */
enum sw_err sw_store_order_set_details(struct sw_store *st, const struct sw_order *o,
				       int64_t details_at, const char *details_key,
				       int *ret_applied);

/* Orders waiting in a warehouse (cancelled orders are never waiting). */
struct sw_backlog {
	char *warehouse_id;
	int64_t pick;	   /* created, not picked */
	int64_t ship;	   /* picked, not shipped */
	int64_t ship_late; /* not shipped, promised_ship_by before now */
};

/*
 * The backlog of every warehouse with at least one waiting order (or one
 * past its ship-by at now), in
 * warehouse_id order, as a new array (*ret_n entries, NULL if 0; free with
 * sw_store_backlog_free); a warehouse missing from it has none.  Cheap:
 * counted over partial indexes holding only waiting orders.
 * SW_OK, SW_ESTORE.
 */
enum sw_err sw_store_order_backlog(struct sw_store *st, int64_t now, struct sw_backlog **ret_list,
				   size_t *ret_n);

void sw_store_backlog_free(struct sw_backlog *list, size_t n);

/* ---- parcels ----------------------------------------------------------- */

/* A parcel as stored (output of sw_store_parcel_get). */
struct sw_parcel {
	int64_t id;
	const char *courier;
	const char *tracking_number;
	const char *warehouse_id; /* its order, or NULL if not linked */
	const char *order_id;
	struct sw_stamp shipped_at;
	enum sw_ship_status status; /* SW_SHIP_PENDING until the courier says */
	const char *raw_code;	    /* courier's own status code and text */
	const char *raw_text;
	struct sw_stamp last_event_at; /* time of the latest courier event */
	const char *eta_date;	       /* courier's estimate, YYYY-MM-DD */
	struct sw_stamp delivered_at;
	struct sw_stamp first_scan_at;
	int terminal; /* sw_store_ship_status_terminal(status) */
};

/*
 * Records a shipped parcel (from an order.shipped event).  Creates it with
 * status pending if new.  warehouse_id + order_id (both or neither) link it
 * to its order, creating a bare order row if that order is not known yet
 * (events arrive out of order).  shipped_at merges like an order stage
 * (earliest kept).  Idempotent.  SW_OK, SW_EINVAL, SW_ERANGE, SW_ESTORE.
 */
enum sw_err sw_store_parcel_upsert(struct sw_store *st, const char *courier,
				   const char *tracking_number, const char *warehouse_id,
				   const char *order_id, struct sw_stamp shipped_at);

/* What one courier poll learned about a parcel. */
struct sw_parcel_update {
	enum sw_ship_status status;
	const char *raw_code;	       /* may be NULL */
	const char *raw_text;	       /* may be NULL */
	struct sw_stamp event_at;      /* the event that gave status; may be 0 */
	const char *eta_date;	       /* YYYY-MM-DD, or NULL: unchanged */
	struct sw_stamp first_scan_at; /* 0: unchanged; earliest is kept */
	struct sw_stamp delivered_at;  /* 0: unchanged */
};

/*
 * Applies a courier update.  status, raw code/text, eta, last_event_at and
 * the terminal flag are replaced only if u->event_at is not older than the
 * stored last event (an older poll answer never moves a parcel backwards);
 * first_scan_at keeps the earliest; delivered_at is set if given.
 * SW_OK, SW_ENOTFOUND (no such parcel), SW_EINVAL, SW_ERANGE, SW_ESTORE.
 */
enum sw_err sw_store_parcel_set_status(struct sw_store *st, const char *courier,
				       const char *tracking_number,
				       const struct sw_parcel_update *u);

/* Fetches a parcel by courier + tracking number into a new *ret_parcel
 * (free with sw_store_parcel_free).  SW_OK, SW_ENOTFOUND, SW_EINVAL,
 * SW_ESTORE. */
enum sw_err sw_store_parcel_get(struct sw_store *st, const char *courier,
				const char *tracking_number, struct sw_parcel **ret_parcel);

/* Frees a parcel returned by the store.  NULL is a no-op. */
void sw_store_parcel_free(struct sw_parcel *p);

/* ---- poll schedule ----------------------------------------------------- */

struct sw_poll {
	int64_t parcel_id;   /* output */
	const char *courier; /* key: the parcel must exist */
	const char *tracking_number;
	int64_t next_poll_at;	/* required */
	int interval_s;		/* current interval, > 0 */
	int failures;		/* consecutive failures, >= 0 */
	int64_t last_polled_at; /* 0: never */
	const char *last_error; /* NULL: none */
};

/* Creates or replaces the schedule of a parcel with all fields of p.
 * SW_OK, SW_ENOTFOUND (no such parcel), SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_poll_upsert(struct sw_store *st, const struct sw_poll *p);

/* Removes a parcel's schedule.  SW_OK, SW_ENOTFOUND, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_poll_remove(struct sw_store *st, const char *courier,
				 const char *tracking_number);

/* Lists up to limit (1..SW_STORE_MAX_BATCH) schedules of non-terminal
 * parcels due at or before `before`, earliest first, into a new array
 * (*ret_n entries, NULL if 0; free with sw_store_poll_free).
 * SW_OK, SW_ERANGE, SW_ESTORE. */
enum sw_err sw_store_poll_due(struct sw_store *st, int64_t before, int limit,
			      struct sw_poll **ret_polls, size_t *ret_n);

void sw_store_poll_free(struct sw_poll *polls, size_t n);

/* As sw_store_poll_due for the parcels of one courier only.  SW_OK,
 * SW_EINVAL (empty courier), SW_ERANGE, SW_ESTORE. */
enum sw_err sw_store_poll_due_courier(struct sw_store *st, const char *courier, int64_t before,
				      int limit, struct sw_poll **ret_polls, size_t *ret_n);

/*
 * Gives every non-terminal parcel of courier with a row id above after_id
 * that has no schedule yet a schedule: next poll at a random time in
 * [next_poll_at, next_poll_at + spread_s), interval_s, no failures, never
 * polled.  Parcels that already have one are untouched, so calling it
 * again is harmless.  *ret_upto (may be NULL) is the highest parcel id
 * looked at: pass it as after_id next time to look only at parcels created
 * since (0 looks at all of them, e.g. at start).  *ret_added (may be NULL)
 * is the number of schedules created.  SW_OK, SW_EINVAL (empty courier,
 * after_id < 0, next_poll_at <= 0, spread_s or interval_s < 1), SW_ESTORE.
 */
enum sw_err sw_store_poll_seed(struct sw_store *st, const char *courier, int64_t after_id,
			       int64_t next_poll_at, int spread_s, int interval_s,
			       int64_t *ret_added, int64_t *ret_upto);

/* Parcels of one courier in one status. */
struct sw_status_count {
	char *courier;
	enum sw_ship_status status;
	int64_t count; /* > 0 */
};

/*
 * The number of parcels per courier and status (terminal ones included),
 * ordered by courier then status name, as a new array (*ret_n entries,
 * NULL if 0; free with sw_store_status_counts_free); a pair missing from
 * it has no parcels.  One scan of the parcels table: call it periodically
 * (metrics), not per event.  SW_OK, SW_ESTORE.
 */
enum sw_err sw_store_parcel_status_counts(struct sw_store *st, struct sw_status_count **ret_list,
					  size_t *ret_n);

void sw_store_status_counts_free(struct sw_status_count *list, size_t n);

/* ---- alerts (detected slips) ------------------------------------------- */

/*
 * entity names what slipped: "parcel:<courier>:<tracking>" or
 * "order:<warehouse>:<order_id>".  A text key, not two nullable foreign
 * keys, because SQL UNIQUE treats NULLs as distinct and an order-level slip
 * would never be deduplicated.  promise identifies the promise broken (e.g.
 * its text), "" when none applies.
 */
struct sw_alert {
	const char *entity;
	const char *kind;    /* slip kind: ship_late, stalled, late, ... */
	const char *promise; /* NULL means "" */
	const char *stage;   /* the stage that ran over its lane's p90
				(alerts/stage.h: warehouse, first_mile,
				line_haul, last_mile), else the static one
				("warehouse", "courier"), or NULL */
	double stage_ratio;  /* how far that stage went past its p90
				(duration / p90, > 1); 0: no stage ran
				over (stored as NULL) */
	int64_t detected_at; /* 0: now */
};

/* Records a slip once.  SW_OK with *ret_id (may be NULL); SW_EDUP if entity
 * + kind + promise is already recorded (*ret_id the existing row; if it
 * had been resolved it is open again, nothing else changes); SW_EINVAL
 * (also for a stage_ratio that is negative or not finite); SW_ESTORE. */
enum sw_err sw_store_alert_record(struct sw_store *st, const struct sw_alert *a, int64_t *ret_id);

/*
 * Resolves (resolved_at = now) every open alert of entity whose kind is
 * not in keep, a comma-separated list with a comma at each end
 * (",stalled,late,"; NULL or "," resolves them all).  *ret_resolved (may
 * be NULL) is the number resolved.  SW_OK, SW_EINVAL, SW_ESTORE.
 */
enum sw_err sw_store_alert_resolve(struct sw_store *st, const char *entity, const char *keep,
				   int64_t now, int *ret_resolved);

/* 1 in *ret_exists if entity + kind + promise is recorded, else 0.  SW_OK,
 * SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_alert_exists(struct sw_store *st, const char *entity, const char *kind,
				  const char *promise, int *ret_exists);

/* The open (unresolved) slips of entity, oldest first, as a new array
 * with kind, promise, stage, stage_ratio and detected_at set (entity
 * NULL); free with sw_store_alert_free.  One indexed read.  SW_OK,
 * SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_alert_open(struct sw_store *st, const char *entity,
				struct sw_alert **ret_list, size_t *ret_n);

void sw_store_alert_free(struct sw_alert *list, size_t n);

/* ---- courier feed health ------------------------------------------------ */

/*
 * Notes one answer of a courier's tracking API at `at` (> 0): ok (1) when
 * it told us something about parcels (found or not found), 0 when the
 * answer was unusable (error, timeout, 429), with error a short reason.
 * The collector calls it with every answer, in the answer's transaction;
 * the alert engine reads it to tell a stuck parcel from a silent feed.
 * Times only move forward.  SW_OK, SW_EINVAL, SW_ESTORE.
 */
enum sw_err sw_store_courier_health_note(struct sw_store *st, const char *courier, int ok,
					 int64_t at, const char *error);

/* The last good and last failed answer times of courier (0: never).
 * SW_OK; SW_ENOTFOUND if the courier never answered (both 0); SW_EINVAL;
 * SW_ESTORE. */
enum sw_err sw_store_courier_health_get(struct sw_store *st, const char *courier,
					int64_t *ret_last_ok, int64_t *ret_last_fail);

/* ---- what the alert engine evaluates ------------------------------------ */

/*
 * A unit the alert engine watches: a parcel with its order (order NULL if
 * the parcel is not linked to one), or an order that has no parcel yet
 * (parcel NULL).  Both are the store's structs (see sw_store_order_get and
 * sw_store_parcel_get); a list is freed with sw_store_track_free.
 */
struct sw_track {
	struct sw_order *order;
	struct sw_parcel *parcel;
	/* when the courier last answered about this parcel, a "not found"
	 * included, without a feed failure (its poll schedule); 0 if never */
	int64_t polled_ok_at;
	/* the parcel has a poll schedule: its courier is polled, so its
	 * courier-judged slips wait for the courier's word */
	int polled;
};

enum sw_track_unit {
	SW_TRACK_PARCEL, /* keyed by parcels' row id */
	SW_TRACK_ORDER,	 /* keyed by orders' row id */
	SW_TRACK_UNIT_LAST
};

/*
 * Lists up to limit (1..SW_STORE_MAX_BATCH) open units with a row id above
 * after_id, in id order: SW_TRACK_PARCEL - parcels not in a terminal
 * status, with their orders; SW_TRACK_ORDER - orders neither shipped nor
 * cancelled that have no parcel.  Pass the last id seen as after_id to
 * page through all of them (the alert engine's start-up pass).  New array
 * (*ret_n entries, NULL if 0).  SW_OK, SW_ERANGE, SW_ESTORE.
 */
enum sw_err sw_store_track_scan(struct sw_store *st, enum sw_track_unit unit, int64_t after_id,
				int limit, struct sw_track **ret_list, size_t *ret_n);

/*
 * The units behind one row id, whatever their state (terminal parcels and
 * shipped or cancelled orders included, so the caller sees them close):
 * SW_TRACK_PARCEL - that parcel (0 or 1 entries); SW_TRACK_ORDER - every
 * parcel of the order, or the order alone when it has none (0 entries if
 * no such order).  sw_store_track_parcel and sw_store_track_order do the
 * same by natural key.  New array.  SW_OK, SW_EINVAL, SW_ESTORE.
 */
enum sw_err sw_store_track_get(struct sw_store *st, enum sw_track_unit unit, int64_t id,
			       struct sw_track **ret_list, size_t *ret_n);
enum sw_err sw_store_track_parcel(struct sw_store *st, const char *courier,
				  const char *tracking_number, struct sw_track **ret_list,
				  size_t *ret_n);
enum sw_err sw_store_track_order(struct sw_store *st, const char *warehouse_id,
				 const char *order_id, struct sw_track **ret_list, size_t *ret_n);

/* A unit's natural key: a parcel's courier + tracking number, or an
 * order's warehouse + order id. */
struct sw_track_key {
	const char *a;
	const char *b;
};

/*
 * sw_store_track_parcel (unit SW_TRACK_PARCEL) or sw_store_track_order
 * (SW_TRACK_ORDER) for each of keys[0..n-1], in one query: *ret_list is
 * what those calls return for keys[0], then for keys[1], and so on (a key
 * not found adds nothing, a key listed twice adds its rows twice).  If
 * ret_of is not NULL, (*ret_of)[i] is the index in keys of row i (a new
 * array, free() it; NULL if no rows).  New array (NULL if none, n 0 gives
 * none).  SW_OK; SW_EINVAL (a bad unit, or a key with an empty or NULL
 * part: its index named, nothing read); SW_ESTORE.
 */
enum sw_err sw_store_track_among(struct sw_store *st, enum sw_track_unit unit,
				 const struct sw_track_key *keys, size_t n,
				 struct sw_track **ret_list, size_t **ret_of, size_t *ret_n);

void sw_store_track_free(struct sw_track *list, size_t n);

/* ---- notification outbox ----------------------------------------------- */

/*
 * One notification.  entity + slip_kind + promise is its unique key: the
 * same slip never queues a second message, whatever is re-detected,
 * restarted or replayed.  Delivery is at least once: a sender claims a row
 * for a lease; if it dies before marking the row, the row is claimed again
 * after the lease (use the id in the Message-ID so duplicates can be told).
 */
struct sw_outbox_msg {
	int64_t id;	       /* output */
	const char *entity;    /* as in struct sw_alert; required */
	const char *slip_kind; /* required */
	const char *promise;   /* NULL means "" */
	const char *channel;   /* "email", "webhook", ...; required */
	const char *recipient; /* address or endpoint name; required */
	const char *subject;   /* rendered text, or NULL ... */
	const char *body;
	const char *template_name; /* ... with a template reference instead */
	const char *template_vars; /* JSON text */
	int64_t next_attempt_at;   /* enqueue: not before (0: now) */
	const char *grp;	   /* the notice group (the customer's order:
				    * rows of one group due together go out
				    * as one message); NULL: alone */
	const char *receiver;	   /* NULL: a customer notice; else the
				    * on-call receiver of a page notification
				    * (lib/store_pages.h); the senders claim
				    * disjoint rows */
	/* output only */
	enum sw_outbox_state state;
	int attempts;
	const char *last_error;
	int64_t created_at; /* enqueue: when (0: now, the wall clock) */
	int64_t sent_at;
	const char *smtp_response;
};

/* Queues m in state queued.  SW_OK with *ret_id (may be NULL); SW_EDUP if
 * its key is already queued (any state; nothing changed, *ret_id the
 * existing row); SW_EINVAL; SW_ESTORE. */
enum sw_err sw_store_outbox_enqueue(struct sw_store *st, const struct sw_outbox_msg *m,
				    int64_t *ret_id);

/*
 * Atomically claims up to limit (1..SW_STORE_MAX_BATCH) customer notices
 * (rows without a receiver) due at `now`
 * (queued or deferred with next_attempt_at <= now, or sending with an
 * expired lease): each becomes sending, attempts + 1, lease until now +
 * lease_s (> 0).  Returns them in id order as a new array (*ret_n entries;
 * NULL if 0; free with sw_store_outbox_free).  SW_OK, SW_ERANGE, SW_ESTORE.
 */
enum sw_err sw_store_outbox_claim(struct sw_store *st, int64_t now, int lease_s, int limit,
				  struct sw_outbox_msg **ret_msgs, size_t *ret_n);

/* Finishes a claimed (sending) row: sent with the server's response, or
 * deferred until next_attempt_at with error, or failed for good with error.
 * SW_OK; SW_ENOTFOUND if no row with this id is in state sending; SW_ESTORE. */
enum sw_err sw_store_outbox_mark_sent(struct sw_store *st, int64_t id, int64_t sent_at,
				      const char *response);
enum sw_err sw_store_outbox_mark_deferred(struct sw_store *st, int64_t id, int64_t next_attempt_at,
					  const char *error);
enum sw_err sw_store_outbox_mark_failed(struct sw_store *st, int64_t id, const char *error);

/* Fetches one row as a new one-element array (free with
 * sw_store_outbox_free(m, 1)).  SW_OK, SW_ENOTFOUND, SW_ESTORE. */
enum sw_err sw_store_outbox_get(struct sw_store *st, int64_t id, struct sw_outbox_msg **ret_msg);

/* Number of rows in state.  SW_OK, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_outbox_count(struct sw_store *st, enum sw_outbox_state state,
				  int64_t *ret_count);

void sw_store_outbox_free(struct sw_outbox_msg *msgs, size_t n);

/* Marks a row that is queued, deferred or being sent as suppressed for
 * good, with the reason (e.g. "unsubscribed").  SW_OK; SW_ENOTFOUND if no
 * row with this id is in one of those states; SW_ESTORE. */
enum sw_err sw_store_outbox_mark_suppressed(struct sw_store *st, int64_t id, const char *reason);

/* The number of messages sent to recipient (compared case-insensitively)
 * at or after since, over an index: the per-customer daily cap.  SW_OK,
 * SW_EINVAL (empty recipient), SW_ESTORE. */
enum sw_err sw_store_outbox_sent_since(struct sw_store *st, const char *recipient, int64_t since,
				       int64_t *ret_count);

/* Marks a queued, deferred or sending row obsolete for good: it was no
 * longer true when it fell due (reason says why).  SW_OK; SW_ENOTFOUND if
 * the row is in none of those states; SW_ESTORE. */
enum sw_err sw_store_outbox_mark_obsolete(struct sw_store *st, int64_t id, const char *reason);

/* Marks the waiting (queued or deferred, not sending) row of entity +
 * kind + promise obsolete with reason: its slip resolved before it went.
 * *ret_n (may be NULL) is 1 if a row changed, else 0.  SW_OK, SW_EINVAL,
 * SW_ESTORE. */
enum sw_err sw_store_outbox_obsolete_key(struct sw_store *st, const char *entity,
					 const char *kind, const char *promise,
					 const char *reason, int *ret_n);

/* The row of entity + kind + promise, whatever its state, as a new
 * one-element array (sw_store_outbox_free(m, 1)).  SW_OK, SW_ENOTFOUND,
 * SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_outbox_get_key(struct sw_store *st, const char *entity, const char *kind,
				    const char *promise, struct sw_outbox_msg **ret_msg);

/* Claims the waiting rows of group grp on channel whose next attempt is
 * at or before `before` (the lead row's settle window): each becomes
 * sending with attempts + 1 and its lease ending at lease_end, so that a
 * crash brings them back like any claimed row.  New array in id order
 * (NULL if none).  SW_OK, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_outbox_claim_group(struct sw_store *st, const char *grp,
					const char *channel, int64_t before, int64_t lease_end,
					struct sw_outbox_msg **ret_msgs, size_t *ret_n);

/* Finishes a claimed row whose content went out inside row into_id's
 * message at `at`: state merged, sent_at = at.  SW_OK; SW_ENOTFOUND if it
 * is not sending; SW_ESTORE. */
enum sw_err sw_store_outbox_mark_merged(struct sw_store *st, int64_t id, int64_t into_id,
					int64_t at);

/* ---- dead-letter queue ------------------------------------------------- */

/*
 * Copies of rejected warehouse messages waiting to be published to the
 * dead-letter topic: an outbox the collector fills and drains.  The copy of
 * a rejected message is queued inside the transaction of the burst it
 * arrived in, so it is durable before that message is acknowledged to the
 * broker; the publisher lists the queue in id order, publishes each copy at
 * QoS 1 and deletes it only once the broker acknowledged it.  Delivery is
 * at least once: a copy published but not yet deleted when the process
 * dies is published again.
 */

/* Largest dead letter accepted, in bytes. */
#define SW_STORE_DEADLETTER_MAX (1024 * 1024)

struct sw_deadletter {
	int64_t id;    /* queue order; ids are never reused */
	char *topic;   /* where it is to be published */
	char *payload; /* len bytes, plus a NUL the store adds */
	size_t len;
	int64_t created_at; /* when it was queued */
};

/*
 * Queues len bytes of payload (the letter) for topic (non-empty).  Meant to
 * run inside the caller's transaction (sw_store_begin), the one that also
 * lets the rejected message be acknowledged: the copy then commits or
 * rolls back with it.  created_at 0 means now.  SW_OK with *ret_id (may be
 * NULL) the new id, larger than every id queued before; SW_EINVAL (empty
 * topic, NULL payload with len > 0), SW_ERANGE (more than
 * SW_STORE_DEADLETTER_MAX bytes, negative time), SW_ESTORE.
 */
enum sw_err sw_store_deadletter_enqueue(struct sw_store *st, const char *topic, const void *payload,
					size_t len, int64_t created_at, int64_t *ret_id);

/*
 * Lists up to limit (1..SW_STORE_MAX_BATCH) queued copies with an id above
 * after_id (>= 0; 0 for the start of the queue), in id order, into a new
 * array (*ret_n entries, NULL if 0; free with sw_store_deadletter_free).
 * Pass the last id seen as after_id to page on.  SW_OK, SW_EINVAL
 * (negative after_id), SW_ERANGE (limit), SW_ESTORE.
 */
enum sw_err sw_store_deadletter_list(struct sw_store *st, int64_t after_id, int limit,
				     struct sw_deadletter **ret_list, size_t *ret_n);

void sw_store_deadletter_free(struct sw_deadletter *list, size_t n);

/* Removes copy id from the queue (the broker acknowledged it).  Many
 * deletes are cheaper inside one transaction.  SW_OK; SW_ENOTFOUND if no
 * such copy is queued (nothing changed); SW_ESTORE. */
enum sw_err sw_store_deadletter_delete(struct sw_store *st, int64_t id);

/* The number of queued copies (the backlog).  SW_OK or SW_ESTORE. */
enum sw_err sw_store_deadletter_count(struct sw_store *st, int64_t *ret_count);

/* ---- unsubscribes ------------------------------------------------------ */

/* Addresses compare case-insensitively (ASCII). */
struct sw_unsub {
	const char *email;
	int64_t added_at;
	const char *reason; /* may be NULL */
};

/* SW_OK; SW_EDUP if already unsubscribed (unchanged); SW_EINVAL (empty
 * email); SW_ESTORE.  reason may be NULL. */
enum sw_err sw_store_unsub_add(struct sw_store *st, const char *email, const char *reason);

/* SW_OK; SW_ENOTFOUND if not unsubscribed; SW_EINVAL; SW_ESTORE. */
enum sw_err sw_store_unsub_remove(struct sw_store *st, const char *email);

/* *ret_unsubscribed = 1 if email is unsubscribed, else 0.  SW_OK,
 * SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_unsub_check(struct sw_store *st, const char *email, int *ret_unsubscribed);

/* All unsubscribes, oldest first, as a new array (free with
 * sw_store_unsub_free).  SW_OK, SW_ESTORE. */
enum sw_err sw_store_unsub_list(struct sw_store *st, struct sw_unsub **ret_list, size_t *ret_n);

void sw_store_unsub_free(struct sw_unsub *list, size_t n);

#endif /* SW_STORE_H */
