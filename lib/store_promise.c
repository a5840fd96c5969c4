/*
 * store_promise.c - the promise report (see store_promise.h): SQLite read
 * of the judged orders, and their grouping into cells.
 *
 * Design:
 * - Two steps.  sw_store_promise_read does everything that needs the
 *   store: one statement walks the orders whose promise falls in the range
 *   (the orders_delivery index, a day of margin each side for the zones)
 *   with their parcels (parcels_order), one row per parcel, grouped per
 *   order in C: its day, its verdict, its deciding courier; a late order's
 *   slips are then read by entity (alerts' unique index leads with it).
 *   The result is a compact list of judged orders and parcels whose
 *   strings are interned in one pool.  sw_promise_aggregate groups that
 *   list any way without the store, so a page of fifteen tables reads the
 *   store once.
 * - Periods are computed in C with lib/swtime (a zone's local days,
 *   Monday weeks, months), never with SQLite's date functions, which know
 *   no zones.
 * - The destination key is sw_store_stage_dest's (the lanes of the alert
 *   engine), built in C from the three columns.
 * - Medians are taken by sorting (cell, value) pairs once per report.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"

#include "lib/store.h"
#include "lib/store_int.h"
#include "lib/store_promise.h"
#include "lib/store_stage.h"
#include "lib/xmalloc.h"

#define DAY_S	 INT64_C(86400)
#define MARGIN_S (2 * DAY_S) /* a date promise's end of day vs the zone's */

/* ---- names ------------------------------------------------------------------- */

static const char *const by_names[SW_PROMISE_BY_LAST] = {
    "none", "warehouse", "courier", "service", "lane", "region",
};
static const char *const period_names[SW_PROMISE_PERIOD_LAST] = {"day", "week", "month"};
static const char *const reason_names[SW_REASON_LAST] = {
    "warehouse", "first_mile", "line_haul", "last_mile", "courier_exception", "unknown",
};

const char *sw_promise_by_name(enum sw_promise_by by)
{
	return (unsigned)by < SW_PROMISE_BY_LAST ? by_names[by] : "?";
}

const char *sw_promise_period_name(enum sw_promise_period p)
{
	return (unsigned)p < SW_PROMISE_PERIOD_LAST ? period_names[p] : "?";
}

const char *sw_promise_reason_name(enum sw_promise_reason r)
{
	return (unsigned)r < SW_REASON_LAST ? reason_names[r] : "?";
}

