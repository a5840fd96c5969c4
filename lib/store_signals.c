/*
 * store_signals.c - the SQLite side of store_signals.h: the counts behind
 * the ops rules' store signals.
 *
 * Design (as store_report.c): not on the ingest hot path, so statements
 * are prepared per call and finalized after, through the connection and
 * error text store_int.h shares.  Static SQL with named parameters; input
 * never becomes SQL.  The index each query walks is noted beside it and
 * forced with INDEXED BY where a lost index would silently become a scan
 * of every order ever (the statement then fails to prepare instead).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_signals.h"
#include "lib/store_stage.h"
#include "lib/xmalloc.h"

/* ---- SQL ------------------------------------------------------------------ */

/*
 * Distinct warehouses: a skip-scan of the UNIQUE (warehouse_id, order_id)
 * autoindex, one seek to the next larger warehouse_id per step (min() over
 * an index range is one seek), so the cost follows the number of
 * warehouses, not of orders.  Measured: see doc/metrics.md.
 */
static const char warehouses_sql[] =
    "WITH RECURSIVE w(id) AS ("
    " SELECT min(warehouse_id) FROM orders"
    " UNION ALL"
    " SELECT (SELECT min(warehouse_id) FROM orders WHERE warehouse_id > w.id)"
    " FROM w WHERE w.id IS NOT NULL)"
    " SELECT id FROM w WHERE id IS NOT NULL";

/* courier_health's primary key, in order. */
static const char couriers_sql[] = "SELECT courier FROM courier_health ORDER BY courier";

/* Past ship-by: the equality warehouse_id = :wh and the range
 * promised_ship_by_at < :now of orders_late_wh (unshipped, uncancelled
 * orders by warehouse and ship-by, schema 6): cost follows this
 * warehouse's late orders. */
static const char ship_late_sql[] = "SELECT count(*), min(promised_ship_by_at)"
				    " FROM orders INDEXED BY orders_late_wh"
				    " WHERE shipped_at IS NULL AND cancelled_at IS NULL"
				    " AND promised_ship_by_at < :now AND warehouse_id = :wh";

/* Waiting to be picked: the equality warehouse_id = :wh on the partial
 * index of created, unpicked, uncancelled orders. */
static const char pick_backlog_sql[] = "SELECT count(*), min(created_at)"
				       " FROM orders INDEXED BY orders_backlog_pick"
				       " WHERE created_at IS NOT NULL AND picked_at IS NULL"
				       " AND cancelled_at IS NULL AND warehouse_id = :wh";

/*
 * Customer notices created since :since, by fate.  The deliberate
 * deferrals are the reasons alerts/notify.c writes itself (quiet hours,
 * shutdown, held for the courier's word); any other reason of a deferred
 * row is a channel's temporary failure.  The range created_at >= :since
 * of outbox_customer_created (customer rows by creation, schema 6): cost
 * follows the window's notices.
 */
#define DEFER_ON_PURPOSE                                                                           \
	"(last_error = 'quiet hours' OR last_error = 'not tried: stopping'"                        \
	" OR substr(last_error, 1, 6) = 'held: ')"
static const char notices_sql[] =
    "SELECT coalesce(sum(state = 'failed'), 0),"
    " coalesce(sum(state = 'deferred' AND last_error IS NOT NULL"
    "  AND NOT " DEFER_ON_PURPOSE "), 0),"
    " coalesce(sum(state = 'deferred' AND (last_error IS NULL OR " DEFER_ON_PURPOSE ")), 0),"
    " coalesce(sum(state IN ('sent', 'merged')), 0),"
    " coalesce(sum(state IN ('queued', 'sending')), 0),"
    " coalesce(sum(state IN ('suppressed', 'obsolete')), 0)"
    " FROM outbox INDEXED BY outbox_customer_created"
    " WHERE receiver IS NULL AND created_at >= :since";

/* The journal after a cursor: rowid ranges of the journal's primary key. */
static const char journal_sql[] =
    "SELECT (SELECT coalesce(max(seq), 0) FROM journal),"
    " (SELECT count(*) FROM journal WHERE seq > :cur),"
    " (SELECT received_at FROM journal WHERE seq > :cur ORDER BY seq LIMIT 1)";

