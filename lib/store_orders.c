/*
 * store_orders.c - the SQLite store's orders and parcels: the upserts
 * that merge events into them, their reads, the order backlog, and the
 * alert engine's reads of parcels with their orders (split from store.c;
 * the design notes are there).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/buf.h"
#include "lib/store.h"
#define SW_STORE_INT_SHORT_NAMES /* stmt(), run(), b_text(), ... */
#include "lib/store_int.h"
#include "lib/xmalloc.h"

/* The same status from six expressions for the stage times (created,
 * picked, packed, shipped, cancelled, backordered): what the order upsert
 * writes itself since schema 9 (the triggers are gone, see schema_v9 in
 * store_schema_sqlite.c). */
#define ORDER_LATEST_OF(c, p, k, s, x, b)                                                          \
	"max(coalesce(" c ", -1), coalesce(" p ", -1), coalesce(" k ", -1), coalesce(" s          \
	", -1), coalesce(" x ", -1), coalesce(" b ", -1))"
#define ORDER_STATUS_OF(c, p, k, s, x, b)                                                          \
	"CASE WHEN " x " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'cancelled' "               \
	"WHEN " s " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'shipped' "                      \
	"WHEN " k " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'packed' "                       \
	"WHEN " p " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'picked' "                       \
	"WHEN " b " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'backordered' "                  \
	"WHEN " c " = " ORDER_LATEST_OF(c, p, k, s, x, b) " THEN 'created' ELSE NULL END"

/* A pair (at, off) replaced when the new value is present. */
#define SET_IF_PRESENT(c)                                                                          \
	c "_off = CASE WHEN excluded." c "_at IS NOT NULL THEN excluded." c "_off ELSE " c         \
	  "_off END, " c "_at = coalesce(excluded." c "_at, " c "_at)"
/* A pair (at, off) keeping the earliest time. */
#define KEEP_EARLIEST(c)                                                                           \
	c "_off = CASE WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN excluded." c     \
	  "_off ELSE " c "_off END, " c "_at = CASE "                                              \
	  "WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN "                            \
	  "excluded." c "_at ELSE " c "_at END"
#define KEEP(c) c " = coalesce(excluded." c ", " c ")"
/* A stage time as KEEP_EARLIEST leaves it (an upsert's SET expressions all
 * read the row as it was). */
#define MERGED_AT(c)                                                                               \
	"(CASE WHEN " c "_at IS NULL OR excluded." c "_at < " c "_at THEN excluded." c "_at "      \
	"ELSE " c "_at END)"

#define ORDER_COLS                                                                                 \
	"id, warehouse_id, order_id, customer_name, customer_email, "                              \
	"customer_locale, customer_tz, promised_ship_by_at, "                                      \
	"promised_ship_by_off, promised_delivery_kind, "                                           \
	"promised_delivery_text, promised_delivery_at, "                                           \
	"promised_delivery_off, service_level, dest_country, "                                     \
	"dest_postal_code, dest_city, created_at, created_off, picked_at, "                        \
	"picked_off, packed_at, packed_off, shipped_at, shipped_off, "                             \
	"cancelled_at, cancelled_off, backordered_at, backordered_off, status, "                   \
	"customer_phone, customer_channel"
#define ORDER_STAGE_COL0 17 /* index of created_at in ORDER_COLS */
#define ORDER_PHONE_COL	 30 /* index of customer_phone (then customer_channel) */
#define ORDER_NCOLS	 32 /* columns in ORDER_COLS */

/* A parcel with its order, for the alert engine: the parcel columns of
 * ST_PARCEL_GET (PARCEL_NCOLS), then the order's ORDER_COLS (NULL when the
 * parcel has no order).  An order without parcel has NULL parcel columns. */
#define TRACK_PARCEL_COLS                                                                          \
	"p.id, p.courier, p.tracking_number, o.warehouse_id, o.order_id, "                         \
	"p.shipped_at, p.shipped_off, p.status, p.raw_code, p.raw_text, "                          \
	"p.last_event_at, p.last_event_off, p.eta_date, p.delivered_at, "                          \
	"p.delivered_off, p.first_scan_at, p.first_scan_off, p.terminal"
#define TRACK_NO_PARCEL                                                                            \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "                       \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL"
#define PARCEL_NCOLS 18
#define TRACK_ORDER_COLS                                                                           \
	"o.id, o.warehouse_id, o.order_id, o.customer_name, o.customer_email, "                    \
	"o.customer_locale, o.customer_tz, o.promised_ship_by_at, "                                \
	"o.promised_ship_by_off, o.promised_delivery_kind, "                                       \
	"o.promised_delivery_text, o.promised_delivery_at, "                                       \
	"o.promised_delivery_off, o.service_level, o.dest_country, "                               \
	"o.dest_postal_code, o.dest_city, o.created_at, o.created_off, o.picked_at, "              \
	"o.picked_off, o.packed_at, o.packed_off, o.shipped_at, o.shipped_off, "                   \
	"o.cancelled_at, o.cancelled_off, o.backordered_at, o.backordered_off, o.status, "         \
	"o.customer_phone, o.customer_channel"
/* After the parcel and order columns: polled_ok_at, the last poll that got
 * the courier's word (failures 0: found or not found; the poller writes
 * failures > 0 only for transport errors, 5xx, 429 and unusable answers),
 * and polled, whether the parcel has a poll schedule at all. */
/* clang-format off */
#define TRACK_PARCEL_ROW                                                                           \
	"SELECT " TRACK_PARCEL_COLS ", " TRACK_ORDER_COLS ", "                                     \
	"CASE WHEN s.failures = 0 THEN s.last_polled_at END, "                                     \
	"CASE WHEN s.parcel_ref IS NOT NULL THEN 1 ELSE 0 END"
#define TRACK_FROM_PARCELS                                                                         \
	TRACK_PARCEL_ROW " FROM parcels p LEFT JOIN orders o ON o.id = p.order_ref"                \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id WHERE "
