/*
 * store_pollplan.h - what the courier quota planner (collector/plan.h)
 * reads from the store: a courier's scheduled parcels counted by priority
 * class, the due ones in priority order, and the class of one parcel.
 *
 * A priority class says how much a parcel's next poll matters
 * (doc/quota.md), first match wins:
 *   SW_POLL_CLASS_FINAL  out for delivery, a failed attempt, or waiting
 *                        for pickup: the last mile
 *   SW_POLL_CLASS_NEAR   its order's delivery promise, or the courier's
 *                        ETA (a calendar date, read as its UTC day), is
 *                        at most SW_POLL_NEAR_S after now (or already
 *                        past: a late parcel matters most to its customer)
 *   SW_POLL_CLASS_MOVED  its latest courier event is at most
 *                        SW_POLL_MOVED_S before now
 *   SW_POLL_CLASS_OTHER  every other active parcel
 * Terminal parcels (delivered, returned, expired, cancelled) have no poll
 * schedule and are in no class.  The one definition is an SQL expression
 * in store_pollplan.c, used by all three queries, so a count and an order
 * never disagree.
 *
 * No schema change: poll_schedule, parcels and orders as they are.
 * Conventions as in store.h: SW_OK, SW_EINVAL for bad arguments,
 * SW_ESTORE with sw_store_errmsg() set; one thread per handle.
 */
#ifndef SW_STORE_POLLPLAN_H
#define SW_STORE_POLLPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

#define SW_POLL_NEAR_S	(48 * 3600) /* promise or ETA this close: NEAR */
#define SW_POLL_MOVED_S (24 * 3600) /* an event this recent: MOVED */
/* A given-up parcel keeps its schedule row, parked this far ahead
 * (collector/poll_apply.c); rows parked beyond half of it are not active
 * and not counted by the plan. */
#define SW_POLL_PARK_S	(10 * 366 * 86400)

/* Priority classes, most important first (the order of due parcels). */
enum sw_poll_class {
	SW_POLL_CLASS_FINAL,
	SW_POLL_CLASS_NEAR,
	SW_POLL_CLASS_MOVED,
	SW_POLL_CLASS_OTHER,
	SW_POLL_CLASS_LAST
};

/* "final", "near", "moved", "other"; "?" out of range.  Static. */
const char *sw_poll_class_name(enum sw_poll_class c);

/* A courier's scheduled parcels of one class at some instant. */
struct sw_poll_class_count {
	int64_t count; /* parcels with a schedule, not terminal */
	double rate;   /* sum of 1 / interval_s: polls per second they
			  ask for at their current intervals */
};

/* Counts courier's scheduled, non-terminal parcels by class at now (unix
 * s) into ret[SW_POLL_CLASS_LAST] (zeroed first).  One query over the
 * courier's parcels.  SW_OK, SW_EINVAL (empty courier), SW_ESTORE. */
enum sw_err sw_store_pollplan_counts(struct sw_store *st, const char *courier, int64_t now,
				     struct sw_poll_class_count ret[SW_POLL_CLASS_LAST]);

/* As sw_store_poll_due_courier, but in priority order: class first, then
 * due time, then parcel id.  It reads every due parcel of the courier to
 * sort them, so the engine asks for it only while its quota is short.
 * Free with sw_store_poll_free.  SW_OK, SW_EINVAL, SW_ERANGE (limit not in
 * 1..SW_STORE_MAX_BATCH), SW_ESTORE. */
enum sw_err sw_store_pollplan_due(struct sw_store *st, const char *courier, int64_t now,
				  int64_t before, int limit, struct sw_poll **ret_polls,
				  size_t *ret_n);

/* sw_store_poll_claim (store_polllease.h) in the order of
 * sw_store_pollplan_due: the call behind SW_POLL_CLAIM_PRIORITY, arguments
 * checked there. */
enum sw_err sw_store_pollplan_claim(struct sw_store *st, const char *courier, const char *holder,
				    int64_t now, int lease_s, int limit, struct sw_poll **ret_polls,
				    size_t *ret_n);

/* The class of one parcel at now into *ret_class (its schedule is not
 * needed: a parcel being rescheduled is classed as it is now).  SW_OK,
 * SW_ENOTFOUND (no such parcel, or terminal), SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_pollplan_class(struct sw_store *st, const char *courier,
				    const char *tracking_number, int64_t now,
				    enum sw_poll_class *ret_class);

#endif /* SW_STORE_POLLPLAN_H */