static int name_at(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

enum sw_err sw_promise_by_parse(const char *name, enum sw_promise_by *ret)
{
	int i = name_at(by_names, SW_PROMISE_BY_LAST, name);

	if (i < 0)
		return SW_EINVAL;
	*ret = (enum sw_promise_by)i;
	return SW_OK;
}

enum sw_err sw_promise_period_parse(const char *name, enum sw_promise_period *ret)
{
	int i = name_at(period_names, SW_PROMISE_PERIOD_LAST, name);

	if (i < 0)
		return SW_EINVAL;
	*ret = (enum sw_promise_period)i;
	return SW_OK;
}

/* ---- periods ------------------------------------------------------------------ */

/* Days since 1970-01-01 of the Monday of d's week (1970-01-05 was one). */
static int64_t monday_of(int64_t days)
{
	int64_t since = (days - 4) % 7;

	return days - (since < 0 ? since + 7 : since);
}

void sw_promise_period_start(enum sw_promise_period p, const struct sw_date *d, struct sw_date *ret)
{
	*ret = *d;
	if (p == SW_PROMISE_WEEK)
		sw_date_from_days(monday_of(sw_date_to_days(d)), ret);
	else if (p == SW_PROMISE_MONTH)
		ret->day = 1;
}

/* The first day of the period after the one starting at start. */
static void period_next(enum sw_promise_period p, const struct sw_date *start, struct sw_date *ret)
{
	if (p == SW_PROMISE_MONTH) {
		*ret = *start;
		ret->day = 1;
		if (++ret->month > 12) {
			ret->month = 1;
			ret->year++;
		}
		return;
	}
	sw_date_add_days(start, p == SW_PROMISE_WEEK ? 7 : 1, ret);
}

void sw_promise_period_label(enum sw_promise_period p, const struct sw_date *start, char *buf,
			     size_t len)
{
	struct sw_date thu, jan1;

	if (p == SW_PROMISE_WEEK) {
		/* the ISO week belongs to the year of its Thursday */
		sw_date_from_days(monday_of(sw_date_to_days(start)) + 3, &thu);
		jan1 = (struct sw_date){thu.year, 1, 1};
		snprintf(buf, len, "%04d-W%02d", thu.year,
			 (int)((sw_date_to_days(&thu) - sw_date_to_days(&jan1)) / 7 + 1));
	} else if (p == SW_PROMISE_MONTH) {
		snprintf(buf, len, "%04d-%02d", start->year, start->month);
	} else {
		snprintf(buf, len, "%04d-%02d-%02d", start->year, start->month, start->day);
	}
}

/* ---- interned strings ---------------------------------------------------------- */

/* A set of strings, each kept once: the data's keys compare by pointer. */
struct pool {
	char **slot; /* open addressing; NULL: free */
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static void pool_grow(struct pool *p)
{
	struct pool bigger = {xcalloc(p->cap ? p->cap * 2 : 64, sizeof(char *)), 0, 0};

	bigger.cap = p->cap ? p->cap * 2 : 64;
	for (size_t i = 0; i < p->cap; i++) {
		size_t j;

		if (!p->slot[i])
			continue;
		for (j = hash(p->slot[i]) & (bigger.cap - 1); bigger.slot[j];
		     j = (j + 1) & (bigger.cap - 1))
			;
		bigger.slot[j] = p->slot[i];
	}
	bigger.n = p->n;
	free(p->slot);
	*p = bigger;
}

/* The pool's copy of s (NULL is ""). */
static const char *intern(struct pool *p, const char *s)
{
	size_t i;

	if (!s)
		s = "";
	if (2 * (p->n + 1) > p->cap)
		pool_grow(p);
	for (i = hash(s) & (p->cap - 1); p->slot[i]; i = (i + 1) & (p->cap - 1))
		if (strcmp(p->slot[i], s) == 0)
			return p->slot[i];
	p->n++;
	return p->slot[i] = xstrdup(s);
}

static void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->slot[i]);
	free(p->slot);
}

/* ---- the judged orders ------------------------------------------------------------ */

enum verdict { V_ON_TIME, V_LATE, V_PENDING };

struct jparcel {
	const char *courier; /* pooled */
	bool has_eta;	     /* delivered, with a first ETA */
	int32_t eta_err;     /* delivery date - first ETA, days */
	bool warned;	     /* a late parcel with an eta_slip or late slip */
	int64_t lead;	     /* then: promise - its first detection */
};

struct jorder {
	const char *key[SW_PROMISE_BY_LAST]; /* pooled; [NONE] "" */
	int64_t day;			     /* the promise's day, days since 1970 */
	enum verdict verdict;
	enum sw_promise_reason reason; /* late only */
	size_t parcel0, n_parcels;     /* in data.parcels */
};

struct sw_promise_data {
	struct sw_date from, to;
	struct jorder *orders;
	size_t n_orders, cap_orders;
	struct jparcel *parcels;
	size_t n_parcels, cap_parcels;
	struct pool pool;
};

void sw_promise_data_free(struct sw_promise_data *d)
{
	if (!d)
		return;
	free(d->orders);
	free(d->parcels);
	pool_free(&d->pool);
	free(d);
}

/* ---- reading --------------------------------------------------------------------- */

/*
 * Orders promised in [:lo, :hi) (orders_delivery), not cancelled, with a
 * promise, one row per parcel the courier did not cancel (parcels_order),
 * an order without any as one row of NULLs.  Rows of one order together.
 */
static const char orders_sql[] =
    "SELECT o.id, o.warehouse_id, o.order_id, o.service_level, o.dest_country,"
    " o.dest_postal_code, o.dest_city, o.promised_delivery_kind, o.promised_delivery_text,"
    " o.promised_delivery_at, p.courier, p.tracking_number, p.delivered_at, p.delivered_off,"
    " p.first_attempt_at, p.first_eta_date"
    " FROM orders o LEFT JOIN parcels p ON p.order_ref = o.id AND p.status <> 'cancelled'"
    " WHERE o.promised_delivery_at >= :lo AND o.promised_delivery_at < :hi"
    " AND o.cancelled_at IS NULL AND o.promised_delivery_kind IS NOT NULL"
    " ORDER BY o.promised_delivery_at, o.id, p.id";

