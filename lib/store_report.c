/*
 * store_report.c - the SQLite side of store_report.h: read-only report
 * queries for the CLI and the dashboard.
 *
 * Design:
 * - A separate file from store.c because nothing on the daemons' hot path
 *   uses these: each statement is prepared per call with
 *   sqlite3_prepare_v2 and finalized after (no cache in the handle), using
 *   only the connection and error text that store_int.h shares.
 * - Every statement is a static SQL text with named parameters; filters
 *   are bound, "absent" filters bind NULL and the SQL reads
 *   "(:x IS NULL OR col = :x)".  Input never becomes SQL.
 * - Which index each query walks (and where it scans) is noted beside it;
 *   check with EXPLAIN QUERY PLAN after a schema change.
 * - Rows are collected into growing arrays; on any failure everything
 *   collected is freed and the caller gets nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_report.h"
#include "lib/xmalloc.h"

/* ---- SQL ------------------------------------------------------------------ */

/*
 * Late and at-risk units.  `unit` is every parcel still on its way (all of
 * the parcels table is read: the ETA test compares a parcel with its
 * order, which no index answers, and expired parcels are terminal but not
 * delivered, so parcels_active does not cover them) plus every order still
 * in a warehouse with no parcel, read through the partial index
 * orders_unshipped (only waiting orders; the planner takes it anyway,
 * INDEXED BY makes a lost index an error rather than a silent scan of
 * every order ever).  `flag` computes each reason; open slips come from
 * alerts' unique index on (entity, kind, promise), whose order also sorts
 * the kinds.  The window count gives the total before LIMIT (everything is
 * sorted anyway).  Measured: 1.1-1.4 s for a store of 1 million parcels
 * (none or 100,000 of them late).
 */
