/*
 * store_promise.h - the promise report: how many orders were delivered on
 * time, per warehouse, courier, service level, lane or destination region,
 * per day, ISO week or month, with the reasons for the lates and the
 * couriers' ETA accuracy.  Read by `slipwatch report` and by
 * slipwatch-dash's report page; doc/promise-report.md is the reference for
 * users.
 *
 * The definition of "on time" (published in doc/promise-report.md):
 * - An order is on time when it was delivered, or had its first delivery
 *   attempt, at or before its delivery promise.  A date promise
 *   ("2026-11-24") is kept by the end of that date in the customer's zone
 *   (the instant the store holds, resolved with the offset in force then);
 *   an instant promise by that instant.  A first attempt is a courier
 *   event attempt_fail or available_for_pickup (the parcel waits for the
 *   customer at a pickup point) with a known zone.
 * - An order split into several parcels counts once, by its LAST parcel:
 *   each parcel is done at its delivery or first attempt, whichever came
 *   first, and the order when its last parcel is done.  Parcels the
 *   courier cancelled (a voided label) are left out.
 * - Cancelled orders are excluded, and so are orders without a delivery
 *   promise.
 * - An order is judged in the period of its promise: a date promise's own
 *   date, an instant promise's date in the report's zone.
 * - An order whose promise has passed (at the report's "now") and whose
 *   parcels are not all done is late, shipped or not.  One whose promise
 *   is still ahead is not judged yet (pending) unless it is done: an order
 *   delivered before its promise is on time as soon as it is delivered.
 *
 * Reasons for lateness: each late order gets one reason from the slips the
 * alert engine recorded for it and its parcels (alerts.stage: the stage
 * that ran over, alerts/stage.h): an exception or returning slip gives
 * courier_exception; else the stage of its `late` slip when that is a
 * stage (warehouse, first_mile, line_haul, last_mile); else the stage of
 * its most recent slip that has one; else unknown.
 *
 * Courier ETA accuracy, over the delivered parcels of the cell's orders
 * (in the courier dimension each parcel counts for its own courier):
 * the share delivered on or before the courier's FIRST estimated date
 * (parcels.first_eta_date; the delivery's date at the offset the courier
 * wrote it with), the mean absolute error in days, and how early a miss
 * became known: for each late parcel of a late order, the promise minus
 * the earliest detection of an eta_slip or late slip of that parcel
 * (positive: known before the promise), the median over those parcels.
 *
 * Like store_report.h: SQLite in lib/store_promise.c, read only (a handle
 * opened with SW_STORE_RDONLY will do), for operator commands and periodic
 * pages, never a daemon's event loop.  Strings passed in are only read
 * during the call; what is returned is the caller's, freed with the
 * matching *_free.  Uses lib/swtime's zone cache: one thread.
 */
#ifndef SW_STORE_PROMISE_H
#define SW_STORE_PROMISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"
#include "lib/swtime.h"

/* What the cells are grouped by, besides the period. */
enum sw_promise_by {
	SW_PROMISE_BY_NONE,	 /* one row: every order */
	SW_PROMISE_BY_WAREHOUSE, /* the order's warehouse */
	SW_PROMISE_BY_COURIER,	 /* the courier of the order's last parcel */
	SW_PROMISE_BY_SERVICE,	 /* the order's service level */
	SW_PROMISE_BY_LANE,	 /* "WAREHOUSE -> DEST" (DEST "?" if unknown) */
	SW_PROMISE_BY_REGION,	 /* the destination key, sw_store_stage_dest */
	SW_PROMISE_BY_LAST	 /* sentinel */
};

enum sw_promise_period {
	SW_PROMISE_DAY,	  /* a calendar day in the report's zone */
	SW_PROMISE_WEEK,  /* an ISO week, Monday to Sunday */
	SW_PROMISE_MONTH, /* a calendar month */
	SW_PROMISE_PERIOD_LAST
};

/* Why a late order was late. */
enum sw_promise_reason {
	SW_REASON_WAREHOUSE,
	SW_REASON_FIRST_MILE,
	SW_REASON_LINE_HAUL,
	SW_REASON_LAST_MILE,
	SW_REASON_COURIER_EXCEPTION,
	SW_REASON_UNKNOWN,
	SW_REASON_LAST
};

/* Names as in options and output: "none", "warehouse", "courier",
 * "service", "lane", "region"; "day", "week", "month"; "warehouse",
 * "first_mile", "line_haul", "last_mile", "courier_exception", "unknown".
 * "?" out of range.  Static strings. */
const char *sw_promise_by_name(enum sw_promise_by by);
const char *sw_promise_period_name(enum sw_promise_period p);
const char *sw_promise_reason_name(enum sw_promise_reason r);

/* The value of a name above: SW_OK, or SW_EINVAL (unknown name, *ret
 * unchanged). */
enum sw_err sw_promise_by_parse(const char *name, enum sw_promise_by *ret);
enum sw_err sw_promise_period_parse(const char *name, enum sw_promise_period *ret);

/* The first day of the period that holds d (d itself, its week's Monday,
 * the first of its month).  Pure. */
void sw_promise_period_start(enum sw_promise_period p, const struct sw_date *d,
			     struct sw_date *ret);

