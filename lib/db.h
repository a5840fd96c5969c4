/*
 * db.h - the store's database seam: one connection and statement interface
 * over the backends in sw_db_drivers[] (db.c), one file each: SQLite
 * (db_sqlite.c, the embedded default) and PostgreSQL (db_pg.c, libpq).
 *
 * The interface is SQLite's own shape, so that the store's SQL code reads
 * the same on every backend: prepare a statement once, bind parameters by
 * number (:name parameters are numbered by the driver), step it to rows,
 * read columns, reset it for the next use.  Return codes are SQLite's
 * (SW_DB_ROW, SW_DB_DONE, SW_DB_CONSTRAINT, ...) whichever backend ran the
 * statement.  SQL text is written in the dialect both accept (see
 * doc/scale-out.md, "One SQL for two backends"); what differs is rewritten
 * by the PostgreSQL driver when it prepares a statement (db_pg_sql.c).
 *
 * A connection and its statements are used by one thread at a time.
 */
#ifndef SW_DB_H
#define SW_DB_H

#include <stddef.h>
#include <stdint.h>

/* Result codes: SQLite's values, so an SQLite result passes through. */
enum {
	SW_DB_OK = 0,
	SW_DB_ERROR = 1,
	SW_DB_BUSY = 5,
	SW_DB_READONLY = 8,
	SW_DB_CONSTRAINT = 19,
	SW_DB_MISUSE = 21,
	SW_DB_RANGE = 25,
	SW_DB_ROW = 100,
	SW_DB_DONE = 101,
};

/* Column types (sw_db_column_type). */
enum { SW_DB_INTEGER = 1, SW_DB_FLOAT = 2, SW_DB_TEXT = 3, SW_DB_BLOB = 4, SW_DB_NULL = 5 };

/* sw_db_bind_text/blob: the driver copies the value (TRANSIENT), or uses
 * it in place until the statement is reset (STATIC). */
enum { SW_DB_STATIC = 0, SW_DB_TRANSIENT = 1 };

/* The dialects (sw_db_dialect), for the few places SQL must differ. */
enum sw_db_dialect { SW_DB_SQLITE, SW_DB_POSTGRESQL };

struct sw_db;
struct sw_db_stmt;

/* One backend: what each function does is what its SQLite namesake does. */
struct sw_db_driver {
	const char *name;
	enum sw_db_dialect dialect;
	int (*prepare)(struct sw_db *db, const char *sql, int persistent, struct sw_db_stmt **ret);
	int (*step)(struct sw_db_stmt *s);
	void (*reset)(struct sw_db_stmt *s);
	void (*clear_bindings)(struct sw_db_stmt *s);
	void (*finalize)(struct sw_db_stmt *s);
	int (*param_index)(struct sw_db_stmt *s, const char *name);
	int (*bind_null)(struct sw_db_stmt *s, int i);
	int (*bind_int64)(struct sw_db_stmt *s, int i, int64_t v);
	int (*bind_double)(struct sw_db_stmt *s, int i, double v);
	int (*bind_text)(struct sw_db_stmt *s, int i, const char *v, int n, int copy);
	int (*bind_blob)(struct sw_db_stmt *s, int i, const void *v, int n, int copy);
	int (*column_type)(struct sw_db_stmt *s, int i);
	int64_t (*column_int64)(struct sw_db_stmt *s, int i);
	double (*column_double)(struct sw_db_stmt *s, int i);
	const unsigned char *(*column_text)(struct sw_db_stmt *s, int i);
	const void *(*column_blob)(struct sw_db_stmt *s, int i);
	int (*column_bytes)(struct sw_db_stmt *s, int i);
	int (*exec)(struct sw_db *db, const char *sql);
	int (*changes)(struct sw_db *db);
	int64_t (*last_insert_id)(struct sw_db *db);
	int (*autocommit)(struct sw_db *db);
	const char *(*errmsg)(struct sw_db *db);
	int (*errcode)(struct sw_db *db);
	void (*close)(struct sw_db *db);
};

/* Every driver's connection and statement begin with these. */
struct sw_db {
	const struct sw_db_driver *drv;
};
struct sw_db_stmt {
	const struct sw_db_driver *drv;
};

/* The backends, by name: { "sqlite", ... }, NULL-terminated. */
extern const struct sw_db_driver *const sw_db_drivers[];

/* The driver for a store address: "postgresql://" or "postgres://" (and
 * libpq's "key=value" strings, which begin with a known keyword) go to
 * PostgreSQL, anything else is an SQLite file path. */
