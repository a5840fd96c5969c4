/*
 * api.h - slipwatch-sim's courier APIs: one HTTP server (libmicrohttpd, its
 * own thread, loopback) that answers tracking requests in the documented
 * formats of the built-in couriers (../shared/couriers.md), from the
 * world's scans whose time has come on the clock (lib/clock.h).
 *
 * One descriptor table (sim/api_table.c), one file per courier
 * (sim/api_dhl.c, sim/api_fedex.c, sim/api_ups.c), one row to add one.
 * Base URLs a slipwatch configuration gives ([courier NAME] base_url), as
 * with tests/fakecourier/server.py:
 *
 *   dhl    http://127.0.0.1:PORT/dhl/track
 *   fedex  http://127.0.0.1:PORT/fedex
 *   ups    http://127.0.0.1:PORT/ups/api
 *
 * Credentials: the API key and OAuth client id/secret given in the
 * options; tokens are issued and checked as the couriers document (401
 * with the courier's envelope otherwise).  An injected outage answers 503
 * with the courier's error body.
 */
#ifndef SW_SIM_API_H
#define SW_SIM_API_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "sim/world.h"

struct sim_api_opts {
	const char *bind;          /* "127.0.0.1" */
	int port;                  /* 0: any free port */
	const char *api_key;       /* DHL-API-Key */
	const char *client_id;     /* FedEx and UPS OAuth */
	const char *client_secret;
};

struct sim_api_stats {
	uint64_t requests;   /* tracking requests (token requests not counted) */
	uint64_t answered;   /* 200 with tracking data */
	uint64_t not_found;  /* numbers the courier does not know (yet) */
	uint64_t outage;     /* 503 answers of an injected outage */
	uint64_t refused;    /* 4xx: credentials, bad requests */
};

struct sim_api;

/* Starts the server on opts->bind:opts->port; *ret_port is the port bound.
 * The world must outlive the server. */
enum sw_err sim_api_start(const struct sim_world *w, const struct sim_api_opts *opts,
			  struct sim_api **ret_api, int *ret_port, char *err, size_t errlen);

/* Counters so far (safe from the main thread while the server runs). */
void sim_api_get_stats(struct sim_api *a, struct sim_api_stats *ret);

/* Stops the server and frees it (NULL: nothing). */
void sim_api_stop(struct sim_api *a);

/* The couriers the server speaks for, NULL-terminated ("dhl", ...). */
const char *const *sim_api_couriers(void);

#endif
