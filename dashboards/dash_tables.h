/*
 * dash_tables.h - the late and at-risk parcels and orders of slipwatch-dash's
 * site: read from the store once per generation (lib/store_report.h,
 * sw_store_report_late), counted for the overview's headline, and shown
 * as tables: every unit on late.html, a warehouse's or a courier's own
 * under the graphs of its page.
 *
 * A row is one unit of the report (a parcel, or an order with no parcel
 * yet), most overdue first: the order and its customer, the courier, the
 * tracking number (a link when [alerts] tracking_url is set, expanded as
 * the customer notices expand it), the status with the courier's own
 * text, the promise and how late it is (or how long is left), why it is
 * listed (the report's reasons and the kinds of its open slips), the
 * stage that ran over (and by how much: duration / the lane's p90) and
 * whether the customer was told, and when (the latest customer notice
 * sent about the unit or its order, from the outbox).  Those last
 * columns need the unit's story (sw_store_report_timeline); it is read
 * only for rows some table shows, so a generation's cost is bounded by
 * the tables' size, not by how much is late.
 *
 * Every value from the store goes through sw_html_escape.  One thread.
 */
#ifndef SW_DASH_TABLES_H
#define SW_DASH_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store.h"

/* Rows one table shows at most; the rest are counted ("N more"). */
#define SW_DASH_TABLE_ROWS 500

struct sw_dash_late; /* opaque: one generation's units */

struct sw_dash_late_opts {
	int64_t now;		  /* the generation's time */
	int64_t within_s;	  /* at risk: promise due within this ([dash]
				     at_risk_within) */
	const char *tracking_url; /* [alerts] tracking_url; NULL: no links */
	size_t max_rows;	  /* rows per table, 1..; 0: SW_DASH_TABLE_ROWS */
};

/* What the headline shows of the units. */
struct sw_dash_late_counts {
	int64_t units;	   /* late or at risk */
	int64_t late;	   /* delivery promise passed, not delivered */
	int64_t ship_late; /* order past its ship-by, not shipped */
	int64_t at_risk;   /* not overdue, at risk */
	bool partial;	   /* more units than one read holds
			      (SW_REPORT_MAX_ROWS): the counts are lower
			      bounds */
};

/*
 * Reads the units late or at risk at o->now from st, and the details of
 * every row a table will show (late.html's and each warehouse's and
 * courier's first max_rows).  Reads only; for one snapshot the caller
 * wraps it in a read transaction (sw_store_begin).  SW_OK and *ret (free
 * with sw_dash_late_free); SW_ESTORE (err holds the store's words).
 */
enum sw_err sw_dash_late_read(struct sw_store *st, const struct sw_dash_late_opts *o,
			      struct sw_dash_late **ret, char *err, size_t errlen);

void sw_dash_late_counts(const struct sw_dash_late *l, struct sw_dash_late_counts *ret);

/* Which units a table shows. */
enum sw_dash_filter {
	SW_DASH_ALL,	   /* every unit */
	SW_DASH_WAREHOUSE, /* the orders (and their parcels) of warehouse id */
	SW_DASH_COURIER,   /* the parcels of courier id */
	SW_DASH_FILTER_LAST
};

/*
 * Appends the table of l's units that f and id select (id unused for
 * SW_DASH_ALL) to out as HTML: a <section class="late"> with the table,
 * "N more" when there are more than max_rows, or a line saying nothing
 * is late or at risk.  l NULL: the store is not available, and the
 * section says so.  A full out keeps what fitted (the caller judges the
 * page's size).
 */
void sw_dash_late_table(const struct sw_dash_late *l, enum sw_dash_filter f, const char *id,
			struct sw_buf *out);

/* Frees l.  NULL: no-op. */
void sw_dash_late_free(struct sw_dash_late *l);

/* The tracking link of a parcel: tmpl's {courier}, {tracking} and {order}
 * percent-encoded as the customer emails fill them (lib/urltmpl.h;
 * {email} is not known here).  NULL when tmpl is NULL or empty, a value
 * it names is missing, or the result is longer than SW_URL_MAX.  New
 * string. */
char *sw_dash_tracking_link(const char *tmpl, const char *courier, const char *tracking,
			    const char *order);

/* Styles of the tables and the headline, appended to the site's
 * stylesheet. */
const char *sw_dash_tables_css(void);

#endif /* SW_DASH_TABLES_H */
