/*
 * plan.h - the courier quota planner: how often each class of active
 * parcel may be polled so that what is left of a courier's daily quota
 * lasts until the quota resets (doc/quota.md).
 *
 * Pure code: no store, no clock, no engine.  The poll engine
 * (poll_sched.c) feeds it the quota left, the seconds to the reset, the
 * parcels per request, and the courier's scheduled parcels counted by
 * priority class (lib/store_pollplan.h) with the polls per second they ask
 * for at their current intervals; it answers with a stretch per class.
 *
 * Water-filling with weights.  Each class c (count n_c parcels asking for
 * a_c polls/s each) gets a per-parcel rate r_c = min(a_c, w_c * L), L the
 * water level at which sum n_c r_c equals the capacity (parcel polls left
 * / seconds left).  A class that asks for less than its share is capped at
 * what it asks (never polled faster than its own interval) and its spare
 * goes to the others; weights (final 8, near 4, moved 2, other 1) give the
 * parcels that matter most a larger share, so the least important are
 * stretched first and most.  No class is starved while there is capacity.
 */
#ifndef SW_PLAN_H
#define SW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/store_pollplan.h"

#define SW_PLAN_MAX_S (30 * 86400) /* longest planned interval */

/* What the planner is told. */
struct sw_plan_in {
	int64_t quota_left;  /* requests left before the reset, reserve taken
				off; < 0: no quota (nothing is stretched) */
	int64_t secs_left;   /* seconds to the reset, >= 1 */
	int64_t per_request; /* parcels per request (the adapter's batch), >= 1 */
	struct sw_poll_class_count cls[SW_POLL_CLASS_LAST];
};

/* What it answers. */
struct sw_plan {
	bool limited;	 /* a quota applies */
	bool is_short;	 /* demand > capacity: some classes stretched */
	bool exhausted;	 /* nothing left before the reset */
	double capacity; /* parcel polls left before the reset */
	double demand;	 /* parcel polls the classes ask for until then */
	/* Per class: multiply a parcel's own interval by stretch (>= 1; 1
	 * when not stretched; undefined when exhausted), and the mean
	 * interval that gives (s; 0 for an empty class). */
	double stretch[SW_POLL_CLASS_LAST];
	double interval_s[SW_POLL_CLASS_LAST];
	/* Parcels the quota covers at their own intervals, taken in priority
	 * order (a class partly covered counts its covered share). */
	int64_t covered;
	int64_t active; /* all parcels of all classes */
};

/* The poll engine's quota state of one courier (poll_sched.c). */
struct sw_quota_state {
	int64_t from, until; /* the current quota window, unix s; 0: unread */
	int64_t plan_at;     /* loop ms the plan was made; 0: none */
	struct sw_plan_in in;
	struct sw_plan plan;
	bool told; /* "quota used up" logged for this window */
};

/* Computes *ret_plan from in (any values: negative counts or rates count
 * as 0, secs_left and per_request below 1 as 1). */
void sw_plan_compute(const struct sw_plan_in *in, struct sw_plan *ret_plan);

/* The planned interval for a parcel of class cls whose own next interval
 * would be interval_s: interval_s * stretch, at least interval_s, at most
 * max(interval_s, SW_PLAN_MAX_S); when the quota is exhausted, at least
 * secs_left (its next poll after the reset). */
int64_t sw_plan_interval(const struct sw_plan *plan, enum sw_poll_class cls, int64_t interval_s,
			 int64_t secs_left);

/* Reads a reset time "HH:MM" (00:00 .. 23:59) into minutes after local
 * midnight.  SW_OK or SW_EINVAL. */
enum sw_err sw_plan_parse_reset(const char *text, int *ret_min);

/* The quota window containing now (unix s): the last reset at or before
 * now into *ret_from and the next after it into *ret_until, resets being
 * at reset_min minutes after midnight in zone ("UTC" or an IANA name; a
 * reset in a DST gap is read as lib/swtime.h reads a gap).  SW_OK, or the
 * sw_tz_* codes for a zone that cannot be loaded. */
enum sw_err sw_plan_window(const char *zone, int reset_min, int64_t now, int64_t *ret_from,
			   int64_t *ret_until);

/* Appends a duration as "45s", "30m", "2h", "1h30m", "2d3h" to out. */
void sw_plan_fmt_duration(struct sw_buf *out, double secs);

/* Appends one line about courier name's plan to out (for -t -v and logs):
 * the quota, what is left until when, and per class how many parcels at
 * which interval, and how many the quota covers at their own intervals;
 * "no daily quota" when in->quota_left < 0. */
void sw_plan_describe(const char *name, const struct sw_plan_in *in, const struct sw_plan *plan,
		      struct sw_buf *out);

/* ---- in the poll engine (poll_sched.c, not pure) ----------------------- */

struct sw_poll_courier_conf;
struct sw_store;

/*
 * Appends the line of sw_plan_describe for courier section cf at now
 * (unix s) to out, reading from st (may be NULL: the quota settings alone)
 * what the engine would: the requests of the current quota window so far
 * (courier_polls, as after a restart) and the scheduled parcels by class;
 * with st NULL, the quota settings and "parcels not counted (no store)".
 * For slipwatch-collector -t -v; a store error is appended as text.
 */
void sw_plan_describe_courier(struct sw_store *st, const struct sw_poll_courier_conf *cf,
			      int64_t now, struct sw_buf *out);

struct sw_poll_conf;

/* sw_plan_describe_courier for every courier of pc that has a daily
 * quota, now, reading the store at store_path opened read-only (NULL, or
 * a store that cannot be opened: the settings alone, the reason appended
 * once).  Nothing for couriers without a quota.  The call for -t -v. */
void sw_plan_describe_all(const struct sw_poll_conf *pc, const char *store_path,
			  struct sw_buf *out);

#endif /* SW_PLAN_H */
