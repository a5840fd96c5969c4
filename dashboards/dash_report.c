/*
 * dash_report.c - report.html, the promise report page (see
 * dash_report.h).
 *
 * Design: one read of the store (sw_store_promise_read) over the oldest
 * month shown to today, then one sw_promise_aggregate per dimension and
 * period; a day or week table shows only its last periods.  Each
 * dimension is a section: an on-time table per period (rows the
 * dimension's values, columns the periods, each cell the rate with
 * "on time / judged", the marker when below target, and the counts in its
 * title), then the late orders by stage per month.  The couriers' ETA
 * accuracy closes the page.  The HTML is built into one buffer, put in the
 * site's frame by sw_dash_page_html and written with O_EXCL into the
 * generation's directory, like every page of the site.  Every string from
 * the store (keys) goes through sw_html_escape; the rest is ours.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboards/dash_html.h"
#include "dashboards/dash_report.h"
#include "lib/buf.h"
#include "lib/store_promise.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

#define PAGE_MAX (16 * 1024 * 1024)   /* bytes of the page's HTML */
#define MARK	 "&#9660;&nbsp;below" /* ▼ below: the visible marker */

/* The dimensions, in page order, and how each names an absent value. */
static const struct dim {
	enum sw_promise_by by;
	const char *id, *title, *head, *none;
} dims[] = {
    {SW_PROMISE_BY_WAREHOUSE, "warehouse", "By warehouse", "Warehouse", "(none)"},
    {SW_PROMISE_BY_COURIER, "courier", "By courier", "Courier", "(not shipped)"},
    {SW_PROMISE_BY_SERVICE, "service", "By service level", "Service level", "(none)"},
    {SW_PROMISE_BY_LANE, "lane", "By lane", "Lane (warehouse -> destination)", "(none)"},
    {SW_PROMISE_BY_REGION, "region", "By destination region", "Region", "(unknown)"},
};
#define NDIMS (sizeof(dims) / sizeof(dims[0]))

static const struct per {
	enum sw_promise_period p;
	const char *id, *title;
	size_t shown; /* the last this many periods */
} pers[] = {
    {SW_PROMISE_DAY, "day", "Per day", SW_DASH_REPORT_DAYS},
    {SW_PROMISE_WEEK, "week", "Per ISO week", SW_DASH_REPORT_WEEKS},
    {SW_PROMISE_MONTH, "month", "Per month", SW_DASH_REPORT_MONTHS},
};
#define NPERS (sizeof(pers) / sizeof(pers[0]))

static const char *const reason_words[SW_REASON_LAST] = {
    "warehouse", "first mile", "line haul", "last mile", "courier exception", "unknown",
};

/* ---- pieces --------------------------------------------------------------------- */

static void key_text(struct sw_buf *b, const struct dim *d, const char *key)
{
	if (key[0])
		sw_html_escape(b, key);
	else
		sw_buf_adds(b, d->none);
}

static void period_th(struct sw_buf *b, const struct sw_promise_report *r, size_t p)
{
	char label[SW_PROMISE_LABEL_LEN];

	sw_promise_period_label(r->period, &r->periods[p], label, sizeof(label));
	sw_buf_adds(b, "<th scope=\"col\">");
	sw_html_escape(b, label);
	sw_buf_adds(b, "</th>");
}

/* One on-time cell: the rate, on time / judged, the marker when below;
 * the counts in its title. */
static void rate_td(struct sw_buf *b, const struct sw_promise_cell *c)
{
	if (!c->judged && !c->pending) {
		sw_buf_adds(b, "<td>&ndash;</td>");
		return;
	}
	sw_buf_printf(b, "<td%s title=\"%lld on time, %lld late, %lld not judged yet\">",
		      c->below ? " class=\"below\"" : "", (long long)c->on_time, (long long)c->late,
		      (long long)c->pending);
	if (!c->judged) {
		sw_buf_printf(b, "&ndash; <span class=\"n\">%lld pending</span>",
			      (long long)c->pending);
	} else {
		sw_buf_printf(b, "%.1f%% <span class=\"n\">%lld/%lld</span>", c->rate,
			      (long long)c->on_time, (long long)c->judged);
		if (c->below)
			sw_buf_adds(b, " <span class=\"mark\">" MARK "</span>");
	}
	sw_buf_adds(b, "</td>");
}

