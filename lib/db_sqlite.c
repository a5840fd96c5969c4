/*
 * db_sqlite.c - the SQLite backend of lib/db.h: each call is SQLite's own.
 */
#include "config.h"

#include <stdlib.h>

#include "lib/db_sqlite.h"
#include "lib/xmalloc.h"

struct lite_db {
	struct sw_db base;
	sqlite3 *h;
};

struct lite_stmt {
	struct sw_db_stmt base;
	sqlite3_stmt *s;
};

#define DB(d)	((struct lite_db *)(d))
#define ST(x)	(((struct lite_stmt *)(x))->s)

static int lite_prepare(struct sw_db *db, const char *sql, int persistent, struct sw_db_stmt **ret)
{
	sqlite3_stmt *s = NULL;
	struct lite_stmt *ls;
	int rc = sqlite3_prepare_v3(DB(db)->h, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
				    &s, NULL);

	*ret = NULL;
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return rc;
	}
	ls = xmalloc(sizeof(*ls));
	ls->base.drv = &sw_db_sqlite_driver;
	ls->s = s;
	*ret = &ls->base;
	return SQLITE_OK;
}

static int lite_step(struct sw_db_stmt *s)
{
	return sqlite3_step(ST(s));
}

static void lite_reset(struct sw_db_stmt *s)
{
	sqlite3_reset(ST(s));
}

static void lite_clear_bindings(struct sw_db_stmt *s)
{
	sqlite3_clear_bindings(ST(s));
}

static void lite_finalize(struct sw_db_stmt *s)
{
	sqlite3_finalize(ST(s));
	free(s);
}

static int lite_param_index(struct sw_db_stmt *s, const char *name)
{
	return sqlite3_bind_parameter_index(ST(s), name);
}

static int lite_bind_null(struct sw_db_stmt *s, int i)
{
	return sqlite3_bind_null(ST(s), i);
}

static int lite_bind_int64(struct sw_db_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(ST(s), i, v);
}

static int lite_bind_double(struct sw_db_stmt *s, int i, double v)
{
	return sqlite3_bind_double(ST(s), i, v);
}

static int lite_bind_text(struct sw_db_stmt *s, int i, const char *v, int n, int copy)
{
	return sqlite3_bind_text(ST(s), i, v, n, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static int lite_bind_blob(struct sw_db_stmt *s, int i, const void *v, int n, int copy)
{
	return sqlite3_bind_blob(ST(s), i, v, n, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

static int lite_column_type(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_type(ST(s), i); /* SW_DB_* share SQLite's values */
}

static int64_t lite_column_int64(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_int64(ST(s), i);
}

static double lite_column_double(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_double(ST(s), i);
}

static const unsigned char *lite_column_text(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_text(ST(s), i);
}

static const void *lite_column_blob(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_blob(ST(s), i);
}

static int lite_column_bytes(struct sw_db_stmt *s, int i)
{
	return sqlite3_column_bytes(ST(s), i);
}

static int lite_exec(struct sw_db *db, const char *sql)
{
	return sqlite3_exec(DB(db)->h, sql, NULL, NULL, NULL);
}

static int lite_changes(struct sw_db *db)
{
	return sqlite3_changes(DB(db)->h);
}

static int64_t lite_last_insert_id(struct sw_db *db)
{
	return sqlite3_last_insert_rowid(DB(db)->h);
}

static int lite_autocommit(struct sw_db *db)
{
	return sqlite3_get_autocommit(DB(db)->h);
}

static const char *lite_errmsg(struct sw_db *db)
{
	return sqlite3_errmsg(DB(db)->h);
}

static int lite_errcode(struct sw_db *db)
{
	return sqlite3_extended_errcode(DB(db)->h) & 0xff;
}

static void lite_close(struct sw_db *db)
{
	sqlite3_close(DB(db)->h);
	free(db);
}

const struct sw_db_driver sw_db_sqlite_driver = {
    .name = "sqlite",
    .dialect = SW_DB_SQLITE,
    .prepare = lite_prepare,
    .step = lite_step,
    .reset = lite_reset,
    .clear_bindings = lite_clear_bindings,
    .finalize = lite_finalize,
    .param_index = lite_param_index,
    .bind_null = lite_bind_null,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_blob = lite_bind_blob,
    .column_type = lite_column_type,
    .column_int64 = lite_column_int64,
    .column_double = lite_column_double,
    .column_text = lite_column_text,
    .column_blob = lite_column_blob,
    .column_bytes = lite_column_bytes,
    .exec = lite_exec,
    .changes = lite_changes,
    .last_insert_id = lite_last_insert_id,
    .autocommit = lite_autocommit,
    .errmsg = lite_errmsg,
    .errcode = lite_errcode,
    .close = lite_close,
};

int sw_db_sqlite_open(const char *path, int oflags, struct sw_db **ret_db)
{
	struct lite_db *db = xcalloc(1, sizeof(*db));
	int rc;

	db->base.drv = &sw_db_sqlite_driver;
	rc = sqlite3_open_v2(path, &db->h, oflags, NULL);
	*ret_db = &db->base;
	return rc;
}

sqlite3 *sw_db_sqlite_handle(struct sw_db *db)
{
	return db && db->drv == &sw_db_sqlite_driver ? DB(db)->h : NULL;
}