/* clang-format on */
/* An order still in the warehouse: not shipped, not cancelled, no parcel. */
#define TRACK_FROM_ORDERS                                                                          \
	"SELECT " TRACK_NO_PARCEL ", " TRACK_ORDER_COLS ", NULL, 0 FROM orders o WHERE "
#define TRACK_ORDER_OPEN                                                                           \
	"o.shipped_at IS NULL AND o.cancelled_at IS NULL AND NOT EXISTS "                          \
	"(SELECT 1 FROM parcels q WHERE q.order_ref = o.id)"

/* The batched reads (sw_store_track_among): :list is a JSON array of
 * [a, b] pairs (courier + tracking number, or warehouse + order id); each
 * row ends with its pair's index (j.key, column TRACK_KEY_COL).  The same
 * columns and joins as TRACK_FROM_PARCELS / TRACK_FROM_ORDERS, the list
 * the outer loop (CROSS JOIN), one index seek per pair.  No ORDER BY (a
 * sorter costs a fifth of the read): the rows come in pair order per
 * branch, an order's parcels in id order (parcels_order ends in the
 * rowid), and the C side puts the orders' two branches in pair order. */
/* clang-format off */
#define TRACK_KEY_COL (PARCEL_NCOLS + ORDER_NCOLS + 2)
#define TRACK_PAIR(a, b)                                                                           \
	a " = json_extract(j.value, '$[0]') AND " b " = json_extract(j.value, '$[1]')"
#define TRACK_AMONG_PARCELS                                                                        \
	TRACK_PARCEL_ROW ", j.key FROM json_each(:list) j"                                         \
	" CROSS JOIN parcels p ON " TRACK_PAIR("p.courier", "p.tracking_number")                   \
	" LEFT JOIN orders o ON o.id = p.order_ref"                                                \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id"
/* an order's parcels, or the order alone (whatever its state) if it has
 * none: sw_store_track_order's rows */
#define TRACK_AMONG_ORDERS                                                                         \
	TRACK_PARCEL_ROW ", j.key FROM json_each(:list) j"                                         \
	" CROSS JOIN orders o ON " TRACK_PAIR("o.warehouse_id", "o.order_id")                      \
	" CROSS JOIN parcels p ON p.order_ref = o.id"                                              \
	" LEFT JOIN poll_schedule s ON s.parcel_ref = p.id"                                        \
	" UNION ALL SELECT " TRACK_NO_PARCEL ", " TRACK_ORDER_COLS ", NULL, 0, j.key"              \
	" FROM json_each(:list) j"                                                                 \
	" CROSS JOIN orders o ON " TRACK_PAIR("o.warehouse_id", "o.order_id")                      \
	" WHERE NOT EXISTS (SELECT 1 FROM parcels q WHERE q.order_ref = o.id)"
/* clang-format on */

/* An upsert into an existing order: descriptive fields replaced when
 * present, the delivery promise as a whole (kind, text, time), stage times
 * keeping the earliest.  (clang-format cannot lay out macro-built SQL.) */
/* clang-format off */
#define ORDER_UPSERT_SET                                                                           \
	KEEP("customer_name") ", " KEEP("customer_email") ", " KEEP("customer_locale") ", "        \
	KEEP("customer_tz") ", " KEEP("customer_phone") ", " KEEP("customer_channel") ", "         \
	SET_IF_PRESENT("promised_ship_by") ", "                                                    \
	"promised_delivery_text = CASE WHEN excluded.promised_delivery_kind IS NULL "              \
	"THEN promised_delivery_text ELSE excluded.promised_delivery_text END, "                   \
	"promised_delivery_at = CASE WHEN excluded.promised_delivery_kind IS NULL "                \
	"THEN promised_delivery_at ELSE excluded.promised_delivery_at END, "                       \
	"promised_delivery_off = CASE WHEN excluded.promised_delivery_kind IS NULL "               \
	"THEN promised_delivery_off ELSE excluded.promised_delivery_off END, "                     \
	KEEP("promised_delivery_kind") ", " KEEP("service_level") ", " KEEP("dest_country") ", "   \
	KEEP("dest_postal_code") ", " KEEP("dest_city") ", " KEEP_EARLIEST("created") ", "         \
	KEEP_EARLIEST("picked") ", " KEEP_EARLIEST("packed") ", " KEEP_EARLIEST("shipped") ", "    \
	KEEP_EARLIEST("cancelled") ", " KEEP_EARLIEST("backordered")
/* clang-format on */

#define PARCEL_FRESH "coalesce(:event_at, 0) >= coalesce(last_event_at, 0)"
/* An update reporting a delivery attempt earlier than any known (schema 8). */
#define PARCEL_ATTEMPT                                                                             \
	":status IN ('attempt_fail', 'available_for_pickup') AND :event_at IS NOT NULL AND "       \
	"(first_attempt_at IS NULL OR :event_at < first_attempt_at)"

