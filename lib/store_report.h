/*
 * store_report.h - read-only reports over the store for operators: what is
 * late or at risk, one order's whole story, the notification outbox and the
 * slips the alert engine recorded.  Used by the slipwatch CLI (and later the
 * dashboard's tables).
 *
 * Like store.h this speaks in slipwatch terms, never SQL; the SQLite
 * implementation is lib/store_report.c (a PostgreSQL backend provides its
 * own).  The conventions of store.h apply: a handle is used by one thread
 * at a time; strings passed in are only read during the call; times are
 * int64 unix seconds UTC and 0 in a struct sw_stamp means "absent"; what is
 * returned is allocated by the store and freed by the caller with the
 * matching *_free function; SW_ESTORE carries the database's own text (and
 * the file's path) in sw_store_errmsg().
 *
 * Nothing here writes: every function works on a handle opened with
 * SW_STORE_RDONLY.  They are meant for operator commands and periodic
 * pages, not for a daemon's event loop: sw_store_report_late scans (see
 * there).
 */
#ifndef SW_STORE_REPORT_H
#define SW_STORE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

/* Largest "limit" the listing functions accept; more gives SW_ERANGE. */
#define SW_REPORT_MAX_ROWS 100000

/* ---- late and at-risk ---------------------------------------------------- */

/*
 * Why a unit is in the late report: bits of struct sw_report_late.why.
 * LATE and SHIP_LATE are broken promises ("overdue"); the others mark a
 * unit that is not late yet but at risk.  A row may carry several.
 */
/* delivery promise passed, not delivered */
#define SW_REPORT_LATE 0x01
/* ship-by passed, order not shipped */
#define SW_REPORT_SHIP_LATE 0x02
/* promise due within the window, and the parcel not out for delivery */
#define SW_REPORT_AT_RISK_SOON 0x04
/* courier's estimated date after the promised date */
#define SW_REPORT_ETA_AFTER_PROMISE 0x08
/* the alert engine recorded a slip of this unit that is not resolved */
#define SW_REPORT_OPEN_SLIP 0x10
/* broken promises */
#define SW_REPORT_OVERDUE (SW_REPORT_LATE | SW_REPORT_SHIP_LATE)

/* The name of one SW_REPORT_* bit ("late", "ship_late", "at_risk_soon",
 * "eta_after_promise", "open_slip"); "?" for anything else.  Static
 * strings, safe anywhere. */
const char *sw_store_report_why_name(unsigned bit);

/*
 * One unit of the late report: a parcel (with its order's promises), or an
 * order that has not shipped and has no parcel yet.
 */
struct sw_report_late {
	char *entity;	    /* "parcel:<courier>:<tracking>" or
			     * "order:<warehouse>:<order>", as in alerts */
	char *warehouse_id; /* the order; NULL for a parcel not linked to one */
	char *order_id;
	char *courier; /* the parcel; NULL for an order row */
	char *tracking_number;
	char *status;			   /* parcel status, or the order's stage
					    * ("packed"); NULL if none is known */
	char *promise_text;		   /* promised delivery as written ("2026-11-28"
					    * or an RFC 3339 time); NULL if none */
	char *promise_kind;		   /* its kind as stored ("date", "instant",
					    * sw_store_promise_kind_name); NULL if none */
	struct sw_stamp promised_delivery; /* the promise as an instant */
	struct sw_stamp promised_ship_by;
	char *eta_date;		    /* courier's estimate, YYYY-MM-DD, or NULL */
	struct sw_stamp last_event; /* parcel: latest courier event, else when
				     * it shipped; order: its latest stage */
	unsigned why;		    /* SW_REPORT_* bits, never 0 */
	char *open_slips;	    /* kinds of the unit's open slips, sorted,
				     * comma-separated ("eta_slip,stalled"); NULL
				     * if none (then SW_REPORT_OPEN_SLIP is clear) */
	int64_t deadline;	    /* what the report is ordered by: the earliest
				     * broken promise of an overdue row, else the
				     * delivery promise; 0 if none.  now - deadline
				     * is how late (or, negative, how much time is
				     * left) */
};