/* A unit's slips, through alerts' unique index (entity, kind, promise). */
static const char slips_sql[] = "SELECT kind, stage, detected_at FROM alerts WHERE entity = :e"
				" ORDER BY detected_at, id";

enum {
	C_ID,
	C_WH,
	C_OID,
	C_SERVICE,
	C_COUNTRY,
	C_POSTAL,
	C_CITY,
	C_KIND,
	C_TEXT,
	C_PD,
	C_COURIER,
	C_TN,
	C_DELIV,
	C_DELIV_OFF,
	C_ATTEMPT,
	C_FIRST_ETA,
};

/* One parcel of the order being read. */
struct rparcel {
	char *courier, *tn;
	int64_t done; /* delivered or first attempt, the earlier; 0: neither */
	struct jparcel j;
};

/* The order being read, until its last row. */
struct rorder {
	int64_t id;
	char *wh, *oid;
	int64_t pd;
	int64_t day;
	bool in_range;
	const char *key[SW_PROMISE_BY_LAST];
	struct rparcel *p;
	size_t n, cap;
};

struct reader {
	struct sw_store *st;
	const struct sw_promise_query *q;
	int64_t from_days, to_days;
	struct sw_db_stmt *slips;
	struct sw_promise_data *d;
	struct rorder cur;
};

static const char *text(struct sw_db_stmt *s, int i)
{
	return (const char *)sw_db_column_text(s, i);
}

static void rorder_clear(struct rorder *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->p[i].courier);
		free(o->p[i].tn);
	}
	free(o->p);
	free(o->wh);
	free(o->oid);
	memset(o, 0, sizeof(*o));
}

/* The promise's day: a date promise's own date, else the instant's date
 * in the report's zone. */
static enum sw_err promise_day(struct reader *r, struct sw_db_stmt *s, int64_t *ret)
{
	const char *kind = text(s, C_KIND), *t = text(s, C_TEXT);
	struct sw_tz_local local;
	struct sw_date d;

	if (kind && strcmp(kind, "date") == 0 && t && sw_date_parse(t, &d, NULL, 0) == SW_OK) {
		*ret = sw_date_to_days(&d);
		return SW_OK;
	}
	if (sw_tz_utc_to_local(r->q->zone, sw_db_column_int64(s, C_PD), &local) != SW_OK)
		return sw_store_int_err(r->st, SW_ERANGE,
					"promise report: order %s/%s: promise %lld"
					" has no date in %s",
					text(s, C_WH), text(s, C_OID),
					(long long)sw_db_column_int64(s, C_PD), r->q->zone);
	*ret = sw_date_to_days(&local.date);
	return SW_OK;
}

/* Starts the order of row s. */
static enum sw_err order_begin(struct reader *r, struct sw_db_stmt *s)
{
	struct rorder *o = &r->cur;
	struct pool *pool = &r->d->pool;
	char dest[SW_STAGE_DEST_MAX], *lane;
	enum sw_err rc;

	o->id = sw_db_column_int64(s, C_ID);
	o->pd = sw_db_column_int64(s, C_PD);
	if ((rc = promise_day(r, s, &o->day)))
		return rc;
	o->in_range = o->day >= r->from_days && o->day < r->to_days;
	if (!o->in_range)
		return SW_OK;
	o->wh = xstrdup(text(s, C_WH));
	o->oid = xstrdup(text(s, C_OID));
	sw_store_stage_dest(text(s, C_COUNTRY), text(s, C_POSTAL), text(s, C_CITY), dest,
			    sizeof(dest));
	lane = xasprintf("%s -> %s", o->wh, dest[0] ? dest : "?");
	o->key[SW_PROMISE_BY_NONE] = intern(pool, "");
	o->key[SW_PROMISE_BY_WAREHOUSE] = intern(pool, o->wh);
	o->key[SW_PROMISE_BY_SERVICE] = intern(pool, text(s, C_SERVICE));
	o->key[SW_PROMISE_BY_LANE] = intern(pool, lane);
	o->key[SW_PROMISE_BY_REGION] = intern(pool, dest);
	o->key[SW_PROMISE_BY_COURIER] = intern(pool, "");
	free(lane);
	return SW_OK;
}

