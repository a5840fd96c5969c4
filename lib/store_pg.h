/*
 * store_pg.h - opening the store on PostgreSQL (store_pg.c).  Internal to
 * lib/store*.c; programs call sw_store_open with a postgresql:// address.
 */
#ifndef SW_STORE_PG_H
#define SW_STORE_PG_H

#include <stddef.h>

#include "lib/db.h"
#include "lib/error.h"

/*
 * Connects to url (password: NULL for libpq's own sources), refuses a
 * database that holds tables but is no store or whose schema is newer,
 * creates or migrates the schema (not with SW_STORE_RDONLY: then an older
 * schema is SW_EVERSION).  *ret_db and *ret_version on success; the
 * reason in errbuf (never the password) otherwise.
 */
enum sw_err sw_store_pg_open(const char *url, const char *password, unsigned flags,
			     struct sw_db **ret_db, int *ret_version, char *errbuf, size_t errlen);

#endif /* SW_STORE_PG_H */
