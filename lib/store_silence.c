/*
 * store_silence.c - the SQLite side of the silences and acknowledgements
 * of store_pages.h, over the tables of schema version 1 (silences, acks).
 *
 * Design:
 * - Like store_report.c and store_pages.c: statements are prepared per
 *   call and finalized after (the CLI writes a row now and then, the
 *   engine reads them once per evaluation), with only what store_int.h
 *   shares.
 * - Columns keep their schema v1 names: silences.matcher holds the
 *   canonical matcher text (lib/matcher.h), silences.reason the comment;
 *   an acknowledgement is an acks row whose alert_key is
 *   "page:ID#INCIDENT" (expires_at unused: it lasts until the incident
 *   ends, and the next incident has another key).
 * - Every write is one statement, atomic on its own: an ack inserts only
 *   when no row of its key exists (two operators acking at once give one
 *   row and one SW_EDUP), an expiry updates only a silence that has not
 *   ended.  When nothing changed, a read says why.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_pages.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define ACK_KEY_MAX 48 /* "page:" + 2 x 20 digits + "#" */

#define prep sw_store_int_prepare

#define bind_text sw_store_int_bind_text
#define bind_int sw_store_int_bind_int

/* Steps a statement that returns no row (or one RETURNING row into
 * *ret_id when ret_id is given); finalizes it.  SW_OK or SW_ESTORE. */
static enum sw_err run(struct sw_store *st, struct sw_db_stmt *s, const char *what, int64_t *ret_id)
{
	int r = sw_db_step(s);