/* What to report, and as of when. */
struct sw_report_late_query {
	int64_t now;		  /* the report's "now" (> 0) */
	int64_t within_s;	  /* at risk if the promise is due in [now,
				   * now + within_s] (>= 0) */
	const char *warehouse_id; /* only this warehouse's orders; NULL: all */
	const char *courier;	  /* only this courier's parcels (orders not
				   * shipped have no courier and are left out);
				   * NULL: all */
	int limit;		  /* at most this many rows, 1..SW_REPORT_MAX_ROWS */
};

/*
 * The units that are late or at risk at q->now, most overdue first (by
 * deadline, oldest first; then those with time left, least first; units
 * without a promise last; ties by entity).
 *
 * Units looked at: parcels whose status is not delivered, returned or
 * cancelled and whose order (if linked) is not cancelled; and orders
 * neither shipped nor cancelled that have no parcel.  A unit is reported if
 *   - its delivery promise has passed (now > promise): SW_REPORT_LATE;
 *   - it is an unshipped order past its ship-by time: SW_REPORT_SHIP_LATE;
 *   - not late, promise in [now, now + within_s] and not out for
 *     delivery: SW_REPORT_AT_RISK_SOON;
 *   - its courier ETA date is after the promised date (a date promise's
 *     own date, or an instant's date at the offset it was written with):
 *     SW_REPORT_ETA_AFTER_PROMISE;
 *   - it has slips in the alerts table with no resolved time:
 *     SW_REPORT_OPEN_SLIP, kinds in open_slips.
 * Cost: one pass over all parcels and over the orders still waiting in a
 * warehouse (the ETA test compares two tables and cannot use an index):
 * fine for an operator command, too slow for an event loop.
 *
 * On SW_OK *ret_rows is a new array of *ret_n rows (NULL if 0; free with
 * sw_store_report_late_free) and *ret_total (may be NULL) the number of
 * units matching before the limit.  Returns SW_EINVAL (NULL q, now <= 0,
 * empty filter string), SW_ERANGE (limit, within_s < 0), SW_ESTORE.
 */
enum sw_err sw_store_report_late(struct sw_store *st, const struct sw_report_late_query *q,
				 struct sw_report_late **ret_rows, size_t *ret_n,
				 int64_t *ret_total);

/* Frees rows from sw_store_report_late.  NULL is a no-op. */
void sw_store_report_late_free(struct sw_report_late *rows, size_t n);

/* ---- one order's timeline ------------------------------------------------ */

/* One journal event, as journaled (see struct sw_journal_event). */
struct sw_report_event {
	int64_t seq;
	char *source; /* "warehouse:<id>", "courier:<name>", ... */
	char *source_event_id;
	char *kind;	    /* "order.shipped", "parcel.status", ... */
	char *warehouse_id; /* the keys the event named; NULL if not */
	char *order_id;
	char *courier;
	char *tracking_number;
	struct sw_stamp occurred_at;
	int64_t received_at; /* UTC */
	char *payload;	     /* JSON text as received, or NULL */
};

/* One slip recorded by the alert engine. */
struct sw_report_alert {
	int64_t id;
	char *entity;	     /* as struct sw_alert */
	char *kind;	     /* slip kind */
	char *promise;	     /* "" when none applies */
	char *stage;	     /* as struct sw_alert, or NULL */
	double stage_ratio;  /* as struct sw_alert: 0 when no stage ran over */
	int64_t detected_at; /* UTC */
	int64_t resolved_at; /* UTC; 0 while open */
};

/* One outbox row, without its rendered text (subject, body, template
 * variables stay in the store). */
struct sw_report_outbox {
	int64_t id;
	char *entity;
	char *slip_kind;
	char *promise;
	char *channel; /* "email", "webhook", ... */
	char *recipient;
	char *state; /* as stored ("queued", "suppressed", ...):
		      * text, so a state added later still shows */
	int attempts;
	int64_t next_attempt_at; /* while sending: end of the lease */
	char *last_error;	 /* NULL if none */
	int64_t created_at;	 /* UTC */
	int64_t sent_at;	 /* UTC; 0 if not sent */
	char *receiver;		 /* an on-call page row's receiver; NULL for
				    a customer notice */
};