/*
 * Open parcel slips with their lanes: the partial index alerts_open (open
 * slips only), each parcel by its UNIQUE (courier, tracking_number) key
 * cut out of the entity "parcel:COURIER:TN" (a courier id has no ':'),
 * its order by id.  One row per parcel: the stage of its latest slip, the
 * open slip of the entity that no later one follows (LATEST_OPEN, through
 * the alerts' UNIQUE (entity, ...) index; the last recorded of a tie).
 * Not a GROUP BY with max(): the other columns of the row holding the max
 * are SQLite's alone, PostgreSQL refuses them.
 */
#define LATEST_OPEN(also)                                                                          \
	" AND NOT EXISTS (SELECT 1 FROM alerts b WHERE b.entity = a.entity" also                   \
	"  AND b.resolved_at IS NULL AND (b.detected_at > a.detected_at"                           \
	"  OR (b.detected_at = a.detected_at AND b.id > a.id)))"
#define ENTITY_COURIER "substr(a.entity, 8, instr(substr(a.entity, 8), ':') - 1)"
#define ENTITY_TN      "substr(a.entity, 8 + instr(substr(a.entity, 8), ':'))"
static const char open_slips_sql[] =
    "SELECT a.entity, p.courier, o.warehouse_id, o.dest_country, o.dest_postal_code,"
    " o.dest_city, a.stage"
    " FROM alerts a INDEXED BY alerts_open"
    " JOIN parcels p ON p.courier = " ENTITY_COURIER " AND p.tracking_number = " ENTITY_TN
    " JOIN orders o ON o.id = p.order_ref"
    " WHERE a.resolved_at IS NULL AND substr(a.entity, 1, 7) = 'parcel:'" LATEST_OPEN("")
    " ORDER BY a.entity";

/* A lane's parcels: the courier's shipped since :bs (the index
 * parcels_courier_shipped, schema 8), of one warehouse; whether each has
 * an open slip and, for the baseline ones, whether it ever had one (the
 * alerts' UNIQUE (entity, ...) index; CASE evaluates lazily, and the inner
 * one makes the truth value an integer, as PostgreSQL's CASE must give one
 * type). */
#define PARCEL_ENTITY "'parcel:' || p.courier || ':' || p.tracking_number"
static const char lane_sql[] =
    "SELECT o.dest_country, o.dest_postal_code, o.dest_city, p.shipped_at, p.delivered_at,"
    " p.terminal, o.promised_delivery_at,"
    " EXISTS (SELECT 1 FROM alerts a WHERE a.entity = " PARCEL_ENTITY
    "  AND a.resolved_at IS NULL),"
    " CASE WHEN p.shipped_at < :since THEN CASE WHEN EXISTS (SELECT 1 FROM alerts a"
    "  WHERE a.entity = " PARCEL_ENTITY ") THEN 1 ELSE 0 END ELSE 0 END"
    " FROM parcels p INDEXED BY parcels_courier_shipped JOIN orders o ON o.id = p.order_ref"
    " WHERE p.courier = :c AND p.shipped_at >= :bs AND o.warehouse_id = :wh";

/*
 * Open ship_late slips with their orders: the partial index alerts_open,
 * each order by its UNIQUE (warehouse_id, order_id) key cut out of the
 * entity "order:WH:ID" (a warehouse id has no ':', as alerts/recheck.c
 * splits it).  One row per order: the stage of its latest ship_late slip
 * (LATEST_OPEN).
 */
#define ENTITY_WH  "substr(a.entity, 7, instr(substr(a.entity, 7), ':') - 1)"
#define ENTITY_OID "substr(a.entity, 7 + instr(substr(a.entity, 7), ':'))"
static const char open_ship_late_sql[] =
    "SELECT a.entity, o.warehouse_id, o.promised_ship_by_at, a.stage"
    " FROM alerts a INDEXED BY alerts_open"
    " JOIN orders o ON o.warehouse_id = " ENTITY_WH " AND o.order_id = " ENTITY_OID
    " WHERE a.resolved_at IS NULL AND a.kind = 'ship_late'"
    " AND substr(a.entity, 1, 6) = 'order:' AND o.promised_ship_by_at IS NOT NULL"
    LATEST_OPEN(" AND b.kind = a.kind")
    " ORDER BY a.entity";

