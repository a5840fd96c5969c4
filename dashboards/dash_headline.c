/*
 * dash_headline.c - the overview's headline figures (see dash_headline.h).
 *
 * Design: read once per generation (backlog, pages, on-time rates) into a
 * small struct, then written as HTML with the late counts of the tables'
 * read, so the headline and late.html never disagree.  Each figure is a
 * box with a stable id, its value and a few words saying what it counts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboards/dash_headline.h"
#include "dashboards/dash_html.h"
#include "lib/store_pages.h"
#include "lib/store_promise.h"
#include "lib/swtime.h"
#include "lib/xmalloc.h"

/* One open page the headline names. */
struct named_page {
	char *rule, *subject, *summary;
	enum sw_page_state state;
	int severity;
	int64_t since; /* the incident's start */
};

/* The on-time figures of one period so far. */
struct ontime {
	int64_t judged, on_time;
	double rate; /* %; -1: nothing judged */
};

struct sw_dash_headline {
	int64_t pick_backlog; /* orders created, not picked */
	int64_t ship_late;    /* orders past ship-by, not shipped */
	int64_t pages[SW_PAGE_STATE_LAST];
	struct named_page named[SW_DASH_HEADLINE_PAGES];
	size_t n_named;
	struct ontime ontime[SW_PROMISE_PERIOD_LAST]; /* today, this week, this month */
};

/* ---- reading ---------------------------------------------------------------------- */

/* Most urgent first: firing, no data, pending; then critical first; then
 * the oldest incident. */
static int urgency(const struct sw_page *p)
{
	return p->state == SW_PAGE_FIRING ? 0 : p->state == SW_PAGE_NODATA ? 1 : 2;
}

static int by_urgency(const void *a, const void *b)
{
	const struct sw_page *x = *(const struct sw_page *const *)a;
	const struct sw_page *y = *(const struct sw_page *const *)b;

	if (urgency(x) != urgency(y))
		return urgency(x) - urgency(y);
	if (x->severity != y->severity)
		return y->severity - x->severity;
	if (x->active_since != y->active_since)
		return x->active_since < y->active_since ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Counts the open pages by state and keeps the most urgent few. */
static enum sw_err read_pages(struct sw_store *st, struct sw_dash_headline *h)
{
	struct sw_page *list = NULL;
	const struct sw_page **open;
	size_t n = 0, n_open = 0;
	enum sw_err rc = sw_store_page_list(st, false, &list, &n);

	if (rc)
		return rc;
	open = xreallocarray(NULL, n ? n : 1, sizeof(*open));
	for (size_t i = 0; i < n; i++)
		if (list[i].state != SW_PAGE_OK && list[i].state < SW_PAGE_STATE_LAST) {
			h->pages[list[i].state]++;
			open[n_open++] = &list[i];
		}
	if (n_open > 1)
		qsort(open, n_open, sizeof(*open), by_urgency);
	for (size_t i = 0; i < n_open && h->n_named < SW_DASH_HEADLINE_PAGES; i++) {
		struct named_page *np = &h->named[h->n_named++];

		np->rule = xstrdup(open[i]->rule);
		np->subject = xstrdup(open[i]->subject ? open[i]->subject : "");
		np->summary = open[i]->summary ? xstrdup(open[i]->summary) : NULL;
		np->state = open[i]->state;
		np->severity = open[i]->severity;
		np->since = open[i]->active_since;
	}
	free(open);
	sw_store_page_free(list, n);
	return SW_OK;
}

/* The period p that holds today, from d grouped by p. */
static enum sw_err period_ontime(const struct sw_promise_data *d, enum sw_promise_period p,
				 const struct sw_date *today, struct ontime *ret)
{
	struct sw_promise_report *r;
	struct sw_date start;
	enum sw_err rc = sw_promise_aggregate(d, SW_PROMISE_BY_NONE, p, 0, &r);

	if (rc)
		return rc;
	sw_promise_period_start(p, today, &start);
	ret->rate = -1;
	for (size_t i = 0; i < r->n_periods; i++)
		if (sw_date_cmp(&r->periods[i], &start) == 0) {
			ret->judged = r->totals[i].judged;
			ret->on_time = r->totals[i].on_time;
			ret->rate = r->totals[i].rate;
		}
	sw_promise_report_free(r);
	return SW_OK;
}

/* On time today, this week and this month so far: one read of the
 * promise days from the earlier of the week's and the month's first day
 * to today. */
static enum sw_err read_ontime(struct sw_store *st, int64_t now, const char *zone,
			       struct sw_dash_headline *h)
{
	struct sw_promise_query q = {.zone = zone && *zone ? zone : "UTC", .now = now};
	struct sw_promise_data *d;
	struct sw_date week, month;
	struct sw_tz_local today;
	enum sw_err rc = sw_tz_utc_to_local(q.zone, now, &today);

	if (rc)
		return rc;
	sw_promise_period_start(SW_PROMISE_WEEK, &today.date, &week);
	sw_promise_period_start(SW_PROMISE_MONTH, &today.date, &month);
	q.from = sw_date_cmp(&week, &month) < 0 ? week : month;
	sw_date_add_days(&today.date, 1, &q.to);
	if ((rc = sw_store_promise_read(st, &q, &d)))
		return rc;
	for (int p = 0; rc == SW_OK && p < SW_PROMISE_PERIOD_LAST; p++)
		rc = period_ontime(d, (enum sw_promise_period)p, &today.date, &h->ontime[p]);
	sw_promise_data_free(d);
	return rc;
}

enum sw_err sw_dash_headline_read(struct sw_store *st, int64_t now, const char *zone,
				  struct sw_dash_headline **ret, char *err, size_t errlen)
{
	struct sw_dash_headline *h = xcalloc(1, sizeof(*h));
	struct sw_backlog *bl = NULL;
	size_t n = 0;
	enum sw_err rc = sw_store_order_backlog(st, now, &bl, &n);

	for (size_t i = 0; rc == SW_OK && i < n; i++) {
		h->pick_backlog += bl[i].pick;
		h->ship_late += bl[i].ship_late;
	}
	sw_store_backlog_free(bl, n);
	if (rc == SW_OK)
		rc = read_pages(st, h);
	if (rc == SW_OK)
		rc = read_ontime(st, now, zone, h);
	if (rc) {
		snprintf(err, errlen, "headline figures: %s",
			 rc == SW_ESTORE ? sw_store_errmsg(st) : sw_strerror(rc));
		sw_dash_headline_free(h);
		return SW_ESTORE;
	}
	*ret = h;
	return SW_OK;
}

void sw_dash_headline_free(struct sw_dash_headline *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_named; i++) {
		free(h->named[i].rule);
		free(h->named[i].subject);
		free(h->named[i].summary);
	}
	free(h);
}

