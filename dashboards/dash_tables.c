/*
 * dash_tables.c - the late and at-risk units of a generation and their
 * tables (see dash_tables.h).
 *
 * Design: one sw_store_report_late read of every unit (up to
 * SW_REPORT_MAX_ROWS), kept in the report's order (most overdue first).
 * A table is a filter over that one list, so late.html and the entity
 * pages agree with each other and with the headline's counts.  Which rows
 * any table shows is known before rendering (a row is shown when it is
 * among the first max_rows of all, of its warehouse or of its courier),
 * and only those get their details read: one timeline per linked unit,
 * or its parcel and open slips for a parcel without an order.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboards/dash_html.h"
#include "dashboards/dash_tables.h"
#include "lib/store_report.h"
#include "lib/urltmpl.h"
#include "lib/xmalloc.h"

/* What a shown row adds to its unit. */
struct detail {
	char *customer;	    /* the order's customer name; NULL: unknown */
	char *courier_text; /* the parcel's status as the courier words it */
	char *stage;	    /* the stage that ran over; NULL: none */
	double ratio;	    /* its duration / the lane's p90; 0: not known */
	int64_t told_at;    /* latest customer notice sent; 0: none */
	char *told_kind;    /* its slip kind */
	char *told_channel;
};

struct sw_dash_late {
	struct sw_report_late *units; /* the report's order */
	size_t n;
	int64_t total; /* units matching, before the read's limit */
	bool *shown;   /* per unit: some table shows it */
	struct detail *details;
	int64_t now;
	char *tracking_url;
	size_t max_rows;
};

/* ---- which rows are shown ----------------------------------------------------- */

/* The key a filter compares (NULL: the unit has none). */
static const char *unit_key(const struct sw_report_late *u, enum sw_dash_filter f)
{
	return f == SW_DASH_WAREHOUSE ? u->warehouse_id : f == SW_DASH_COURIER ? u->courier : NULL;
}

static bool selected(const struct sw_report_late *u, enum sw_dash_filter f, const char *id)
{
	const char *k;

	if (f == SW_DASH_ALL)
		return true;
	k = unit_key(u, f);
	return k && strcmp(k, id) == 0;
}

/* A unit's key and place, for ranking the units of each key. */
struct ranked {
	const char *key;
	size_t i;
};