static const char late_sql[] =
    "WITH unit AS ("
    " SELECT 'parcel:' || p.courier || ':' || p.tracking_number AS entity,"
    "  o.warehouse_id AS wh, o.order_id AS oid, p.courier AS courier,"
    "  p.tracking_number AS tn, p.status AS status,"
    "  o.promised_delivery_kind AS pd_kind, o.promised_delivery_text AS pd_text,"
    "  o.promised_delivery_at AS pd_at, o.promised_delivery_off AS pd_off,"
    "  o.promised_ship_by_at AS sb_at, o.promised_ship_by_off AS sb_off,"
    "  p.eta_date AS eta,"
    "  coalesce(p.last_event_at, p.shipped_at) AS ev_at,"
    "  CASE WHEN p.last_event_at IS NOT NULL THEN p.last_event_off"
    "   ELSE p.shipped_off END AS ev_off,"
    "  0 AS waiting"
    " FROM parcels p LEFT JOIN orders o ON o.id = p.order_ref"
    " WHERE p.status NOT IN ('delivered', 'returned', 'cancelled')"
    "  AND o.cancelled_at IS NULL"
    "  AND (:wh IS NULL OR o.warehouse_id = :wh)"
    "  AND (:courier IS NULL OR p.courier = :courier)"
    " UNION ALL"
    " SELECT 'order:' || o.warehouse_id || ':' || o.order_id,"
    "  o.warehouse_id, o.order_id, NULL, NULL, o.status,"
    "  o.promised_delivery_kind, o.promised_delivery_text,"
    "  o.promised_delivery_at, o.promised_delivery_off,"
    "  o.promised_ship_by_at, o.promised_ship_by_off, NULL,"
    /* the order's status is its latest stage: that stage's time */
    "  CASE o.status WHEN 'created' THEN o.created_at"
    "   WHEN 'picked' THEN o.picked_at WHEN 'packed' THEN o.packed_at"
    "   WHEN 'backordered' THEN o.backordered_at END,"
    "  CASE o.status WHEN 'created' THEN o.created_off"
    "   WHEN 'picked' THEN o.picked_off WHEN 'packed' THEN o.packed_off"
    "   WHEN 'backordered' THEN o.backordered_off END,"
    "  1"
    " FROM orders o INDEXED BY orders_unshipped"
    " WHERE o.shipped_at IS NULL AND o.cancelled_at IS NULL"
    "  AND NOT EXISTS (SELECT 1 FROM parcels q WHERE q.order_ref = o.id)"
    "  AND (:wh IS NULL OR o.warehouse_id = :wh) AND :courier IS NULL"
    "), flag AS ("
    " SELECT unit.*,"
    "  CASE WHEN pd_at < :now THEN 1 ELSE 0 END AS late,"
    "  CASE WHEN waiting <> 0 AND sb_at < :now THEN 1 ELSE 0 END AS ship_late,"
    "  CASE WHEN pd_at >= :now AND pd_at <= :now + :within"
    "   AND coalesce(status, '') <> 'out_for_delivery' THEN 1 ELSE 0 END AS soon,"
    "  CASE WHEN eta > CASE WHEN pd_kind = 'date' THEN pd_text"
    "   ELSE date(pd_at + coalesce(pd_off, 0), 'unixepoch') END THEN 1 ELSE 0 END"
    "   AS eta_after,"
    "  (SELECT group_concat(kind, ',') FROM (SELECT DISTINCT a.kind FROM alerts a"
    "   WHERE a.entity = unit.entity AND a.resolved_at IS NULL"
    "   ORDER BY a.kind) AS open_kinds) AS slips"
    " FROM unit"
    "), hit AS ("
    " SELECT flag.*,"
    "  CASE WHEN late <> 0 AND ship_late <> 0 THEN min(pd_at, sb_at)"
    "   WHEN late <> 0 THEN pd_at WHEN ship_late <> 0 THEN sb_at ELSE pd_at END AS deadline"
    " FROM flag WHERE late <> 0 OR ship_late <> 0 OR soon <> 0 OR eta_after <> 0"
    "  OR slips IS NOT NULL"
    ")"
    " SELECT entity, wh, oid, courier, tn, status, pd_text, pd_at, pd_off,"
    "  sb_at, sb_off, eta, ev_at, ev_off, late, ship_late, soon, eta_after,"
    "  slips, deadline, count(*) OVER () AS total, pd_kind"
    " FROM hit ORDER BY deadline IS NULL, deadline, entity LIMIT :limit";

/* An order's parcels through parcels_order. */
static const char timeline_parcels_sql[] =
    "SELECT courier, tracking_number FROM parcels WHERE order_ref = :ref ORDER BY id";

/* The order's own events through journal_order, its parcels' through
 * parcels_order then journal_parcel; an event naming both (order.shipped)
 * once. */
static const char timeline_events_sql[] =
    "SELECT seq, source, source_event_id, kind, warehouse_id, order_id, courier,"
    " tracking_number, occurred_at, occurred_off, received_at, payload"
    " FROM journal WHERE seq IN ("
    "  SELECT seq FROM journal WHERE warehouse_id = :wh AND order_id = :oid"
    "  UNION SELECT j.seq FROM parcels p JOIN journal j"
    "  ON j.courier = p.courier AND j.tracking_number = p.tracking_number"
    "  WHERE p.order_ref = :ref)"
    " ORDER BY occurred_at, seq";

#define ALERT_COLS                                                                                 \
	"id, entity, kind, promise, stage, detected_at, resolved_at, coalesce(stage_ratio, 0)"
#define OUTBOX_COLS                                                                                \
	"id, entity, slip_kind, promise, channel, recipient, state, attempts, "                    \
	"next_attempt_at, last_error, created_at, sent_at, receiver"

/* Entities of the order and of its parcels: the unique indexes of alerts
 * and outbox lead with entity. */
#define ORDER_ENTITIES                                                                             \
	"entity IN (SELECT 'order:' || :wh || ':' || :oid UNION ALL "                              \
	"SELECT 'parcel:' || courier || ':' || tracking_number FROM parcels "                      \
	"WHERE order_ref = :ref)"