/* Whether key k has anything in periods [p0, n). */
static bool key_used(const struct sw_promise_report *r, size_t k, size_t p0)
{
	for (size_t p = p0; p < r->n_periods; p++)
		if (sw_promise_cell_used(sw_promise_cell_at(r, k, p)))
			return true;
	return false;
}

static void more_rows(struct sw_buf *b, size_t more)
{
	if (more)
		sw_buf_printf(b,
			      "<p class=\"more\">%zu more not shown (slipwatch report lists "
			      "them all)</p>\n",
			      more);
}

/* ---- tables --------------------------------------------------------------------- */

/* The on-time table of one dimension and period: its last periods. */
static void rate_table(struct sw_buf *b, const struct sw_promise_report *r, const struct dim *d,
		       const struct per *pe)
{
	size_t p0 = r->n_periods > pe->shown ? r->n_periods - pe->shown : 0, rows = 0, more = 0;

	sw_buf_printf(b, "<h3 id=\"%s-%s\">%s</h3>\n", d->id, pe->id, pe->title);
	sw_buf_adds(b, "<table class=\"ontime\">\n<thead><tr><th scope=\"col\">");
	sw_html_escape(b, d->head);
	sw_buf_adds(b, "</th>");
	for (size_t p = p0; p < r->n_periods; p++)
		period_th(b, r, p);
	sw_buf_adds(b, "</tr></thead>\n<tbody>\n");
	for (size_t k = 0; k < r->n_keys; k++) {
		if (!key_used(r, k, p0))
			continue;
		if (rows++ == SW_DASH_REPORT_ROWS) {
			rows--;
			more++;
			continue;
		}
		sw_buf_adds(b, "<tr><th scope=\"row\">");
		key_text(b, d, r->keys[k]);
		sw_buf_adds(b, "</th>");
		for (size_t p = p0; p < r->n_periods; p++)
			rate_td(b, sw_promise_cell_at(r, k, p));
		sw_buf_adds(b, "</tr>\n");
	}
	sw_buf_adds(b, "<tr class=\"total\"><th scope=\"row\">all</th>");
	for (size_t p = p0; p < r->n_periods; p++)
		rate_td(b, &r->totals[p]);
	sw_buf_adds(b, "</tr>\n</tbody></table>\n");
	more_rows(b, more);
}

/* The late orders of one dimension by stage, per month (rows with lates
 * only). */
static void reasons_table(struct sw_buf *b, const struct sw_promise_report *r, const struct dim *d)
{
	size_t rows = 0, more = 0;

	sw_buf_printf(b,
		      "<h3 id=\"%s-reasons\">Reasons for lateness, per month</h3>\n"
		      "<table class=\"reasons\">\n<thead><tr><th scope=\"col\">",
		      d->id);
	sw_html_escape(b, d->head);
	sw_buf_adds(b, "</th><th scope=\"col\">month</th><th scope=\"col\">late</th>");
	for (int i = 0; i < SW_REASON_LAST; i++)
		sw_buf_printf(b, "<th scope=\"col\">%s</th>", reason_words[i]);
	sw_buf_adds(b, "</tr></thead>\n<tbody>\n");
	for (size_t k = 0; k < r->n_keys; k++)
		for (size_t p = 0; p < r->n_periods; p++) {
			const struct sw_promise_cell *c = sw_promise_cell_at(r, k, p);
			char label[SW_PROMISE_LABEL_LEN];

			if (!c->late)
				continue;
			if (rows++ == SW_DASH_REPORT_ROWS) {
				rows--;
				more++;
				continue;
			}
			sw_promise_period_label(r->period, &r->periods[p], label, sizeof(label));
			sw_buf_adds(b, "<tr><th scope=\"row\">");
			key_text(b, d, r->keys[k]);
			sw_buf_printf(b, "</th><td>%s</td><td>%lld</td>", label,
				      (long long)c->late);
			for (int i = 0; i < SW_REASON_LAST; i++)
				sw_buf_printf(b, "<td>%lld</td>", (long long)c->reason[i]);
			sw_buf_adds(b, "</tr>\n");
		}
	if (rows == 0 && more == 0)
		sw_buf_adds(b, "<tr><td colspan=\"9\">no late orders</td></tr>\n");
	sw_buf_adds(b, "</tbody></table>\n");
	more_rows(b, more);
}