/* Adds the parcel of row s (if any) to the current order. */
static void order_parcel(struct reader *r, struct sw_db_stmt *s)
{
	struct rorder *o = &r->cur;
	struct rparcel *p;
	int64_t deliv = sw_db_column_int64(s, C_DELIV), att = sw_db_column_int64(s, C_ATTEMPT);
	struct sw_date eta, got;

	if (!o->in_range || sw_db_column_type(s, C_COURIER) == SW_DB_NULL)
		return;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 4;
		o->p = xreallocarray(o->p, o->cap, sizeof(*o->p));
	}
	p = &o->p[o->n++];
	memset(p, 0, sizeof(*p));
	p->courier = xstrdup(text(s, C_COURIER));
	p->tn = xstrdup(text(s, C_TN));
	p->done = deliv && (!att || deliv < att) ? deliv : att;
	p->j.courier = intern(&r->d->pool, p->courier);
	if (deliv && text(s, C_FIRST_ETA) &&
	    sw_date_parse(text(s, C_FIRST_ETA), &eta, NULL, 0) == SW_OK) {
		/* the delivery's date as the courier wrote it */
		int64_t local = deliv + sw_db_column_int64(s, C_DELIV_OFF);
		int64_t days = local / DAY_S - (local % DAY_S < 0);

		sw_date_from_days(days, &got);
		p->j.has_eta = true;
		p->j.eta_err = (int32_t)(sw_date_to_days(&got) - sw_date_to_days(&eta));
	}
}

static bool is_leg(const char *stage)
{
	return stage && (strcmp(stage, "warehouse") == 0 || strcmp(stage, "first_mile") == 0 ||
			 strcmp(stage, "line_haul") == 0 || strcmp(stage, "last_mile") == 0);
}

/* What the slips of one late order say, as they are read. */
struct blame {
	bool exception;
	char late_stage[16]; /* the latest late slip's stage, if a leg */
	char any_stage[16];  /* the latest slip's stage that is a leg */
};

/* Reads the slips of entity into b; *ret_warn_at (may be NULL) gets the
 * earliest detection of an eta_slip or late slip (0: none). */
static enum sw_err slips_of(struct reader *r, const char *entity, struct blame *b,
			    int64_t *ret_warn_at)
{
	struct sw_db_stmt *s = r->slips;
	int step;

	if (ret_warn_at)
		*ret_warn_at = 0;
	sw_db_reset(s);
	if (sw_store_int_bind_text(s, ":e", entity) != SW_DB_OK)
		return sw_store_int_dberr(r->st, "promise report: slips");
	while ((step = sw_db_step(s)) == SW_DB_ROW) {
		const char *kind = text(s, 0), *stage = text(s, 1);
		int64_t at = sw_db_column_int64(s, 2);

		if (strcmp(kind, "exception") == 0 || strcmp(kind, "returning") == 0)
			b->exception = true;
		if (is_leg(stage)) {
			snprintf(b->any_stage, sizeof(b->any_stage), "%s", stage);
			if (strcmp(kind, "late") == 0)
				snprintf(b->late_stage, sizeof(b->late_stage), "%s", stage);
		}
		if (ret_warn_at && (strcmp(kind, "eta_slip") == 0 || strcmp(kind, "late") == 0) &&
		    (*ret_warn_at == 0 || at < *ret_warn_at))
			*ret_warn_at = at;
	}
	if (step != SW_DB_DONE)
		return sw_store_int_dberr(r->st, "promise report: slips");
	return SW_OK;
}

static enum sw_promise_reason reason_of(const struct blame *b)
{
	const char *stage = b->late_stage[0] ? b->late_stage : b->any_stage;

	if (b->exception)
		return SW_REASON_COURIER_EXCEPTION;
	if (strcmp(stage, "warehouse") == 0)
		return SW_REASON_WAREHOUSE;
	if (strcmp(stage, "first_mile") == 0)
		return SW_REASON_FIRST_MILE;
	if (strcmp(stage, "line_haul") == 0)
		return SW_REASON_LINE_HAUL;
	if (strcmp(stage, "last_mile") == 0)
		return SW_REASON_LAST_MILE;
	return SW_REASON_UNKNOWN;
}