static const char timeline_alerts_sql[] =
    "SELECT " ALERT_COLS " FROM alerts WHERE " ORDER_ENTITIES " ORDER BY detected_at, id";

static const char timeline_outbox_sql[] =
    "SELECT " OUTBOX_COLS " FROM outbox WHERE " ORDER_ENTITIES " ORDER BY created_at, id";

/* Newest first: walks the rows backwards by id, filtering as it goes, and
 * stops at the limit (no sort); a rare state, kind or recipient reads many
 * rows.
 * recipient compares case-insensitively by the column's collation. */
static const char outbox_sql[] = "SELECT " OUTBOX_COLS " FROM outbox"
				 " WHERE (:state IS NULL OR state = :state)"
				 " AND (:kind IS NULL OR slip_kind = :kind)"
				 " AND (:to IS NULL OR lower(recipient) = lower(:to))"
				 " ORDER BY id DESC LIMIT :limit";

/* Open slips: alerts_open (partial, detected_at) walked backwards. */
static const char alerts_open_sql[] = "SELECT " ALERT_COLS " FROM alerts"
				      " WHERE resolved_at IS NULL"
				      " AND (:kind IS NULL OR kind = :kind)"
				      " ORDER BY detected_at DESC, id DESC LIMIT :limit";

/* All slips: a scan of alerts and a sort (no index on detected_at alone). */
static const char alerts_all_sql[] = "SELECT " ALERT_COLS " FROM alerts"
				     " WHERE (:kind IS NULL OR kind = :kind)"
				     " ORDER BY detected_at DESC, id DESC LIMIT :limit";

/* ---- statements and columns --------------------------------------------- */

#define prepare sw_store_int_prepare

/* Binding by name; a parameter the statement does not use is skipped
 * (index 0).  NULL text binds SQL NULL.  SQLite codes, ORed by callers. */
static int bind_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_db_bind_parameter_index(s, name);

	if (i == 0)
		return SW_DB_OK;
	if (v == NULL)
		return sw_db_bind_null(s, i);
	return sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT);
}

static int bind_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = sw_db_bind_parameter_index(s, name);

	return i == 0 ? SW_DB_OK : sw_db_bind_int64(s, i, v);
}

#define col_str sw_store_int_col_str
#define col_stamp sw_store_int_col_stamp

static int64_t col_int(struct sw_db_stmt *s, int i)
{
	return sw_db_column_int64(s, i); /* NULL reads 0: "absent" */
}

static int nonempty(const char *s)
{
	return s && *s;
}

static enum sw_err check_limit(struct sw_store *st, int limit)
{
	if (limit < 1 || limit > SW_REPORT_MAX_ROWS)
		return sw_store_int_err(st, SW_ERANGE, "report limit %d not in 1..%d", limit,
					SW_REPORT_MAX_ROWS);
	return SW_OK;
}

/* A filter string: NULL (none) or non-empty. */
static enum sw_err check_filter(struct sw_store *st, const char *what, const char *v)
{
	if (v && !*v)
		return sw_store_int_err(st, SW_EINVAL, "report: empty %s filter", what);
	return SW_OK;
}

/*
 * Steps s to the end, appending each row (elem_size bytes, filled by
 * fill(s, elem, arg)) to a new array; finalizes s.  On error frees what was filled with
 * free_fn and returns SW_ESTORE with what in the error text.
 */
static enum sw_err collect(struct sw_store *st, struct sw_db_stmt *s, const char *what, size_t elem_size,
			   void (*fill)(struct sw_db_stmt *, void *, void *), void *arg,
			   void (*free_fn)(void *, size_t), void **ret, size_t *ret_n)
{
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			arr = xreallocarray(arr, cap, elem_size);
		}
		memset(arr + n * elem_size, 0, elem_size);
		fill(s, arr + n * elem_size, arg);
		n++;
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		free_fn(arr, n);
		*ret = NULL;
		*ret_n = 0;
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	*ret = n ? arr : NULL;
	if (!n)
		free(arr);
	*ret_n = n;
	return SW_OK;
}