/* "23h30m before", "1h00m after" the promise. */
static void lead_td(struct sw_buf *b, const struct sw_promise_cell *c)
{
	long long s = c->warn_median_s, a = s < 0 ? -s : s;

	if (!c->warned) {
		sw_buf_adds(b, "<td>&ndash;</td>");
		return;
	}
	if (a >= 86400)
		sw_buf_printf(b, "<td>%lldd%02lldh", a / 86400, a % 86400 / 3600);
	else
		sw_buf_printf(b, "<td>%lldh%02lldm", a / 3600, a % 3600 / 60);
	sw_buf_printf(b, " %s</td>", s >= 0 ? "before" : "after");
}

static void eta_row(struct sw_buf *b, const char *key, const char *label,
		    const struct sw_promise_cell *c)
{
	sw_buf_adds(b, "<tr><th scope=\"row\">");
	key_text(b, &dims[1], key);
	sw_buf_printf(b, "</th><td>%s</td><td>%lld</td>", label, (long long)c->eta_parcels);
	if (c->eta_parcels)
		sw_buf_printf(b, "<td>%.1f%% <span class=\"n\">%lld</span></td><td>%.2f</td>",
			      c->eta_rate, (long long)c->eta_met, c->eta_error_days);
	else
		sw_buf_adds(b, "<td>&ndash;</td><td>&ndash;</td>");
	sw_buf_printf(b, "<td>%lld</td>", (long long)c->warned);
	lead_td(b, c);
	sw_buf_adds(b, "</tr>\n");
}

/* The couriers' ETA accuracy, per month. */
static void eta_table(struct sw_buf *b, const struct sw_promise_report *r)
{
	size_t rows = 0, more = 0;

	sw_buf_adds(b,
		    "<section class=\"eta\" id=\"eta\"><h2>Courier ETA accuracy</h2>\n"
		    "<p>Of the parcels delivered, the share delivered on or before the courier's "
		    "<em>first</em> estimated date and the mean error in days; of the late parcels "
		    "the slips warned about (an ETA slip or a late slip), how long before the "
		    "promise the first warning came (the median; &ldquo;after&rdquo;: only once it "
		    "had passed).</p>\n"
		    "<table class=\"eta\">\n<thead><tr><th scope=\"col\">Courier</th>"
		    "<th scope=\"col\">month</th><th scope=\"col\">delivered with an ETA</th>"
		    "<th scope=\"col\">by the first ETA</th><th scope=\"col\">mean error, days</th>"
		    "<th scope=\"col\">misses warned</th><th scope=\"col\">warned, median</th>"
		    "</tr></thead>\n<tbody>\n");
	for (size_t k = 0; k < r->n_keys; k++)
		for (size_t p = 0; p < r->n_periods; p++) {
			const struct sw_promise_cell *c = sw_promise_cell_at(r, k, p);
			char label[SW_PROMISE_LABEL_LEN];

			if (!r->keys[k][0] || (!c->eta_parcels && !c->warned))
				continue;
			if (rows++ == SW_DASH_REPORT_ROWS) {
				rows--;
				more++;
				continue;
			}
			sw_promise_period_label(r->period, &r->periods[p], label, sizeof(label));
			eta_row(b, r->keys[k], label, c);
		}
	if (rows == 0 && more == 0)
		sw_buf_adds(
		    b, "<tr><td colspan=\"7\">no parcel delivered with an ETA yet</td></tr>\n");
	sw_buf_adds(b, "</tbody></table>\n");
	more_rows(b, more);
	sw_buf_adds(b, "</section>\n");
}