const struct sw_db_driver *sw_db_driver_for(const char *address);

static inline enum sw_db_dialect sw_db_dialect(const struct sw_db *db)
{
	return db->drv->dialect;
}

static inline int sw_db_prepare(struct sw_db *db, const char *sql, struct sw_db_stmt **ret)
{
	return db->drv->prepare(db, sql, 0, ret);
}

/* As sw_db_prepare, for a statement kept for the connection's life. */
static inline int sw_db_prepare_persistent(struct sw_db *db, const char *sql,
					   struct sw_db_stmt **ret)
{
	return db->drv->prepare(db, sql, 1, ret);
}

static inline int sw_db_step(struct sw_db_stmt *s)
{
	return s->drv->step(s);
}

static inline void sw_db_reset(struct sw_db_stmt *s)
{
	if (s)
		s->drv->reset(s);
}

static inline void sw_db_clear_bindings(struct sw_db_stmt *s)
{
	if (s)
		s->drv->clear_bindings(s);
}

static inline void sw_db_finalize(struct sw_db_stmt *s)
{
	if (s)
		s->drv->finalize(s);
}

/* The number of parameter name (":name"), 0 if the statement has none. */
static inline int sw_db_bind_parameter_index(struct sw_db_stmt *s, const char *name)
{
	return s->drv->param_index(s, name);
}

static inline int sw_db_bind_null(struct sw_db_stmt *s, int i)
{
	return s->drv->bind_null(s, i);
}

static inline int sw_db_bind_int64(struct sw_db_stmt *s, int i, int64_t v)
{
	return s->drv->bind_int64(s, i, v);
}

static inline int sw_db_bind_int(struct sw_db_stmt *s, int i, int v)
{
	return s->drv->bind_int64(s, i, v);
}

static inline int sw_db_bind_double(struct sw_db_stmt *s, int i, double v)
{
	return s->drv->bind_double(s, i, v);
}

/* n < 0: up to the terminating NUL. */
static inline int sw_db_bind_text(struct sw_db_stmt *s, int i, const char *v, int n, int copy)
{
	return s->drv->bind_text(s, i, v, n, copy);
}

static inline int sw_db_bind_blob(struct sw_db_stmt *s, int i, const void *v, int n, int copy)
{
	return s->drv->bind_blob(s, i, v, n, copy);
}

static inline int sw_db_column_type(struct sw_db_stmt *s, int i)
{
	return s->drv->column_type(s, i);
}

static inline int64_t sw_db_column_int64(struct sw_db_stmt *s, int i)
{
	return s->drv->column_int64(s, i);
}

static inline int sw_db_column_int(struct sw_db_stmt *s, int i)
{
	return (int)s->drv->column_int64(s, i);
}

static inline double sw_db_column_double(struct sw_db_stmt *s, int i)
{
	return s->drv->column_double(s, i);
}

/* Valid until the next step, reset or finalize; NULL for SQL NULL. */
static inline const unsigned char *sw_db_column_text(struct sw_db_stmt *s, int i)
{
	return s->drv->column_text(s, i);
}

static inline const void *sw_db_column_blob(struct sw_db_stmt *s, int i)
{
	return s->drv->column_blob(s, i);
}

/* The length of the value sw_db_column_text/blob returned. */
static inline int sw_db_column_bytes(struct sw_db_stmt *s, int i)
{
	return s->drv->column_bytes(s, i);
}

/* Runs sql, one or more statements without parameters or rows to read. */
static inline int sw_db_exec(struct sw_db *db, const char *sql)
{
	return db->drv->exec(db, sql);
}

/* Rows the last INSERT, UPDATE or DELETE changed. */
static inline int sw_db_changes(struct sw_db *db)
{
	return db->drv->changes(db);
}

/* The key the connection's last INSERT gave its row (an integer primary
 * key: SQLite's rowid; PostgreSQL's lastval(), the identity's sequence). */
static inline int64_t sw_db_last_insert_rowid(struct sw_db *db)
{
	return db->drv->last_insert_id(db);
}

/* Nonzero when no transaction is open. */
static inline int sw_db_get_autocommit(struct sw_db *db)
{
	return db->drv->autocommit(db);
}

/* The last failure's text and code (a SW_DB_* value). */
static inline const char *sw_db_errmsg(struct sw_db *db)
{
	return db->drv->errmsg(db);
}

static inline int sw_db_errcode(struct sw_db *db)
{
	return db->drv->errcode(db);
}

static inline void sw_db_close(struct sw_db *db)
{
	if (db)
		db->drv->close(db);
}

#endif /* SW_DB_H */