/* A late order's reason from its slips and its parcels', and each late
 * parcel's warning. */
static enum sw_err blame_late(struct reader *r, struct jorder *jo)
{
	struct rorder *o = &r->cur;
	struct blame b = {0};
	char *entity = xasprintf("order:%s:%s", o->wh, o->oid);
	enum sw_err rc = slips_of(r, entity, &b, NULL);

	free(entity);
	for (size_t i = 0; rc == SW_OK && i < o->n; i++) {
		struct rparcel *p = &o->p[i];
		bool late = p->done ? p->done > o->pd : o->pd < r->q->now;
		int64_t warn_at;

		entity = xasprintf("parcel:%s:%s", p->courier, p->tn);
		rc = slips_of(r, entity, &b, &warn_at);
		free(entity);
		if (late && warn_at) {
			p->j.warned = true;
			p->j.lead = o->pd - warn_at;
		}
	}
	jo->reason = reason_of(&b);
	return rc;
}

/* The verdict of the current order, and its deciding parcel's courier:
 * the last one done when all are, else the last one recorded not done. */
static enum verdict judge(struct reader *r, const char **ret_courier)
{
	struct rorder *o = &r->cur;
	int64_t last = 0;
	bool all = o->n > 0;

	*ret_courier = NULL;
	for (size_t i = 0; i < o->n; i++)
		if (!o->p[i].done) {
			all = false;
			*ret_courier = o->p[i].j.courier;
		}
	for (size_t i = 0; all && i < o->n; i++)
		if (o->p[i].done >= last) {
			last = o->p[i].done;
			*ret_courier = o->p[i].j.courier;
		}
	if (all)
		return last <= o->pd ? V_ON_TIME : V_LATE;
	return o->pd < r->q->now ? V_LATE : V_PENDING;
}

/* Ends the current order: judged, blamed, stored. */
static enum sw_err order_end(struct reader *r)
{
	struct sw_promise_data *d = r->d;
	struct rorder *o = &r->cur;
	struct jorder *jo;
	const char *courier;
	enum sw_err rc = SW_OK;

	if (!o->in_range) {
		rorder_clear(o);
		return SW_OK;
	}
	if (d->n_orders == d->cap_orders) {
		d->cap_orders = d->cap_orders ? d->cap_orders * 2 : 256;
		d->orders = xreallocarray(d->orders, d->cap_orders, sizeof(*d->orders));
	}
	jo = &d->orders[d->n_orders++];
	memset(jo, 0, sizeof(*jo));
	memcpy(jo->key, o->key, sizeof(jo->key));
	jo->day = o->day;
	jo->verdict = judge(r, &courier);
	if (courier)
		jo->key[SW_PROMISE_BY_COURIER] = courier;
	if (jo->verdict == V_LATE)
		rc = blame_late(r, jo);
	if (d->n_parcels + o->n > d->cap_parcels) {
		d->cap_parcels = (d->cap_parcels ? d->cap_parcels * 2 : 256) + o->n;
		d->parcels = xreallocarray(d->parcels, d->cap_parcels, sizeof(*d->parcels));
	}
	jo->parcel0 = d->n_parcels;
	jo->n_parcels = o->n;
	for (size_t i = 0; i < o->n; i++)
		d->parcels[d->n_parcels++] = o->p[i].j;
	rorder_clear(o);
	return rc;
}

static enum sw_err read_rows(struct reader *r, struct sw_db_stmt *s)
{
	enum sw_err rc = SW_OK;
	bool have = false;
	int step;

	while (rc == SW_OK && (step = sw_db_step(s)) == SW_DB_ROW) {
		int64_t id = sw_db_column_int64(s, C_ID);

		if (have && id != r->cur.id)
			rc = order_end(r);
		if (rc == SW_OK && (!have || id != r->cur.id))
			rc = order_begin(r, s);
		have = true;
		if (rc == SW_OK)
			order_parcel(r, s);
	}
	if (rc == SW_OK && step != SW_DB_DONE)
		rc = sw_store_int_dberr(r->st, "promise report");
	if (rc == SW_OK && have)
		rc = order_end(r);
	rorder_clear(&r->cur);
	return rc;
}