/* A bind failed (a bug, or a value SQLite refuses): finalizes s. */
static enum sw_err bind_failed(struct sw_store *st, struct sw_db_stmt *s)
{
	sw_store_int_dberr(st, "report bind");
	sw_db_finalize(s);
	return SW_ESTORE;
}

/* ---- late and at-risk ---------------------------------------------------- */

static const char *const why_names[] = {
    "late", "ship_late", "at_risk_soon", "eta_after_promise", "open_slip",
};

const char *sw_store_report_why_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(why_names) / sizeof(why_names[0]); i++)
		if (bit == 1u << i)
			return why_names[i];
	return "?";
}

/* One row of late_sql; arg is the int64_t total (the same on every row). */
static void late_fill(struct sw_db_stmt *s, void *elem, void *arg)
{
	struct sw_report_late *r = elem;

	*(int64_t *)arg = col_int(s, 20);

	r->entity = col_str(s, 0);
	r->warehouse_id = col_str(s, 1);
	r->order_id = col_str(s, 2);
	r->courier = col_str(s, 3);
	r->tracking_number = col_str(s, 4);
	r->status = col_str(s, 5);
	r->promise_text = col_str(s, 6);
	r->promise_kind = col_str(s, 21);
	r->promised_delivery = col_stamp(s, 7);
	r->promised_ship_by = col_stamp(s, 9);
	r->eta_date = col_str(s, 11);
	r->last_event = col_stamp(s, 12);
	r->why = (col_int(s, 14) ? SW_REPORT_LATE : 0) |
		 (col_int(s, 15) ? SW_REPORT_SHIP_LATE : 0) |
		 (col_int(s, 16) ? SW_REPORT_AT_RISK_SOON : 0) |
		 (col_int(s, 17) ? SW_REPORT_ETA_AFTER_PROMISE : 0);
	r->open_slips = col_str(s, 18);
	if (r->open_slips)
		r->why |= SW_REPORT_OPEN_SLIP;
	r->deadline = col_int(s, 19);
}

static void late_free_v(void *rows, size_t n)
{
	sw_store_report_late_free(rows, n);
}

static enum sw_err late_check(struct sw_store *st, const struct sw_report_late_query *q)
{
	enum sw_err rc;

	if (!q || q->now <= 0)
		return sw_store_int_err(st, SW_EINVAL, "late report: no query or no time");
	if (q->within_s < 0 || q->within_s > INT64_MAX - q->now)
		return sw_store_int_err(st, SW_ERANGE, "late report: window %lld s out of range",
					(long long)q->within_s);
	if ((rc = check_filter(st, "warehouse", q->warehouse_id)) ||
	    (rc = check_filter(st, "courier", q->courier)))
		return rc;
	return check_limit(st, q->limit);
}

enum sw_err sw_store_report_late(struct sw_store *st, const struct sw_report_late_query *q,
				 struct sw_report_late **ret_rows, size_t *ret_n,
				 int64_t *ret_total)
{
	struct sw_db_stmt *s;
	void *rows;
	int64_t total = 0;
	enum sw_err rc;

	*ret_rows = NULL;
	*ret_n = 0;
	if (ret_total)
		*ret_total = 0;
	if ((rc = late_check(st, q)))
		return rc;
	if (!(s = prepare(st, late_sql, "late report")))
		return SW_ESTORE;
	if (bind_int(s, ":now", q->now) | bind_int(s, ":within", q->within_s) |
	    bind_text(s, ":wh", q->warehouse_id) | bind_text(s, ":courier", q->courier) |
	    bind_int(s, ":limit", q->limit))
		return bind_failed(st, s);
	rc = collect(st, s, "late report", sizeof(struct sw_report_late), late_fill, &total,
		     late_free_v, &rows, ret_n);
	if (rc)
		return rc;
	*ret_rows = rows;
	if (ret_total)
		*ret_total = total;
	return SW_OK;
}

