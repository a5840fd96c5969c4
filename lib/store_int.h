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

/* Fills m (zeroed by the caller) from a row of SW_STORE_OUTBOX_COLS. */
void sw_store_int_outbox_fill(struct sw_db_stmt *s, struct sw_outbox_msg *m);

#endif /* SW_STORE_INT_H */
