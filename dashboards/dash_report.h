/*
 * dash_report.h - report.html, the promise report page of slipwatch-dash's
 * site: the on-time rate per warehouse, courier, service level, lane and
 * destination region, per day (the last SW_DASH_REPORT_DAYS), ISO week
 * (the last SW_DASH_REPORT_WEEKS) and month (the last
 * SW_DASH_REPORT_MONTHS), against [dash] target; the late orders by the
 * stage that ran over; and the couriers' ETA accuracy per month.
 *
 * Figures and the definition of on time are lib/store_promise.h's (the
 * one `slipwatch report` prints); the store is read once per generation,
 * from the first day of the oldest month shown to today in [dash]
 * timezone, and grouped fifteen ways in memory.  A cell below the target
 * has the class "below" and a visible "below" marker (never colour
 * alone).  Every value from the store goes through sw_html_escape.  The
 * page has no script: its tables are sections, reached from a contents
 * line of links.  One thread (lib/swtime's zone cache).
 */
#ifndef SW_DASH_REPORT_H
#define SW_DASH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dashboards/dash_render.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store_promise.h"

#define SW_DASH_REPORT_PAGE   "report.html"
#define SW_DASH_REPORT_DAYS   14
#define SW_DASH_REPORT_WEEKS  8
#define SW_DASH_REPORT_MONTHS 6
/* Rows of one table at most (keys in byte order; the rest are counted). */
#define SW_DASH_REPORT_ROWS 300

/* What the body needs besides the data. */
struct sw_dash_report_opts {
	double target;	  /* [dash] target, %; 0: nothing is marked */
	const char *zone; /* where the days are (words only) */
	struct sw_date today;
};

/*
 * Appends the page's body to out: d is what sw_store_promise_read read
 * from the first day of the oldest month shown to the day after
 * o->today; NULL with why (text, may be NULL) says the store is not
 * available.  SW_OK or SW_ETOOBIG (out is full).
 */
enum sw_err sw_dash_report_body(const struct sw_promise_data *d, const char *why,
				const struct sw_dash_report_opts *o, struct sw_buf *out);

/*
 * Writes report.html into dir (a generation being built) with the site's
 * nav (HTML) and footer (text), reading o->store at now: always a page,
 * saying so when the store is not available or cannot be read (its words
 * then also in st->store_error if that is still empty).  Counts the page
 * in st->pages.  SW_OK, or SW_EIO when the file cannot be written or the
 * page is too large (err says which).
 */
enum sw_err sw_dash_report_write(const struct sw_dash_opts *o, const char *dir, const char *nav,
				 const char *footer, int64_t now, struct sw_dash_stats *st,
				 char *err, size_t errlen);

/* The report's rules for style.css (the page reads without them). */
const char *sw_dash_report_css(void);

#endif /* SW_DASH_REPORT_H */
