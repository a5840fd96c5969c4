/*
 * eval.h - slip detection for one unit (a parcel with its order, or an
 * order not shipped yet), from its current state at an instant.  Pure: no
 * store, no clock, no I/O (the customer's zone is read through the swtime
 * zone cache), so it is tested table-driven and re-run at will: the
 * engine evaluates a unit whenever an event touches it and whenever its
 * next deadline passes.
 *
 * Contract per kind (design.md "Slips"; thresholds from the unit's rule):
 *   ship_late      order unit: not shipped, now >= ship-by + threshold
 *   no_first_scan  shipped, courier has no scan (status pending,
 *                  info_received or unknown), now >= shipped + threshold,
 *                  and the courier was asked about the parcel (an error-
 *                  free poll) after that deadline
 *   stalled        in_transit / out_for_delivery, now >= last courier
 *                  event + threshold, the parcel was polled without error
 *                  after that deadline and the courier's feed answered
 *                  usefully within feed_window (otherwise re-checked every
 *                  SW_EVAL_RECHECK: a silent API is not a stuck parcel)
 *   attempt_fail, exception, returning, available_for_pickup
 *                  status is that, now >= status event + threshold
 *   eta_slip       the start of the courier's ETA day in the customer's
 *                  zone is after the delivery promise + threshold
 *   late           not delivered, now >= delivery promise + threshold;
 *                  for a parcel that is polled, also an error-free poll
 *                  (a "not found" included) after that deadline, like
 *                  no_first_scan: a parcel delivered on time while the
 *                  courier's API was down is not late (parcels of couriers
 *                  that are not polled are judged on the deadline alone)
 * A parcel whose order is not known yet (no delivery promise and no
 * ship-by: its order.created has not arrived) is not judged: the promise
 * is what a slip is measured against; the order's arrival re-evaluates it.
 * Terminal parcels and cancelled orders are closed: nothing to find, no
 * deadline.  A slip's stage is "warehouse" (ship_late; late of an order
 * not shipped or shipped after its ship-by + threshold) or "courier".
 * A slip's promise key names the promise broken: "ship_by:<UTC time>" for
 * ship_late, "delivery:<promise as written>" for the others ("" when the
 * order has no delivery promise).
 */
#ifndef SW_ALERTS_EVAL_H
#define SW_ALERTS_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts/rules.h"
#include "lib/store.h"

#define SW_EVAL_PROMISE_MAX 96 /* promise keys longer than this are cut */
#define SW_EVAL_RECHECK 300	  /* s: re-check of a stalled parcel whose feed is silent */

struct sw_eval_in {
	const struct sw_order *order;	/* may be NULL (parcel without order) */
	const struct sw_parcel *parcel; /* NULL: the order unit */
	const struct sw_rule *rule;
	const char *zone;     /* the customer's IANA zone (resolved) */
	int64_t now;	      /* unix s */
	int64_t feed_ok_at;   /* the courier's last useful answer; 0 never */
	int64_t polled_ok_at; /* this parcel's last error-free poll; 0 never */
	bool polled;	      /* the parcel's courier is polled (it has a schedule) */
	int64_t feed_window;  /* s */
};

struct sw_eval_slip {
	enum sw_slip kind;
	const char *stage; /* "warehouse" or "courier" (static) */
	char promise[SW_EVAL_PROMISE_MAX];
	int64_t since; /* the deadline it passed (or the fact's time) */
};

struct sw_eval_out {
	struct sw_eval_slip slips[SW_SLIP_LAST];
	int n;
	int64_t next_due; /* earliest future deadline; 0: none */
	bool closed;	  /* terminal / cancelled / shipped order: forget it */
};

/* Evaluates in into *out (always fully set). */
void sw_eval(const struct sw_eval_in *in, struct sw_eval_out *out);

#endif /* SW_ALERTS_EVAL_H */