void sw_store_report_late_free(struct sw_report_late *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		struct sw_report_late *r = &rows[i];

		free(r->entity);
		free(r->warehouse_id);
		free(r->order_id);
		free(r->courier);
		free(r->tracking_number);
		free(r->status);
		free(r->promise_text);
		free(r->promise_kind);
		free(r->eta_date);
		free(r->open_slips);
	}
	free(rows);
}

/* ---- rows of the other reports ------------------------------------------ */

static void event_fill(struct sw_db_stmt *s, void *elem, void *arg)
{
	struct sw_report_event *e = elem;

	(void)arg;
	e->seq = col_int(s, 0);
	e->source = col_str(s, 1);
	e->source_event_id = col_str(s, 2);
	e->kind = col_str(s, 3);
	e->warehouse_id = col_str(s, 4);
	e->order_id = col_str(s, 5);
	e->courier = col_str(s, 6);
	e->tracking_number = col_str(s, 7);
	e->occurred_at = col_stamp(s, 8);
	e->received_at = col_int(s, 10);
	e->payload = col_str(s, 11);
}

static void events_free(struct sw_report_event *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].source);
		free(rows[i].source_event_id);
		free(rows[i].kind);
		free(rows[i].warehouse_id);
		free(rows[i].order_id);
		free(rows[i].courier);
		free(rows[i].tracking_number);
		free(rows[i].payload);
	}
	free(rows);
}

static void events_free_v(void *rows, size_t n)
{
	events_free(rows, n);
}

/* Columns of ALERT_COLS. */
static void alert_fill(struct sw_db_stmt *s, void *elem, void *arg)
{
	struct sw_report_alert *a = elem;

	(void)arg;
	a->id = col_int(s, 0);
	a->entity = col_str(s, 1);
	a->kind = col_str(s, 2);
	a->promise = col_str(s, 3);
	a->stage = col_str(s, 4);
	a->detected_at = col_int(s, 5);
	a->resolved_at = col_int(s, 6);
	a->stage_ratio = sw_db_column_double(s, 7);
}

void sw_store_report_alerts_free(struct sw_report_alert *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].entity);
		free(rows[i].kind);
		free(rows[i].promise);
		free(rows[i].stage);
	}
	free(rows);
}

static void alerts_free_v(void *rows, size_t n)
{
	sw_store_report_alerts_free(rows, n);
}

/* Columns of OUTBOX_COLS. */
static void outbox_fill(struct sw_db_stmt *s, void *elem, void *arg)
{
	struct sw_report_outbox *m = elem;

	(void)arg;
	m->id = col_int(s, 0);
	m->entity = col_str(s, 1);
	m->slip_kind = col_str(s, 2);
	m->promise = col_str(s, 3);
	m->channel = col_str(s, 4);
	m->recipient = col_str(s, 5);
	m->state = col_str(s, 6);
	m->attempts = sw_db_column_int(s, 7);
	m->next_attempt_at = col_int(s, 8);
	m->last_error = col_str(s, 9);
	m->created_at = col_int(s, 10);
	m->sent_at = col_int(s, 11);
	m->receiver = col_str(s, 12);
}

void sw_store_report_outbox_free(struct sw_report_outbox *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].entity);
		free(rows[i].slip_kind);
		free(rows[i].promise);
		free(rows[i].channel);
		free(rows[i].recipient);
		free(rows[i].state);
		free(rows[i].last_error);
		free(rows[i].receiver);
	}
	free(rows);
}

static void outbox_free_v(void *rows, size_t n)
{
	sw_store_report_outbox_free(rows, n);
}