/* By key, then by report order. */
static int by_key(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Marks the first max_rows units of each warehouse (or courier) shown. */
static void mark_ranks(struct sw_dash_late *l, enum sw_dash_filter f)
{
	struct ranked *r = xreallocarray(NULL, l->n ? l->n : 1, sizeof(*r));
	size_t n = 0, rank = 0;

	for (size_t i = 0; i < l->n; i++)
		if (unit_key(&l->units[i], f))
			r[n++] = (struct ranked){unit_key(&l->units[i], f), i};
	if (n > 1)
		qsort(r, n, sizeof(*r), by_key);
	for (size_t i = 0; i < n; i++) {
		rank = i && strcmp(r[i - 1].key, r[i].key) == 0 ? rank + 1 : 0;
		if (rank < l->max_rows)
			l->shown[r[i].i] = true;
	}
	free(r);
}

/* ---- details ------------------------------------------------------------------- */

/* Keeps the stage of the open slip that ran over most: a larger ratio
 * replaces a smaller one or none; the first stage without a ratio stays
 * until one with a ratio comes. */
static void pick_stage(struct detail *d, const char *stage, double ratio)
{
	if (!stage || !*stage)
		return;
	if (d->stage && ratio <= d->ratio)
		return;
	free(d->stage);
	d->stage = xstrdup(stage);
	d->ratio = ratio;
}

/* The latest customer notice sent about entity or its order. */
static void pick_told(struct detail *d, const struct sw_report_outbox *m, const char *entity,
		      const char *order_entity)
{
	if (m->receiver || m->sent_at <= 0 || m->sent_at <= d->told_at)
		return;
	if (strcmp(m->entity, entity) != 0 && strcmp(m->entity, order_entity) != 0)
		return;
	d->told_at = m->sent_at;
	free(d->told_kind);
	free(d->told_channel);
	d->told_kind = xstrdup(m->slip_kind);
	d->told_channel = xstrdup(m->channel);
}

/* The details of a unit linked to an order, from its timeline. */
static enum sw_err order_detail(struct sw_store *st, const struct sw_report_late *u,
				struct detail *d)
{
	struct sw_report_timeline *t;
	char *order_entity;
	enum sw_err rc = sw_store_report_timeline(st, u->warehouse_id, u->order_id, &t);

	if (rc == SW_ENOTFOUND)
		return SW_OK; /* gone since the report: nothing to add */
	if (rc)
		return rc;
	order_entity = xasprintf("order:%s:%s", u->warehouse_id, u->order_id);
	if (t->order->customer_name)
		d->customer = xstrdup(t->order->customer_name);
	for (size_t i = 0; i < t->n_parcels; i++) {
		const struct sw_parcel *p = t->parcels[i];

		if (u->courier && u->tracking_number && p->raw_text &&
		    strcmp(p->courier, u->courier) == 0 &&
		    strcmp(p->tracking_number, u->tracking_number) == 0)
			d->courier_text = xstrdup(p->raw_text);
	}
	for (size_t i = 0; i < t->n_alerts; i++)
		if (t->alerts[i].resolved_at == 0 && strcmp(t->alerts[i].entity, u->entity) == 0)
			pick_stage(d, t->alerts[i].stage, t->alerts[i].stage_ratio);
	for (size_t i = 0; i < t->n_outbox; i++)
		pick_told(d, &t->outbox[i], u->entity, order_entity);
	free(order_entity);
	sw_store_report_timeline_free(t);
	return SW_OK;
}

/* The details of a parcel not linked to an order: no customer to tell. */
static enum sw_err parcel_detail(struct sw_store *st, const struct sw_report_late *u,
				 struct detail *d)
{
	struct sw_parcel *p = NULL;
	struct sw_alert *a = NULL;
	size_t n = 0;
	enum sw_err rc = sw_store_parcel_get(st, u->courier, u->tracking_number, &p);

	if (rc == SW_OK && p->raw_text)
		d->courier_text = xstrdup(p->raw_text);
	sw_store_parcel_free(p);
	if (rc && rc != SW_ENOTFOUND)
		return rc;
	if ((rc = sw_store_alert_open(st, u->entity, &a, &n)))
		return rc;
	for (size_t i = 0; i < n; i++)
		pick_stage(d, a[i].stage, a[i].stage_ratio);
	sw_store_alert_free(a, n);
	return SW_OK;
}

static void detail_free(struct detail *d)
{
	free(d->customer);
	free(d->courier_text);
	free(d->stage);
	free(d->told_kind);
	free(d->told_channel);
}

/* ---- reading --------------------------------------------------------------------- */

enum sw_err sw_dash_late_read(struct sw_store *st, const struct sw_dash_late_opts *o,
			      struct sw_dash_late **ret, char *err, size_t errlen)
{
	struct sw_dash_late *l = xcalloc(1, sizeof(*l));
	struct sw_report_late_query q = {
	    .now = o->now, .within_s = o->within_s, .limit = SW_REPORT_MAX_ROWS};
	enum sw_err rc;

	l->now = o->now;
	l->max_rows = o->max_rows ? o->max_rows : SW_DASH_TABLE_ROWS;
	l->tracking_url = o->tracking_url && *o->tracking_url ? xstrdup(o->tracking_url) : NULL;
	rc = sw_store_report_late(st, &q, &l->units, &l->n, &l->total);
	if (rc) {
		snprintf(err, errlen, "late and at-risk units: %s",
			 rc == SW_ESTORE ? sw_store_errmsg(st) : sw_strerror(rc));
		sw_dash_late_free(l);
		return SW_ESTORE;
	}
	l->shown = xcalloc(l->n ? l->n : 1, sizeof(*l->shown));
	l->details = xcalloc(l->n ? l->n : 1, sizeof(*l->details));
	for (size_t i = 0; i < l->n && i < l->max_rows; i++)
		l->shown[i] = true;
	mark_ranks(l, SW_DASH_WAREHOUSE);
	mark_ranks(l, SW_DASH_COURIER);
	for (size_t i = 0; rc == SW_OK && i < l->n; i++) {
		const struct sw_report_late *u = &l->units[i];

		if (!l->shown[i])
			continue;
		if (u->warehouse_id && u->order_id)
			rc = order_detail(st, u, &l->details[i]);
		else if (u->courier && u->tracking_number)
			rc = parcel_detail(st, u, &l->details[i]);
	}
	if (rc) {
		snprintf(err, errlen, "details of late units: %s", sw_store_errmsg(st));
		sw_dash_late_free(l);
		return SW_ESTORE;
	}
	*ret = l;
	return SW_OK;
}

void sw_dash_late_counts(const struct sw_dash_late *l, struct sw_dash_late_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->units = l->total;
	c->partial = (int64_t)l->n < l->total;
	for (size_t i = 0; i < l->n; i++) {
		unsigned why = l->units[i].why;

		c->late += (why & SW_REPORT_LATE) != 0;
		c->ship_late += (why & SW_REPORT_SHIP_LATE) != 0;
		c->at_risk += (why & SW_REPORT_OVERDUE) == 0;
	}
}

void sw_dash_late_free(struct sw_dash_late *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->details && i < l->n; i++)
		detail_free(&l->details[i]);
	free(l->details);
	free(l->shown);
	sw_store_report_late_free(l->units, l->n);
	free(l->tracking_url);
	free(l);
}