/* One warehouse's orders by ship-by: a range of orders_wh_ship_by
 * (schema 8), the orders due from :bs to the day's end only. */
static const char ship_day_sql[] =
    "SELECT coalesce(sum(promised_ship_by_at >= :ds), 0),"
    " coalesce(sum(promised_ship_by_at < :ds), 0),"
    " coalesce(sum(promised_ship_by_at < :ds AND (shipped_at > promised_ship_by_at"
    "  OR (shipped_at IS NULL AND promised_ship_by_at < :now))), 0)"
    " FROM orders WHERE warehouse_id = :wh AND cancelled_at IS NULL"
    " AND promised_ship_by_at >= :bs AND promised_ship_by_at < :de";

/* ---- helpers ------------------------------------------------------------ */

#define prepare sw_store_int_prepare

static int bind_int(struct sw_db_stmt *s, const char *name, int64_t v)
{
	int i = sw_db_bind_parameter_index(s, name);

	return i == 0 ? SW_DB_OK : sw_db_bind_int64(s, i, v);
}

static int bind_text(struct sw_db_stmt *s, const char *name, const char *v)
{
	int i = sw_db_bind_parameter_index(s, name);

	return i == 0 ? SW_DB_OK : sw_db_bind_text(s, i, v, -1, SW_DB_TRANSIENT);
}

/* Steps s to its one row (SW_OK, the row there to read) or fails
 * (finalized, SW_ESTORE). */
static enum sw_err one_row(struct sw_store *st, struct sw_db_stmt *s, const char *what)
{
	if (sw_db_step(s) == SW_DB_ROW)
		return SW_OK;
	sw_store_int_dberr(st, what);
	sw_db_finalize(s);
	return SW_ESTORE;
}

/* Runs a statement of one text column into a new array of its values. */
static enum sw_err id_list(struct sw_store *st, const char *sql, const char *what, char ***ret_ids,
			   size_t *ret_n)
{
	struct sw_db_stmt *s = prepare(st, sql, what);
	char **ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*ret_ids = NULL;
	*ret_n = 0;
	if (!s)
		return SW_ESTORE;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (sw_db_column_type(s, 0) == SW_DB_NULL)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = xstrdup((const char *)sw_db_column_text(s, 0));
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		sw_store_sig_ids_free(ids, n);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	*ret_ids = ids;
	*ret_n = n;
	return SW_OK;
}

static enum sw_err check_wh(struct sw_store *st, const char *wh)
{
	if (wh == NULL || wh[0] == '\0')
		return sw_store_int_err(st, SW_EINVAL, "signal: empty warehouse id");
	return SW_OK;
}

/* Runs an orders statement (:wh, :now) into ret. */
static enum sw_err orders_count(struct sw_store *st, const char *sql, const char *what,
				const char *wh, int64_t now, struct sw_sig_orders *ret)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if ((rc = check_wh(st, wh)))
		return rc;
	if (!(s = prepare(st, sql, what)))
		return SW_ESTORE;
	if (bind_text(s, ":wh", wh) | bind_int(s, ":now", now)) {
		sw_store_int_dberr(st, what);
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if ((rc = one_row(st, s, what)))
		return rc;
	ret->count = sw_db_column_int64(s, 0);
	ret->oldest = sw_db_column_int64(s, 1); /* NULL reads 0 */
	sw_db_finalize(s);
	return SW_OK;
}

/* ---- API ------------------------------------------------------------------ */

enum sw_err sw_store_sig_warehouses(struct sw_store *st, char ***ret_ids, size_t *ret_n)
{
	return id_list(st, warehouses_sql, "signal warehouses", ret_ids, ret_n);
}

enum sw_err sw_store_sig_couriers(struct sw_store *st, char ***ret_ids, size_t *ret_n)
{
	return id_list(st, couriers_sql, "signal couriers", ret_ids, ret_n);
}

void sw_store_sig_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

