/*
 * sqlite_raw.h - test helpers that look at a store behind the store
 * module's back, on a connection of their own (what another process would
 * see): an SQLite file, or with a PostgreSQL address (SW_TEST_STORE_URL,
 * tests/store_tmp.h) that database, the SQL rewritten as the store's is.
 * Header-only, for unit tests.
 */
#ifndef SW_TEST_SQLITE_RAW_H
#define SW_TEST_SQLITE_RAW_H

#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "lib/db.h"
#include "lib/db_pg.h"
#include "lib/db_sqlite.h"
#include "lib/xmalloc.h"

/* A PostgreSQL store (SW_TEST_STORE_URL): the same helpers on a connection
 * of their own through lib/db.h (the SQL is rewritten as the store's is). */
static inline struct sw_db *raw_pg(const char *url)
{
	struct sw_db *db = NULL;
	char err[512];

	if (sw_db_driver_for(url) != &sw_db_pg_driver)
		return NULL;
	if (sw_db_pg_open(url, NULL, &db, err, sizeof(err)) != 0)
		printf("# raw connection: %s\n", err);
	return db;
}

static inline long long raw_pg_int(struct sw_db *db, const char *sql)
{
	struct sw_db_stmt *s = NULL;
	long long v = -1;

	if (sw_db_prepare(db, sql, &s) == SW_DB_OK && sw_db_step(s) == SW_DB_ROW)
		v = sw_db_column_int64(s, 0);
	sw_db_finalize(s);
	sw_db_close(db);
	return v;
}

static inline int raw_pg_exec(struct sw_db *db, const char *sql)
{
	int rc = sw_db_exec(db, sql);

	sw_db_close(db);
	return rc;
}

static inline int raw_is_pg(const char *path)
{
	return sw_db_driver_for(path) == &sw_db_pg_driver;
}

/* One integer from a raw query on its own connection; -1 on error. */
static inline long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	if (raw_is_pg(path)) {
		struct sw_db *pg = raw_pg(path);

		return pg ? raw_pg_int(pg, sql) : -1;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/* Runs sql on its own connection (creating the file if needed); the
 * SQLite result code. */
static inline int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (raw_is_pg(path)) {
		struct sw_db *pg = raw_pg(path);

		return pg ? raw_pg_exec(pg, sql) : SQLITE_CANTOPEN;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* A connection of its own to the store at path, either backend, through
 * lib/db.h; NULL (said why) if it cannot be had. */
static inline struct sw_db *raw_db(const char *path)
{
	struct sw_db *db = NULL;

	if (raw_is_pg(path))
		return raw_pg(path);
	if (sw_db_sqlite_open(path, SQLITE_OPEN_READWRITE, &db) != SQLITE_OK) {
		printf("# raw connection: %s\n", db ? sw_db_errmsg(db) : "out of memory");
		sw_db_close(db);
		return NULL;
	}
	return db;
}

/* The first column of every row of a raw query, joined by spaces into buf
 * ("(null)" for NULL); the number of rows, -1 on error. */
static inline int raw_text(const char *path, const char *sql, char *buf, size_t len)
{
	struct sw_db *db = raw_db(path);
	struct sw_db_stmt *s = NULL;
	size_t n = 0;
	int rows = 0, rc;

	buf[0] = '\0';
	if (!db || sw_db_prepare(db, sql, &s) != SW_DB_OK) {
		printf("# raw query: %s\n", db ? sw_db_errmsg(db) : "no connection");
		sw_db_close(db);
		return -1;
	}
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		const unsigned char *v = sw_db_column_text(s, 0);

		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", rows ? " " : "",
					      v ? (const char *)v : "(null)");
		rows++;
	}
	if (rc != SW_DB_DONE) {
		printf("# raw query: %s\n", sw_db_errmsg(db));
		rows = -1;
	}
	sw_db_finalize(s);
	sw_db_close(db);
	return rows;
}

/* A trigger called name that refuses (as a constraint, the way the store
 * reports a value it will not take) each row op ("INSERT", "UPDATE") on
 * table for which the condition when (on NEW.column) holds, with message.
 * PostgreSQL's triggers run a function: one of the same name.  The result
 * of raw_exec. */
static inline int raw_refuse(const char *path, const char *name, const char *table,
			     const char *op, const char *when, const char *message)
{
	char *sql;
	int rc;

	if (raw_is_pg(path))
		sql = xasprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
				"RAISE EXCEPTION '%s' USING ERRCODE = '23000'; END $f$; "
				"CREATE TRIGGER %s BEFORE %s ON %s FOR EACH ROW WHEN (%s) "
				"EXECUTE FUNCTION %s()",
				name, message, name, op, table, when, name);
	else
		sql = xasprintf("CREATE TRIGGER %s BEFORE %s ON %s WHEN %s BEGIN "
				"SELECT RAISE(ABORT, '%s'); END",
				name, op, table, when, message);
	rc = raw_exec(path, sql);
	free(sql);
	return rc;
}

/* Drops what raw_refuse made. */
static inline int raw_unrefuse(const char *path, const char *name, const char *table)
{
	char *sql = raw_is_pg(path) ? xasprintf("DROP TRIGGER %s ON %s; DROP FUNCTION %s()", name,
						 table, name)
				    : xasprintf("DROP TRIGGER %s", name);
	int rc = raw_exec(path, sql);

	free(sql);
	return rc;
}

#endif /* SW_TEST_SQLITE_RAW_H */
