/*
 * world_int.h - the inside of slipwatch-sim's world (world.h), for the
 * modules that build on it (publish.c, truth.c, main.c) and its tests:
 * the build, the warehouse events in publishing order, and the slips each
 * order's customer should hear about (the ground truth).
 */
#ifndef SW_SIM_WORLD_INT_H
#define SW_SIM_WORLD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "sim/simconf.h"
#include "sim/world.h"

enum sim_ev_type { SIM_EV_CREATED, SIM_EV_PICKED, SIM_EV_PACKED, SIM_EV_SHIPPED, SIM_EV_CANCELLED };

/* One warehouse event as it will be published. */
struct sim_event {
	int64_t at;          /* occurred_at */
	int64_t publish_at;  /* when it goes out: at, later if reordered or held */
	uint32_t order;      /* index into w->orders */
	uint8_t type;        /* enum sim_ev_type */
	uint8_t parcel;      /* SIM_EV_SHIPPED: which parcel */
	bool dup;            /* a second delivery of an event already sent */
	bool held;           /* held back by a feed_stop */
};

/* One slip the truth names (alerts/kinds.h kinds). */
struct sim_slip {
	const char *kind;    /* "ship_late", "stalled", ... (static) */
	int parcel;          /* index into the order's parcels; -1: the order */
	int64_t from;        /* when it becomes true (the engine's deadline) */
	int64_t send_after;  /* from, or the end of the customer's quiet hours */
	int64_t until;       /* when it stops being true (capped at the run's end) */
	bool may;            /* ambiguous: may be heard, need not be */
	const char *why;     /* the trouble's name or a reason (static or owned by conf) */
};

/* Per order: its warehouse and its slips. */
struct sim_order_x {
	size_t wh;           /* index into conf->wh */
	size_t dest;         /* index into sim_dests() */
	int32_t cust_off;    /* customer's UTC offset (seconds) */
	int64_t picked_at, packed_at, cancelled_at;
	const char *service_level;
	const char *name;    /* customer name (static) */
	size_t n_slips;
	struct sim_slip *slips;
	uint32_t troubles;   /* bit i: hit by conf->trouble[i] */
	bool fixed;          /* its delivery was moved clear of the promise */
};

/* Per trouble: where it applies and what it did. */
struct sim_trouble_x {
	int64_t from, until; /* absolute */
	size_t n_orders, n_parcels;
	char subjects[8][64]; /* page subjects (lanes, ship days) */
	size_t n_subjects;
};

struct sim_world {
	const struct sim_conf *conf;
	int64_t start, end;
	size_t n_orders;
	struct sim_order *orders;
	struct sim_order_x *ox;
	size_t n_events;
	struct sim_event *events;   /* by publish_at */
	size_t n_parcels;
	const struct sim_parcel **index; /* by courier, tracking */
	int32_t *wh_off;            /* warehouse UTC offsets (seconds) */
	struct sim_trouble_x tx[SIM_MAX_TROUBLES];
	size_t n_distinct_events;
};

/* Builds the world of c starting at start (simulated Unix seconds).  c must
 * outlive the world.  SW_OK, or SW_EINVAL with err set (a zone that cannot
 * be read). */
enum sw_err sim_world_build(const struct sim_conf *c, int64_t start, struct sim_world **ret,
			    char *err, size_t errlen);

void sim_world_free(struct sim_world *w);

/* The JSON payload of ev (the design's warehouse event contract) into buf;
 * the length written, or 0 if len is too small. */
size_t sim_event_json(const struct sim_world *w, const struct sim_event *ev, char *buf,
		      size_t len);

/* The event_id of ev into buf. */
void sim_event_id(const struct sim_world *w, const struct sim_event *ev, char *buf, size_t len);

/* The steps of sim_world_build after the base plan (world_trouble.c). */
void sim_world_apply_trouble(struct sim_world *w);
void sim_world_derive_slips(struct sim_world *w);
void sim_world_build_events(struct sim_world *w);

/* "2026-03-02T09:15:00+05:30". */
void sim_format_time(int64_t t, int32_t off, char *buf, size_t len);

#endif