/* The statements of this file, cached in the handle (store_int.h). */
static const char *const stmt_sql[ST_LAST] = {
    [ST_ORDER_UPSERT] = "INSERT INTO orders (warehouse_id, order_id, customer_name, "
			"customer_email, customer_locale, customer_tz, customer_phone, "
			"customer_channel, promised_ship_by_at, promised_ship_by_off, "
			"promised_delivery_kind, promised_delivery_text, "
			"promised_delivery_at, promised_delivery_off, service_level, "
			"dest_country, dest_postal_code, dest_city, created_at, "
			"created_off, picked_at, picked_off, packed_at, packed_off, "
			"shipped_at, shipped_off, cancelled_at, cancelled_off, "
			"backordered_at, backordered_off, status) VALUES (:wh, :oid, :cname, "
			":cemail, :clocale, :ctz, :cphone, :cchannel, :ship_by_at, "
			":ship_by_off, :pd_kind, :pd_text, :pd_at, :pd_off, :service, "
			":country, :postal, :city, :created_at, :created_off, "
			":picked_at, :picked_off, :packed_at, :packed_off, :shipped_at, "
			":shipped_off, :cancelled_at, :cancelled_off, :backordered_at, "
			":backordered_off, " ORDER_STATUS_OF(":created_at", ":picked_at", ":packed_at",
							      ":shipped_at", ":cancelled_at",
							      ":backordered_at") ") "
			"ON CONFLICT (warehouse_id, order_id) "
			"DO UPDATE SET " ORDER_UPSERT_SET ", status = " ORDER_STATUS_OF(
			    MERGED_AT("created"), MERGED_AT("picked"), MERGED_AT("packed"),
			    MERGED_AT("shipped"), MERGED_AT("cancelled"), MERGED_AT("backordered")),
    [ST_ORDER_STAGES] = "SELECT created_at, created_off, picked_at, picked_off, packed_at, "
			"packed_off, shipped_at, shipped_off, cancelled_at, cancelled_off, "
			"backordered_at, backordered_off FROM orders WHERE "
			"warehouse_id = :wh AND order_id = :oid",
    [ST_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE "
		     "warehouse_id = :wh AND order_id = :oid",
    [ST_ORDER_STUB] = "INSERT INTO orders (warehouse_id, order_id) "
		      "VALUES (:wh, :oid) ON CONFLICT DO NOTHING",
    [ST_ORDER_DETAILS] = "UPDATE orders SET customer_name = :cname, "
			 "customer_email = :cemail, customer_locale = :clocale, "
			 "customer_tz = :ctz, customer_phone = :cphone, "
			 "customer_channel = :cchannel, promised_ship_by_at = :ship_by_at, "
			 "promised_ship_by_off = :ship_by_off, "
			 "promised_delivery_kind = :pd_kind, "
			 "promised_delivery_text = :pd_text, "
			 "promised_delivery_at = :pd_at, promised_delivery_off = :pd_off, "
			 "service_level = :service, dest_country = :country, "
			 "dest_postal_code = :postal, dest_city = :city, "
			 "details_at = :dat, details_key = :dkey "
			 "WHERE warehouse_id = :wh AND order_id = :oid AND "
			 "(details_at IS NULL OR details_at < :dat OR "
			 "(details_at = :dat AND details_key < :dkey))",
    /* Each branch's WHERE is its partial index's: a covering scan of only
     * the waiting orders.  INDEXED BY because the planner would otherwise
     * take orders_unshipped (also partial, not covering) for the second;
     * it also makes the statement fail to prepare if the index is gone. */
    [ST_ORDER_BACKLOG] = "SELECT warehouse_id, sum(p), sum(s), sum(l) FROM ("
			 "SELECT warehouse_id, 1 AS p, 0 AS s, 0 AS l FROM orders "
			 "INDEXED BY orders_backlog_pick "
			 "WHERE created_at IS NOT NULL AND picked_at IS NULL "
			 "AND cancelled_at IS NULL UNION ALL "
			 "SELECT warehouse_id, 0, 1, 0 FROM orders "
			 "INDEXED BY orders_backlog_ship "
			 "WHERE picked_at IS NOT NULL AND shipped_at IS NULL "
			 "AND cancelled_at IS NULL UNION ALL "
			 /* past ship-by: the range of a partial index of
			  * unshipped orders keyed by ship-by */
			 "SELECT warehouse_id, 0, 0, 1 FROM orders "
			 "INDEXED BY orders_unshipped "
			 "WHERE shipped_at IS NULL AND cancelled_at IS NULL "
			 "AND promised_ship_by_at < :now) AS backlog "
			 "GROUP BY warehouse_id ORDER BY warehouse_id",
    [ST_PARCEL_UPSERT] = "INSERT INTO parcels (order_ref, courier, tracking_number, "
			 "shipped_at, shipped_off) VALUES ((SELECT id FROM orders WHERE "
			 "warehouse_id = :wh AND order_id = :oid), :courier, :tn, "
			 ":shipped_at, :shipped_off) "
			 "ON CONFLICT (courier, tracking_number) DO UPDATE SET " KEEP(
			     "order_ref") ", " KEEP_EARLIEST("shipped"),
    [ST_PARCEL_STATUS] = "UPDATE parcels SET "
			 "status = CASE WHEN " PARCEL_FRESH " THEN :status "
			 "ELSE status END, "
			 "raw_code = CASE WHEN " PARCEL_FRESH " THEN :raw_code "
			 "ELSE raw_code END, "
			 "raw_text = CASE WHEN " PARCEL_FRESH " THEN :raw_text "
			 "ELSE raw_text END, "
			 "terminal = CASE WHEN " PARCEL_FRESH " THEN :terminal "
			 "ELSE terminal END, "
			 "eta_date = CASE WHEN " PARCEL_FRESH " AND :eta IS NOT NULL "
			 "THEN :eta ELSE eta_date END, "
			 "first_eta_date = coalesce(first_eta_date, :eta), "
			 "first_attempt_off = CASE WHEN " PARCEL_ATTEMPT " THEN :event_off "
			 "ELSE first_attempt_off END, "
			 "first_attempt_at = CASE WHEN " PARCEL_ATTEMPT " THEN :event_at "
			 "ELSE first_attempt_at END, "
			 "last_event_off = CASE WHEN " PARCEL_FRESH " AND :event_at IS "
			 "NOT NULL THEN :event_off ELSE last_event_off END, "
			 "last_event_at = CASE WHEN " PARCEL_FRESH " AND :event_at IS "
			 "NOT NULL THEN :event_at ELSE last_event_at END, "
			 "first_scan_off = CASE WHEN :first_at IS NOT NULL AND "
			 "(first_scan_at IS NULL OR :first_at < first_scan_at) THEN "
			 ":first_off ELSE first_scan_off END, "
			 "first_scan_at = CASE WHEN :first_at IS NOT NULL AND "
			 "(first_scan_at IS NULL OR :first_at < first_scan_at) THEN "
			 ":first_at ELSE first_scan_at END, "
			 "delivered_off = CASE WHEN :deliv_at IS NOT NULL THEN "
			 ":deliv_off ELSE delivered_off END, "
			 "delivered_at = coalesce(:deliv_at, delivered_at) "
			 "WHERE courier = :courier AND tracking_number = :tn",
    [ST_PARCEL_GET] = "SELECT p.id, p.courier, p.tracking_number, o.warehouse_id, "
		      "o.order_id, p.shipped_at, p.shipped_off, p.status, p.raw_code, "
		      "p.raw_text, p.last_event_at, p.last_event_off, p.eta_date, "
		      "p.delivered_at, p.delivered_off, p.first_scan_at, "
		      "p.first_scan_off, p.terminal FROM parcels p LEFT JOIN orders o "
		      "ON o.id = p.order_ref WHERE p.courier = :courier AND "
		      "p.tracking_number = :tn",
    [ST_TRACK_SCAN_PARCELS] = TRACK_FROM_PARCELS "p.id > :after AND p.terminal = 0 "
					      "ORDER BY p.id LIMIT :limit",
    [ST_TRACK_SCAN_ORDERS] = TRACK_FROM_ORDERS "o.id > :after AND " TRACK_ORDER_OPEN
					     " ORDER BY o.id LIMIT :limit",
    [ST_TRACK_PARCEL_ID] = TRACK_FROM_PARCELS "p.id = :id",
    [ST_TRACK_PARCEL_KEY] = TRACK_FROM_PARCELS "p.courier = :courier AND "
					    "p.tracking_number = :tn",
    [ST_TRACK_ORDER_ID] = TRACK_FROM_ORDERS "o.id = :id",
    [ST_TRACK_ORDER_KEY] = TRACK_FROM_ORDERS "o.warehouse_id = :wh AND o.order_id = :oid",
    [ST_TRACK_ORDER_PARCELS] = TRACK_FROM_PARCELS "p.order_ref = :id ORDER BY p.id",
    [ST_TRACK_AMONG_PARCELS] = TRACK_AMONG_PARCELS,
    [ST_TRACK_AMONG_ORDERS] = TRACK_AMONG_ORDERS,
};

/* ---- orders ------------------------------------------------------------ */

static enum sw_err order_check(struct sw_store *st, const struct sw_order *o)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	enum sw_err rc;
	int i;

	if (!nonempty(o->warehouse_id) || !nonempty(o->order_id))
		return set_err(st, SW_EINVAL, "order: warehouse id and order id are required");
	if ((unsigned)pd->kind >= SW_PROMISE_LAST ||
	    (pd->kind != SW_PROMISE_NONE && !nonempty(pd->text)))
		return set_err(st, SW_EINVAL, "order %s: bad delivery promise", o->order_id);
	if ((rc = check_stamp(st, "order: promised_ship_by", o->promised_ship_by)) ||
	    (rc = check_stamp(st, "order: promised_delivery_by", pd->at)))
		return rc;
	for (i = 0; i < SW_STAGE_LAST; i++)
		if ((rc = check_stamp(st, "order: stage time", o->stage[i])))
			return rc;
	return SW_OK;
}

