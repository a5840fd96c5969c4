/*
 * store_journal.c - the SQLite side of store_journal.h.
 *
 * Design (as store_feeds.c): statements are prepared per call through
 * store_int.h; each function is one call per batch of events, so the
 * prepare is paid per batch.  The list of entities travels as one JSON
 * array bound as text and is opened with json_each (SQLite >= 3.35 has
 * JSON built in), so the SQL is the same whatever the batch's size.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store_int.h"
#include "lib/store_journal.h"
#include "lib/xmalloc.h"

/* The indices (json_each's key) of the listed entities with an open
 * alert; alerts(entity) is indexed. */
static const char open_among_sql[] =
    "SELECT j.key FROM json_each(:list) j WHERE EXISTS (SELECT 1 FROM alerts a"
    " WHERE a.entity = j.value AND a.resolved_at IS NULL)";

/* What the tail needs of the journal: the keys of the units each event
 * names (the whole row, payload included, is sw_store_journal_read's). */
static const char keys_sql[] =
    "SELECT seq, kind, warehouse_id, order_id, courier, tracking_number FROM journal"
    " WHERE seq > :after ORDER BY seq LIMIT :limit";

enum sw_err sw_store_journal_keys(struct sw_store *st, int64_t after_seq, int limit,
				  enum sw_err (*cb)(const struct sw_journal_event *ev, void *arg),
				  void *arg, int *ret_count)
{
	enum sw_err rc = SW_OK;
	struct sw_db_stmt *s;
	int n = 0, step;

	if (ret_count)
		*ret_count = 0;
	if (cb == NULL)
		return sw_store_int_err(st, SW_EINVAL, "journal keys: no callback");
	if (limit < 1 || limit > SW_STORE_MAX_BATCH)
		return sw_store_int_err(st, SW_ERANGE, "journal keys: limit %d not in 1..%d", limit,
					SW_STORE_MAX_BATCH);
	if (!(s = sw_store_int_prepare(st, keys_sql, "journal keys")))
		return SW_ESTORE;
	if (sw_store_int_bind_int(s, ":after", after_seq) |
	    sw_store_int_bind_int(s, ":limit", limit)) {
		sw_db_finalize(s);
		return sw_store_int_dberr(st, "journal keys");
	}
	while (rc == SW_OK && (step = sw_db_step(s)) == SW_DB_ROW) {
		struct sw_journal_event ev = { 0 };

		ev.seq = sw_db_column_int64(s, 0);
		ev.kind = (const char *)sw_db_column_text(s, 1);
		ev.warehouse_id = (const char *)sw_db_column_text(s, 2);
		ev.order_id = (const char *)sw_db_column_text(s, 3);
		ev.courier = (const char *)sw_db_column_text(s, 4);
		ev.tracking_number = (const char *)sw_db_column_text(s, 5);
		rc = cb(&ev, arg);
		n++;
	}
	if (rc == SW_OK && step != SW_DB_DONE)
		rc = sw_store_int_dberr(st, "journal keys");
	sw_db_finalize(s);
	if (ret_count)
		*ret_count = n;
	return rc;
}

enum sw_err sw_store_alert_open_among(struct sw_store *st, const char *const *entities, size_t n,
				      bool *ret_open)
{
	struct sw_buf b;
	char *list;
	struct sw_db_stmt *s;
	int rc;

	for (size_t i = 0; i < n; i++)
		ret_open[i] = true; /* until ruled out */
	sw_buf_init(&b, SW_STORE_INT_JSON_MAX);
	sw_buf_adds(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (!entities[i] || !*entities[i]) {
			sw_buf_free(&b);
			return sw_store_int_err(st, SW_EINVAL, "open alerts: entity %zu is empty",
						i);
		}
		if (i)
			sw_buf_adds(&b, ",");
		sw_store_int_json_str(&b, entities[i]);
	}
	sw_buf_adds(&b, "]");
	list = sw_buf_steal(&b, NULL);
	if (!(s = sw_store_int_prepare(st, open_among_sql, "open alerts among"))) {
		free(list);
		return SW_ESTORE;
	}
	if (sw_store_int_bind_text(s, ":list", list) != SW_DB_OK) {
		sw_db_finalize(s);
		free(list);
		return sw_store_int_dberr(st, "open alerts among");
	}
	for (size_t i = 0; i < n; i++)
		ret_open[i] = false;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		int64_t k = sw_db_column_int64(s, 0);

		if (k >= 0 && (size_t)k < n)
			ret_open[k] = true;
	}
	sw_db_finalize(s);
	free(list);
	if (rc != SW_DB_DONE) {
		for (size_t i = 0; i < n; i++)
			ret_open[i] = true;
		return sw_store_int_dberr(st, "open alerts among");
	}
	return SW_OK;
}
