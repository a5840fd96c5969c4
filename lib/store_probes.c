/*
 * store_probes.c - the SQLite side of store_probes.h: probe_results
 * (schema 8), the latest run of every probe instance.
 *
 * Design (as store_feeds.c): statements prepared per call through
 * store_int.h; one upsert per instance per round, so the cost is per
 * round, not per sample.  failing_since is decided in the upsert itself
 * (the SET expressions read the row as it was), so a writer never reads
 * first.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_probes.h"
#include "lib/xmalloc.h"

#define COLS                                                                                       \
	"name, kind, at, ok, sent, lost, lat_p50, lat_max, value, reason, detail, failing_since"

static const char put_sql[] =
    "INSERT INTO probe_results (" COLS ") VALUES (:name, :kind, :at, :ok, :sent, :lost,"
    " :p50, :max, :value, :reason, :detail, CASE WHEN :ok <> 0 THEN 0 ELSE :at END)"
    " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, at = excluded.at,"
    " ok = excluded.ok, sent = excluded.sent, lost = excluded.lost,"
    " lat_p50 = excluded.lat_p50, lat_max = excluded.lat_max, value = excluded.value,"
    " reason = excluded.reason, detail = excluded.detail,"
    " failing_since = CASE WHEN excluded.ok <> 0 THEN 0"
    " WHEN failing_since > 0 THEN failing_since ELSE excluded.at END";
static const char get_sql[] = "SELECT " COLS " FROM probe_results WHERE name = :name";
static const char list_sql[] = "SELECT " COLS " FROM probe_results ORDER BY name";

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static int bind_real(struct sw_db_stmt *s, const char *name, double v)
{
	return sw_db_bind_double(s, sw_db_bind_parameter_index(s, name), v);
}

enum sw_err sw_store_probe_put(struct sw_store *st, const struct sw_probe_row *r)
{
	const char *what = "probe result";
	struct sw_db_stmt *s;
	int rc;

	if (empty(r->name) || empty(r->kind))
		return sw_store_int_err(st, SW_EINVAL, "probe result: name and kind are required");
	s = sw_store_int_prepare(st, put_sql, what);
	if (!s)
		return SW_ESTORE;
	rc = sw_store_int_bind_text(s, ":name", r->name) |
	     sw_store_int_bind_text(s, ":kind", r->kind) | sw_store_int_bind_int(s, ":at", r->at) |
	     sw_store_int_bind_int(s, ":ok", r->ok) | sw_store_int_bind_int(s, ":sent", r->sent) |
	     sw_store_int_bind_int(s, ":lost", r->lost) | bind_real(s, ":p50", r->lat_p50) |
	     bind_real(s, ":max", r->lat_max) |
	     (r->has_value ? bind_real(s, ":value", r->value)
			   : sw_db_bind_null(s, sw_db_bind_parameter_index(s, ":value"))) |
	     sw_store_int_bind_text(s, ":reason", r->ok || empty(r->reason) ? NULL : r->reason) |
	     sw_store_int_bind_text(s, ":detail", empty(r->detail) ? NULL : r->detail);
	if (rc == SW_DB_OK)
		rc = sw_db_step(s) == SW_DB_DONE ? SW_DB_OK : SW_DB_ERROR;
	if (rc != SW_DB_OK)
		sw_store_int_dberr(st, what);
	sw_db_finalize(s);
	return rc == SW_DB_OK ? SW_OK : SW_ESTORE;
}

static void fill(struct sw_db_stmt *s, struct sw_probe_row *r)
{
	r->name = sw_store_int_col_str(s, 0);
	r->kind = sw_store_int_col_str(s, 1);
	r->at = sw_db_column_int64(s, 2);
	r->ok = sw_db_column_int(s, 3) != 0;
	r->sent = sw_db_column_int(s, 4);
	r->lost = sw_db_column_int(s, 5);
	r->lat_p50 = sw_db_column_double(s, 6);
	r->lat_max = sw_db_column_double(s, 7);
	r->has_value = sw_db_column_type(s, 8) != SW_DB_NULL;
	r->value = r->has_value ? sw_db_column_double(s, 8) : 0;
	r->reason = sw_store_int_col_str(s, 9);
	r->detail = sw_store_int_col_str(s, 10);
	r->failing_since = sw_db_column_int64(s, 11);
}

/* Steps s to the end, collecting rows; finalizes s. */
static enum sw_err collect(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			   struct sw_probe_row **ret, size_t *ret_n)
{
	struct sw_probe_row *rows = NULL;
	size_t n = 0;
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		memset(&rows[n], 0, sizeof(rows[n]));
		fill(s, &rows[n++]);
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		sw_store_probe_rows_free(rows, n);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	*ret = rows;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_probe_get(struct sw_store *st, const char *name, struct sw_probe_row **ret)
{
	const char *what = "probe result";
	struct sw_db_stmt *s;
	size_t n = 0;
	enum sw_err rc;

	*ret = NULL;
	s = sw_store_int_prepare(st, get_sql, what);
	if (!s)
		return SW_ESTORE;
	if (sw_store_int_bind_text(s, ":name", name ? name : "") != SW_DB_OK) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	rc = collect(st, s, what, ret, &n);
	if (rc == SW_OK && n == 0)
		return sw_store_int_err(st, SW_ENOTFOUND, "no probe result for '%s'",
					name ? name : "");
	return rc;
}

enum sw_err sw_store_probe_list(struct sw_store *st, struct sw_probe_row **ret, size_t *ret_n)
{
	const char *what = "probe results";
	struct sw_db_stmt *s;

	*ret = NULL;
	*ret_n = 0;
	s = sw_store_int_prepare(st, list_sql, what);
	if (!s)
		return SW_ESTORE;
	return collect(st, s, what, ret, ret_n);
}

void sw_store_probe_rows_free(struct sw_probe_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].name);
		free(rows[i].kind);
		free(rows[i].reason);
		free(rows[i].detail);
	}
	free(rows);
}