	if (r == SW_DB_ROW) { /* RETURNING id */
		if (ret_id)
			*ret_id = sw_db_column_int64(s, 0);
		r = sw_db_step(s);
	}
	if (r != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

static bool nonempty(const char *s)
{
	return s && *s;
}

/* ---- silences ------------------------------------------------------------------ */

#define SILENCE_COLS "id, matcher, starts_at, ends_at, created_by, reason, created_at"

enum sw_err sw_store_silence_add(struct sw_store *st, const struct sw_silence *s, int64_t *ret_id)
{
	struct sw_db_stmt *q;

	if (!s || !nonempty(s->matchers) || !nonempty(s->created_by) || !nonempty(s->comment))
		return sw_store_int_err(st, SW_EINVAL,
					"silence: matchers, author and comment are required");
	if (s->ends_at <= s->starts_at)
		return sw_store_int_err(st, SW_EINVAL, "silence: it must end after it starts");
	if (!(q = prep(st,
		       "INSERT INTO silences (matcher, starts_at, ends_at, created_by, reason,"
		       " created_at) VALUES (:matcher, :starts, :ends, :by, :comment, :created)"
		       " RETURNING id",
		       "silence add")))
		return SW_ESTORE;
	if (bind_text(q, ":matcher", s->matchers) | bind_int(q, ":starts", s->starts_at) |
	    bind_int(q, ":ends", s->ends_at) | bind_text(q, ":by", s->created_by) |
	    bind_text(q, ":comment", s->comment) | bind_int(q, ":created", s->created_at)) {
		sw_store_int_dberr(st, "silence add (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	return run(st, q, "silence add", ret_id);
}

static void silence_row(struct sw_db_stmt *q, struct sw_silence *s)
{
	char *m = sw_store_int_col_str(q, 1), *by = sw_store_int_col_str(q, 4);
	char *c = sw_store_int_col_str(q, 5);

	s->id = sw_db_column_int64(q, 0);
	s->matchers = m ? m : xstrdup("");
	s->starts_at = sw_db_column_int64(q, 2);
	s->ends_at = sw_db_column_int64(q, 3);
	s->created_by = by ? by : xstrdup("");
	s->comment = c ? c : xstrdup("");
	s->created_at = sw_db_column_int64(q, 6);
}

enum sw_err sw_store_silence_list(struct sw_store *st, int64_t now, bool all,
				  struct sw_silence **ret_list, size_t *ret_n)
{
	struct sw_silence *arr = NULL;
	size_t n = 0, cap = 0;
	struct sw_db_stmt *q;
	int r;

	*ret_list = NULL;
	*ret_n = 0;
	/* silences_active (ends_at) unless all */
	if (!(q = prep(st,
		       "SELECT " SILENCE_COLS " FROM silences WHERE :all OR ends_at > :now"
		       " ORDER BY id",
		       "silence list")))
		return SW_ESTORE;
	if (bind_int(q, ":all", all) | bind_int(q, ":now", now)) {
		sw_store_int_dberr(st, "silence list (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	while ((r = sw_db_step(q)) == SW_DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			arr = xreallocarray(arr, cap, sizeof(*arr));
		}
		silence_row(q, &arr[n++]);
	}
	if (r != SW_DB_DONE) {
		sw_store_int_dberr(st, "silence list");
		sw_db_finalize(q);
		sw_store_silence_free(arr, n);
		return SW_ESTORE;
	}
	sw_db_finalize(q);
	*ret_list = arr;
	*ret_n = n;
	return SW_OK;
}

/* Why expiring silence id changed nothing: it does not exist, or it ended
 * (when).  SW_ENOTFOUND with that text, or SW_ESTORE. */
static enum sw_err expire_why(struct sw_store *st, int64_t id)
{
	struct sw_db_stmt *q = prep(st, "SELECT ends_at FROM silences WHERE id = :id", "silence expire");
	struct sw_time t = {.flags = SW_TIME_HAS_OFFSET};
	char when[48];
	int r;

	if (!q)
		return SW_ESTORE;
	if (bind_int(q, ":id", id)) {
		sw_store_int_dberr(st, "silence expire (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	r = sw_db_step(q);
	if (r == SW_DB_ROW)
		t.utc_sec = sw_db_column_int64(q, 0);
	else if (r != SW_DB_DONE)
		sw_store_int_dberr(st, "silence expire");
	sw_db_finalize(q);
	if (r == SW_DB_DONE)
		return sw_store_int_err(st, SW_ENOTFOUND, "silence %lld: no such silence",
					(long long)id);
	if (r != SW_DB_ROW)
		return SW_ESTORE;
	if (sw_time_format_utc(&t, when, sizeof(when)) != SW_OK)
		snprintf(when, sizeof(when), "%lld", (long long)t.utc_sec);
	return sw_store_int_err(st, SW_ENOTFOUND, "silence %lld already ended at %s", (long long)id,
				when);
}

enum sw_err sw_store_silence_expire(struct sw_store *st, int64_t id, int64_t now)
{
	struct sw_db_stmt *q;
	enum sw_err rc;

	/* A silence still to come gets a one-second window just before now:
	 * the row keeps ends_at > starts_at and covers no evaluation. */
	if (!(q = prep(st,
		       "UPDATE silences SET ends_at = :now,"
		       " starts_at = min(starts_at, :now - 1)"
		       " WHERE id = :id AND ends_at > :now",
		       "silence expire")))
		return SW_ESTORE;
	if (bind_int(q, ":now", now) | bind_int(q, ":id", id)) {
		sw_store_int_dberr(st, "silence expire (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	if ((rc = run(st, q, "silence expire", NULL)))
		return rc;
	if (sw_db_changes(sw_store_int_db(st)) == 0)
		return expire_why(st, id);
	return SW_OK;
}

void sw_store_silence_free(struct sw_silence *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free((char *)list[i].matchers);
		free((char *)list[i].created_by);
		free((char *)list[i].comment);
	}
	free(list);
}

/* ---- acknowledgements -------------------------------------------------------- */

static void ack_key(int64_t page_id, int64_t incident, char buf[ACK_KEY_MAX])
{
	snprintf(buf, ACK_KEY_MAX, "page:%lld#%lld", (long long)page_id, (long long)incident);
}

enum sw_err sw_store_page_ack(struct sw_store *st, int64_t page_id, int64_t incident,
			      const char *by, const char *comment, int64_t now)
{
	char key[ACK_KEY_MAX];
	struct sw_db_stmt *q;
	enum sw_err rc;

	if (page_id <= 0 || incident <= 0 || !nonempty(by))
		return sw_store_int_err(st, SW_EINVAL,
					"ack: a page, an incident and who acknowledges are needed");
	ack_key(page_id, incident, key);
	/* acks_key answers the NOT EXISTS */
	if (!(q = prep(st,
		       "INSERT INTO acks (alert_key, acked_by, comment, acked_at)"
		       " SELECT :key, :by, :comment, :now"
		       " WHERE NOT EXISTS (SELECT 1 FROM acks WHERE alert_key = :key)",
		       "ack")))
		return SW_ESTORE;
	if (bind_text(q, ":key", key) | bind_text(q, ":by", by) |
	    bind_text(q, ":comment", nonempty(comment) ? comment : NULL) |
	    bind_int(q, ":now", now)) {
		sw_store_int_dberr(st, "ack (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	if ((rc = run(st, q, "ack", NULL)))
		return rc;
	if (sw_db_changes(sw_store_int_db(st)) == 0)
		return sw_store_int_err(st, SW_EDUP,
					"page %lld incident %lld: already acknowledged",
					(long long)page_id, (long long)incident);
	return SW_OK;
}

enum sw_err sw_store_page_acked(struct sw_store *st, int64_t page_id, int64_t incident,
				bool *ret_acked, int64_t *ret_at, char **ret_by)
{
	char key[ACK_KEY_MAX];
	struct sw_db_stmt *q;
	int r;

	*ret_acked = false;
	if (ret_at)
		*ret_at = 0;
	if (ret_by)
		*ret_by = NULL;
	ack_key(page_id, incident, key);
	/* the first acknowledgement is the one (there is one per key) */
	if (!(q = prep(st,
		       "SELECT acked_at, acked_by FROM acks WHERE alert_key = :key"
		       " ORDER BY id LIMIT 1",
		       "acked")))
		return SW_ESTORE;
	if (bind_text(q, ":key", key)) {
		sw_store_int_dberr(st, "acked (bind)");
		sw_db_finalize(q);
		return SW_ESTORE;
	}
	r = sw_db_step(q);
	if (r == SW_DB_ROW) {
		*ret_acked = true;
		if (ret_at)
			*ret_at = sw_db_column_int64(q, 0);
		if (ret_by)
			*ret_by = sw_store_int_col_str(q, 1);
	} else if (r != SW_DB_DONE) {
		sw_store_int_dberr(st, "acked");
	}
	sw_db_finalize(q);
	return r == SW_DB_ROW || r == SW_DB_DONE ? SW_OK : SW_ESTORE;
}
