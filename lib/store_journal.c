/*
 * store_journal.c - the SQLite side of store_journal.h.
 *
 * Design (as store_feeds.c): statements are prepared per call through
 * store_int.h; each function is one call per batch of events, so the
 * prepare is paid per batch.  The list of entities travels as one JSON
 * array bound as text and is opened with json_each (SQLite >= 3.35 has
 * JSON built in), so the SQL is the same whatever the batch's size.
 *
 * The journal's appends and reads, the cursors and the dead-letter queue
 * (split from store.c, after those) run store.c's way instead: once per
 * event or call, so their statements are cached in the handle.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/clock.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
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

/* ---- journal, cursors, dead letters: cached statements ---------------- */

/* The statements of this file, cached in the handle (store_int.h). */
static const char *const stmt_sql[ST_LAST] = {
    [ST_JOURNAL_INSERT] = "INSERT INTO journal (source, source_event_id, kind, "
			  "warehouse_id, order_id, courier, tracking_number, occurred_at, "
			  "occurred_off, received_at, payload) VALUES (:source, :seid, "
			  ":kind, :wh, :oid, :courier, :tn, :at, :off, :recv, :payload) "
			  "ON CONFLICT (source, source_event_id) DO NOTHING",
    [ST_JOURNAL_SEQ] = "SELECT seq FROM journal WHERE source = :source "
		       "AND source_event_id = :seid",
    [ST_JOURNAL_READ] = "SELECT seq, source, source_event_id, kind, warehouse_id, "
			"order_id, courier, tracking_number, occurred_at, occurred_off, "
			"received_at, payload FROM journal WHERE seq > :after "
			"ORDER BY seq LIMIT :limit",
    [ST_JOURNAL_COUNT] = "SELECT count(*) FROM journal",
    [ST_CURSOR_GET] = "SELECT seq FROM cursors WHERE name = :name",
    [ST_CURSOR_SET] = "INSERT INTO cursors (name, seq, updated_at) VALUES (:name, "
		      ":seq, :now) ON CONFLICT (name) DO UPDATE SET "
		      "seq = excluded.seq, updated_at = excluded.updated_at",
    [ST_DL_INSERT] = "INSERT INTO deadletters (topic, payload, created_at) "
		     "VALUES (:topic, :payload, :at) RETURNING id",
    [ST_DL_LIST] = "SELECT id, topic, payload, created_at FROM deadletters "
		   "WHERE id > :after ORDER BY id LIMIT :limit",
    [ST_DL_DELETE] = "DELETE FROM deadletters WHERE id = :id",
    [ST_DL_COUNT] = "SELECT count(*) FROM deadletters",
};

/* ---- journal ----------------------------------------------------------- */

static enum sw_err journal_check(struct sw_store *st, const struct sw_journal_event *ev)
{
	if (!nonempty(ev->source) || !nonempty(ev->source_event_id) || !nonempty(ev->kind))
		return set_err(st, SW_EINVAL,
			       "journal append: source, "
			       "source event id and kind are required");
	if (ev->occurred_at.at == 0)
		return set_err(st, SW_EINVAL, "journal append: occurred_at is required");
	if (ev->received_at < 0)
		return set_err(st, SW_ERANGE, "journal append: negative received_at");
	return check_stamp(st, "journal append: occurred_at", ev->occurred_at);
}