static enum sw_err query_check(struct sw_store *st, const struct sw_promise_query *q)
{
	int64_t span;
	enum sw_err rc;

	if (!q || !q->zone || q->now <= 0)
		return sw_store_int_err(st, SW_EINVAL, "promise report: no query, zone or time");
	if (!sw_date_valid(&q->from) || !sw_date_valid(&q->to))
		return sw_store_int_err(st, SW_EINVAL, "promise report: invalid date");
	span = sw_date_to_days(&q->to) - sw_date_to_days(&q->from);
	if (span <= 0)
		return sw_store_int_err(
		    st, SW_EINVAL, "promise report: the end of the range must be after its start");
	if (span > SW_PROMISE_MAX_DAYS)
		return sw_store_int_err(st, SW_ERANGE, "promise report: %lld days, at most %d",
					(long long)span, SW_PROMISE_MAX_DAYS);
	if ((rc = sw_tz_check(q->zone)))
		return sw_store_int_err(st, rc, "promise report: time zone '%.255s': %s", q->zone,
					sw_strerror(rc));
	return SW_OK;
}

/* Runs the statements within one read snapshot. */
static enum sw_err read_all(struct reader *r, int64_t lo, int64_t hi)
{
	struct sw_db_stmt *s = sw_store_int_prepare(r->st, orders_sql, "promise report");
	enum sw_err rc;

	if (!s)
		return SW_ESTORE;
	if (!(r->slips = sw_store_int_prepare(r->st, slips_sql, "promise report: slips"))) {
		sw_db_finalize(s);
		return SW_ESTORE;
	}
	if (sw_store_int_bind_int(s, ":lo", lo) | sw_store_int_bind_int(s, ":hi", hi))
		rc = sw_store_int_dberr(r->st, "promise report");
	else
		rc = read_rows(r, s);
	sw_db_finalize(r->slips);
	sw_db_finalize(s);
	return rc;
}

enum sw_err sw_store_promise_read(struct sw_store *st, const struct sw_promise_query *q,
				  struct sw_promise_data **ret)
{
	struct reader r = {.st = st, .q = q};
	struct sw_db *db = sw_store_int_db(st);
	int64_t lo, hi;
	int own;
	enum sw_err rc;

	*ret = NULL;
	if ((rc = query_check(st, q)))
		return rc;
	if (sw_tz_start_of_day(q->zone, &q->from, &lo) || sw_tz_start_of_day(q->zone, &q->to, &hi))
		return sw_store_int_err(st, SW_ERANGE, "promise report: range out of the zone's");
	r.from_days = sw_date_to_days(&q->from);
	r.to_days = sw_date_to_days(&q->to);
	r.d = xcalloc(1, sizeof(*r.d));
	r.d->from = q->from;
	r.d->to = q->to;
	own = sw_db_get_autocommit(db);
	if (own && sw_db_exec(db, "BEGIN") != SW_DB_OK) {
		sw_promise_data_free(r.d);
		return sw_store_int_dberr(st, "promise report: begin");
	}
	rc = read_all(&r, lo - MARGIN_S, hi + MARGIN_S);
	if (own && !sw_db_get_autocommit(db))
		sw_db_exec(db, "ROLLBACK");
	if (rc) {
		sw_promise_data_free(r.d);
		return rc;
	}
	*ret = r.d;
	return SW_OK;
}

/* ---- grouping --------------------------------------------------------------------- */

/* One value for a median: the cell it belongs to and the value. */
struct mpair {
	size_t cell;
	int64_t v;
};

