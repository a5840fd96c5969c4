/*
 * simconf.h - slipwatch-sim's own configuration (sim/sim.conf.example):
 * one INI file read with lib/conf.h, option tables per section.
 *
 *   [sim]              seed, start, length, order window, traffic shape,
 *                      the thresholds the truth assumes of slipwatch.conf
 *   [mqtt]             the broker the warehouse events go to
 *   [api]              the courier API server (sim/api.h)
 *   [warehouse ID]     one per warehouse (two built-in ones when none)
 *   [trouble NAME]     injected trouble: kind, where, when, how much
 *
 * Errors read "FILE:LINE: [section] key: what is wrong: 'text'".
 */
#ifndef SW_SIM_SIMCONF_H
#define SW_SIM_SIMCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define SIM_MAX_WAREHOUSES 64
#define SIM_MAX_TROUBLES 64
#define SIM_MAX_LANES 16
#define SIM_MAX_COURIERS 3

/* Kinds of injected trouble. */
enum sim_trouble_kind {
	SIM_TROUBLE_WAREHOUSE_LATE, /* orders created in the window ship after ship-by */
	SIM_TROUBLE_LANE_STALL,     /* a hub holds a lane's parcels: no scans, then resume */
	SIM_TROUBLE_ATTEMPT_FAIL,   /* failed delivery attempts, delivered a day later */
	SIM_TROUBLE_EXCEPTION,      /* a courier exception, cleared after a day */
	SIM_TROUBLE_API_OUTAGE,     /* the courier's API answers 503 */
	SIM_TROUBLE_FEED_STOP,      /* the warehouse publishes nothing, then the backlog */
	SIM_TROUBLE_LAST
};

/* "warehouse_late", ...; "?" out of range. */
const char *sim_trouble_kind_name(enum sim_trouble_kind k);

/* One destination the simulator knows (a built-in table). */
struct sim_dest {
	const char *prefix;   /* postal prefix naming the lane ("110") */
	const char *country;  /* "IN", "NP" */
	const char *postal;   /* "110001" */
	const char *city;     /* "New Delhi" */
	const char *timezone; /* the customers' zone */
	const char *locale;   /* the local language's locale ("hi-IN") */
	int transit_h;        /* typical hours from a warehouse to the hub */
};

/* The built-in destinations; *ret_n gets their count. */
const struct sim_dest *sim_dests(size_t *ret_n);

struct sim_wh_conf {
	char *id;
	char *timezone;             /* IANA zone of the warehouse */
	char *city;
	double orders_per_hour;     /* peak; 0: [sim] orders_per_hour */
	size_t n_couriers;
	const char *couriers[SIM_MAX_COURIERS]; /* static names */
	size_t n_lanes;
	size_t lanes[SIM_MAX_LANES];            /* indices into sim_dests() */
	char *couriers_text, *lanes_text;       /* as written */
};

struct sim_trouble_conf {
	char *name;
	enum sim_trouble_kind kind;
	char *warehouse;  /* NULL: any */
	char *courier;    /* NULL: any */
	char *lane;       /* postal prefix, NULL: any */
	int64_t from;     /* seconds after the start */
	int64_t len;      /* seconds ("for") */
	double share;     /* of the matching orders/parcels hit, 0..1 */
	int64_t delay;    /* warehouse_late: how late they ship (seconds) */
	char *from_text, *for_text, *kind_text;
};

struct sim_conf {
	char *file;
	/* [sim] */
	int64_t seed;
	char *start_text;          /* "now" or RFC 3339 */
	int64_t length;            /* seconds of simulated run */
	int64_t order_window;      /* orders are created this long from the start */
	double orders_per_hour;    /* peak per warehouse */
	double split_share, duplicate_share, cancel_share, reorder_share;
	int64_t reorder_window;    /* seconds */
	char *out;                 /* output directory */
	/* thresholds of the slipwatch.conf the truth is written for (seconds) */
	int64_t stalled, no_first_scan, feed_window, warehouse_feed_window, margin;
	int quiet_from, quiet_to;  /* minutes of the day; equal: no quiet hours */
	char *quiet_text;
	/* [mqtt] */
	char *mqtt_host;
	int64_t mqtt_port;
	char *topic_prefix;        /* topic is PREFIX/ID/events */
	char *client_id;
	/* [api] */
	char *api_bind;
	int64_t api_port;
	char *api_key, *client_id_api, *client_secret;
	/* sections */
	size_t n_wh;
	struct sim_wh_conf wh[SIM_MAX_WAREHOUSES];
	size_t n_trouble;
	struct sim_trouble_conf trouble[SIM_MAX_TROUBLES];
};

/* Reads path (NULL: built-in defaults only) into *c (zeroed by the call).
 * SW_OK, or SW_ECONF / SW_EIO with err naming file, line, section and key. */
enum sw_err sim_conf_load(const char *path, struct sim_conf *c, char *err, size_t errlen);

/* As sim_conf_load for text in memory (tests); name is the file name in errors. */
enum sw_err sim_conf_load_string(const char *text, const char *name, struct sim_conf *c,
				 char *err, size_t errlen);

/* Frees what c owns. */
void sim_conf_free(struct sim_conf *c);

/* Parses a span "2d6h", "+8h", "90m", "3600" (seconds): SW_OK or SW_EPARSE. */
enum sw_err sim_parse_span(const char *s, int64_t *ret_sec);

#endif