/* ---- the body ------------------------------------------------------------------- */

static void intro(struct sw_buf *b, const struct sw_dash_report_opts *o)
{
	sw_buf_adds(b, "<p class=\"def\"><strong>On time</strong>: delivered, or a first delivery "
		       "attempt, at or before the promise (a date promise: by the end of that day "
		       "in the customer's zone). Cancelled orders are left out; an order sent as "
		       "several parcels counts once, by its last parcel; an order is counted in "
		       "the period of its promise, once it is delivered or its promise has "
		       "passed. Days in ");
	sw_html_escape(b, o->zone);
	sw_buf_adds(b, ".");
	if (o->target > 0)
		sw_buf_printf(b,
			      " Target %g%%: a rate under it is marked <span class=\"mark\">" MARK
			      "</span>.",
			      o->target);
	sw_buf_adds(b, "</p>\n<p class=\"toc\">");
	for (size_t i = 0; i < NDIMS; i++) {
		sw_buf_printf(b, "%s: ", dims[i].title);
		for (size_t j = 0; j < NPERS; j++)
			sw_buf_printf(b, "<a href=\"#%s-%s\">%s</a> ", dims[i].id, pers[j].id,
				      pers[j].id);
		sw_buf_printf(b, "<a href=\"#%s-reasons\">reasons</a><br>\n", dims[i].id);
	}
	sw_buf_adds(b, "<a href=\"#eta\">Courier ETA accuracy</a></p>\n");
}

/* One dimension's section. */
static void dim_section(struct sw_buf *b, const struct sw_promise_data *d, const struct dim *dim,
			double target, struct sw_promise_report **ret_month)
{
	*ret_month = NULL;
	sw_buf_printf(b, "<section class=\"dim\" id=\"by-%s\"><h2>%s</h2>\n", dim->id, dim->title);
	for (size_t j = 0; j < NPERS; j++) {
		struct sw_promise_report *r;

		if (sw_promise_aggregate(d, dim->by, pers[j].p, target, &r) != SW_OK)
			continue;
		rate_table(b, r, dim, &pers[j]);
		if (pers[j].p == SW_PROMISE_MONTH) {
			reasons_table(b, r, dim);
			*ret_month = r;
		} else {
			sw_promise_report_free(r);
		}
	}
	sw_buf_adds(b, "</section>\n");
}

enum sw_err sw_dash_report_body(const struct sw_promise_data *d, const char *why,
				const struct sw_dash_report_opts *o, struct sw_buf *out)
{
	double target = o->target >= 0 && o->target <= 100 ? o->target : 0;

	sw_buf_adds(out, "<section class=\"report\" id=\"report\">\n");
	if (!d) {
		sw_buf_adds(out, "<p class=\"nodata\">The promise report needs the store, which "
				 "is not available");
		if (why && why[0]) {
			sw_buf_adds(out, ": ");
			sw_html_escape(out, why);
		}
		sw_buf_adds(out, ".</p>\n</section>\n");
		return out->len >= out->max ? SW_ETOOBIG : SW_OK;
	}
	intro(out, o);
	for (size_t i = 0; i < NDIMS; i++) {
		struct sw_promise_report *month;

		dim_section(out, d, &dims[i], target, &month);
		if (dims[i].by == SW_PROMISE_BY_COURIER && month)
			eta_table(out, month);
		sw_promise_report_free(month);
	}
	sw_buf_adds(out, "</section>\n");
	/* a full buffer keeps a prefix: refuse it rather than cut a table */
	return out->len + 1 >= out->max ? SW_ETOOBIG : SW_OK;
}