enum sw_err sw_store_journal_append(struct sw_store *st, const struct sw_journal_event *ev,
				    int64_t *ret_seq)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = journal_check(st, ev)))
		return rc;
	if (!(s = stmt(st, ST_JOURNAL_INSERT)))
		return SW_ESTORE;
	if (b_text_ref(s, ":source", ev->source) | b_text_ref(s, ":seid", ev->source_event_id) |
	    b_text_ref(s, ":kind", ev->kind) | b_text_ref(s, ":wh", ev->warehouse_id) |
	    b_text_ref(s, ":oid", ev->order_id) | b_text_ref(s, ":courier", ev->courier) |
	    b_text_ref(s, ":tn", ev->tracking_number) | b_int(s, ":at", ev->occurred_at.at) |
	    b_int(s, ":off", ev->occurred_at.offset) |
	    b_int(s, ":recv", ev->received_at ? ev->received_at : sw_clock_now()) |
	    b_text_ref(s, ":payload", ev->payload))
		return bind_failed(st, s);
	/* No RETURNING: SQLite collects RETURNING rows in a temporary b-tree
	 * per statement, a measurable part of ingest.  The row count and the
	 * last rowid say the same (a trigger's writes count in neither). */
	if ((rc = run_values(st, s, "journal append")))
		return rc;
	if (sw_db_changes(st->db) == 1) {
		if (ret_seq)
			*ret_seq = sw_db_last_insert_rowid(st->db);
		return SW_OK;
	}
	if (!(s = stmt(st, ST_JOURNAL_SEQ)))
		return SW_ESTORE;
	if (b_text(s, ":source", ev->source) | b_text(s, ":seid", ev->source_event_id))
		return bind_failed(st, s);
	return existing_id(st, s, "journal append", ret_seq);
}

static void journal_row(struct sw_db_stmt *s, struct sw_journal_event *ev)
{
	ev->seq = sw_db_column_int64(s, 0);
	ev->source = col_str(s, 1);
	ev->source_event_id = col_str(s, 2);
	ev->kind = col_str(s, 3);
	ev->warehouse_id = col_str(s, 4);
	ev->order_id = col_str(s, 5);
	ev->courier = col_str(s, 6);
	ev->tracking_number = col_str(s, 7);
	ev->occurred_at = col_stamp(s, 8);
	ev->received_at = sw_db_column_int64(s, 10);
	ev->payload = col_str(s, 11);
}

static void journal_free(struct sw_journal_event *evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free((char *)evs[i].source);
		free((char *)evs[i].source_event_id);
		free((char *)evs[i].kind);
		free((char *)evs[i].warehouse_id);
		free((char *)evs[i].order_id);
		free((char *)evs[i].courier);
		free((char *)evs[i].tracking_number);
		free((char *)evs[i].payload);
	}
	free(evs);
}

/* Fetches up to limit events after after_seq into a new array. */
static enum sw_err journal_fetch(struct sw_store *st, int64_t after_seq, int limit,
				 struct sw_journal_event **ret, size_t *ret_n)
{
	struct sw_journal_event *evs = NULL;
	size_t n = 0, alloc = 0;
	struct sw_db_stmt *s;
	int rc;

	if (!(s = stmt(st, ST_JOURNAL_READ)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_seq) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			evs = xreallocarray(evs, alloc, sizeof(*evs));
		}
		journal_row(s, &evs[n++]);
	}
	if (rc != SW_DB_DONE) {
		db_err(st, "journal read");
		stmt_done(s);
		journal_free(evs, n);
		return SW_ESTORE;
	}
	stmt_done(s);
	*ret = evs;
	*ret_n = n;
	return SW_OK;
}

enum sw_err sw_store_journal_read(struct sw_store *st, int64_t after_seq, int limit,
				  enum sw_err (*cb)(const struct sw_journal_event *ev, void *arg),
				  void *arg, int *ret_count)
{
	struct sw_journal_event *evs;
	size_t i, n;
	enum sw_err rc;

	if (ret_count)
		*ret_count = 0;
	if (cb == NULL)
		return set_err(st, SW_EINVAL, "journal read: no callback");
	if ((rc = check_limit(st, limit)) || (rc = journal_fetch(st, after_seq, limit, &evs, &n)))
		return rc;
	for (i = 0; i < n && rc == SW_OK; i++) {
		rc = cb(&evs[i], arg);
		if (ret_count)
			*ret_count = (int)i + 1;
	}
	journal_free(evs, n);
	return rc;
}

enum sw_err sw_store_journal_count(struct sw_store *st, int64_t *ret_count)
{
	struct sw_db_stmt *s = stmt(st, ST_JOURNAL_COUNT);

	if (!s)
		return SW_ESTORE;
	return query_int(st, s, "journal count", ret_count, NULL);
}

/* ---- cursors ----------------------------------------------------------- */

enum sw_err sw_store_cursor_get(struct sw_store *st, const char *name, int64_t *ret_seq)
{
	struct sw_db_stmt *s;

