/*
 * db.c - the table of database backends (lib/db.h): one row a backend.
 */
#include "config.h"

#include <string.h>

#include "lib/db.h"
#include "lib/db_sqlite.h"

const struct sw_db_driver *const sw_db_drivers[] = {
    &sw_db_sqlite_driver,
    NULL,
};

const struct sw_db_driver *sw_db_driver_for(const char *address)
{
	(void)address;
	return &sw_db_sqlite_driver;
}