/* ---- one order's timeline ------------------------------------------------ */

/* Opens a read transaction so that the timeline's parts come from one
 * snapshot, unless the caller already has a transaction (*ret_own 0). */
static enum sw_err snapshot_begin(struct sw_store *st, int *ret_own)
{
	struct sw_db *db = sw_store_int_db(st);

	*ret_own = sw_db_get_autocommit(db);
	if (*ret_own && sw_db_exec(db, "BEGIN") != SW_DB_OK) {
		*ret_own = 0;
		return sw_store_int_dberr(st, "timeline begin");
	}
	return SW_OK;
}

/* Ends what snapshot_begin opened (it only read: rolling back is ending). */
static void snapshot_end(struct sw_store *st, int own)
{
	struct sw_db *db = sw_store_int_db(st);

	if (own && !sw_db_get_autocommit(db))
		sw_db_exec(db, "ROLLBACK");
}

/* Runs one of the timeline_*_sql statements for the order o (binding
 * :wh, :oid, :ref as used) and collects its rows. */
static enum sw_err order_rows(struct sw_store *st, const char *sql, const char *what,
			      const struct sw_order *o, size_t elem_size,
			      void (*fill)(struct sw_db_stmt *, void *, void *),
			      void (*free_fn)(void *, size_t), void **ret, size_t *ret_n)
{
	struct sw_db_stmt *s = prepare(st, sql, what);

	if (!s)
		return SW_ESTORE;
	if (bind_text(s, ":wh", o->warehouse_id) | bind_text(s, ":oid", o->order_id) |
	    bind_int(s, ":ref", o->id))
		return bind_failed(st, s);
	return collect(st, s, what, elem_size, fill, NULL, free_fn, ret, ret_n);
}

/* The parcels of t->order, each read with sw_store_parcel_get. */
static enum sw_err timeline_parcels(struct sw_store *st, struct sw_report_timeline *t)
{
	struct sw_db_stmt *s = prepare(st, timeline_parcels_sql, "timeline parcels");
	size_t cap = 0;
	enum sw_err rc = SW_OK;
	int step = SW_DB_DONE;

	if (!s)
		return SW_ESTORE;
	if (bind_int(s, ":ref", t->order->id))
		return bind_failed(st, s);
	while (rc == SW_OK && (step = sw_db_step(s)) == SW_DB_ROW) {
		if (t->n_parcels == cap) {
			cap = cap ? cap * 2 : 4;
			t->parcels = xreallocarray(t->parcels, cap, sizeof(*t->parcels));
		}
		rc = sw_store_parcel_get(st, (const char *)sw_db_column_text(s, 0),
					 (const char *)sw_db_column_text(s, 1),
					 &t->parcels[t->n_parcels]);
		if (rc == SW_OK)
			t->n_parcels++;
	}
	if (rc == SW_OK && step != SW_DB_DONE)
		rc = sw_store_int_dberr(st, "timeline parcels");
	sw_db_finalize(s);
	return rc;
}

static enum sw_err timeline_read(struct sw_store *st, struct sw_report_timeline *t)
{
	void *rows;
	enum sw_err rc;

	if ((rc = timeline_parcels(st, t)))
		return rc;
	rc = order_rows(st, timeline_events_sql, "timeline events", t->order,
			sizeof(struct sw_report_event), event_fill, events_free_v, &rows,
			&t->n_events);
	t->events = rows;
	if (rc)
		return rc;
	rc = order_rows(st, timeline_alerts_sql, "timeline alerts", t->order,
			sizeof(struct sw_report_alert), alert_fill, alerts_free_v, &rows,
			&t->n_alerts);
	t->alerts = rows;
	if (rc)
		return rc;
	rc = order_rows(st, timeline_outbox_sql, "timeline outbox", t->order,
			sizeof(struct sw_report_outbox), outbox_fill, outbox_free_v, &rows,
			&t->n_outbox);
	t->outbox = rows;
	return rc;
}