enum sw_err sw_store_sig_ship_late(struct sw_store *st, const char *warehouse_id, int64_t now,
				   struct sw_sig_orders *ret)
{
	return orders_count(st, ship_late_sql, "signal ship late", warehouse_id, now, ret);
}

enum sw_err sw_store_sig_pick_backlog(struct sw_store *st, const char *warehouse_id,
				      struct sw_sig_orders *ret)
{
	return orders_count(st, pick_backlog_sql, "signal pick backlog", warehouse_id, 0, ret);
}

enum sw_err sw_store_sig_notices(struct sw_store *st, int64_t since, struct sw_sig_notices *ret)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if (!(s = prepare(st, notices_sql, "signal notices")))
		return SW_ESTORE;
	if (bind_int(s, ":since", since)) {
		sw_store_int_dberr(st, "signal notices");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if ((rc = one_row(st, s, "signal notices")))
		return rc;
	ret->failed = sw_db_column_int64(s, 0);
	ret->deferred_fail = sw_db_column_int64(s, 1);
	ret->deferred_other = sw_db_column_int64(s, 2);
	ret->sent = sw_db_column_int64(s, 3);
	ret->waiting = sw_db_column_int64(s, 4);
	ret->other = sw_db_column_int64(s, 5);
	sw_db_finalize(s);
	return SW_OK;
}

enum sw_err sw_store_sig_journal(struct sw_store *st, const char *cursor,
				 struct sw_sig_journal *ret)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if (cursor == NULL || cursor[0] == '\0')
		return sw_store_int_err(st, SW_EINVAL, "signal: empty cursor name");
	if ((rc = sw_store_cursor_get(st, cursor, &ret->cursor)))
		return rc;
	if (!(s = prepare(st, journal_sql, "signal journal")))
		return SW_ESTORE;
	if (bind_int(s, ":cur", ret->cursor)) {
		sw_store_int_dberr(st, "signal journal");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if ((rc = one_row(st, s, "signal journal")))
		return rc;
	ret->newest = sw_db_column_int64(s, 0);
	ret->behind = sw_db_column_int64(s, 1);
	ret->oldest_received_at = sw_db_column_int64(s, 2);
	sw_db_finalize(s);
	return SW_OK;
}

/* ---- cohorts ------------------------------------------------------------ */

static const char *col_text(struct sw_db_stmt *s, int i)
{
	return (const char *)sw_db_column_text(s, i);
}

enum sw_err sw_store_sig_open_slips(struct sw_store *st, struct sw_sig_slip **ret, size_t *ret_n)
{
	struct sw_db_stmt *s = prepare(st, open_slips_sql, "signal open slips");
	struct sw_sig_slip *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*ret = NULL;
	*ret_n = 0;
	if (!s)
		return SW_ESTORE;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		struct sw_sig_slip *x;

		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			list = xreallocarray(list, cap, sizeof(*list));
		}
		x = &list[n++];
		x->entity = xstrdup(col_text(s, 0));
		x->courier = xstrdup(col_text(s, 1));
		x->warehouse_id = xstrdup(col_text(s, 2));
		sw_store_stage_dest(col_text(s, 3), col_text(s, 4), col_text(s, 5), x->dest,
				    sizeof(x->dest));
		x->stage = col_text(s, 6) ? xstrdup(col_text(s, 6)) : NULL;
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, "signal open slips");
		sw_db_finalize(s);
		sw_store_sig_slips_free(list, n);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	*ret = list;
	*ret_n = n;
	return SW_OK;
}

void sw_store_sig_slips_free(struct sw_sig_slip *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].entity);
		free(list[i].courier);
		free(list[i].warehouse_id);
		free(list[i].stage);
	}
	free(list);
}

/* Adds one parcel row of lane_sql to ret (its destination already
 * matched). */
static void lane_row(struct sw_db_stmt *s, int64_t since, struct sw_sig_lane *ret)
{
	int64_t shipped = sw_db_column_int64(s, 3), delivered = sw_db_column_int64(s, 4);
	int64_t promised = sw_db_column_int64(s, 6);
	bool finished = sw_db_column_int(s, 5) || delivered;
	bool open = sw_db_column_int(s, 7), ever = sw_db_column_int(s, 8);

	if (open)
		return; /* a member: the caller counts it */
	if (shipped >= since) {
		ret->others += !finished;
		return;
	}
	ret->base_parcels++;
	if (ever || (delivered && promised && delivered > promised))
		ret->base_slipped++;
}