/* Everything the store knows about one order. */
struct sw_report_timeline {
	struct sw_order *order;	    /* as sw_store_order_get returns it */
	struct sw_parcel **parcels; /* its parcels, in the order they were
				     * first recorded */
	size_t n_parcels;
	struct sw_report_event *events; /* journal events naming the order
					 * or one of its parcels, by
					 * occurred_at then seq */
	size_t n_events;
	struct sw_report_alert *alerts; /* slips of the order or its parcels,
					 * by detected_at then id */
	size_t n_alerts;
	struct sw_report_outbox *outbox; /* notifications about the order or
					  * its parcels, by created_at then id */
	size_t n_outbox;
};

/*
 * Reads the order warehouse_id + order_id with its parcels, its journal
 * events, its alerts and its outbox rows, all from one snapshot of the
 * store (a read transaction of its own unless the caller has one open).
 * Every list is complete: an order's history is small.  Uses the indexes
 * on journal keys, parcels' order and alert/outbox entities (no scan).
 * On SW_OK *ret_timeline is new (free with sw_store_report_timeline_free).
 * Returns SW_ENOTFOUND if there is no such order (*ret_timeline NULL),
 * SW_EINVAL (empty key), SW_ESTORE.
 */
enum sw_err sw_store_report_timeline(struct sw_store *st, const char *warehouse_id,
				     const char *order_id,
				     struct sw_report_timeline **ret_timeline);

/* Frees a timeline.  NULL is a no-op. */
void sw_store_report_timeline_free(struct sw_report_timeline *t);

/* ---- outbox ------------------------------------------------------------ */

struct sw_report_outbox_query {
	const char *state;     /* only rows in this state; any name is
				* accepted (an unknown one matches nothing:
				* callers taking names from users check them
				* against sw_store_outbox_state_name); NULL: all */
	const char *slip_kind; /* only rows of this kind ("late", a follow-up
				* "resolved_late"; any name, as state); NULL: all */
	const char *recipient; /* only rows to this address (compared
				* case-insensitively); NULL: all */
	int limit;	       /* 1..SW_REPORT_MAX_ROWS */
};

/*
 * Outbox rows matching q, newest first (by id: rows are numbered as they
 * are queued), at most q->limit of them, as a new array (*ret_n rows, NULL
 * if 0; free with sw_store_report_outbox_free).  Walks the rows from the
 * newest and stops at the limit; a filter matching few rows may read many
 * (the walk by id is kept for its order; no index serves every filter).  SW_OK,
 * SW_EINVAL (NULL q, empty filter string), SW_ERANGE (limit), SW_ESTORE.
 */
enum sw_err sw_store_report_outbox(struct sw_store *st, const struct sw_report_outbox_query *q,
				   struct sw_report_outbox **ret_rows, size_t *ret_n);

/* Frees outbox rows from this module.  NULL is a no-op. */
void sw_store_report_outbox_free(struct sw_report_outbox *rows, size_t n);

/* ---- alerts -------------------------------------------------------------- */

struct sw_report_alerts_query {
	bool open_only;	  /* only slips not resolved */
	const char *kind; /* only this slip kind (any name is accepted, an
			   * unknown one matches nothing); NULL: all */
	int limit;	  /* 1..SW_REPORT_MAX_ROWS */
};

/*
 * Recorded slips matching q, most recently detected first (ties: newest
 * id first), as a new array (*ret_n rows, NULL if 0; free with
 * sw_store_report_alerts_free).  Open slips are read through their index
 * in detection order; all slips, from the newest row back.  SW_OK,
 * SW_EINVAL (NULL q, empty kind), SW_ERANGE (limit), SW_ESTORE.
 */
enum sw_err sw_store_report_alerts(struct sw_store *st, const struct sw_report_alerts_query *q,
				   struct sw_report_alert **ret_rows, size_t *ret_n);

/* Frees alert rows from this module.  NULL is a no-op. */
void sw_store_report_alerts_free(struct sw_report_alert *rows, size_t n);

#endif /* SW_STORE_REPORT_H */
