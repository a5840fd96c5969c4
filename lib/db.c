/*
 * db.c - the table of database backends (lib/db.h): one row a backend.
 */
#include "config.h"

#include <string.h>

#include "lib/db.h"
#include "lib/db_pg.h"
#include "lib/db_sqlite.h"

const struct sw_db_driver *const sw_db_drivers[] = {
    &sw_db_sqlite_driver,
    &sw_db_pg_driver,
    NULL,
};

const struct sw_db_driver *sw_db_driver_for(const char *address)
{
	static const char *const pg_prefixes[] = {"postgresql://", "postgres://", "host=",
						   "hostaddr=", "dbname=", "service=", NULL};

	for (int i = 0; address && pg_prefixes[i]; i++)
		if (strncmp(address, pg_prefixes[i], strlen(pg_prefixes[i])) == 0)
			return &sw_db_pg_driver;
	return &sw_db_sqlite_driver;
}