enum sw_err sw_store_sig_lane(struct sw_store *st, const char *courier, const char *warehouse_id,
			      const char *dest, int64_t since, int64_t base_since,
			      struct sw_sig_lane *ret)
{
	char d[SW_STAGE_DEST_MAX];
	struct sw_db_stmt *s;
	enum sw_err e;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!courier || !*courier || !dest)
		return sw_store_int_err(st, SW_EINVAL, "signal: empty courier or destination");
	if ((e = check_wh(st, warehouse_id)))
		return e;
	if (base_since > since)
		return sw_store_int_err(st, SW_EINVAL, "signal: lane baseline after its window");
	if (!(s = prepare(st, lane_sql, "signal lane")))
		return SW_ESTORE;
	if (bind_text(s, ":c", courier) | bind_text(s, ":wh", warehouse_id) |
	    bind_int(s, ":bs", base_since) | bind_int(s, ":since", since)) {
		sw_store_int_dberr(st, "signal lane");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		sw_store_stage_dest(col_text(s, 0), col_text(s, 1), col_text(s, 2), d, sizeof(d));
		if (strcmp(d, dest) == 0)
			lane_row(s, since, ret);
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, "signal lane");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	return SW_OK;
}

/* ---- ship-late cohorts -------------------------------------------------- */

enum sw_err sw_store_sig_open_ship_late(struct sw_store *st, struct sw_sig_late_order **ret,
					size_t *ret_n)
{
	struct sw_db_stmt *s = prepare(st, open_ship_late_sql, "signal open ship_late");
	struct sw_sig_late_order *list = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*ret = NULL;
	*ret_n = 0;
	if (!s)
		return SW_ESTORE;
	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		struct sw_sig_late_order *x;

		if (sw_db_column_int64(s, 2) == 0)
			continue; /* no ship-by: no ship day */
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			list = xreallocarray(list, cap, sizeof(*list));
		}
		x = &list[n++];
		x->entity = xstrdup(col_text(s, 0));
		x->warehouse_id = xstrdup(col_text(s, 1));
		x->ship_by = sw_db_column_int64(s, 2);
		x->stage = col_text(s, 3) ? xstrdup(col_text(s, 3)) : NULL;
	}
	if (rc != SW_DB_DONE) {
		sw_store_int_dberr(st, "signal open ship_late");
		sw_db_finalize(s);
		sw_store_sig_late_orders_free(list, n);
		return SW_ESTORE;
	}
	sw_db_finalize(s);
	*ret = list;
	*ret_n = n;
	return SW_OK;
}

void sw_store_sig_late_orders_free(struct sw_sig_late_order *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].entity);
		free(list[i].warehouse_id);
		free(list[i].stage);
	}
	free(list);
}

enum sw_err sw_store_sig_ship_day(struct sw_store *st, const char *warehouse_id, int64_t base_since,
				  int64_t day_start, int64_t day_end, int64_t now,
				  struct sw_sig_ship_day *ret)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	memset(ret, 0, sizeof(*ret));
	if ((rc = check_wh(st, warehouse_id)))
		return rc;
	if (base_since > day_start || day_start >= day_end)
		return sw_store_int_err(st, SW_EINVAL, "signal: bad ship day range");
	if (!(s = prepare(st, ship_day_sql, "signal ship day")))
		return SW_ESTORE;
	if (bind_text(s, ":wh", warehouse_id) | bind_int(s, ":bs", base_since) |
	    bind_int(s, ":ds", day_start) | bind_int(s, ":de", day_end) |
	    bind_int(s, ":now", now)) {
		sw_store_int_dberr(st, "signal ship day");
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if ((rc = one_row(st, s, "signal ship day")))
		return rc;
	ret->due = sw_db_column_int64(s, 0);
	ret->base_orders = sw_db_column_int64(s, 1);
	ret->base_late = sw_db_column_int64(s, 2);
	sw_db_finalize(s);
	return SW_OK;
}