/* ---- the page ------------------------------------------------------------------- */

/* The first day of the oldest month shown: the data's start. */
static void data_from(const struct sw_date *today, struct sw_date *ret)
{
	*ret = (struct sw_date){today->year, today->month - (SW_DASH_REPORT_MONTHS - 1), 1};
	while (ret->month < 1) {
		ret->month += 12;
		ret->year--;
	}
}

/* Reads the data for o at now; NULL with *why (a static text or the
 * store's words in buf) when it cannot. */
static struct sw_promise_data *read_data(const struct sw_dash_opts *o,
					 const struct sw_dash_report_opts *ro, int64_t now,
					 const char **why)
{
	struct sw_promise_query q = {.zone = ro->zone, .now = now};
	struct sw_promise_data *d = NULL;

	*why = NULL;
	if (!o->store) {
		*why = "no store was opened";
		return NULL;
	}
	data_from(&ro->today, &q.from);
	sw_date_add_days(&ro->today, 1, &q.to);
	if (sw_store_promise_read(o->store, &q, &d) != SW_OK)
		*why = sw_store_errmsg(o->store);
	return d;
}

enum sw_err sw_dash_report_write(const struct sw_dash_opts *o, const char *dir, const char *nav,
				 const char *footer, int64_t now, struct sw_dash_stats *st,
				 char *err, size_t errlen)
{
	struct sw_dash_report_opts ro = {.target = o->target};
	struct sw_tz_local local;
	struct sw_promise_data *d = NULL;
	struct sw_dash_page pg = {.site_title = o->site_title,
				  .title = "Promise report",
				  .nav = nav,
				  .footer = footer,
				  .refresh = o->refresh};
	struct sw_buf body, page;
	const char *why = "the time zone has no date for now";
	enum sw_err rc;

	ro.zone = o->zone && o->zone[0] ? o->zone : "UTC";
	if (sw_tz_utc_to_local(ro.zone, now, &local) == SW_OK) {
		ro.today = local.date;
		d = read_data(o, &ro, now, &why);
	}
	if (!d && o->store && st->store_error[0] == '\0')
		snprintf(st->store_error, sizeof(st->store_error), "promise report: %s", why);
	sw_buf_init(&body, PAGE_MAX);
	sw_buf_init(&page, PAGE_MAX);
	rc = sw_dash_report_body(d, why, &ro, &body);
	pg.body = sw_buf_str(&body);
	if (rc == SW_OK)
		rc = sw_dash_page_html(&pg, &page);
	if (rc)
		snprintf(err, errlen, "%s: the page is larger than %d bytes", SW_DASH_REPORT_PAGE,
			 PAGE_MAX);
	else
		rc = sw_dash_write_file(dir, SW_DASH_REPORT_PAGE, page.data, page.len, err, errlen);
	if (rc == SW_OK)
		st->pages++;
	sw_buf_free(&body);
	sw_buf_free(&page);
	sw_promise_data_free(d);
	return rc ? SW_EIO : SW_OK;
}

const char *sw_dash_report_css(void)
{
	return ".report table{border-collapse:collapse;font-size:.85em;margin:.4em 0 1em}\n"
	       ".report th,.report td{border:1px solid #ddd;padding:.2em .4em;text-align:right;"
	       "white-space:nowrap}\n"
	       ".report tbody th{text-align:left}\n"
	       ".report td.below{background:#fde8e8}\n"
	       ".report .mark{color:#b00;font-weight:bold}\n"
	       ".report .n{color:#555;font-size:.85em}\n"
	       ".report tr.total th,.report tr.total td{font-weight:bold}\n"
	       ".report .toc{line-height:1.6}\n";
}