/* ---- links --------------------------------------------------------------------- */

char *sw_dash_tracking_link(const char *tmpl, const char *courier, const char *tracking,
			    const char *order)
{
	return sw_url_expand(tmpl, courier, tracking, NULL, order);
}

/* ---- the table --------------------------------------------------------------------- */

/* "2 d 3 h", "2 d", "5 h 12 min", "5 h", "40 min" (s >= 0). */
static void span(int64_t s, char *buf, size_t len)
{
	long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;

	if (d)
		snprintf(buf, len, h ? "%lld d %lld h" : "%lld d", d, h);
	else if (h)
		snprintf(buf, len, m ? "%lld h %lld min" : "%lld h", h, m);
	else
		snprintf(buf, len, "%lld min", m);
}

/* A time in the process's zone ([dash] timezone). */
static void when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm))
		snprintf(buf, len, "@%lld", (long long)t);
}

static void cell(struct sw_buf *b, const char *cls, const char *text)
{
	sw_buf_printf(b, "<td class=\"%s\">", cls);
	if (text && *text)
		sw_html_escape(b, text);
	else
		sw_buf_adds(b, "&mdash;");
	sw_buf_adds(b, "</td>");
}

/* Order (warehouse / order id) and customer. */
static void order_cells(struct sw_buf *b, const struct sw_report_late *u, const struct detail *d)
{
	sw_buf_adds(b, "<td class=\"order\">");
	if (u->order_id) {
		sw_html_escape(b, u->warehouse_id);
		sw_buf_adds(b, " / <span class=\"oid\">");
		sw_html_escape(b, u->order_id);
		sw_buf_adds(b, "</span>");
	} else {
		sw_buf_adds(b, "&mdash;");
	}
	sw_buf_adds(b, "</td>");
	cell(b, "customer", d->customer);
	cell(b, "courier", u->courier);
}

/* The tracking number, a link when the template gives one. */
static void tracking_cell(struct sw_buf *b, const struct sw_dash_late *l,
			  const struct sw_report_late *u)
{
	char *href =
	    sw_dash_tracking_link(l->tracking_url, u->courier, u->tracking_number, u->order_id);

	sw_buf_adds(b, "<td class=\"tracking\">");
	if (!u->tracking_number) {
		sw_buf_adds(b, "not shipped");
	} else if (href) {
		sw_buf_adds(b, "<a href=\"");
		sw_html_escape(b, href);
		sw_buf_adds(b, "\" rel=\"noopener noreferrer\">");
		sw_html_escape(b, u->tracking_number);
		sw_buf_adds(b, "</a>");
	} else {
		sw_html_escape(b, u->tracking_number);
	}
	sw_buf_adds(b, "</td>");
	free(href);
}

/* Status, and the courier's own words. */
static void status_cell(struct sw_buf *b, const struct sw_report_late *u, const struct detail *d)
{
	sw_buf_adds(b, "<td class=\"status\">");
	if (u->status)
		sw_html_escape(b, u->status);
	else
		sw_buf_adds(b, "&mdash;");
	if (d->courier_text && *d->courier_text) {
		sw_buf_adds(b, "<br><span class=\"ctext\">");
		sw_html_escape(b, d->courier_text);
		sw_buf_adds(b, "</span>");
	}
	sw_buf_adds(b, "</td>");
}

/* The promise as written, and how late (or how long left). */
static void promise_cells(struct sw_buf *b, const struct sw_dash_late *l,
			  const struct sw_report_late *u)
{
	char s[64];

	cell(b, "promise", u->promise_text);
	if (u->deadline == 0) {
		sw_buf_adds(b, "<td class=\"due\">no promise</td>");
		return;
	}
	span(l->now >= u->deadline ? l->now - u->deadline : u->deadline - l->now, s, sizeof(s));
	sw_buf_printf(b, "<td class=\"due\">%s %s</td>", l->now > u->deadline ? "late" : "due in",
		      s);
}

/* Why it is listed: the report's reasons in words, then its open slips. */
static void why_cell(struct sw_buf *b, const struct sw_report_late *u)
{
	static const struct {
		unsigned bit;
		const char *words;
	} reasons[] = {
	    {SW_REPORT_LATE, "past promise"},
	    {SW_REPORT_SHIP_LATE, "past ship-by"},
	    {SW_REPORT_AT_RISK_SOON, "due soon"},
	    {SW_REPORT_ETA_AFTER_PROMISE, "ETA after promise"},
	};
	bool first = true;

	sw_buf_adds(b, "<td class=\"why\">");
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (u->why & reasons[i].bit) {
			sw_buf_printf(b, "%s%s", first ? "" : ", ", reasons[i].words);
			first = false;
		}
	if (u->open_slips) {
		sw_buf_adds(b, first ? "slips: " : "<br>slips: ");
		sw_html_escape(b, u->open_slips);
	}
	sw_buf_adds(b, "</td>");
}