/* ---- HTML ------------------------------------------------------------------------- */

/* One figure: a box with its value and what it counts (both plain text);
 * href (may be NULL) links the value to its detail. */
static void figure(struct sw_buf *b, const char *id, const char *cls, const char *value,
		   const char *words, const char *href)
{
	sw_buf_printf(b, "<div class=\"fig%s%s\" id=\"fig-%s\">", cls ? " " : "", cls ? cls : "",
		      id);
	if (href) {
		sw_buf_adds(b, "<a href=\"");
		sw_html_escape(b, href);
		sw_buf_adds(b, "\">");
	}
	sw_buf_adds(b, "<span class=\"v\">");
	sw_html_escape(b, value);
	sw_buf_adds(b, "</span>");
	if (href)
		sw_buf_adds(b, "</a>");
	sw_buf_adds(b, "<span class=\"w\">");
	sw_html_escape(b, words);
	sw_buf_adds(b, "</span></div>\n");
}

/* A count as text: "12", or "12+" when it is a lower bound. */
static void count(char *buf, size_t len, int64_t n, bool partial)
{
	snprintf(buf, len, "%lld%s", (long long)n, partial ? "+" : "");
}

/* "24 h", "90 min", "2 d". */
static void within_words(int64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0 && s >= 86400 * 2)
		snprintf(buf, len, "%lld d", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lld h", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lld min", (long long)(s / 60));
}

/* Late, at risk, past ship-by, pick backlog. */
static void late_figures(struct sw_buf *b, const struct sw_dash_headline *h,
			 const struct sw_dash_late *late, const struct sw_dash_headline_opts *o)
{
	struct sw_dash_late_counts c;
	char v[32], w[96], span[32];

	sw_dash_late_counts(late, &c);
	count(v, sizeof(v), c.late, c.partial);
	figure(b, "late", c.late ? "bad" : "good", v, "late now: past the delivery promise",
	       o->late_href);
	count(v, sizeof(v), c.at_risk, c.partial);
	within_words(o->within_s, span, sizeof(span));
	snprintf(w, sizeof(w), "at risk: due within %s, ETA after the promise, or slipping", span);
	figure(b, "at-risk", NULL, v, w, o->late_href);
	count(v, sizeof(v), h->ship_late, false);
	figure(b, "ship-late", h->ship_late ? "bad" : "good", v,
	       "orders past their ship-by, not shipped", NULL);
	count(v, sizeof(v), h->pick_backlog, false);
	figure(b, "pick-backlog", NULL, v, "pick backlog: orders created, not picked", NULL);
}