/* The stage parameters of the order statements, in enum sw_stage order
 * (literals: pidx() keys on the name's address). */
static const char *const stage_at_params[SW_STAGE_LAST] = {
    ":created_at", ":picked_at", ":packed_at", ":shipped_at", ":cancelled_at", ":backordered_at",
};
static const char *const stage_off_params[SW_STAGE_LAST] = {
    ":created_off", ":picked_off", ":packed_off", ":shipped_off", ":cancelled_off",
    ":backordered_off",
};

static int order_bind(struct sw_db_stmt *s, const struct sw_order *o)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	int has_pd = pd->kind != SW_PROMISE_NONE;
	int i, rc;

	rc = b_text_ref(s, ":wh", o->warehouse_id) | b_text_ref(s, ":oid", o->order_id) |
	     b_text_ref(s, ":cname", o->customer_name) | b_text_ref(s, ":cemail", o->customer_email) |
	     b_text_ref(s, ":clocale", o->customer_locale) | b_text_ref(s, ":ctz", o->customer_timezone) |
	     b_text_ref(s, ":cphone", o->customer_phone) | b_text_ref(s, ":cchannel", o->customer_channel) |
	     b_stamp(s, ":ship_by_at", ":ship_by_off", o->promised_ship_by) |
	     b_text_ref(s, ":pd_kind", has_pd ? promise_names[pd->kind] : NULL) |
	     b_text_ref(s, ":pd_text", has_pd ? pd->text : NULL) |
	     b_stamp(s, ":pd_at", ":pd_off", pd->at) | b_text_ref(s, ":service", o->service_level) |
	     b_text_ref(s, ":country", o->dest_country) | b_text_ref(s, ":postal", o->dest_postal_code) |
	     b_text_ref(s, ":city", o->dest_city);
	for (i = 0; i < SW_STAGE_LAST; i++)
		rc |= b_stamp(s, stage_at_params[i], stage_off_params[i], o->stage[i]);
	return rc;
}

enum sw_err sw_store_order_upsert(struct sw_store *st, const struct sw_order *o)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = order_check(st, o)))
		return rc;
	if (!(s = stmt(st, ST_ORDER_UPSERT)))
		return SW_ESTORE;
	if (order_bind(s, o))
		return bind_failed(st, s);
	return run_values(st, s, "order upsert");
}

/* The order in ORDER_COLS order from column b on. */
static struct sw_order *order_row_at(struct sw_db_stmt *s, int b)
{
	struct sw_order *o = xcalloc(1, sizeof(*o));
	struct sw_promise *pd = &o->promised_delivery_by;
	char *kind;
	int i;

