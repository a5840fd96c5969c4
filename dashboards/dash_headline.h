/*
 * dash_headline.h - the overview's headline figures (the block at the top
 * of index.html): parcels late now, at risk, orders past their ship-by,
 * the pick backlog, the open on-call pages (firing, pending, no data, and
 * the first few by name), and the on-time rate today, this week and this
 * month against [dash] target.
 *
 * Figures are the store's at the generation's time: the late and at-risk
 * counts from the same read as the tables (dash_tables.h), the backlog
 * from sw_store_order_backlog (what the collector's backlog gauges hold),
 * pages from sw_store_page_list, the on-time rates from the promise
 * report (lib/store_promise.h: its definition of on time, the one
 * slipwatch publishes) with days, ISO weeks and months in [dash]
 * timezone.  Every text from the store is escaped.  One thread.
 */
#ifndef SW_DASH_HEADLINE_H
#define SW_DASH_HEADLINE_H

#include <stdint.h>

#include "dashboards/dash_tables.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store.h"

/* Open pages the headline names, most urgent first. */
#define SW_DASH_HEADLINE_PAGES 5

struct sw_dash_headline; /* opaque: what was read */

/*
 * Reads the backlog, the open pages and the on-time rates at now from
 * st; zone (IANA; NULL or "": UTC) says where today, this week and this
 * month begin.  Reads only (the caller's read transaction makes it one
 * snapshot with the tables).  SW_OK and *ret (free with
 * sw_dash_headline_free); SW_ESTORE (err holds the store's words).
 */
enum sw_err sw_dash_headline_read(struct sw_store *st, int64_t now, const char *zone,
				  struct sw_dash_headline **ret, char *err, size_t errlen);

struct sw_dash_headline_opts {
	int64_t within_s;      /* [dash] at_risk_within, for the words */
	double target;	       /* [dash] target, % */
	const char *late_href; /* the table of late units ("late.html") */
};

/*
 * Appends the headline to out as HTML: one <div class="fig" id="fig-...">
 * per figure (late, at-risk, ship-late, pick-backlog, pages, ontime-*),
 * its value in <span class="v">, then the open pages.  h or late NULL:
 * the store is not available, and the block says so.  A full out keeps
 * what fitted (the caller judges the page's size).
 */
void sw_dash_headline_html(const struct sw_dash_headline *h, const struct sw_dash_late *late,
			   const struct sw_dash_headline_opts *o, struct sw_buf *out);

/* Frees h.  NULL: no-op. */
void sw_dash_headline_free(struct sw_dash_headline *h);

#endif /* SW_DASH_HEADLINE_H */