/* A period for people into buf (>= SW_PROMISE_LABEL_LEN): "2026-11-24",
 * the ISO week "2026-W48", "2026-11".  start is the period's first day. */
#define SW_PROMISE_LABEL_LEN 16
void sw_promise_period_label(enum sw_promise_period p, const struct sw_date *start, char *buf,
			     size_t len);

/* Largest range a report reads, in days ([from, to)). */
#define SW_PROMISE_MAX_DAYS 1100

/* The orders to read. */
struct sw_promise_query {
	struct sw_date from, to; /* promise days [from, to), to after from,
				  * at most SW_PROMISE_MAX_DAYS apart */
	const char *zone;	 /* IANA zone of the days (instant promises,
				  * and each period's bounds) */
	int64_t now;		 /* the report's "now" (> 0): what has passed */
};

/* The judged orders of a range, read once and grouped any number of ways
 * (the dashboard draws fifteen tables from one read).  Opaque. */
struct sw_promise_data;

/*
 * Reads every order whose promise day is in [q->from, q->to) with its
 * parcels, judges it at q->now, and for each late order reads its slips.
 * All from one snapshot (a read transaction of its own unless the caller
 * has one open).  Cost: the orders_delivery index over the range (plus a
 * day each side), the parcels of those orders through parcels_order, and
 * a few indexed reads of alerts per late order; memory about 100 bytes
 * per order.  Meant for a report or a page every minute on a month or
 * three of orders.
 * SW_OK and *ret (free with sw_promise_data_free); SW_EINVAL (NULL q or
 * zone, now <= 0, an invalid date, to not after from: the text says
 * which), SW_ERANGE (more than SW_PROMISE_MAX_DAYS), SW_ENOTFOUND or
 * SW_EPARSE (the zone, as sw_tz_check), SW_ESTORE.  Errors are in
 * sw_store_errmsg(st).
 */
enum sw_err sw_store_promise_read(struct sw_store *st, const struct sw_promise_query *q,
				  struct sw_promise_data **ret);

void sw_promise_data_free(struct sw_promise_data *d);

/* One cell: one key (or all of them) in one period. */
struct sw_promise_cell {
	int64_t judged;			/* on_time + late */
	int64_t on_time;		/* delivered or attempted by the promise */
	int64_t late;			/* after it, or not done and the promise passed */
	int64_t pending;		/* not done, promise still ahead: not judged */
	double rate;			/* 100 * on_time / judged; -1 when judged is 0 */
	bool below;			/* judged, and rate below the report's target */
	int64_t reason[SW_REASON_LAST]; /* the late orders by reason (sums
					 * to late) */
	/* courier ETA accuracy (see the top of this file) */
	int64_t eta_parcels;   /* delivered parcels with a first ETA */
	int64_t eta_met;       /* of those, delivered by that date */
	double eta_rate;       /* 100 * eta_met / eta_parcels; -1 if none */
	double eta_error_days; /* mean |delivery date - first ETA|, days;
				* -1 if none */
	int64_t warned;	       /* late parcels with an eta_slip or late slip */
	int64_t warn_median_s; /* median of promise - its first detection,
				* s (negative: known only after); 0 if
				* warned is 0 */
};

/* A report: keys x periods. */
struct sw_promise_report {
	enum sw_promise_by by;
	enum sw_promise_period period;
	double target;		 /* %, as asked; 0: nothing is marked */
	struct sw_date *periods; /* each period's first day, in order: every
				  * period touching [from, to), empty ones
				  * included (the first and last may be
				  * partial: only the days in the range) */
	size_t n_periods;
	char **keys; /* the dimension's values seen, sorted by
		      * bytes; "" is an absent value (no
		      * service level, an order not shipped in
		      * the courier dimension); SW_PROMISE_BY_NONE
		      * has the one key "" */
	size_t n_keys;
	struct sw_promise_cell *cells;	/* n_keys * n_periods:
					 * cells[k * n_periods + p] */
	struct sw_promise_cell *totals; /* n_periods: every key together
					 * (ETA figures: every parcel once) */
	struct sw_promise_cell total;	/* the whole range */
};

/*
 * Groups d by `by` and `period` into a new report (free with
 * sw_promise_report_free).  target (0..100) marks the cells whose rate
 * is below it (0 marks none).  Pure: no store access.  SW_OK, SW_EINVAL
 * (by, period out of range), SW_ERANGE (target).
 */
enum sw_err sw_promise_aggregate(const struct sw_promise_data *d, enum sw_promise_by by,
				 enum sw_promise_period period, double target,
				 struct sw_promise_report **ret);

/* sw_store_promise_read then sw_promise_aggregate. */
enum sw_err sw_store_promise_report(struct sw_store *st, const struct sw_promise_query *q,
				    enum sw_promise_by by, enum sw_promise_period period,
				    double target, struct sw_promise_report **ret);

/* The cell of key index k and period index p. */
static inline const struct sw_promise_cell *sw_promise_cell_at(const struct sw_promise_report *r,
							       size_t k, size_t p)
{
	return &r->cells[k * r->n_periods + p];
}

/* Whether a cell has anything to show (an order judged or pending, or a
 * parcel in the ETA figures). */
bool sw_promise_cell_used(const struct sw_promise_cell *c);

void sw_promise_report_free(struct sw_promise_report *r);

#endif /* SW_STORE_PROMISE_H */