	o->id = sw_db_column_int64(s, b);
	o->warehouse_id = col_str(s, b + 1);
	o->order_id = col_str(s, b + 2);
	o->customer_name = col_str(s, b + 3);
	o->customer_email = col_str(s, b + 4);
	o->customer_locale = col_str(s, b + 5);
	o->customer_timezone = col_str(s, b + 6);
	o->customer_phone = col_str(s, b + ORDER_PHONE_COL);
	o->customer_channel = col_str(s, b + ORDER_PHONE_COL + 1);
	o->promised_ship_by = col_stamp(s, b + 7);
	kind = col_str(s, b + 9);
	pd->kind = (enum sw_promise_kind)name_index(promise_names, SW_PROMISE_LAST, kind);
	if (pd->kind == SW_PROMISE_LAST)
		pd->kind = SW_PROMISE_NONE;
	free(kind);
	pd->text = col_str(s, b + 10);
	pd->at = col_stamp(s, b + 11);
	o->service_level = col_str(s, b + 13);
	o->dest_country = col_str(s, b + 14);
	o->dest_postal_code = col_str(s, b + 15);
	o->dest_city = col_str(s, b + 16);
	for (i = 0; i < SW_STAGE_LAST; i++)
		o->stage[i] = col_stamp(s, b + ORDER_STAGE_COL0 + 2 * i);
	o->status = (enum sw_stage)name_index(
	    stage_names, SW_STAGE_LAST,
	    (const char *)sw_db_column_text(s, b + ORDER_STAGE_COL0 + 2 * SW_STAGE_LAST));
	return o;
}

static struct sw_order *order_row(struct sw_db_stmt *s)
{
	return order_row_at(s, 0);
}

/* Steps a keyed single-row SELECT and converts the row with conv. */
static enum sw_err get_one(struct sw_store *st, struct sw_db_stmt *s, const char *what,
			   void *(*conv)(struct sw_db_stmt *), void **ret)
{
	int rc = sw_db_step(s);

	*ret = NULL;
	if (rc == SW_DB_ROW)
		*ret = conv(s);
	else if (rc != SW_DB_DONE) {
		db_err(st, what);
		stmt_done(s);
		return SW_ESTORE;
	}
	stmt_done(s);
	return *ret ? SW_OK : SW_ENOTFOUND;
}

static void *order_conv(struct sw_db_stmt *s)
{
	return order_row(s);
}

/* Statement id with an order's key (warehouse, order id) bound. */
static enum sw_err order_key_stmt(struct sw_store *st, enum stmt_id id, const char *warehouse_id,
				  const char *order_id, const char *what, struct sw_db_stmt **ret_s)
{
	struct sw_db_stmt *s;

	if (!nonempty(warehouse_id) || !nonempty(order_id))
		return set_err(st, SW_EINVAL, "%s: empty key", what);
	if (!(s = stmt(st, id)))
		return SW_ESTORE;
	if (b_text(s, ":wh", warehouse_id) | b_text(s, ":oid", order_id))
		return bind_failed(st, s);
	*ret_s = s;
	return SW_OK;
}

enum sw_err sw_store_order_get(struct sw_store *st, const char *warehouse_id, const char *order_id,
			       struct sw_order **ret_order)
{
	struct sw_db_stmt *s;
	void *o;
	enum sw_err rc;

	*ret_order = NULL;
	if ((rc = order_key_stmt(st, ST_ORDER_GET, warehouse_id, order_id, "order get", &s)))
		return rc;
	rc = get_one(st, s, "order get", order_conv, &o);
	*ret_order = o;
	return rc;
}

enum sw_err sw_store_order_stages(struct sw_store *st, const char *warehouse_id,
				  const char *order_id, struct sw_stamp ret[SW_STAGE_LAST])
{
	struct sw_db_stmt *s;
	enum sw_err e;
	int rc, i;

	memset(ret, 0, sizeof(struct sw_stamp) * SW_STAGE_LAST);
	if ((e = order_key_stmt(st, ST_ORDER_STAGES, warehouse_id, order_id, "order stages", &s)))
		return e;
	rc = sw_db_step(s);
	if (rc == SW_DB_ROW)
		for (i = 0; i < SW_STAGE_LAST; i++)
			ret[i] = col_stamp(s, 2 * i);
	stmt_done(s);
	if (rc == SW_DB_ROW)
		return SW_OK;
	return rc == SW_DB_DONE ? SW_ENOTFOUND : db_err(st, "order stages");
}

void sw_store_order_free(struct sw_order *o)
{
	if (o == NULL)
		return;
	free((char *)o->warehouse_id);
	free((char *)o->order_id);
	free((char *)o->customer_name);
	free((char *)o->customer_email);
	free((char *)o->customer_locale);
	free((char *)o->customer_timezone);
	free((char *)o->customer_phone);
	free((char *)o->customer_channel);
	free((char *)o->promised_delivery_by.text);
	free((char *)o->service_level);
	free((char *)o->dest_country);
	free((char *)o->dest_postal_code);
	free((char *)o->dest_city);
	free(o);
}

static int details_bind(struct sw_db_stmt *s, const struct sw_order *o, int64_t at, const char *key)
{
	const struct sw_promise *pd = &o->promised_delivery_by;
	int has_pd = pd->kind != SW_PROMISE_NONE;

	return b_text(s, ":wh", o->warehouse_id) | b_text(s, ":oid", o->order_id) |
	       b_text(s, ":cname", o->customer_name) | b_text(s, ":cemail", o->customer_email) |
	       b_text(s, ":clocale", o->customer_locale) | b_text(s, ":ctz", o->customer_timezone) |
	       b_text(s, ":cphone", o->customer_phone) |
	       b_text(s, ":cchannel", o->customer_channel) |
	       b_stamp(s, ":ship_by_at", ":ship_by_off", o->promised_ship_by) |
	       b_text(s, ":pd_kind", has_pd ? promise_names[pd->kind] : NULL) |
	       b_text(s, ":pd_text", has_pd ? pd->text : NULL) |
	       b_stamp(s, ":pd_at", ":pd_off", has_pd ? pd->at : (struct sw_stamp){0, 0}) |
	       b_text(s, ":service", o->service_level) | b_text(s, ":country", o->dest_country) |
	       b_text(s, ":postal", o->dest_postal_code) | b_text(s, ":city", o->dest_city) |
	       b_int(s, ":dat", at) | b_text(s, ":dkey", key);
}