static int64_t open_pages(const struct sw_dash_headline *h)
{
	return h->pages[SW_PAGE_FIRING] + h->pages[SW_PAGE_PENDING] + h->pages[SW_PAGE_NODATA];
}

/* The open pages: how many, by state. */
static void page_figure(struct sw_buf *b, const struct sw_dash_headline *h)
{
	char v[32], w[128];

	count(v, sizeof(v), open_pages(h), false);
	snprintf(w, sizeof(w), "open incidents and pages: %lld firing, %lld pending, %lld no data",
		 (long long)h->pages[SW_PAGE_FIRING], (long long)h->pages[SW_PAGE_PENDING],
		 (long long)h->pages[SW_PAGE_NODATA]);
	figure(b, "pages", h->pages[SW_PAGE_FIRING] ? "bad" : NULL, v, w, NULL);
}

/* The most urgent open pages by name, under the figures. */
static void named_pages(struct sw_buf *b, const struct sw_dash_headline *h)
{
	int64_t open = open_pages(h);

	if (h->n_named == 0)
		return;
	sw_buf_adds(b, "<div class=\"openpages\" id=\"open-pages\"><ul>\n");
	for (size_t i = 0; i < h->n_named; i++) {
		const struct named_page *p = &h->named[i];

		sw_buf_printf(b, "<li class=\"page-%s\"><b>%s</b>", sw_page_state_name(p->state),
			      sw_page_state_name(p->state));
		if (p->severity != SW_SEV_NONE)
			sw_buf_printf(b, " %s", sw_page_severity_name(p->severity));
		sw_buf_adds(b, " <span class=\"rule\">");
		sw_html_escape(b, p->rule);
		sw_buf_adds(b, "</span> <span class=\"subject\">");
		sw_html_escape(b, p->subject[0] ? p->subject : "(global)");
		sw_buf_adds(b, "</span>");
		if (p->summary) {
			sw_buf_adds(b, ": ");
			sw_html_escape(b, p->summary);
		}
		sw_buf_adds(b, "</li>\n");
	}
	if (open > (int64_t)h->n_named)
		sw_buf_printf(b, "<li>and %lld more</li>\n",
			      (long long)(open - (int64_t)h->n_named));
	sw_buf_adds(b, "</ul></div>\n");
}

/* The on-time rates today, this week and this month against the target,
 * as the promise report defines on time (lib/store_promise.h). */
static void headline_ontime(struct sw_buf *b, const struct sw_dash_headline *h,
			    const struct sw_dash_headline_opts *o)
{
	static const char *const ids[] = {"ontime-today", "ontime-week", "ontime-month"};
	static const char *const words[] = {"today", "this week", "this month"};
	char v[32], w[128];

	for (int p = 0; p < SW_PROMISE_PERIOD_LAST; p++) {
		const struct ontime *t = &h->ontime[p];

		if (t->rate < 0) {
			snprintf(w, sizeof(w), "on time %s: no order judged yet (target %g %%)",
				 words[p], o->target);
			figure(b, ids[p], NULL, "-", w, NULL);
			continue;
		}
		snprintf(v, sizeof(v), "%.1f %%", t->rate);
		snprintf(w, sizeof(w), "on time %s: %lld of %lld orders (target %g %%)", words[p],
			 (long long)t->on_time, (long long)t->judged, o->target);
		figure(b, ids[p], t->rate < o->target ? "bad" : "good", v, w, NULL);
	}
}

void sw_dash_headline_html(const struct sw_dash_headline *h, const struct sw_dash_late *late,
			   const struct sw_dash_headline_opts *o, struct sw_buf *out)
{
	if (!h || !late) {
		sw_buf_adds(out, "<p class=\"nodata\">store not available</p>\n");
		return;
	}
	late_figures(out, h, late, o);
	page_figure(out, h);
	headline_ontime(out, h, o);
	named_pages(out, h);
}
