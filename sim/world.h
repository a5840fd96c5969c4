/*
 * world.h - slipwatch-sim's simulated world: warehouses, orders, parcels,
 * their whole planned timelines, the injected trouble, and the ground
 * truth, all generated at start from the configuration and a seed.
 *
 * The world is immutable once built (sim_world_build): the publisher
 * (sim/publish.c) walks its warehouse events in time order and sends each
 * when the clock (lib/clock.h) reaches it, the courier API server
 * (sim/api.c, its own thread under libmicrohttpd) answers from the scans
 * whose time has come, and the truth (sim/truth.c) is written once.  No
 * locking is needed: nothing changes after the build.
 *
 * Times are simulated Unix seconds.
 */
#ifndef SW_SIM_WORLD_H
#define SW_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/slipwatch/status.h"

/* One courier scan as the courier's API will report it once its time has
 * come.  `status` is the canonical meaning; each API module (sim/api_*.c)
 * writes the raw code its courier documents for that meaning, one that
 * the collector's adapter maps back to the same status. */
struct sim_scan {
	int64_t at;                  /* when the courier records it */
	enum sw_ship_status status;  /* canonical meaning */
	const char *city;            /* where (static text) */
	const char *text;            /* the courier's description (static text) */
};

struct sim_order;

/* One parcel: a shipped event names it; the courier knows it from its first
 * scan (before that, its API answers "not found"). */
struct sim_parcel {
	const char *courier;         /* "dhl", "fedex", "ups" (static) */
	char tracking[40];
	const struct sim_order *order;
	int64_t shipped_at;          /* the warehouse's order.shipped */
	int64_t eta;                 /* the courier's estimated delivery (0: none given) */
	size_t n_scans;
	struct sim_scan *scans;      /* ascending by at */
};

/* One order with its customer and promises. */
struct sim_order {
	const char *warehouse;       /* warehouse id (owned by the world) */
	char order_id[40];
	char email[80];
	const char *locale;          /* "hi-IN", "gu-IN", "ne-NP", "en-IN" (static) */
	const char *timezone;        /* "Asia/Kolkata", "Asia/Kathmandu" (static) */
	const char *postal_code, *city, *country; /* destination (static) */
	int64_t created_at;
	int64_t promised_ship_by;
	int64_t promised_delivery_by;
	bool cancelled;
	size_t n_parcels;
	struct sim_parcel *parcels;
};

/* The world. */
struct sim_world;

/* A courier API's state at a simulated instant.  SIM_API_UP answers;
 * SIM_API_DOWN answers 503 with the courier's error envelope (an outage
 * injected by a [trouble] of kind api_outage). */
enum sim_api_state { SIM_API_UP, SIM_API_DOWN };

/* Looks a parcel up by courier and tracking number; NULL if the world has
 * no such parcel (the API answers "not found"). */
const struct sim_parcel *sim_world_parcel(const struct sim_world *w, const char *courier,
					  const char *tracking);

/* Whether courier's API is up at simulated time now. */
enum sim_api_state sim_world_api_state(const struct sim_world *w, const char *courier,
				       int64_t now);

/* How many scans of p are visible at now (scans[0 .. n-1] have at <= now).
 * Inline: the API's unit test serves a world of its own and uses it too. */
static inline size_t sim_parcel_visible(const struct sim_parcel *p, int64_t now)
{
	size_t n = 0;

	while (n < p->n_scans && p->scans[n].at <= now)
		n++;
	return n;
}

#endif