/* The two statements of sw_store_order_set_details, inside op_begin. */
static enum sw_err details_stmts(struct sw_store *st, const struct sw_order *o, int64_t at,
				 const char *key, int *ret_applied)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (!(s = stmt(st, ST_ORDER_STUB)))
		return SW_ESTORE;
	if (b_text(s, ":wh", o->warehouse_id) | b_text(s, ":oid", o->order_id))
		return bind_failed(st, s);
	if ((rc = run_values(st, s, "order details: order")))
		return rc;
	if (!(s = stmt(st, ST_ORDER_DETAILS)))
		return SW_ESTORE;
	if (details_bind(s, o, at, key))
		return bind_failed(st, s);
	if ((rc = run_values(st, s, "order details")))
		return rc;
	*ret_applied = sw_db_changes(st->db) > 0;
	return SW_OK;
}

enum sw_err sw_store_order_set_details(struct sw_store *st, const struct sw_order *o,
				       int64_t details_at, const char *details_key,
				       int *ret_applied)
{
	enum sw_err rc;
	int applied = 0;

	if (ret_applied)
		*ret_applied = 0;
	if ((rc = order_check(st, o)))
		return rc;
	if (details_at <= 0 || !nonempty(details_key))
		return set_err(st, SW_EINVAL, "order %s: details need a time and a key",
			       o->order_id);
	if ((rc = op_begin(st)))
		return rc;
	rc = op_end(st, details_stmts(st, o, details_at, details_key, &applied));
	if (rc == SW_OK && ret_applied)
		*ret_applied = applied;
	return rc;
}

/* ---- parcels ----------------------------------------------------------- */

enum sw_err sw_store_int_parcel_key_check(struct sw_store *st, const char *courier,
					  const char *tracking_number)
{
	if (!nonempty(courier) || !nonempty(tracking_number))
		return set_err(st, SW_EINVAL,
			       "parcel: courier and tracking number are "
			       "required");
	return SW_OK;
}

static enum sw_err parcel_upsert_stmts(struct sw_store *st, const char *courier, const char *tn,
				       const char *wh, const char *oid, struct sw_stamp shipped)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if (wh) {
		if (!(s = stmt(st, ST_ORDER_STUB)))
			return SW_ESTORE;
		if (b_text(s, ":wh", wh) | b_text(s, ":oid", oid))
			return bind_failed(st, s);
		if ((rc = run_values(st, s, "parcel upsert: order")))
			return rc;
	}
	if (!(s = stmt(st, ST_PARCEL_UPSERT)))
		return SW_ESTORE;
	if (b_text(s, ":wh", wh) | b_text(s, ":oid", oid) | b_text(s, ":courier", courier) |
	    b_text(s, ":tn", tn) | b_stamp(s, ":shipped_at", ":shipped_off", shipped))
		return bind_failed(st, s);
	return run_values(st, s, "parcel upsert");
}

enum sw_err sw_store_parcel_upsert(struct sw_store *st, const char *courier,
				   const char *tracking_number, const char *warehouse_id,
				   const char *order_id, struct sw_stamp shipped_at)
{
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)) ||
	    (rc = check_stamp(st, "parcel: shipped_at", shipped_at)))
		return rc;
	if (!nonempty(warehouse_id) != !nonempty(order_id))
		return set_err(st, SW_EINVAL,
			       "parcel %s: warehouse id and "
			       "order id go together",
			       tracking_number);
	if ((rc = op_begin(st)))
		return rc;
	rc = parcel_upsert_stmts(st, courier, tracking_number,
				 nonempty(warehouse_id) ? warehouse_id : NULL,
				 nonempty(order_id) ? order_id : NULL, shipped_at);
	return op_end(st, rc);
}

/* 1 if s is a calendar date YYYY-MM-DD (digits checked, not the calendar). */
static int is_date(const char *s)
{
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

static enum sw_err update_check(struct sw_store *st, const struct sw_parcel_update *u)
{
	enum sw_err rc;

	if ((unsigned)u->status >= SW_SHIP_LAST)
		return set_err(st, SW_EINVAL, "parcel status: bad status %d", (int)u->status);
	if (u->eta_date && !is_date(u->eta_date))
		return set_err(st, SW_EINVAL,
			       "parcel status: eta \"%.40s\" is "
			       "not YYYY-MM-DD",
			       u->eta_date);
	if ((rc = check_stamp(st, "parcel status: event_at", u->event_at)) ||
	    (rc = check_stamp(st, "parcel status: first_scan_at", u->first_scan_at)) ||
	    (rc = check_stamp(st, "parcel status: delivered_at", u->delivered_at)))
		return rc;
	return SW_OK;
}

enum sw_err sw_store_parcel_set_status(struct sw_store *st, const char *courier,
				       const char *tracking_number,
				       const struct sw_parcel_update *u)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	if ((rc = parcel_key_check(st, courier, tracking_number)) || (rc = update_check(st, u)))
		return rc;
	if (!(s = stmt(st, ST_PARCEL_STATUS)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number) |
	    b_text(s, ":status", ship_names[u->status]) | b_text(s, ":raw_code", u->raw_code) |
	    b_text(s, ":raw_text", u->raw_text) |
	    b_int(s, ":terminal", sw_store_ship_status_terminal(u->status)) |
	    b_text(s, ":eta", u->eta_date) | b_stamp(s, ":event_at", ":event_off", u->event_at) |
	    b_stamp(s, ":first_at", ":first_off", u->first_scan_at) |
	    b_stamp(s, ":deliv_at", ":deliv_off", u->delivered_at))
		return bind_failed(st, s);
	if ((rc = run(st, s, "parcel status")))
		return rc;
	if (sw_db_changes(st->db) == 0)
		return set_err(st, SW_ENOTFOUND, "parcel %s/%s not found", courier,
			       tracking_number);
	return SW_OK;
}