enum sw_err sw_store_report_timeline(struct sw_store *st, const char *warehouse_id,
				     const char *order_id, struct sw_report_timeline **ret_timeline)
{
	struct sw_report_timeline *t;
	enum sw_err rc;
	int own;

	*ret_timeline = NULL;
	if (!nonempty(warehouse_id) || !nonempty(order_id))
		return sw_store_int_err(st, SW_EINVAL, "timeline: empty order key");
	if ((rc = snapshot_begin(st, &own)))
		return rc;
	t = xcalloc(1, sizeof(*t));
	rc = sw_store_order_get(st, warehouse_id, order_id, &t->order);
	if (rc == SW_ENOTFOUND)
		sw_store_int_err(st, rc, "no order %s in warehouse %s", order_id, warehouse_id);
	if (rc == SW_OK)
		rc = timeline_read(st, t);
	snapshot_end(st, own);
	if (rc) {
		sw_store_report_timeline_free(t);
		return rc;
	}
	*ret_timeline = t;
	return SW_OK;
}

void sw_store_report_timeline_free(struct sw_report_timeline *t)
{
	if (t == NULL)
		return;
	sw_store_order_free(t->order);
	for (size_t i = 0; i < t->n_parcels; i++)
		sw_store_parcel_free(t->parcels[i]);
	free(t->parcels);
	events_free(t->events, t->n_events);
	sw_store_report_alerts_free(t->alerts, t->n_alerts);
	sw_store_report_outbox_free(t->outbox, t->n_outbox);
	free(t);
}

/* ---- outbox and alerts listings ------------------------------------------ */

enum sw_err sw_store_report_outbox(struct sw_store *st, const struct sw_report_outbox_query *q,
				   struct sw_report_outbox **ret_rows, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *rows = NULL;
	enum sw_err rc;

	*ret_rows = NULL;
	*ret_n = 0;
	if (!q)
		return sw_store_int_err(st, SW_EINVAL, "outbox report: no query");
	if ((rc = check_filter(st, "state", q->state)) ||
	    (rc = check_filter(st, "slip kind", q->slip_kind)) ||
	    (rc = check_filter(st, "recipient", q->recipient)) || (rc = check_limit(st, q->limit)))
		return rc;
	if (!(s = prepare(st, outbox_sql, "outbox report")))
		return SW_ESTORE;
	if (bind_text(s, ":state", q->state) | bind_text(s, ":kind", q->slip_kind) |
	    bind_text(s, ":to", q->recipient) | bind_int(s, ":limit", q->limit))
		return bind_failed(st, s);
	rc = collect(st, s, "outbox report", sizeof(struct sw_report_outbox), outbox_fill, NULL,
		     outbox_free_v, &rows, ret_n);
	*ret_rows = rows;
	return rc;
}

enum sw_err sw_store_report_alerts(struct sw_store *st, const struct sw_report_alerts_query *q,
				   struct sw_report_alert **ret_rows, size_t *ret_n)
{
	struct sw_db_stmt *s;
	void *rows = NULL;
	enum sw_err rc;

	*ret_rows = NULL;
	*ret_n = 0;
	if (!q)
		return sw_store_int_err(st, SW_EINVAL, "alerts report: no query");
	if ((rc = check_filter(st, "kind", q->kind)) || (rc = check_limit(st, q->limit)))
		return rc;
	s = prepare(st, q->open_only ? alerts_open_sql : alerts_all_sql, "alerts report");
	if (!s)
		return SW_ESTORE;
	if (bind_text(s, ":kind", q->kind) | bind_int(s, ":limit", q->limit))
		return bind_failed(st, s);
	rc = collect(st, s, "alerts report", sizeof(struct sw_report_alert), alert_fill, NULL,
		     alerts_free_v, &rows, ret_n);
	*ret_rows = rows;
	return rc;
}
