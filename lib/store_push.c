/*
 * store_push.c - the SQLite side of store_push.h, over poll_schedule and
 * parcels (schema as in store.c).  A statement prepared per call, as
 * store_silence.c does: it runs when a courier's pushes stop, rarely.
 */
#include "config.h"

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_push.h"

static const char pull_in_sql[] =
    "UPDATE poll_schedule SET next_poll_at = :at + abs(random() % :spread), "
    "interval_s = :interval WHERE next_poll_at > :after AND parcel_ref IN "
    "(SELECT id FROM parcels WHERE courier = :courier AND terminal = 0)";

enum sw_err sw_store_poll_pull_in(struct sw_store *st, const char *courier, int64_t after,
				  int64_t at, int spread_s, int interval_s, int64_t *ret_n)
{
	struct sw_db_stmt *s;
	int r;

	if (ret_n)
		*ret_n = 0;
	if (st == NULL || courier == NULL || *courier == '\0' || at <= 0 || spread_s < 1 ||
	    interval_s < 1)
		return SW_EINVAL;
	s = sw_store_int_prepare(st, pull_in_sql, "bring polls back");
	if (s == NULL)
		return SW_ESTORE;
	r = sw_store_int_bind_int(s, ":at", at) | sw_store_int_bind_int(s, ":spread", spread_s) |
	    sw_store_int_bind_int(s, ":interval", interval_s) |
	    sw_store_int_bind_int(s, ":after", after) |
	    sw_store_int_bind_text(s, ":courier", courier);
	if (r != SW_DB_OK || sw_db_step(s) != SW_DB_DONE) {
		sw_store_int_dberr(st, "bring polls back");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if (ret_n)
		*ret_n = sw_db_changes(sw_store_int_db(st));
	sw_db_finalize(s);
	return SW_OK;
}
