/*
 * store_stage.h - how long each leg of a delivery took, from the store:
 * the p90 of every leg per lane over a window (the baselines the alert
 * engine judges a slip's legs against), and the courier marks of one
 * parcel that the orders and parcels tables do not keep.
 *
 * Legs (the "stages" a slip can run over):
 *   warehouse   order created -> shipped
 *   first_mile  shipped -> the courier's first scan
 *   line_haul   first scan -> out for delivery (when a courier never said
 *               "out for delivery": -> delivered or the first attempt)
 *   last_mile   out for delivery -> delivered or the first failed attempt
 * The orders and parcels tables have no out-for-delivery or attempt time:
 * they come from the journal's parcel.status events (payload "status"),
 * found per parcel over the journal's parcel index.
 *
 * A lane is origin warehouse -> destination (sw_store_stage_dest), plus
 * the courier for the courier legs.  Conventions of store.h apply.
 */
#ifndef SW_STORE_STAGE_H
#define SW_STORE_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/store.h"

enum sw_leg {
	SW_LEG_WAREHOUSE,
	SW_LEG_FIRST_MILE,
	SW_LEG_LINE_HAUL,
	SW_LEG_LAST_MILE,
	SW_LEG_LAST /* sentinel */
};

/* "warehouse", "first_mile", "line_haul", "last_mile"; "?" out of range. */
const char *sw_leg_name(enum sw_leg leg);

#define SW_STAGE_DEST_MAX 64 /* a destination key, NUL included (longer: cut) */

/*
 * The destination part of a lane into buf (len >= SW_STAGE_DEST_MAX):
 * "COUNTRY PPP" (country upper-cased, the postal code's first 3
 * characters upper-cased) or, without a postal code, "COUNTRY city"
 * (city lower-cased; ASCII case only), or "COUNTRY" alone; "" if nothing
 * is known.  The baselines' SQL builds the same key.
 */
void sw_store_stage_dest(const char *country, const char *postal, const char *city, char *buf,
			 size_t len);

/* One baseline: the p90 of one leg over one lane, or over a whole
 * warehouse (warehouse leg) or courier (courier legs) as a fallback. */
struct sw_leg_p90 {
	enum sw_leg leg;
	char *warehouse_id; /* NULL in a courier-wide row */
	char *dest;	    /* NULL in a warehouse- or courier-wide row */
	char *courier;	    /* NULL for the warehouse leg */
	int64_t p90_s;	    /* nearest-rank p90 of the durations, s */
	int64_t samples;    /* how many durations it was taken over */
};

/*
 * The p90 of every leg per lane and per warehouse / courier, over the legs
 * that ended in [since, now], as a new array (*ret_n rows, NULL if 0; free
 * with sw_store_stage_p90_free), in no particular order.  Negative
 * durations (clock skew) are left out.  Cost: one pass over the orders
 * shipped and the parcels with an event since `since` (neither table has
 * an index on those times) plus two journal index look-ups per such
 * parcel: seconds on a large store, meant to run once an hour, not per
 * slip.  SW_OK, SW_EINVAL (since > now or now <= 0), SW_ESTORE.
 */
enum sw_err sw_store_stage_p90(struct sw_store *st, int64_t since, int64_t now,
			       struct sw_leg_p90 **ret_rows, size_t *ret_n);

void sw_store_stage_p90_free(struct sw_leg_p90 *rows, size_t n);

/* The courier marks of one parcel that only the journal keeps. */
struct sw_leg_marks {
	int64_t out_for_delivery_at; /* first "out_for_delivery" event; 0 none */
	int64_t attempt_at;	     /* first "attempt_fail" event; 0 none */
};

/* Reads the marks of courier + tracking_number (all 0 if it has no such
 * events).  One indexed look-up.  SW_OK, SW_EINVAL, SW_ESTORE. */
enum sw_err sw_store_stage_marks(struct sw_store *st, const char *courier,
				 const char *tracking_number, struct sw_leg_marks *ret_marks);

#endif /* SW_STORE_STAGE_H */