/* The stage that ran over, and the customer told or not. */
static void stage_told_cells(struct sw_buf *b, const struct detail *d)
{
	char t[64];

	sw_buf_adds(b, "<td class=\"stage\">");
	if (d->stage) {
		sw_html_escape(b, d->stage);
		if (d->ratio > 0)
			sw_buf_printf(b, " &times;%.1f", d->ratio);
	} else {
		sw_buf_adds(b, "&mdash;");
	}
	sw_buf_adds(b, "</td>");
	if (d->told_at == 0) {
		sw_buf_adds(b, "<td class=\"told no\">no</td>");
		return;
	}
	when(d->told_at, t, sizeof(t));
	sw_buf_printf(b, "<td class=\"told yes\">yes, <time>%s</time> (", t);
	sw_html_escape(b, d->told_kind);
	sw_buf_adds(b, ", ");
	sw_html_escape(b, d->told_channel);
	sw_buf_adds(b, ")</td>");
}

static void row(struct sw_buf *b, const struct sw_dash_late *l, size_t i)
{
	const struct sw_report_late *u = &l->units[i];
	const struct detail *d = &l->details[i];

	sw_buf_printf(b, "<tr class=\"%s\">", u->why & SW_REPORT_OVERDUE ? "late" : "risk");
	order_cells(b, u, d);
	tracking_cell(b, l, u);
	status_cell(b, u, d);
	promise_cells(b, l, u);
	why_cell(b, u);
	stage_told_cells(b, d);
	sw_buf_adds(b, "</tr>\n");
}

static const char table_head[] =
    "<table>\n<thead><tr><th>Order</th><th>Customer</th><th>Courier</th><th>Tracking</th>"
    "<th>Status</th><th>Promise</th><th>Late by / due in</th><th>Why</th>"
    "<th>Stage over p90</th><th>Customer told</th></tr></thead>\n<tbody>\n";

void sw_dash_late_table(const struct sw_dash_late *l, enum sw_dash_filter f, const char *id,
			struct sw_buf *out)
{
	size_t shown = 0, more = 0;

	sw_buf_adds(out,
		    "<section class=\"late\" id=\"late\">\n<h3>Late and at-risk parcels</h3>\n");
	if (!l) {
		sw_buf_adds(out, "<p class=\"nodata\">store not available</p>\n</section>\n");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!selected(&l->units[i], f, id))
			continue;
		if (shown == l->max_rows) {
			more++;
			continue;
		}
		if (shown++ == 0)
			sw_buf_adds(out, table_head);
		row(out, l, i);
	}
	if (shown)
		sw_buf_adds(out, "</tbody>\n</table>\n");
	else
		sw_buf_adds(out, "<p class=\"none\">nothing late or at risk</p>\n");
	if (more)
		sw_buf_printf(
		    out, "<p class=\"more\">%zu more not shown (the %zu most overdue are)</p>\n",
		    more, l->max_rows);
	if (f == SW_DASH_ALL && l->total > (int64_t)l->n)
		sw_buf_printf(
		    out, "<p class=\"more\">%lld more units not read (one read holds %zu)</p>\n",
		    (long long)(l->total - (int64_t)l->n), l->n);
	sw_buf_adds(out, "</section>\n");
}

static const char css[] =
    ".headline{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}\n"
    ".fig{border:1px solid #ddd;padding:.4em .8em;min-width:9em}\n"
    ".fig .v{display:block;font-size:1.6em;font-weight:bold}\n"
    ".fig .w{font-size:.85em;color:#555}\n"
    ".fig.bad .v{color:#b00}\n.fig.good .v{color:#080}\n"
    ".openpages{flex-basis:100%}\n.openpages ul{margin:0;padding-left:1.2em}\n"
    ".page-firing b{color:#b00}\n.page-nodata b{color:#a60}\n"
    ".page-pending b{color:#555}\n"
    "section.late table{border-collapse:collapse;font-size:.85em}\n"
    "section.late th,section.late td{border:1px solid #ddd;padding:.2em .4em;"
    "text-align:left;vertical-align:top}\n"
    "tr.late td.due{color:#b00}\ntr.risk td.due{color:#a60}\n"
    ".ctext{color:#555}\n";

const char *sw_dash_tables_css(void)
{
	return css;
}
