/*
 * api_int.h - what the courier API server (sim/api.c) shares with its
 * courier modules (sim/api_dhl.c, sim/api_fedex.c, sim/api_ups.c): the
 * descriptor each module exports, the request a route handler reads and
 * the reply it fills, and the helpers the server offers them (credentials,
 * tokens, the world's parcels, times in the couriers' shapes).
 *
 * A courier module is pure: it reads the request and the world and writes
 * a JSON reply; the server does HTTP, routing, outages, counting and
 * locking.  Handlers run on the server's thread and may run concurrently
 * (one libmicrohttpd thread today, but nothing in a module keeps state).
 */
#ifndef SW_SIM_API_INT_H
#define SW_SIM_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "sim/api.h"
#include "sim/world.h"

#define SIM_API_MAX_BODY (64 * 1024) /* largest request body accepted */
#define SIM_API_TIME_LEN 40	     /* buffer for sim_api_fmt_time */

/* Why a courier answers with its error envelope. */
enum sim_api_errkind {
	SIM_API_ERR_BAD,	 /* 400: malformed request */
	SIM_API_ERR_AUTH,	 /* 401: credentials or token refused */
	SIM_API_ERR_NOT_FOUND,	 /* 404: no such number (DHL) or resource */
	SIM_API_ERR_UNAVAILABLE, /* 503: an injected outage */
	SIM_API_ERR_LAST
};

/* How a reply is counted in struct sim_api_stats. */
enum sim_api_outcome {
	SIM_API_OUT_NONE,      /* token endpoints: not counted */
	SIM_API_OUT_ANSWERED,  /* tracking data for at least one number */
	SIM_API_OUT_NOT_FOUND, /* no number known (yet) */
	SIM_API_OUT_OUTAGE,    /* 503 of an injected outage */
	SIM_API_OUT_REFUSED,   /* 4xx */
	SIM_API_OUT_LAST
};

struct sim_api_courier;

/* One request as a handler sees it (read-only but for the reply fields). */
struct sim_api_req {
	struct sim_api *api;
	const struct sim_api_courier *courier;
	void *conn;	   /* the libmicrohttpd connection (sim/api.c only) */
	const char *param; /* the path's last segment after a prefix route */
	const char *body;  /* request body (NUL-terminated), "" if none */
	size_t body_len;
	int64_t now; /* simulated Unix seconds */
	/* the reply, filled by the handler: */
	unsigned status;
	const char *ctype; /* NULL: application/json */
	json_t *reply;	   /* taken over by the server */
	enum sim_api_outcome outcome;
};

/* A route: an exact path, or a prefix ending in '/' whose remainder (one
 * non-empty segment) becomes req->param. */
struct sim_api_route {
	const char *method; /* "GET", "POST" */
	const char *path;
	bool track; /* a tracking request (counted in stats) */
	void (*handle)(struct sim_api_req *req);
};

/* One courier: its name (as in sim_parcel.courier and the world's outages),
 * its routes (terminated by a row with handle NULL), and its error
 * envelope for a kind (detail NULL: the courier's usual text).  The body
 * writer of its tracking answers is its tracking route's handler. */
struct sim_api_courier {
	const char *name;
	const struct sim_api_route *routes;
	const char *error_ctype; /* of error bodies; NULL: application/json */
	json_t *(*error_body)(enum sim_api_errkind kind, const char *detail);
};

/* The table (sim/api_table.c), NULL-terminated, and its rows. */
extern const struct sim_api_courier *const sim_api_table[];
extern const struct sim_api_courier sim_api_dhl;
extern const struct sim_api_courier sim_api_fedex;
extern const struct sim_api_courier sim_api_ups;

/* ---- helpers of sim/api.c for the courier modules ---------------------- */

/* HTTP status of an error kind. */
unsigned sim_api_err_status(enum sim_api_errkind kind);

/* Fills req with the courier's error envelope of kind (status, body,
 * outcome: refused, or outage for SIM_API_ERR_UNAVAILABLE). */
void sim_api_fail(struct sim_api_req *req, enum sim_api_errkind kind, const char *detail);

/* A request header (case-insensitive) or query argument, or NULL. */
const char *sim_api_header(const struct sim_api_req *req, const char *name);
const char *sim_api_arg(const struct sim_api_req *req, const char *name);

/* The value of key in an application/x-www-form-urlencoded body,
 * percent- and '+'-decoded into buf; false if absent, given twice, not
 * decodable or longer than len - 1. */
bool sim_api_form(const char *body, const char *key, char *buf, size_t len);

/* Whether a given credential matches the configured one (a configured
 * NULL accepts any non-empty value). */
bool sim_api_key_ok(const struct sim_api *a, const char *given);
bool sim_api_client_ok(const struct sim_api *a, const char *id, const char *secret);

/* Issues a bearer token for courier valid lifetime_s simulated seconds
 * from now into buf (at least 64 bytes). */
void sim_api_token_issue(struct sim_api *a, const char *courier, int64_t now, int64_t lifetime_s,
			 char *buf, size_t len);

/* Whether the "Authorization: Bearer T" header of req carries a live
 * token of req's courier. */
bool sim_api_bearer_ok(const struct sim_api_req *req);

/* The parcel of req's courier with tracking number and how many of its
 * scans are visible now; NULL if the world has none or none is visible
 * yet (the courier does not know it). */
const struct sim_parcel *sim_api_parcel(const struct sim_api_req *req, const char *number,
					size_t *ret_visible);

/* The fixed UTC offset (seconds east) the couriers write a parcel's local
 * times in: its order's zone (Asia/Kathmandu +05:45, else IST +05:30). */
int32_t sim_api_offset(const struct sim_parcel *p);

/* at written as RFC 3339 at offset off ("2026-11-24T09:15:00+05:30"). */
void sim_api_fmt_time(int64_t at, int32_t off, char buf[SIM_API_TIME_LEN]);

/* The wall clock of at at offset off (for strftime). */
void sim_api_tm(int64_t at, int32_t off, struct tm *ret);

/* An offset as "+05:30" into buf (at least 8 bytes). */
void sim_api_fmt_offset(int32_t off, char *buf, size_t len);

#endif