/* The parcel in ST_PARCEL_GET column order. */
static struct sw_parcel *parcel_row(struct sw_db_stmt *s)
{
	struct sw_parcel *p = xcalloc(1, sizeof(*p));
	enum sw_ship_status status;

	p->id = sw_db_column_int64(s, 0);
	p->courier = col_str(s, 1);
	p->tracking_number = col_str(s, 2);
	p->warehouse_id = col_str(s, 3);
	p->order_id = col_str(s, 4);
	p->shipped_at = col_stamp(s, 5);
	if (sw_store_ship_status_parse((const char *)sw_db_column_text(s, 7), &status))
		status = SW_SHIP_UNKNOWN;
	p->status = status;
	p->raw_code = col_str(s, 8);
	p->raw_text = col_str(s, 9);
	p->last_event_at = col_stamp(s, 10);
	p->eta_date = col_str(s, 12);
	p->delivered_at = col_stamp(s, 13);
	p->first_scan_at = col_stamp(s, 15);
	p->terminal = sw_db_column_int(s, 17);
	return p;
}

static void *parcel_conv(struct sw_db_stmt *s)
{
	return parcel_row(s);
}

enum sw_err sw_store_parcel_get(struct sw_store *st, const char *courier,
				const char *tracking_number, struct sw_parcel **ret_parcel)
{
	struct sw_db_stmt *s;
	void *p;
	enum sw_err rc;

	*ret_parcel = NULL;
	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_PARCEL_GET)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	rc = get_one(st, s, "parcel get", parcel_conv, &p);
	*ret_parcel = p;
	return rc;
}

void sw_store_parcel_free(struct sw_parcel *p)
{
	if (p == NULL)
		return;
	free((char *)p->courier);
	free((char *)p->tracking_number);
	free((char *)p->warehouse_id);
	free((char *)p->order_id);
	free((char *)p->raw_code);
	free((char *)p->raw_text);
	free((char *)p->eta_date);
	free(p);
}

/* ---- backlog ----------------------------------------------------------- */

static void backlog_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_backlog *b = elem;

	b->warehouse_id = col_str(s, 0);
	b->pick = sw_db_column_int64(s, 1);
	b->ship = sw_db_column_int64(s, 2);
	b->ship_late = sw_db_column_int64(s, 3);
}

static void backlog_free_v(void *arr, size_t n)
{
	sw_store_backlog_free(arr, n);
}

enum sw_err sw_store_order_backlog(struct sw_store *st, int64_t now, struct sw_backlog **ret_list,
				   size_t *ret_n)
{
	void *list = NULL;
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (!(s = stmt(st, ST_ORDER_BACKLOG)))
		return SW_ESTORE;
	if (b_int(s, ":now", now))
		return bind_failed(st, s);
	rc = list_rows(st, s, "order backlog", sizeof(struct sw_backlog), backlog_fill,
		       backlog_free_v, &list, ret_n);
	*ret_list = list;
	return rc;
}

void sw_store_backlog_free(struct sw_backlog *list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i].warehouse_id);
	free(list);
}

/* ---- alert engine: parcels with their orders --------------------------- */

static void track_fill(struct sw_db_stmt *s, void *elem)
{
	struct sw_track *t = elem;

	if (sw_db_column_type(s, 0) != SW_DB_NULL)
		t->parcel = parcel_row(s);
	if (sw_db_column_type(s, PARCEL_NCOLS) != SW_DB_NULL)
		t->order = order_row_at(s, PARCEL_NCOLS);
	t->polled_ok_at = sw_db_column_int64(s, PARCEL_NCOLS + ORDER_NCOLS);
	t->polled = sw_db_column_int(s, PARCEL_NCOLS + ORDER_NCOLS + 1);
}

static void track_free_v(void *arr, size_t n)
{
	sw_store_track_free(arr, n);
}

void sw_store_track_free(struct sw_track *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		sw_store_order_free(list[i].order);
		sw_store_parcel_free(list[i].parcel);
	}
	free(list);
}

static enum sw_err track_list(struct sw_store *st, struct sw_db_stmt *s, struct sw_track **ret_list,
			      size_t *ret_n)
{
	return list_rows(st, s, "track", sizeof(struct sw_track), track_fill, track_free_v,
			 (void **)ret_list, ret_n);
}

