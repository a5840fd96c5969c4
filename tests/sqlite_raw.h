/*
 * sqlite_raw.h - test helpers that look at a store file behind the store
 * module's back, on their own SQLite connection (what another process
 * would see).  Header-only, for unit tests.
 */
#ifndef SW_TEST_SQLITE_RAW_H
#define SW_TEST_SQLITE_RAW_H

#include <sqlite3.h>

#include "lib/db.h"
#include "lib/db_pg.h"

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

#endif /* SW_TEST_SQLITE_RAW_H */
