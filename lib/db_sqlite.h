/*
 * db_sqlite.h - the SQLite backend of lib/db.h: what only the SQLite store
 * code (opening, PRAGMAs, migrations of the file) and its tests use.
 */
#ifndef SW_DB_SQLITE_H
#define SW_DB_SQLITE_H

#include <sqlite3.h>

#include "lib/db.h"

extern const struct sw_db_driver sw_db_sqlite_driver;

/* Opens path with sqlite3_open_v2 flags; *ret_db is set even on failure
 * (for its error text; close it).  An SQLite code. */
int sw_db_sqlite_open(const char *path, int oflags, struct sw_db **ret_db);

/* The connection underneath db, or NULL when db is not SQLite's. */
sqlite3 *sw_db_sqlite_handle(struct sw_db *db);

#endif /* SW_DB_SQLITE_H */