enum sw_err sw_store_track_scan(struct sw_store *st, enum sw_track_unit unit, int64_t after_id,
				int limit, struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = check_limit(st, limit)))
		return rc;
	if (!(s = stmt(st, unit == SW_TRACK_PARCEL ? ST_TRACK_SCAN_PARCELS
						   : ST_TRACK_SCAN_ORDERS)))
		return SW_ESTORE;
	if (b_int(s, ":after", after_id) | b_int(s, ":limit", limit))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_get(struct sw_store *st, enum sw_track_unit unit, int64_t id,
			       struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if (unit == SW_TRACK_PARCEL) {
		if (!(s = stmt(st, ST_TRACK_PARCEL_ID)))
			return SW_ESTORE;
		if (b_int(s, ":id", id))
			return bind_failed(st, s);
		return track_list(st, s, ret_list, ret_n);
	}
	/* an order: its parcels if it has any, else the order alone */
	if (!(s = stmt(st, ST_TRACK_ORDER_PARCELS)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	if ((rc = track_list(st, s, ret_list, ret_n)) || *ret_n)
		return rc;
	if (!(s = stmt(st, ST_TRACK_ORDER_ID)))
		return SW_ESTORE;
	if (b_int(s, ":id", id))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_parcel(struct sw_store *st, const char *courier,
				  const char *tracking_number, struct sw_track **ret_list,
				  size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;

	*ret_list = NULL;
	*ret_n = 0;
	if ((rc = parcel_key_check(st, courier, tracking_number)))
		return rc;
	if (!(s = stmt(st, ST_TRACK_PARCEL_KEY)))
		return SW_ESTORE;
	if (b_text(s, ":courier", courier) | b_text(s, ":tn", tracking_number))
		return bind_failed(st, s);
	return track_list(st, s, ret_list, ret_n);
}

enum sw_err sw_store_track_order(struct sw_store *st, const char *warehouse_id,
				 const char *order_id, struct sw_track **ret_list, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	int64_t id;

	*ret_list = NULL;
	*ret_n = 0;
	if (!nonempty(warehouse_id) || !nonempty(order_id))
		return set_err(st, SW_EINVAL, "order: warehouse and order id are required");
	if (!(s = stmt(st, ST_TRACK_ORDER_KEY)))
		return SW_ESTORE;
	if (b_text(s, ":wh", warehouse_id) | b_text(s, ":oid", order_id))
		return bind_failed(st, s);
	if ((rc = track_list(st, s, ret_list, ret_n)) || *ret_n == 0)
		return rc;
	id = (*ret_list)[0].order->id;
	sw_store_track_free(*ret_list, *ret_n);
	return sw_store_track_get(st, SW_TRACK_ORDER, id, ret_list, ret_n);
}

/* keys as the JSON array of [a, b] pairs the among statements read; NULL
 * (SW_EINVAL set, naming the key) if a part is empty. */
static char *track_key_list(struct sw_store *st, enum sw_track_unit unit,
			    const struct sw_track_key *keys, size_t n)
{
	struct sw_buf b;

	sw_buf_init(&b, SW_STORE_INT_JSON_MAX);
	sw_buf_adds(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (!nonempty(keys[i].a) || !nonempty(keys[i].b)) {
			sw_buf_free(&b);
			set_err(st, SW_EINVAL, "%s key %zu of %zu: both parts are required",
				unit == SW_TRACK_PARCEL ? "parcel" : "order", i, n);
			return NULL;
		}
		sw_buf_adds(&b, i ? ",[" : "[");
		sw_store_int_json_str(&b, keys[i].a);
		sw_buf_adds(&b, ",");
		sw_store_int_json_str(&b, keys[i].b);
		sw_buf_adds(&b, "]");
	}
	sw_buf_adds(&b, "]");
	return sw_buf_steal(&b, NULL);
}

/* Puts list[0..n-1] in key order (of[i] < n_keys, rows of one key keeping
 * their order): a counting sort, in place. */
static void track_key_order(struct sw_track *list, size_t *of, size_t n, size_t n_keys)
{
	size_t *start = xcalloc(n_keys + 1, sizeof(*start)), *to_of = xmalloc(n * sizeof(*of));
	struct sw_track *to = xmalloc(n * sizeof(*list));

	for (size_t i = 0; i < n; i++)
		start[of[i] + 1]++;
	for (size_t k = 0; k < n_keys; k++)
		start[k + 1] += start[k];
	for (size_t i = 0; i < n; i++) {
		size_t at = start[of[i]]++;

		to[at] = list[i];
		to_of[at] = of[i];
	}
	memcpy(list, to, n * sizeof(*list));
	memcpy(of, to_of, n * sizeof(*of));
	free(to);
	free(to_of);
	free(start);
}

/* Steps an among statement for n_keys keys: the rows as track_list would,
 * in key order, and each row's key index (its last column) into a new
 * *ret_of when wanted. */
static enum sw_err track_keyed(struct sw_store *st, struct sw_db_stmt *s, size_t n_keys,
			       struct sw_track **ret_list, size_t **ret_of, size_t *ret_n)
{
	int sorted = 1;
	struct sw_track *list = NULL;
	size_t *of = NULL, n = 0, alloc = 0;
	int rc;

	while ((rc = sw_db_step(s)) == SW_DB_ROW) {
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			list = xreallocarray(list, alloc, sizeof(*list));
			of = xreallocarray(of, alloc, sizeof(*of));
		}
		memset(&list[n], 0, sizeof(*list));
		track_fill(s, &list[n]);
		of[n] = (size_t)sw_db_column_int64(s, TRACK_KEY_COL);
		if (of[n] >= n_keys) /* json_each's key of a list: cannot be */
			of[n] = n_keys - 1;
		sorted &= n == 0 || of[n - 1] <= of[n];
		n++;
	}
	if (rc != SW_DB_DONE) {
		db_err(st, "track among");
		stmt_done(s);
		sw_store_track_free(list, n);
		free(of);
		return SW_ESTORE;
	}
	stmt_done(s);
	if (!sorted)
		track_key_order(list, of, n, n_keys);
	*ret_list = list;
	*ret_n = n;
	if (ret_of)
		*ret_of = of;
	else
		free(of);
	return SW_OK;
}

enum sw_err sw_store_track_among(struct sw_store *st, enum sw_track_unit unit,
				 const struct sw_track_key *keys, size_t n,
				 struct sw_track **ret_list, size_t **ret_of, size_t *ret_n)
{
	struct sw_db_stmt *s;
	enum sw_err rc;
	char *list;

	*ret_list = NULL;
	*ret_n = 0;
	if (ret_of)
		*ret_of = NULL;
	if (unit != SW_TRACK_PARCEL && unit != SW_TRACK_ORDER)
		return set_err(st, SW_EINVAL, "track among: unit %d", (int)unit);
	if (n == 0)
		return SW_OK;
	if (!(list = track_key_list(st, unit, keys, n)))
		return SW_EINVAL;
	if (!(s = stmt(st,
		       unit == SW_TRACK_PARCEL ? ST_TRACK_AMONG_PARCELS : ST_TRACK_AMONG_ORDERS))) {
		free(list);
		return SW_ESTORE;
	}
	rc = b_text(s, ":list", list) != SW_DB_OK ? bind_failed(st, s)
						   : track_keyed(st, s, n, ret_list, ret_of, ret_n);
	free(list);
	return rc;
}