struct agg {
	const struct sw_promise_data *d;
	struct sw_promise_report *r;
	size_t n_all;		     /* cells, then totals, then total */
	struct sw_promise_cell **at; /* every cell by index */
	int64_t *abs_err;	     /* per cell: sum of |eta_err| */
	struct mpair *m;
	size_t n_m, cap_m;
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct keys of the dimension, sorted. */
static void collect_keys(const struct sw_promise_data *d, struct sw_promise_report *r)
{
	size_t n = 0, cap = d->n_orders + 1;
	const char **all;

	if (r->by == SW_PROMISE_BY_COURIER)
		cap += d->n_parcels;
	all = xreallocarray(NULL, cap, sizeof(*all));
	all[n++] = ""; /* NONE's one key; dropped below for the others */
	for (size_t i = 0; i < d->n_orders; i++)
		all[n++] = d->orders[i].key[r->by];
	for (size_t i = 0; r->by == SW_PROMISE_BY_COURIER && i < d->n_parcels; i++)
		all[n++] = d->parcels[i].courier;
	qsort(all + 1, n - 1, sizeof(*all), cmp_key);
	r->keys = xreallocarray(NULL, n, sizeof(*r->keys));
	for (size_t i = r->by == SW_PROMISE_BY_NONE ? 0 : 1; i < n; i++)
		if (r->n_keys == 0 || strcmp(r->keys[r->n_keys - 1], all[i]) != 0)
			r->keys[r->n_keys++] = xstrdup(all[i]);
	free(all);
}

static size_t key_index(const struct sw_promise_report *r, const char *key)
{
	const char *const *k = bsearch(&key, r->keys, r->n_keys, sizeof(*r->keys), cmp_key);

	return (size_t)(k - (const char *const *)r->keys);
}

static void collect_periods(const struct sw_promise_data *d, struct sw_promise_report *r)
{
	struct sw_date p;
	size_t cap = 0;

	sw_promise_period_start(r->period, &d->from, &p);
	while (sw_date_cmp(&p, &d->to) < 0) {
		if (r->n_periods == cap) {
			cap = cap ? cap * 2 : 16;
			r->periods = xreallocarray(r->periods, cap, sizeof(*r->periods));
		}
		r->periods[r->n_periods++] = p;
		period_next(r->period, &p, &p);
	}
}

static size_t period_index(const struct sw_promise_report *r, int64_t day)
{
	struct sw_date d, first = r->periods[0];

	sw_date_from_days(day, &d);
	if (r->period == SW_PROMISE_MONTH)
		return (size_t)((d.year - first.year) * 12 + d.month - first.month);
	if (r->period == SW_PROMISE_WEEK)
		return (size_t)((monday_of(day) - sw_date_to_days(&first)) / 7);
	return (size_t)(day - sw_date_to_days(&first));
}

/* Adds a median value to cell i. */
static void median_add(struct agg *a, size_t i, int64_t v)
{
	if (a->n_m == a->cap_m) {
		a->cap_m = a->cap_m ? a->cap_m * 2 : 64;
		a->m = xreallocarray(a->m, a->cap_m, sizeof(*a->m));
	}
	a->m[a->n_m++] = (struct mpair){i, v};
}

/* A parcel's ETA figures into cell i. */
static void add_parcel(struct agg *a, size_t i, const struct jparcel *p)
{
	struct sw_promise_cell *c = a->at[i];

	if (p->has_eta) {
		c->eta_parcels++;
		c->eta_met += p->eta_err <= 0;
		a->abs_err[i] += p->eta_err < 0 ? -p->eta_err : p->eta_err;
	}
	if (p->warned) {
		c->warned++;
		median_add(a, i, p->lead);
	}
}

static void add_order(struct agg *a, size_t i, const struct jorder *o)
{
	struct sw_promise_cell *c = a->at[i];

	if (o->verdict == V_ON_TIME)
		c->on_time++;
	else if (o->verdict == V_LATE) {
		c->late++;
		c->reason[o->reason]++;
	} else
		c->pending++;
}

/* One order and its parcels into its cell, its period's total and the
 * total. */
static void add(struct agg *a, const struct jorder *o)
{
	struct sw_promise_report *r = a->r;
	size_t pi = period_index(r, o->day), np = r->n_periods;
	size_t cell = key_index(r, o->key[r->by]) * np + pi;
	size_t tot = r->n_keys * np + pi, all = a->n_all - 1;

	add_order(a, cell, o);
	add_order(a, tot, o);
	add_order(a, all, o);
	for (size_t j = 0; j < o->n_parcels; j++) {
		const struct jparcel *p = &a->d->parcels[o->parcel0 + j];

		if (r->by == SW_PROMISE_BY_COURIER)
			add_parcel(a, key_index(r, p->courier) * np + pi, p);
		else
			add_parcel(a, cell, p);
		add_parcel(a, tot, p);
		add_parcel(a, all, p);
	}
}

static int cmp_mpair(const void *x, const void *y)
{
	const struct mpair *a = x, *b = y;

	if (a->cell != b->cell)
		return a->cell < b->cell ? -1 : 1;
	return (a->v > b->v) - (a->v < b->v);
}

/* Rates, marks, means and medians of every cell. */
static void finish(struct agg *a)
{
	if (a->n_m > 1)
		qsort(a->m, a->n_m, sizeof(*a->m), cmp_mpair);
	for (size_t i = 0, j = 0; i < a->n_all; i++) {
		struct sw_promise_cell *c = a->at[i];
		size_t k = j;

		c->judged = c->on_time + c->late;
		c->rate = c->judged ? 100.0 * (double)c->on_time / (double)c->judged : -1;
		c->below = c->judged && c->rate < a->r->target;
		c->eta_rate =
		    c->eta_parcels ? 100.0 * (double)c->eta_met / (double)c->eta_parcels : -1;
		c->eta_error_days =
		    c->eta_parcels ? (double)a->abs_err[i] / (double)c->eta_parcels : -1;
		while (k < a->n_m && a->m[k].cell == i)
			k++;
		if (k > j) /* the middle one, or the mean of the two middle ones */
			c->warn_median_s =
			    (a->m[j + (k - j - 1) / 2].v + a->m[j + (k - j) / 2].v) / 2;
		j = k;
	}
}

enum sw_err sw_promise_aggregate(const struct sw_promise_data *d, enum sw_promise_by by,
				 enum sw_promise_period period, double target,
				 struct sw_promise_report **ret)
{
	struct sw_promise_report *r;
	struct agg a = {.d = d};
	size_t nc;