	*ret_seq = 0;
	if (!nonempty(name))
		return set_err(st, SW_EINVAL, "cursor: empty name");
	if (!(s = stmt(st, ST_CURSOR_GET)))
		return SW_ESTORE;
	if (b_text(s, ":name", name))
		return bind_failed(st, s);
	return query_int(st, s, "cursor get", ret_seq, NULL);
}

enum sw_err sw_store_cursor_set(struct sw_store *st, const char *name, int64_t seq)
{
	struct sw_db_stmt *s;

	if (!nonempty(name) || seq < 0)
		return set_err(st, SW_EINVAL, "cursor: empty name or seq < 0");
	if (!(s = stmt(st, ST_CURSOR_SET)))
		return SW_ESTORE;
	if (b_text(s, ":name", name) | b_int(s, ":seq", seq) |
	    b_int(s, ":now", sw_clock_now()))
		return bind_failed(st, s);
	return run(st, s, "cursor set");
}

/* ---- dead-letter queue ------------------------------------------------- */

enum sw_err sw_store_deadletter_enqueue(struct sw_store *st, const char *topic, const void *payload,
					size_t len, int64_t created_at, int64_t *ret_id)
{
	struct sw_db_stmt *s;
	int64_t id;
	enum sw_err rc;

	if (!nonempty(topic) || (payload == NULL && len > 0))
		return set_err(st, SW_EINVAL, "dead letter: a topic and a payload are required");
	if (len > SW_STORE_DEADLETTER_MAX)
		return set_err(st, SW_ERANGE, "dead letter: %zu bytes, at most %d", len,
			       SW_STORE_DEADLETTER_MAX);
	if (created_at < 0)
		return set_err(st, SW_ERANGE, "dead letter: negative time");
	if (!(s = stmt(st, ST_DL_INSERT)))
		return SW_ESTORE;
	if (b_text(s, ":topic", topic) |
	    sw_db_bind_blob(s, sw_db_bind_parameter_index(s, ":payload"), len ? payload : "",
			      (int)len, SW_DB_TRANSIENT) |
	    b_int(s, ":at", created_at ? created_at : sw_clock_now()))
		return bind_failed(st, s);
	if ((rc = query_int(st, s, "dead letter enqueue", &id, NULL)))
		return rc;
	if (ret_id)
		*ret_id = id;
	return SW_OK;
}

static void deadletter_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_deadletter *d = elem;
	const void *p = sw_db_column_blob(s, 2);

	d->id = sw_db_column_int64(s, 0);
	d->topic = col_str(s, 1);
	d->len = (size_t)sw_db_column_bytes(s, 2);
	d->payload = xmalloc(d->len + 1);
	if (d->len)
		memcpy(d->payload, p, d->len);
	d->payload[d->len] = '\0';
	d->created_at = sw_db_column_int64(s, 3);
}

static void deadletter_free_v(void *arr, size_t n)
{
	sw_store_deadletter_free(arr, n);
}

enum sw_err sw_store_deadletter_list(struct sw_store *st, int64_t after_id, int limit,
				     struct sw_deadletter **ret_list, size_t *ret_n)
{
	void *list = NULL;
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (after_id < 0)
		return set_err(st, SW_EINVAL, "dead letters: negative id");
	if (!(s = stmt(st, ST_DL_LIST)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_id) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	rc = list_rows(st, s, "dead letters", sizeof(struct sw_deadletter), deadletter_fill,
		       deadletter_free_v, &list, ret_n);
	*ret_list = list;
	return rc;
}

void sw_store_deadletter_free(struct sw_deadletter *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].topic);
		free(list[i].payload);
	}
	free(list);
}

enum sw_err sw_store_deadletter_delete(struct sw_store *st, int64_t id)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (!(s = stmt(st, ST_DL_DELETE)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	if ((rc = run(st, s, "dead letter delete")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "dead letter %lld: not queued", (long long)id);
	return SW_OK;
}

enum sw_err sw_store_deadletter_count(struct sw_store *st, int64_t *ret_count)
{
	struct sw_db_stmt *s;

	*ret_count = 0;
	if (!(s = stmt(st, ST_DL_COUNT)))
		return SW_ESTORE;
	return query_int(st, s, "dead letter count", ret_count, NULL);
}
