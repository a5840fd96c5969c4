/*
 * sqlite_raw.h - test helpers that look at a store file behind the store
 * module's back, on their own SQLite connection (what another process
 * would see).  Header-only, for unit tests.
 */
#ifndef SW_TEST_SQLITE_RAW_H
#define SW_TEST_SQLITE_RAW_H

#include <sqlite3.h>

/* One integer from a raw query on its own connection; -1 on error. */
static inline long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

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
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

#endif /* SW_TEST_SQLITE_RAW_H */