	*ret = NULL;
	if (!d || (unsigned)by >= SW_PROMISE_BY_LAST || (unsigned)period >= SW_PROMISE_PERIOD_LAST)
		return SW_EINVAL;
	if (!(target >= 0 && target <= 100))
		return SW_ERANGE;
	r = a.r = xcalloc(1, sizeof(*r));
	r->by = by;
	r->period = period;
	r->target = target;
	collect_periods(d, r);
	collect_keys(d, r);
	nc = r->n_keys * r->n_periods;
	r->cells = xcalloc(nc ? nc : 1, sizeof(*r->cells));
	r->totals = xcalloc(r->n_periods, sizeof(*r->totals));
	a.n_all = nc + r->n_periods + 1;
	a.at = xcalloc(a.n_all, sizeof(*a.at));
	a.abs_err = xcalloc(a.n_all, sizeof(*a.abs_err));
	for (size_t i = 0; i < nc; i++)
		a.at[i] = &r->cells[i];
	for (size_t i = 0; i < r->n_periods; i++)
		a.at[nc + i] = &r->totals[i];
	a.at[a.n_all - 1] = &r->total;
	for (size_t i = 0; i < d->n_orders; i++)
		add(&a, &d->orders[i]);
	finish(&a);
	free(a.at);
	free(a.abs_err);
	free(a.m);
	*ret = r;
	return SW_OK;
}

enum sw_err sw_store_promise_report(struct sw_store *st, const struct sw_promise_query *q,
				    enum sw_promise_by by, enum sw_promise_period period,
				    double target, struct sw_promise_report **ret)
{
	struct sw_promise_data *d;
	enum sw_err rc;

	*ret = NULL;
	if ((unsigned)by >= SW_PROMISE_BY_LAST || (unsigned)period >= SW_PROMISE_PERIOD_LAST)
		return sw_store_int_err(st, SW_EINVAL, "promise report: bad grouping");
	if (!(target >= 0 && target <= 100))
		return sw_store_int_err(st, SW_ERANGE, "promise report: target not in 0..100");
	if ((rc = sw_store_promise_read(st, q, &d)))
		return rc;
	rc = sw_promise_aggregate(d, by, period, target, ret);
	sw_promise_data_free(d);
	return rc;
}

bool sw_promise_cell_used(const struct sw_promise_cell *c)
{
	return c->judged || c->pending || c->eta_parcels || c->warned;
}

void sw_promise_report_free(struct sw_promise_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_keys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->periods);
	free(r->cells);
	free(r->totals);
	free(r);
}
